"""Reads back what a deploy created and compares it with what the app produced and the configuration.

Two references, each for what it is good at:

- the synthesized cloud assembly (``cdk.out.local/``): every table, bucket, bucket policy, role,
  instance profile and pipeline of every stack, with CloudFormation's intrinsics (``Ref``,
  ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, pseudo parameters) resolved against the deployed stack's
  physical ids. Pipelines are compared object by object and field by field (order-insensitive within an
  object), with their parameter objects and values, name, description, tags and activation state;
- the configuration (``cdk.json``'s environments): each table's key schema and billing mode, and each
  pipeline's table, throughput ratios, schedule and EMR cluster, so a deploy that does not match the
  configuration is caught even when the template and the deployment agree.

Every difference is named (stack, resource, field, expected and deployed value); nothing stops at the
first one. Tables the configuration only references (not owned) are listed as "referenced, not deployed".
"""
from __future__ import annotations

import json
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..assembly import AssemblyError, StackArtifact, load_assembly
from . import LocalDeployError
from .resolver import Resolver, Unresolvable

OK_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
CHECKED_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::InstanceProfile",
    "AWS::DataPipeline::Pipeline",
)


class SmokeCheckFailed(LocalDeployError):
    def __init__(self, report: "SmokeReport") -> None:
        first = report.differences[0]
        more = f" (and {len(report.differences) - 1} more)" if len(report.differences) > 1 else ""
        super().__init__(f"smoke check: {first}{more}")
        self.report = report


@dataclass(frozen=True)
class Difference:
    where: str  # stack, or stack/resource
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class TableRow:
    environment: str
    region: str
    name: str
    keys: str
    billing: str
    state: str  # "deployed", "missing", "referenced, not deployed"


@dataclass
class BucketRow:
    stack: str
    name: str
    encryption: str
    tls_only: bool


@dataclass
class PipelineRow:
    stack: str
    name: str
    pipeline_id: str
    state: str


@dataclass
class StackRow:
    name: str
    region: str
    status: str


@dataclass
class SmokeReport:
    endpoint: str
    stacks: list[StackRow] = field(default_factory=list)
    tables: list[TableRow] = field(default_factory=list)
    buckets: list[BucketRow] = field(default_factory=list)
    pipelines: list[PipelineRow] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    instance_profiles: list[str] = field(default_factory=list)
    not_modelled: Counter = field(default_factory=Counter)  # resource type -> resources the emulator skipped
    differences: list[Difference] = field(default_factory=list)
    checks: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences

    def raise_for_differences(self) -> None:
        if self.differences:
            raise SmokeCheckFailed(self)


# ---------------------------------------------------------------- the cloud assembly


def read_assembly(assembly_dir: Path) -> list[StackArtifact]:
    """The stacks of the local cloud assembly (every one has an account and region: local mode sets them)."""
    try:
        return list(load_assembly(assembly_dir).stacks)
    except AssemblyError as error:
        raise LocalDeployError(f"no usable cloud assembly in {assembly_dir}: {error}; synthesize first") from None


# ---------------------------------------------------------------- comparison helpers


def _field_tuples(fields: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(key, kind, value) of each field, whatever the casing (template: Key/StringValue; API: key/stringValue)."""
    found = []
    for f in fields:
        key = f.get("Key", f.get("key"))
        if "RefValue" in f or "refValue" in f:
            found.append((key, "ref", str(f.get("RefValue", f.get("refValue")))))
        else:
            found.append((key, "string", str(f.get("StringValue", f.get("stringValue")))))
    return found


def _by_key(pairs: Iterable[tuple[str, str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, kind, value in pairs:
        grouped[key].append(value if kind == "string" else f"ref:{value}")
    return {key: sorted(values) for key, values in grouped.items()}


def _short(values: list[str]) -> str:
    text = values[0] if len(values) == 1 else json.dumps(values)
    return text if len(text) <= 160 else text[:157] + "..."


def compare_fields(expected: Iterable[tuple[str, str, str]], deployed: Iterable[tuple[str, str, str]]) -> list[str]:
    """Order-insensitive comparison of two field lists; one message per key that differs."""
    want, got = _by_key(expected), _by_key(deployed)
    problems = []
    for key in sorted(set(want) | set(got)):
        if key not in got:
            problems.append(f"field {key} missing (expected {_short(want[key])!r})")
        elif key not in want:
            problems.append(f"unexpected field {key} = {_short(got[key])!r}")
        elif want[key] != got[key]:
            problems.append(f"field {key} is {_short(got[key])!r}, expected {_short(want[key])!r}")
    return problems


def _principals(document: Mapping[str, Any]) -> set[tuple[str, str, str, str]]:
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


def _policy_document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    text = urllib.parse.unquote(raw) if isinstance(raw, str) and raw.startswith("%7B") else raw
    return json.loads(text)


def is_tls_only(document: Mapping[str, Any]) -> bool:
    """A Deny of every principal when ``aws:SecureTransport`` is false."""
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        condition = statement.get("Condition", {}).get("Bool", {})
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if statement.get("Effect") == "Deny" and everyone and str(condition.get("aws:SecureTransport")).lower() == "false":
            return True
    return False


def _key_schema(definitions: Iterable[Mapping[str, str]], schema: Iterable[Mapping[str, str]]) -> str:
    types = {d["AttributeName"]: d["AttributeType"] for d in definitions}
    order = {"HASH": 0, "RANGE": 1}
    parts = sorted(schema, key=lambda k: order.get(k["KeyType"], 2))
    return " ".join(f"{k['AttributeName']}({types.get(k['AttributeName'], '?')})" for k in parts)


# ---------------------------------------------------------------- the check


class _Check:
    def __init__(self, clients: "ClientFactory", report: SmokeReport) -> None:
        self.clients = clients
        self.report = report

    def differ(self, where: str, what: str) -> None:
        self.report.differences.append(Difference(where, what))

    def count(self, n: int = 1) -> None:
        self.report.checks += n


class ClientFactory:
    def __init__(self, endpoint: str) -> None:
        import boto3
        from botocore.config import Config

        self.session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test")
        self.endpoint = endpoint
        self.config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        self._cache: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._cache:
            self._cache[key] = self.session.client(service, region_name=region, endpoint_url=self.endpoint, config=self.config)
        return self._cache[key]


def smoke_check(endpoint: str, assembly_dir: Path, environments: list[Any]) -> SmokeReport:
    """Everything that differs, in one report; ``report.raise_for_differences()`` turns it into a failure."""
    from botocore.exceptions import BotoCoreError, ClientError

    report = SmokeReport(endpoint=endpoint)
    clients = ClientFactory(endpoint)
    check = _Check(clients, report)
    stacks = read_assembly(assembly_dir)
    deployed_tables: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for stack in stacks:
            _check_stack(check, stack, deployed_tables)
        _check_configuration(check, environments, deployed_tables)
        _check_stray_pipelines(check, stacks, environments)
    except (BotoCoreError, ClientError) as error:
        raise LocalDeployError(f"smoke check could not read the deployment at {endpoint}: {error}") from None
    return report


def _describe_table(check: _Check, region: str, name: str, cache: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    if (region, name) not in cache:
        try:
            cache[(region, name)] = check.clients("dynamodb", region).describe_table(TableName=name)["Table"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            return None
    return cache[(region, name)]


def _check_stack(check: _Check, stack: StackArtifact, tables: dict[tuple[str, str], dict[str, Any]]) -> None:
    from botocore.exceptions import ClientError

    cloudformation = check.clients("cloudformation", stack.region)
    try:
        status = cloudformation.describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        check.differ(stack.name, f"stack not found in {stack.region} ({error.response['Error'].get('Message', 'does not exist')})")
        return
    check.report.stacks.append(StackRow(stack.name, stack.region, status))
    check.count()
    if status not in OK_STATUSES:
        check.differ(stack.name, f"stack status is {status}, expected one of {', '.join(OK_STATUSES)}")
    deployed = cloudformation.describe_stack_resources(StackName=stack.name)["StackResources"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in deployed if r.get("LogicalResourceId")}
    resources = stack.template.get("Resources", {})
    types = {logical: resource["Type"] for logical, resource in resources.items()}
    account = stack.account if stack.account.isdigit() else check.clients("sts", stack.region).get_caller_identity()["Account"]

    def extra_attributes(logical: str, type_: str, attribute: str) -> str | None:
        if type_ == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            table = _describe_table(check, stack.region, physical[logical], tables)
            return table.get("LatestStreamArn") if table else None
        return None

    resolve = Resolver(stack.name, stack.region, account, physical, types, extra_attributes)

    missing_by_type: dict[str, list[str]] = defaultdict(list)
    present_types: set[str] = set()
    for logical, type_ in types.items():
        (present_types.add(type_) if logical in physical else missing_by_type[type_].append(logical))
    for type_, logicals in sorted(missing_by_type.items()):
        if type_ in CHECKED_TYPES or type_ in present_types:
            for logical in logicals:
                check.differ(f"{stack.name}/{logical}", f"{type_} was not deployed")
        else:
            check.report.not_modelled[type_] += len(logicals)

    for logical, resource in resources.items():
        if logical not in physical:
            continue
        where = f"{stack.name}/{logical}"
        properties = resource.get("Properties", {})
        try:
            checker = _CHECKERS.get(resource["Type"])
            if checker is not None:
                checker(check, stack, where, physical[logical], properties, resolve, resources, tables)
        except Unresolvable as problem:
            check.differ(where, f"cannot compare: {problem}")


def _check_table(check: _Check, stack: StackArtifact, where: str, name: str, properties: dict[str, Any], resolve: Resolver, resources: dict[str, Any], tables: dict) -> None:
    table = _describe_table(check, stack.region, name, tables)
    check.count()
    if table is None:
        check.differ(where, f"table {name} does not exist in {stack.region}")
        return
    expected_keys = _key_schema(resolve(properties.get("AttributeDefinitions", [])), resolve(properties.get("KeySchema", [])))
    deployed_keys = _key_schema(table.get("AttributeDefinitions", []), table.get("KeySchema", []))
    if expected_keys != deployed_keys:
        check.differ(where, f"table {name} key schema is {deployed_keys}, template says {expected_keys}")
    expected_billing = properties.get("BillingMode", "PROVISIONED")
    deployed_billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if expected_billing != deployed_billing:
        check.differ(where, f"table {name} billing mode is {deployed_billing}, template says {expected_billing}")
    check.count(2)


def _bucket_policy_of(resources: dict[str, Any], resolve: Resolver, bucket: str) -> dict[str, Any] | None:
    for resource in resources.values():
        if resource["Type"] == "AWS::S3::BucketPolicy":
            properties = resource.get("Properties", {})
            try:
                if resolve(properties.get("Bucket")) == bucket:
                    return resolve(properties.get("PolicyDocument", {}))
            except Unresolvable:
                continue
    return None


def _check_bucket(check: _Check, stack: StackArtifact, where: str, name: str, properties: dict[str, Any], resolve: Resolver, resources: dict[str, Any], tables: dict) -> None:
    from botocore.exceptions import ClientError

    s3 = check.clients("s3", stack.region)
    check.count()
    try:
        s3.head_bucket(Bucket=name)
    except ClientError:
        check.differ(where, f"bucket {name} does not exist")
        return
    expected_rules = resolve(properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []))
    try:
        deployed_rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError:
        deployed_rules = []
    encryption = "none"
    check.count()
    if not deployed_rules:
        check.differ(where, f"bucket {name} has no default encryption")
    else:
        default = deployed_rules[0].get("ApplyServerSideEncryptionByDefault", {})
        encryption = default.get("SSEAlgorithm", "?")
        for wanted in expected_rules:
            wanted_default = wanted.get("ServerSideEncryptionByDefault", {})
            for key, value in wanted_default.items():
                if str(default.get(key)) != str(value):
                    check.differ(where, f"bucket {name} encryption {key} is {default.get(key)!r}, template says {value!r}")
    expected_policy = _bucket_policy_of(resources, resolve, name)
    try:
        deployed_policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except ClientError:
        deployed_policy = None
    check.count(2)
    tls_only = deployed_policy is not None and is_tls_only(deployed_policy)
    if deployed_policy is None:
        check.differ(where, f"bucket {name} has no bucket policy (expected a TLS-only policy)")
    elif not tls_only:
        check.differ(where, f"bucket {name} policy has no Deny of aws:SecureTransport=false (not TLS-only)")
    if expected_policy is not None and deployed_policy is not None and expected_policy != deployed_policy:
        check.differ(where, f"bucket {name} policy differs from the template's")
    check.report.buckets.append(BucketRow(stack.name, name, encryption, tls_only))


def _check_role(check: _Check, stack: StackArtifact, where: str, name: str, properties: dict[str, Any], resolve: Resolver, resources: dict[str, Any], tables: dict) -> None:
    from botocore.exceptions import ClientError

    check.count()
    try:
        role = check.clients("iam", stack.region).get_role(RoleName=name)["Role"]
    except ClientError:
        check.differ(where, f"role {name} does not exist")
        return
    expected = _principals(resolve(properties.get("AssumeRolePolicyDocument", {})))
    deployed = _principals(_policy_document(role.get("AssumeRolePolicyDocument", {})))
    check.count()
    if expected != deployed:
        missing = sorted(f"{kind}:{value}" for _, _, kind, value in expected - deployed)
        extra = sorted(f"{kind}:{value}" for _, _, kind, value in deployed - expected)
        check.differ(where, f"role {name} trust differs: missing {missing or 'nothing'}, unexpected {extra or 'nothing'}")
    trusted = sorted({value for _, _, _, value in deployed})
    check.report.roles.append(f"{name} (trusted by {', '.join(trusted)})")


def _check_instance_profile(check: _Check, stack: StackArtifact, where: str, name: str, properties: dict[str, Any], resolve: Resolver, resources: dict[str, Any], tables: dict) -> None:
    from botocore.exceptions import ClientError

    check.count()
    try:
        profile = check.clients("iam", stack.region).get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    except ClientError:
        check.differ(where, f"instance profile {name} does not exist")
        return
    expected = sorted(resolve(properties.get("Roles", [])))
    deployed = sorted(r["RoleName"] for r in profile.get("Roles", []))
    check.count()
    if expected != deployed:
        check.differ(where, f"instance profile {name} holds roles {deployed}, template says {expected}")
    check.report.instance_profiles.append(f"{name} (role {', '.join(deployed) or 'none'})")


def _check_pipeline(check: _Check, stack: StackArtifact, where: str, pipeline_id: str, properties: dict[str, Any], resolve: Resolver, resources: dict[str, Any], tables: dict) -> None:
    client = check.clients("datapipeline", stack.region)
    descriptions = client.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"]
    check.count()
    if not descriptions:
        check.differ(where, f"pipeline {pipeline_id} does not exist")
        return
    description = descriptions[0]
    name = description.get("name", "")
    fields = {f["key"]: f.get("stringValue") for f in description.get("fields", [])}
    state = fields.get("@pipelineState", "?")
    check.report.pipelines.append(PipelineRow(stack.name, name, pipeline_id, state))
    label = f"pipeline {properties.get('Name', name)} ({pipeline_id})"
    if name != properties.get("Name"):
        check.differ(where, f"{label}: name is {name!r}, template says {properties.get('Name')!r}")
    expected_description = properties.get("Description", "")
    deployed_description = description.get("description", fields.get("description", ""))
    if expected_description != deployed_description:
        check.differ(where, f"{label}: description is {deployed_description!r}, template says {expected_description!r}")
    expected_tags = {t["Key"]: t["Value"] for t in resolve(properties.get("PipelineTags", []))}
    deployed_tags = {t["key"]: t["value"] for t in description.get("tags", [])}
    if expected_tags != deployed_tags:
        missing = {k: v for k, v in expected_tags.items() if deployed_tags.get(k) != v}
        extra = {k: v for k, v in deployed_tags.items() if k not in expected_tags}
        check.differ(where, f"{label}: tags differ: missing or changed {missing or 'none'}, unexpected {extra or 'none'}")
    activate = properties.get("Activate", True)
    activated = activate is True or str(activate).lower() == "true"
    if activated == (state == "PENDING"):
        expected_state = "activated (not PENDING)" if activated else "PENDING (never activated)"
        check.differ(where, f"{label}: state is {state}, expected {expected_state}")
    check.count(4)

    definition = client.get_pipeline_definition(pipelineId=pipeline_id)
    expected_objects = {o["Id"]: o for o in resolve(properties.get("PipelineObjects", []))}
    deployed_objects = {o["id"]: o for o in definition.get("pipelineObjects", [])}
    for object_id in sorted(set(expected_objects) | set(deployed_objects)):
        check.count()
        if object_id not in deployed_objects:
            check.differ(where, f"{label}: object {object_id} missing from the deployed definition")
            continue
        if object_id not in expected_objects:
            check.differ(where, f"{label}: unexpected object {object_id} in the deployed definition")
            continue
        want, got = expected_objects[object_id], deployed_objects[object_id]
        if want.get("Name") != got.get("name"):
            check.differ(where, f"{label}: object {object_id} name is {got.get('name')!r}, expected {want.get('Name')!r}")
        for problem in compare_fields(_field_tuples(want.get("Fields", [])), _field_tuples(got.get("fields", []))):
            check.differ(where, f"{label}: object {object_id} {problem}")
    expected_parameters = {p["Id"]: p for p in resolve(properties.get("ParameterObjects", []))}
    deployed_parameters = {p["id"]: p for p in definition.get("parameterObjects", [])}
    for parameter_id in sorted(set(expected_parameters) | set(deployed_parameters)):
        check.count()
        if parameter_id not in deployed_parameters:
            check.differ(where, f"{label}: parameter {parameter_id} missing from the deployed definition")
        elif parameter_id not in expected_parameters:
            check.differ(where, f"{label}: unexpected parameter {parameter_id} in the deployed definition")
        else:
            want = _field_tuples(expected_parameters[parameter_id].get("Attributes", []))
            got = _field_tuples(deployed_parameters[parameter_id].get("attributes", []))
            for problem in compare_fields(want, got):
                check.differ(where, f"{label}: parameter {parameter_id} {problem.replace('field', 'attribute', 1)}")
    expected_values = [(v["Id"], "string", str(v["StringValue"])) for v in resolve(properties.get("ParameterValues", []))]
    deployed_values = [(v["id"], "string", str(v["stringValue"])) for v in definition.get("parameterValues", [])]
    check.count()
    for problem in compare_fields(expected_values, deployed_values):
        check.differ(where, f"{label}: parameter value {problem.replace('field ', '', 1)}")


_CHECKERS: dict[str, Callable[..., None]] = {
    "AWS::DynamoDB::Table": _check_table,
    "AWS::S3::Bucket": _check_bucket,
    "AWS::IAM::Role": _check_role,
    "AWS::IAM::InstanceProfile": _check_instance_profile,
    "AWS::DataPipeline::Pipeline": _check_pipeline,
}


# ---------------------------------------------------------------- against the configuration


@dataclass(frozen=True)
class ExpectedTable:
    environment: str
    region: str
    name: str
    owned: Any  # OwnedTable, or None for a table only referenced
    billing: str
    role: str  # "table", "restore target", "copy target"


def expected_tables(environments: list[Any]) -> list[ExpectedTable]:
    """Every table the configuration names: owned ones (deployed, with their shape) and referenced ones."""
    from dataclasses import replace

    found: list[ExpectedTable] = []
    for env in environments:
        for table in env.tables:
            shape = table.owned
            found.append(ExpectedTable(env.name, env.region, table.name, shape, shape.billing_mode if shape else "-", "table"))
            restore = table.restore
            if restore.target_table != table.name:
                created = restore.create_target and shape is not None
                on_demand = replace(shape, billing_mode="PAY_PER_REQUEST") if created else None
                found.append(ExpectedTable(env.name, env.region, restore.target_table, on_demand, "PAY_PER_REQUEST" if created else "-", "restore target"))
            for copy in getattr(table, "copies", ()):
                created = copy.owned and shape is not None
                on_demand = replace(shape, billing_mode="PAY_PER_REQUEST") if created else None
                found.append(ExpectedTable(env.name, copy.region, copy.target_table, on_demand, "PAY_PER_REQUEST" if created else "-", "copy target"))
    return found


def _config_keys(shape: Any) -> str:
    keys = [f"{shape.partition_key.name}({shape.partition_key.type})"]
    if shape.sort_key is not None:
        keys.append(f"{shape.sort_key.name}({shape.sort_key.type})")
    return " ".join(keys)


def _check_configuration(check: _Check, environments: list[Any], tables: dict[tuple[str, str], dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    for expected in expected_tables(environments):
        where = f"config {expected.environment}/{expected.role} {expected.name}"
        if expected.owned is None:
            if (expected.region, expected.name) not in seen:
                check.report.tables.append(TableRow(expected.environment, expected.region, expected.name, "-", "-", "referenced, not deployed"))
                seen.add((expected.region, expected.name))
            continue
        seen.add((expected.region, expected.name))
        table = _describe_table(check, expected.region, expected.name, tables)
        check.count()
        keys = _config_keys(expected.owned)
        if table is None:
            check.differ(where, f"table does not exist in {expected.region}")
            check.report.tables.append(TableRow(expected.environment, expected.region, expected.name, keys, expected.billing, "missing"))
            continue
        deployed_keys = _key_schema(table.get("AttributeDefinitions", []), table.get("KeySchema", []))
        billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        check.count(2)
        if deployed_keys != keys:
            check.differ(where, f"key schema is {deployed_keys}, configuration says {keys}")
        if billing != expected.billing:
            check.differ(where, f"billing mode is {billing}, configuration says {expected.billing}")
        if expected.billing == "PROVISIONED" and expected.role == "table":
            throughput = table.get("ProvisionedThroughput", {})
            for label, key, wanted in (("read", "ReadCapacityUnits", expected.owned.read_capacity), ("write", "WriteCapacityUnits", expected.owned.write_capacity)):
                check.count()
                if throughput.get(key) != wanted:
                    check.differ(where, f"{label} capacity is {throughput.get(key)}, configuration says {wanted}")
        check.report.tables.append(TableRow(expected.environment, expected.region, expected.name, deployed_keys, billing, "deployed"))
    _check_pipelines_against_configuration(check, environments)


@dataclass(frozen=True)
class ExpectedPipeline:
    environment: Any
    table: str
    kind: str  # export, restore, copy
    name_prefix: str
    values: dict[str, str]  # parameter values the configuration decides
    schedule: Any  # ScheduleSpec, or None for on demand


def expected_pipelines(environments: list[Any]) -> list[ExpectedPipeline]:
    found = []
    for env in environments:
        for table in env.tables:
            prefix = f"ddb-{env.name}-{table.name}"
            found.append(
                ExpectedPipeline(env, table.name, "export", f"{prefix}-export-", {"myDDBTableName": table.name, "myDDBReadThroughputRatio": str(table.export.read_ratio)}, table.export.schedule)
            )
            found.append(
                ExpectedPipeline(env, table.name, "restore", f"{prefix}-restore-", {"myDDBTableName": table.restore.target_table, "myDDBWriteThroughputRatio": str(table.restore.write_ratio)}, None)
            )
            for copy in getattr(table, "copies", ()):
                values = {
                    "mySourceTableName": table.name,
                    "myTargetRegion": copy.region,
                    "myDDBReadThroughputRatio": str(copy.read_ratio),
                    "myDDBWriteThroughputRatio": str(copy.write_ratio),
                }
                found.append(ExpectedPipeline(env, table.name, "copy", f"{prefix}-copy-{copy.label}-", values, copy.schedule))
    return found


def _check_pipelines_against_configuration(check: _Check, environments: list[Any]) -> None:
    """Each configured pipeline carries the configured table, throughput ratios, schedule and EMR cluster."""
    tagged: dict[tuple[str, str, str, str], list[tuple[str, str]]] = defaultdict(list)  # (region, env, table, kind) -> (id, name)
    for region in sorted({env.region for env in environments}):
        client = check.clients("datapipeline", region)
        ids = [p["id"] for p in _list_pipelines(client)]
        for start in range(0, len(ids), 25):
            for description in client.describe_pipelines(pipelineIds=ids[start : start + 25])["pipelineDescriptionList"]:
                tags = {t["key"]: t["value"] for t in description.get("tags", [])}
                key = (region, tags.get("ddb-datapipeline:environment", ""), tags.get("ddb-datapipeline:table", ""), tags.get("ddb-datapipeline:kind", ""))
                tagged[key].append((description["pipelineId"], description["name"]))
    for expected in expected_pipelines(environments):
        env = expected.environment
        where = f"config {env.name}/{expected.table} {expected.kind} pipeline"
        found = [p for p in tagged.get((env.region, env.name, expected.table, expected.kind), []) if p[1].startswith(expected.name_prefix)]
        check.count()
        if len(found) != 1:
            check.differ(where, f"expected one pipeline named {expected.name_prefix}<fingerprint> and tagged for it in {env.region}, found {len(found)}")
            continue
        pipeline_id, name = found[0]
        label = f"{name} ({pipeline_id})"
        definition = check.clients("datapipeline", env.region).get_pipeline_definition(pipelineId=pipeline_id)
        deployed_values = {v["id"]: v["stringValue"] for v in definition.get("parameterValues", [])}
        for parameter, value in expected.values.items():
            check.count()
            if deployed_values.get(parameter) != value:
                check.differ(where, f"{label}: parameter value {parameter} is {deployed_values.get(parameter)!r}, configuration says {value!r}")
        objects = [{f["key"]: f.get("stringValue", f.get("refValue")) for f in o["fields"]} for o in definition.get("pipelineObjects", [])]
        cluster = {
            "releaseLabel": env.emr.release_label,
            "masterInstanceType": env.emr.master_instance_type,
            "coreInstanceType": env.emr.core_instance_type,
            "coreInstanceCount": str(env.emr.core_instance_count),
            "terminateAfter": env.emr.terminate_after,
        }
        for fields in objects:
            if fields.get("type") != "EmrCluster":
                continue
            for key, value in cluster.items():
                check.count()
                if fields.get(key) != value:
                    check.differ(where, f"{label}: EmrCluster {key} is {fields.get(key)!r}, configuration says {value!r}")
        periods = [fields.get("period") for fields in objects if fields.get("type") == "Schedule"]
        check.count()
        if expected.schedule is None and periods:
            check.differ(where, f"{label}: has a Schedule ({periods}), configuration says on demand")
        elif expected.schedule is not None and periods != [expected.schedule.period]:
            check.differ(where, f"{label}: schedule period is {periods or 'none (on demand)'}, configuration says {expected.schedule.period!r}")


def _list_pipelines(client: Any) -> list[dict[str, Any]]:
    found, marker = [], None
    while True:
        page = client.list_pipelines(**({"marker": marker} if marker else {}))
        found += page.get("pipelineIdList", [])
        marker = page.get("marker")
        if not page.get("hasMoreResults") or not marker:
            return found


def _check_stray_pipelines(check: _Check, stacks: list[StackArtifact], environments: list[Any]) -> None:
    """A pipeline of a deployed environment that no stack owns was left behind (e.g. by a replacement)."""
    owned = {row.pipeline_id for row in check.report.pipelines}
    prefixes = tuple(f"ddb-{env.name}-" for env in environments)
    for region in sorted({stack.region for stack in stacks}):
        for pipeline in _list_pipelines(check.clients("datapipeline", region)):
            check.count()
            if pipeline["name"].startswith(prefixes) and pipeline["id"] not in owned:
                check.differ(f"region {region}", f"pipeline {pipeline['name']} ({pipeline['id']}) belongs to no deployed stack")
