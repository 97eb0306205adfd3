"""What the smoke check's parts share: AWS clients for the emulator, the running tally, and the
comparisons of fields, principals, policies and key schemas."""
from __future__ import annotations

import functools
import json
import threading
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .smoke_report import Difference, SmokeReport

# ---------------------------------------------------------------- comparison helpers


def field_tuples(fields: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(key, kind, value) of each field, whatever the casing (template: Key/StringValue; API: key/stringValue)."""
    found = []
    for f in fields:
        key = f.get("Key", f.get("key"))
        if "RefValue" in f or "refValue" in f:
            found.append((key, "ref", str(f.get("RefValue", f.get("refValue")))))
        else:
            found.append((key, "string", str(f.get("StringValue", f.get("stringValue")))))
    return found


def by_key(pairs: Iterable[tuple[str, str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, kind, value in pairs:
        grouped[key].append(value if kind == "string" else f"ref:{value}")
    return {key: sorted(values) for key, values in grouped.items()}


def short(values: list[str]) -> str:
    text = values[0] if len(values) == 1 else json.dumps(values)
    return text if len(text) <= 160 else text[:157] + "..."


def compare_fields(expected: Iterable[tuple[str, str, str]], deployed: Iterable[tuple[str, str, str]]) -> list[str]:
    """Order-insensitive comparison of two field lists; one message per key that differs."""
    want, got = by_key(expected), by_key(deployed)
    problems = []
    for key in sorted(set(want) | set(got)):
        if key not in got:
            problems.append(f"field {key} missing (expected {short(want[key])!r})")
        elif key not in want:
            problems.append(f"unexpected field {key} = {short(got[key])!r}")
        elif want[key] != got[key]:
            problems.append(f"field {key} is {short(got[key])!r}, expected {short(want[key])!r}")
    return problems


def principals(document: Mapping[str, Any]) -> set[tuple[str, str, str, str]]:
    found = set()
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        principal = statement.get("Principal", {})
        for kind, values in (principal.items() if isinstance(principal, dict) else [("*", principal)]):
            for value in values if isinstance(values, list) else [values]:
                for action in actions if isinstance(actions, list) else [actions]:
                    found.add((statement.get("Effect", ""), action, kind, str(value)))
    return found


def policy_document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    text = urllib.parse.unquote(raw) if isinstance(raw, str) and raw.startswith("%7B") else raw
    return json.loads(text)


def key_schema(definitions: Iterable[Mapping[str, str]], schema: Iterable[Mapping[str, str]]) -> str:
    types = {d["AttributeName"]: d["AttributeType"] for d in definitions}
    order = {"HASH": 0, "RANGE": 1}
    parts = sorted(schema, key=lambda k: order.get(k["KeyType"], 2))
    return " ".join(f"{k['AttributeName']}({types.get(k['AttributeName'], '?')})" for k in parts)



# ---------------------------------------------------------------- the check


class Check:
    def __init__(self, clients: ClientFactory, report: SmokeReport) -> None:
        self.clients = clients
        self.report = report
        # What one smoke check has read, by what it asked: the check only reads, so a second read of the same thing in
        # the same check gets the same answer (measured here: 164 requests per smoke check of the test flow's deploy, 33
        # of them a second read of a pipeline list, description or definition, or of a region's state machines).
        self._read: dict[tuple[str, ...], Any] = {}

    def once(self, key: tuple[str, ...], read: Callable[[], Any]) -> Any:
        """``read()``'s answer, asked once per smoke check for ``key``; an error is raised every time (nothing kept)."""
        if key not in self._read:
            self._read[key] = read()
        return self._read[key]

    def differ(self, where: str, what: str) -> None:
        self.report.differences.append(Difference(where, what))

    def count(self, n: int = 1) -> None:
        self.report.checks += n


@functools.cache
def local_session() -> Any:
    """One boto3 session (test credentials) for every ClientFactory of this process. A new session loads each
    service's model again from its JSON file; sharing one keeps what it loaded (measured here: a factory of 26
    clients took 0.52 CPU-s with a session of its own, 0.14 with the shared one, and a local deploy test makes a
    factory per deploy, smoke check and drill). Every client still gets the endpoint, region and config given. Its
    clients read DynamoDB attribute values without botocore's shape walk (``item_parser``: the same answers)."""
    import boto3
    import botocore.session

    from .item_parser import ItemParserFactory

    core = botocore.session.get_session()
    core.register_component("response_parser_factory", ItemParserFactory())
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", botocore_session=core)


# Every client a ClientFactory made in this process, by (endpoint, service, region): a local deploy, its smoke check and
# the drill each make a factory for the same endpoint, and a client costs about 8 ms of CPU to make (measured here with a
# warm session; a smoke check of the test flow's deploy makes 17). botocore's clients are safe to share between threads.
_CLIENTS: dict[tuple[str, str, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()


class ClientFactory:
    def __init__(self, endpoint: str) -> None:
        self.session = local_session()
        self.endpoint = endpoint

    def __call__(self, service: str, region: str) -> Any:
        key = (self.endpoint, service, region)
        with _CLIENTS_LOCK:
            if key not in _CLIENTS:
                _CLIENTS[key] = self.session.client(service, region_name=region, endpoint_url=self.endpoint, config=client_config())
            return _CLIENTS[key]


@functools.cache
def client_config() -> Any:
    """The settings of every client: two attempts, and short timeouts (a local emulator answers at once or not at all)."""
    from botocore.config import Config

    return Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)



def describe_table(check: Check, region: str, name: str) -> dict[str, Any] | None:
    """DescribeTable of ``name``, once per smoke check; None when the table does not exist (asked again each time)."""
    from botocore.exceptions import ClientError

    try:
        return dict(check.once(("table", region, name), lambda: check.clients("dynamodb", region).describe_table(TableName=name)["Table"]))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        return None



def pipelines_listed(check: Check, region: str) -> list[dict[str, Any]]:
    """ListPipelines of ``region`` (every page), once per smoke check."""
    from ddb_datapipeline.acceptance.run import list_pipelines

    return list(check.once(("pipelines", region), lambda: list_pipelines(check.clients("datapipeline", region))))


def pipeline_descriptions(check: Check, region: str) -> dict[str, dict[str, Any]]:
    """DescribePipelines of every pipeline ``region`` lists (25 ids a call, the API's most), by id in the listed order,
    once per smoke check."""

    def describe() -> dict[str, dict[str, Any]]:
        client = check.clients("datapipeline", region)
        ids = [p["id"] for p in pipelines_listed(check, region)]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 25):
            for description in client.describe_pipelines(pipelineIds=ids[start : start + 25])["pipelineDescriptionList"]:
                found[description["pipelineId"]] = description
        return found

    return dict(check.once(("descriptions", region), describe))


def pipeline_definition(check: Check, region: str, pipeline_id: str) -> dict[str, Any]:
    """GetPipelineDefinition of ``pipeline_id``, once per smoke check (the template comparison and the configuration
    comparison both read it)."""
    return dict(check.once(("definition", region, pipeline_id),
                           lambda: check.clients("datapipeline", region).get_pipeline_definition(pipelineId=pipeline_id)))


def state_machines_listed(check: Check, region: str) -> list[dict[str, Any]]:
    """The first page of ListStateMachines of ``region`` (as each lookup read it before), once per smoke check."""
    return list(check.once(("state machines", region), lambda: check.clients("stepfunctions", region).list_state_machines()["stateMachines"]))


def iam_listed(check: Check, region: str, kind: str) -> dict[str, dict[str, Any]]:
    """Every role (``kind`` "roles") or instance profile ("instance profiles") ListRoles or ListInstanceProfiles gives, by
    name, once per smoke check: one or two requests instead of a GetRole or GetInstanceProfile per resource (42 on the
    test flow's deploy). Each carries what the check compares: a role's trust policy, a profile's roles (on moto 5.2.5
    the same as the Get calls give, compared on every role and profile of the test flow's deploy)."""
    operation, member, name = {
        "roles": ("list_roles", "Roles", "RoleName"),
        "instance profiles": ("list_instance_profiles", "InstanceProfiles", "InstanceProfileName"),
    }[kind]

    def listed() -> dict[str, dict[str, Any]]:
        pages = check.clients("iam", region).get_paginator(operation).paginate()
        return {entry[name]: entry for page in pages for entry in page[member]}

    return dict(check.once(("iam", region, kind), listed))


def buckets_listed(check: Check, region: str) -> set[str]:
    """The names ListBuckets gives, once per smoke check: a bucket it lists exists, without a HeadBucket each."""
    return set(check.once(("buckets", region), lambda: [b["Name"] for b in check.clients("s3", region).list_buckets().get("Buckets", [])]))
