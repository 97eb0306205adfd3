"""The acceptance run of a native-engine table: each deployed state machine started once (StartExecution), waited for
with DescribeExecution, its result verified, and everything it created found again and deleted.

What may run, and why it is safe (the machines take no table as input: constructs/native_*.py):

- export (input ``{}``): exports the configured table from point-in-time recovery. That only reads the table (an
  export from point-in-time recovery uses none of its capacity) and writes an export under ``exports/<table>/``.
  The files are checked against DescribeExport's ``ItemCount``; the configured table is never scanned, because its
  items are the user's and change under the run, so a difference would prove nothing (and a scan costs reads).
- restore (``{"export": <that export's data folder>, "table": "<restore prefix>-acceptance-<run id>"}``): ImportTable
  always creates its table, so it writes only the new scratch table, which is compared with the export by checksums.
- copy into the same account and region (input ``{}``): exports the table again and imports that export into a new
  ``<prefix>-<export id>``, compared with that export's files by checksums.
- drill (input ``{}``, after the export): restores the newest export of the bucket (the run's own) into
  ``<table>-drill-<export id>``, compares the counts itself and deletes that table; its success is the verdict.
- not run: an incremental export moves the watermark (``exports/<table>/incremental/watermark``) the scheduled chain
  continues from, and deleting the run's export afterwards would leave a gap in it; a copy into another account or
  region imports through a second machine there, which this run's session does not watch.

Every execution is named ``acceptance-<run id>-<kind>``, so ``cleanup --run-id`` finds the run's executions on each
machine, stops those still running, reads the export ARNs from their histories (only of the export and copy machines:
a drill's history lists other exports of the table too) and deletes each export's folder, the copy's and the drill's
tables named after it, and (by name) the restore's scratch table. What stays: the executions' histories (Step
Functions keeps them 90 days and has no call to delete them) and the imports' CloudWatch log entries.
"""
from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..config.model import EnvironmentConfig, TableConfig
from ..definition.generated_names import DRILL_SUFFIX, machine_name
from .items import table_checksum
from .plan import scratch_name

Out = Callable[[str], None]
Clients = Callable[[str, str], Any]
POLL_SECONDS = 30.0  # a native machine looks at its export every 5 minutes (native_steps.POLL_EVERY): a line each 30 s
EXECUTION_PREFIX = "acceptance-"  # executions are acceptance-<run id>-<kind>
_EXPORT_ARN = re.compile(r"arn:aws[\w-]*:dynamodb:[\w-]+:\d{12}:table/[\w.-]+/export/[\w.-]+")
INCREMENTAL_REASON = ("an incremental export moves the watermark exports/<table>/incremental/watermark the scheduled "
                      "chain continues from; deleting the run's export afterwards would leave a gap in it")
ELSEWHERE_REASON = ("a copy into another account or region: its import runs on a machine there, which this run's "
                    "session does not watch")


@dataclass(frozen=True, kw_only=True)
class MachineOutcome:
    """How one execution ended: SUCCEEDED, FAILED, TIMED_OUT, ABORTED (Step Functions' statuses), TIMED OUT (the
    run's own timeout, after which it stopped the execution) or NOT DEPLOYED."""

    status: str
    output: Mapping[str, Any] = field(default_factory=dict)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "SUCCEEDED"


class MachineRunner(Protocol):
    """What starts a state machine and waits for it, and finds a run's executions again for cleanup."""

    def run(self, *, region: str, machine: str, execution: str, payload: Mapping[str, Any], timeout_seconds: float,
            progress: Out) -> MachineOutcome: ...

    def executions(self, *, region: str, machine: str, prefix: str) -> list[tuple[str, str]]:
        """(ARN, status) of the executions of ``machine`` whose name starts with ``prefix``."""
        ...

    def stop(self, *, execution_arn: str, region: str) -> None: ...

    def role(self, *, region: str, machine: str) -> str | None:
        """The name of the machine's role (whose denied calls the CloudTrail lookup lists)."""
        ...

    def text(self, *, execution_arn: str, region: str) -> str:
        """Everything the execution took and produced (input, output, each event of its history), as one text."""
        ...


@dataclass(frozen=True)
class AwsMachineRunner:
    """Step Functions itself. ``sleep`` and ``clock`` are the waiting's (time.sleep, time.monotonic); the emulator's
    stand-in gives a short ``poll_seconds``, the unit tests a fake clock."""

    clients: Clients
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_seconds: float = POLL_SECONDS

    def machine_arn(self, region: str, machine: str) -> str | None:
        pages = self.clients("stepfunctions", region).get_paginator("list_state_machines").paginate()
        return next((m["stateMachineArn"] for page in pages for m in page["stateMachines"] if m["name"] == machine), None)

    def run(self, *, region: str, machine: str, execution: str, payload: Mapping[str, Any], timeout_seconds: float,
            progress: Out) -> MachineOutcome:
        arn = self.machine_arn(region, machine)
        if arn is None:
            return MachineOutcome(status="NOT DEPLOYED", detail=f"no state machine {machine} in {region}; deploy the environment first")
        client = self.clients("stepfunctions", region)
        execution_arn = client.start_execution(stateMachineArn=arn, name=execution, input=json.dumps(dict(payload)))["executionArn"]
        started = self.clock()
        while True:
            described = client.describe_execution(executionArn=execution_arn)
            waited = self.clock() - started
            progress(f"acceptance: {machine}: {execution} {described['status']} ({waited:.0f} s)")
            if described["status"] != "RUNNING":
                output = json.loads(described.get("output") or "{}")
                detail = f"{described.get('error', '')}: {described.get('cause', '')}".strip(": ")[:400]
                return MachineOutcome(status=described["status"], output=output if isinstance(output, dict) else {}, detail=detail)
            if waited >= timeout_seconds:
                client.stop_execution(executionArn=execution_arn, error="AcceptanceTimeout",
                                      cause=f"the acceptance run waited {timeout_seconds:.0f} s")
                return MachineOutcome(status="TIMED OUT", detail=f"still running after {timeout_seconds:.0f} s; stopped")
            self.sleep(self.poll_seconds)

    def executions(self, *, region: str, machine: str, prefix: str) -> list[tuple[str, str]]:
        arn = self.machine_arn(region, machine)
        if arn is None:
            return []
        pages = self.clients("stepfunctions", region).get_paginator("list_executions").paginate(stateMachineArn=arn)
        return [(e["executionArn"], e["status"]) for page in pages for e in page["executions"] if e["name"].startswith(prefix)]

    def role(self, *, region: str, machine: str) -> str | None:
        arn = self.machine_arn(region, machine)
        if arn is None:
            return None
        return str(self.clients("stepfunctions", region).describe_state_machine(stateMachineArn=arn)["roleArn"]).rsplit("/", 1)[-1]

    def stop(self, *, execution_arn: str, region: str) -> None:
        self.clients("stepfunctions", region).stop_execution(executionArn=execution_arn, error="AcceptanceCleanup",
                                                             cause="the acceptance run's cleanup")

    def text(self, *, execution_arn: str, region: str) -> str:
        client = self.clients("stepfunctions", region)
        described = client.describe_execution(executionArn=execution_arn)
        pages = client.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        events = [event for page in pages for event in page["events"]]
        return json.dumps([described.get("input"), described.get("output"), events], default=str)


def execution_name(run_id: str, kind: str) -> str:
    """The execution's name: Step Functions allows 80 characters of letters, digits, ``-`` and ``_`` (inferred from
    the StartExecution reference's ``name``); a run id has at most 16 and a kind is export, restore, copy-N or drill."""
    return f"{EXECUTION_PREFIX}{run_id}-{kind}"


def native_machines(env: EnvironmentConfig, table: TableConfig) -> list[tuple[str, str, str | None]]:
    """(kind, machine name, why it is not run) of every machine the table deploys, in the order a run starts them."""
    found: list[tuple[str, str, str | None]] = [("export", machine_name(env.name, table.name, "export"), None)]
    if table.owned is not None:  # a referenced table gets no restore machine (drill.py restores owned tables only)
        found.append(("restore", machine_name(env.name, table.name, "restore"), None))
    if table.export.incremental:
        found.append(("incremental", machine_name(env.name, table.name, "incremental"), INCREMENTAL_REASON))
    for copy in table.copies:
        elsewhere = copy.cross_account or copy.region != env.region
        found.append((f"copy-{copy.target_prefix}", machine_name(env.name, table.name, f"copy-{copy.target_prefix}"),
                      ELSEWHERE_REASON if elsewhere else None))
    if table.restore.drill and table.owned is not None:  # stacks/table_set.py: restore and drill of owned tables only
        found.append(("drill", machine_name(env.name, table.name, "drill"), None))
    return found


def restore_prefix(table: TableConfig) -> str:
    return table.restore.target_prefix or f"{table.name}-restore"


def decoded(value: Mapping[str, Any]) -> dict[str, Any]:
    """An attribute value as an export file writes it (DynamoDB JSON, binary in base64: DynamoDB Developer Guide,
    "DynamoDB table export output format") as boto3's Scan returns it (binary as bytes), which the checksums read."""
    ((kind, raw),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(raw)}
    if kind == "BS":
        return {"BS": [base64.b64decode(member) for member in raw]}
    if kind == "M":
        return {"M": {name: decoded(member) for name, member in raw.items()}}
    if kind == "L":
        return {"L": [decoded(member) for member in raw]}
    return dict(value)


@dataclass(frozen=True, kw_only=True)
class NativeExport:
    """One completed export: where its files are and how many items DynamoDB says it holds."""

    arn: str
    bucket: str
    prefix: str  # S3Prefix, without a trailing /
    item_count: int

    @property
    def export_id(self) -> str:
        return self.arn.rsplit("/", 1)[1]

    @property
    def folder(self) -> str:
        """``<prefix>/AWSDynamoDB/<export id>/``: every object the export wrote (data files, manifests, _started)."""
        return f"{self.prefix}/AWSDynamoDB/{self.export_id}/" if self.prefix else f"AWSDynamoDB/{self.export_id}/"

    @property
    def data_folder(self) -> str:
        """What a restore takes (native_restore.py): ``<prefix>/AWSDynamoDB/<export id>/data/``."""
        return f"{self.folder}data/"


def describe_export(clients: Clients, region: str, arn: str) -> tuple[str, NativeExport]:
    """(ExportStatus, the export) as DescribeExport says."""
    description = clients("dynamodb", region).describe_export(ExportArn=arn)["ExportDescription"]
    return description["ExportStatus"], NativeExport(arn=arn, bucket=description["S3Bucket"], prefix=description.get("S3Prefix", "").rstrip("/"),
                                                     item_count=int(description.get("ItemCount", 0)))


def export_items(clients: Clients, region: str, export: NativeExport) -> list[dict[str, Any]]:
    """The items of the export's data files (gzip, one ``{"Item": ...}`` a line)."""
    s3 = clients("s3", region)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=export.bucket, Prefix=export.data_folder)
    items: list[dict[str, Any]] = []
    for key in (o["Key"] for page in pages for o in page.get("Contents", [])):
        body = s3.get_object(Bucket=export.bucket, Key=key)["Body"].read()
        for line in gzip.decompress(body).decode().splitlines():
            if line.strip():
                items.append({name: decoded(value) for name, value in json.loads(line)["Item"].items()})
    return items


def scan(clients: Clients, region: str, table: str) -> list[dict[str, Any]]:
    pages = clients("dynamodb", region).get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def compare(found: list[dict[str, Any]], expected: list[dict[str, Any]], table: str, export: NativeExport) -> str:
    if len(found) == len(expected) and table_checksum(found) == table_checksum(expected):
        return f"verified: {len(found)} items, checksums equal to export {export.export_id}'s"
    return f"MISMATCH: {table} holds {len(found)} items, export {export.export_id} {len(expected)}, checksums differ"


def export_arns(text: str, table_arn: str) -> list[str]:
    """The ARNs of exports of ``table_arn`` named in ``text``, each once, in order."""
    return list(dict.fromkeys(arn for arn in _EXPORT_ARN.findall(text) if arn.startswith(f"{table_arn}/export/")))


@dataclass
class NativeRun:
    """The runs of one native table, for ``run.Acceptance``: ``start`` runs one machine and fills its record's
    outcome and verdict; ``created`` lists what the run made (the report's "deleted" lists it after cleanup)."""

    env: EnvironmentConfig
    table: TableConfig
    run_id: str
    clients: Clients
    machines: MachineRunner
    out: Out
    timeout_seconds: float
    export: NativeExport | None = None
    exported: list[dict[str, Any]] = field(default_factory=list)  # the export's items, what the restore is compared with
    created: list[str] = field(default_factory=list)

    def payload(self, kind: str) -> dict[str, Any] | None:
        """The machine's input, or None when it needs the export and there is none."""
        if kind == "restore":
            if self.export is None:
                return None
            return {"export": self.export.data_folder, "table": scratch_name(restore_prefix(self.table), self.run_id)}
        if kind == "drill" and self.export is None:
            return None
        return {}

    def start(self, kind: str, machine: str) -> tuple[MachineOutcome, str, int]:
        """(the outcome, the verdict, the items compared) of one run of ``machine``."""
        payload = self.payload(kind)
        if payload is None:
            return MachineOutcome(status="not run", detail=f"{self.table.name} export did not leave an export"), "", 0
        region = self.env.region
        outcome = self.machines.run(region=region, machine=machine, execution=execution_name(self.run_id, kind), payload=payload,
                                    timeout_seconds=self.timeout_seconds, progress=self.out)
        if not outcome.ok:
            return outcome, "", 0
        if kind == "export":
            return self._verify_export(outcome)
        if kind == "restore":
            assert self.export is not None
            target = str(payload["table"])
            self.created.append(f"table {target} ({region})")
            found = scan(self.clients, region, target)
            return outcome, compare(found, self.exported, target, self.export), len(found)
        if kind.startswith("copy-"):
            return self._verify_copy(outcome)
        return outcome, "verified: the drill's own count check passed (it imported as many items as the export holds) and it deleted its table", 0

    def _verify_export(self, outcome: MachineOutcome) -> tuple[MachineOutcome, str, int]:
        arn = str((outcome.output.get("export") or {}).get("arn", ""))
        if not arn:
            return outcome, "MISMATCH: the execution's output names no export ARN ($.export.arn)", 0
        status, export = describe_export(self.clients, self.env.region, arn)
        self.export = export
        self.created.append(f"export {export.export_id}: s3://{export.bucket}/{export.folder}")
        items = self.exported = export_items(self.clients, self.env.region, export)
        if status != "COMPLETED" or len(items) != export.item_count:
            return outcome, (f"MISMATCH: export {export.export_id} is {status}, its files hold {len(items)} items, "
                             f"DescribeExport counts {export.item_count}"), len(items)
        return outcome, f"verified: {len(items)} items in the files, as DescribeExport counts (the configured table is not scanned)", len(items)

    def _verify_copy(self, outcome: MachineOutcome) -> tuple[MachineOutcome, str, int]:
        target, folder = str(outcome.output.get("table", "")), str(outcome.output.get("export", ""))
        region = self.env.region
        export_id = folder.rstrip("/").removesuffix("/data").rsplit("/", 1)[-1]
        if not target or not export_id:
            return outcome, "MISMATCH: the execution's output names no table and export ($.table, $.export)", 0
        table_arn = self.clients("dynamodb", region).describe_table(TableName=self.table.name)["Table"]["TableArn"]
        _, export = describe_export(self.clients, region, f"{table_arn}/export/{export_id}")
        self.created += [f"export {export_id}: s3://{export.bucket}/{export.folder}", f"table {target} ({region})"]
        found = scan(self.clients, region, target)
        return outcome, compare(found, export_items(self.clients, region, export), target, export), len(found)


def clean_native(env: EnvironmentConfig, run_id: str, clients: Clients, machines: MachineRunner) -> tuple[list[str], list[str]]:
    """(deleted, left) of run ``run_id`` on the native tables of ``env``: its executions stopped, every export its export
    and copy executions made (read from their histories) deleted from S3, the tables named after those exports (a
    copy's ``<prefix>-<export id>``, a drill's ``<table>-drill-<export id>``) deleted. The restore's scratch table ends
    in ``-acceptance-<run id>`` and is deleted by name with the others (``run.clean_run``)."""
    deleted: list[str] = []
    left: list[str] = []
    prefix = execution_name(run_id, "")
    for table in (t for t in env.tables if t.native):
        region = env.region
        dynamodb = clients("dynamodb", region)
        try:
            table_arn = dynamodb.describe_table(TableName=table.name)["Table"]["TableArn"]
        except dynamodb.exceptions.ResourceNotFoundException:
            continue
        arns: list[str] = []
        copy_prefixes = []
        for kind, machine, skipped in native_machines(env, table):
            if skipped:
                continue
            for execution_arn, status in machines.executions(region=region, machine=machine, prefix=prefix):
                if status == "RUNNING":
                    machines.stop(execution_arn=execution_arn, region=region)
                    deleted.append(f"execution {execution_arn} (stopped)")
                if kind == "export" or kind.startswith("copy-"):
                    arns += export_arns(machines.text(execution_arn=execution_arn, region=region), table_arn)
            if kind.startswith("copy-"):
                copy_prefixes.append(kind.removeprefix("copy-"))
        for arn in dict.fromkeys(arns):
            status, export = describe_export(clients, region, arn)
            names = [f"{p}-{export.export_id}" for p in copy_prefixes] + [f"{table.name}{DRILL_SUFFIX}{export.export_id}"]
            deleted += _delete_tables(dynamodb, names, region)
            if status == "IN_PROGRESS":
                left.append(f"export {export.export_id} of {table.name} is still in progress: run acceptance cleanup again when it ends")
                continue
            count = _delete_folder(clients("s3", region), export.bucket, export.folder)
            if count:
                deleted.append(f"s3://{export.bucket}/{export.folder} ({count} objects)")
    return deleted, left


def _delete_tables(dynamodb: Any, names: Iterable[str], region: str) -> list[str]:
    deleted = []
    for name in names:
        try:
            dynamodb.delete_table(TableName=name)
            deleted.append(f"table {name} ({region})")
        except dynamodb.exceptions.ResourceNotFoundException:
            pass
    return deleted


def _delete_folder(s3: Any, bucket: str, folder: str) -> int:
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder) for o in page.get("Contents", [])]
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
    return len(keys)
