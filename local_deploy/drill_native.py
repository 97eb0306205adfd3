"""The drill's runs of native-engine tables: the deployed state machines, started on the emulator's Step Functions
interpreter, against its DynamoDB and S3.

What differs from AWS, and why the drill may still trust what it sees:

- moto stores a state machine and runs none unless its ``stepfunctions.execute_state_machine`` setting is on; the
  drill turns it on through moto's configuration API (``/moto-api/config``), on any moto server it drives.
- A native machine waits 5 minutes between two looks at its export or import (``native_steps.POLL_EVERY``); moto
  finishes both before the first look, so the drill sets each ``Wait`` state of the deployed definition to 0 seconds,
  as ``tests/integration/test_native_state_machine.py`` does. Every other state runs as deployed.
- moto keeps the machines it runs apart from those CloudFormation stored. The drill reads each deployed machine's
  definition and role first, then creates it under the same name (so the same ARN) on the interpreter, and turns
  execution off again at the end, so the emulator answers as before for whatever runs next on it.
- moto ignores a table's ``PointInTimeRecoverySpecification`` in a template (the deploy says so), and an export from
  point-in-time recovery needs it: the drill turns it on (``UpdateContinuousBackups``) where the configuration has it
  on, which a native table must.
- moto names and lays out exports, evaluates JSONata and passes SDK members as Step Functions does only with fixes
  7 to 10 of ``moto_fixes.py``, which the emulator applies.

A run is one execution, waited for by asking ``DescribeExecution`` every ``POLL_SECONDS`` until it leaves RUNNING.
"""
from __future__ import annotations

import gzip
import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ddb_datapipeline.acceptance.native import decoded

from .drill_access import RunFailed
from .smoke_common import ClientFactory

POLL_SECONDS = 0.05  # moto runs an execution on a thread of its own; the machines here end within a second or two
RUN_TIMEOUT_SECONDS = 300.0  # a run that has not ended by then is stuck (the drill's own runs take seconds)


def execute_state_machines(endpoint: str, *, on: bool) -> None:
    """Turn moto's execution of state machines on or off through its configuration API (moto_api/_internal/models.py,
    ``set_config``; its answer does not list the setting)."""
    setting = {"stepfunctions": {"execute_state_machine": on}}
    request = urllib.request.Request(f"{endpoint.rstrip('/')}/moto-api/config", data=json.dumps(setting).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def deployed_machines(clients: ClientFactory, region: str) -> dict[str, dict[str, Any]]:
    """Name -> the definition and role of every state machine CloudFormation deployed in ``region``; read while moto's
    execution is off, as moto keeps the machines it runs apart from those it stores (stepfunctions/responses.py,
    ``get_backend``)."""
    stepfunctions = clients("stepfunctions", region)
    pages = stepfunctions.get_paginator("list_state_machines").paginate()
    found = {}
    for machine in (m for page in pages for m in page["stateMachines"]):
        described = stepfunctions.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
        found[machine["name"]] = {"definition": json.loads(described["definition"]), "roleArn": described["roleArn"]}
    return found


def without_waits(definition: dict[str, Any]) -> dict[str, Any]:
    """``definition`` with every Wait state (at any depth: Parallel branches, Map iterators) waiting 0 seconds."""
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("Type") == "Wait":
                return {**{k: v for k, v in value.items() if k not in ("SecondsPath", "Timestamp", "TimestampPath")}, "Seconds": 0}
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return dict(walk(definition))


@dataclass(frozen=True, kw_only=True)
class Export:
    """One completed native export: its id and the S3 folder of its data files."""

    export_id: str
    bucket: str
    data_folder: str  # <prefix>/AWSDynamoDB/<export id>/data/, what a restore takes


class NativeRunner:
    """Starts the deployed machines of one region and waits for each run; ``RunFailed`` names the machine and why."""

    def __init__(self, *, clients: ClientFactory, region: str, deployed: dict[str, dict[str, Any]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clients = clients
        self.region = region
        self.deployed = deployed  # deployed_machines(region), read before execution was turned on
        self.clock = clock
        self.prepared: dict[str, str] = {}  # machine name -> ARN on the interpreter

    def machine(self, name: str) -> str:
        """The ARN of the deployed machine ``name`` on moto's interpreter: its definition (waits shortened) and role,
        created there on first use under the same name, so the same ARN."""
        if name in self.prepared:
            return self.prepared[name]
        if name not in self.deployed:
            raise RunFailed(f"drill: no deployed state machine {name} in {self.region} (found: {', '.join(sorted(self.deployed)) or 'none'})")
        deployed = self.deployed[name]
        definition = json.dumps(without_waits(deployed["definition"]))
        stepfunctions = self.clients("stepfunctions", self.region)
        ran_before = [m["stateMachineArn"] for m in stepfunctions.list_state_machines()["stateMachines"] if m["name"] == name]
        if ran_before:  # an earlier drill on this emulator (make deploy-local KEEP=1) created it: run the deployed one now
            stepfunctions.update_state_machine(stateMachineArn=ran_before[0], definition=definition, roleArn=deployed["roleArn"])
            self.prepared[name] = ran_before[0]
        else:
            self.prepared[name] = stepfunctions.create_state_machine(name=name, definition=definition, roleArn=deployed["roleArn"])["stateMachineArn"]
        return self.prepared[name]

    def run(self, name: str, execution_input: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """(the execution's output, its seconds) of one run of ``name`` that succeeded."""
        stepfunctions = self.clients("stepfunctions", self.region)
        arn = self.machine(name)
        started = self.clock()
        execution = stepfunctions.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(execution_input))["executionArn"]
        while (described := stepfunctions.describe_execution(executionArn=execution))["status"] == "RUNNING":
            if self.clock() - started > RUN_TIMEOUT_SECONDS:
                raise RunFailed(f"{name}: still running after {RUN_TIMEOUT_SECONDS:g} s")
            time.sleep(POLL_SECONDS)
        seconds = self.clock() - started
        if described["status"] != "SUCCEEDED":
            raise RunFailed(f"{name}: {described['status']}: {described.get('error', '')}: {described.get('cause', '')}"[:400])
        return json.loads(described.get("output") or "{}"), seconds

    def latest_export(self, table: str) -> Export:
        """The newest completed export of ``table`` (an export id begins with its time)."""
        dynamodb = self.clients("dynamodb", self.region)
        arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
        summaries = dynamodb.list_exports(TableArn=arn).get("ExportSummaries", [])
        completed = sorted(s["ExportArn"] for s in summaries if s.get("ExportStatus") == "COMPLETED")
        if not completed:
            raise RunFailed(f"drill: no completed export of {table} in {self.region}")
        description = dynamodb.describe_export(ExportArn=completed[-1])["ExportDescription"]
        export_id = completed[-1].rsplit("/", 1)[1]
        prefix = description.get("S3Prefix", "").rstrip("/")
        folder = f"{prefix}/AWSDynamoDB/{export_id}/data/" if prefix else f"AWSDynamoDB/{export_id}/data/"
        return Export(export_id=export_id, bucket=description["S3Bucket"], data_folder=folder)

    def export_items(self, export: Export) -> tuple[list[dict[str, Any]], int, int]:
        """(the items, the bytes, the files) of the export's data files (DynamoDB JSON, one ``{"Item": ...}`` a line, gzip)."""
        s3 = self.clients("s3", self.region)
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=export.bucket, Prefix=export.data_folder)
        keys = [(o["Key"], o["Size"]) for page in pages for o in page.get("Contents", [])]
        items = []
        for key, _ in keys:
            body = s3.get_object(Bucket=export.bucket, Key=key)["Body"].read()
            lines = [json.loads(line)["Item"] for line in gzip.decompress(body).decode().splitlines() if line.strip()]
            items += [{name: decoded(value) for name, value in item.items()} for item in lines]
        return items, sum(size for _, size in keys), len(keys)
