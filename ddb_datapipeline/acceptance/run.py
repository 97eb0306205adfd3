"""``python -m ddb_datapipeline acceptance``: run every pipeline of a deployed environment once, against scratch tables,
verify what moved, list what AWS denied, and delete everything the run created.

Order: the deployed pipelines are found by their tags (``ddb-datapipeline:environment``/``table``/``kind``, as the
constructs write them); each configured table gets its scratch table ``<table>-acceptance-<run id>`` with the
configured table's key schema (DescribeTable, read-only), the sources seeded with the drill's items of every
DynamoDB type (``items.py``), the targets empty; each pipeline then runs once as a new on-demand pipeline made from a
copy of its stored definition (``plan.scratch_definition``), through a ``PipelineRunner``: on AWS,
``AwsPipelineRunner`` (CreatePipeline, PutPipelineDefinition, ActivatePipeline, then QueryObjects/DescribeObjects of
its instances until each is done or the run's timeout passes); in the tests, the local runner of ``local_deploy``,
injected. What moved is compared by the drill's checksums: an export's files with the seeded items, a restore's or a
copy's target with them. Everything created is deleted in a ``finally`` (Ctrl-C and SIGTERM included); what a killed
process left behind is found again by name by ``cleanup``. A native-engine table's machines take no table as input,
so they run as deployed, one StartExecution each, through a ``native.MachineRunner`` (``native.py`` says what each
writes and why that is safe).

Every AWS call goes through ``clients(service, region)``, made from one boto3 session by the caller; nothing here
calls AWS at import.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..config.model import EnvironmentConfig
from .connector_format import read_export
from .items import generate_items, item_checksum, table_checksum
from .native import AwsMachineRunner, MachineRunner, NativeRun, clean_native
from .plan import (
    PIPELINE_PREFIX,
    AcceptanceError,
    PlannedRun,
    export_bucket,
    plan_runs,
    run_folder,
    scratch_definition,
    scratch_name,
    scratch_tables,
    unscratched_tables,
)
from .trail import Denial, TrailLookup

Out = Callable[[str], None]
Clients = Callable[[str, str], Any]
# Data Pipeline's instance states that end a run (Developer Guide, "Interpreting Pipeline Status Details"): FINISHED is
# the only good one.
DONE_STATES = frozenset({"FINISHED", "FAILED", "CASCADE_FAILED", "CANCELED", "TIMEDOUT", "SKIPPED"})
POLL_SECONDS = 60.0  # an EMR cluster takes about ten minutes to start: a line a minute says the run moves


@dataclass(frozen=True)
class PipelineJob:
    """One on-demand pipeline to create, run once and leave for ``cleanup``."""

    name: str
    region: str
    definition: Mapping[str, Any]  # GetPipelineDefinition's shape, rewritten for the run
    parameter_values: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...]
    timeout_seconds: float


@dataclass(frozen=True)
class JobOutcome:
    status: str  # FINISHED, FAILED, TIMED OUT
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "FINISHED"


class PipelineRunner(Protocol):
    """What runs a pipeline: the service on AWS, a local runner in the tests."""

    def run(self, job: PipelineJob, *, progress: Out) -> JobOutcome: ...

    def remove(self, *, region: str, prefix: str) -> list[str]:
        """Delete every pipeline whose name starts with ``prefix``; the names deleted."""
        ...


def list_pipelines(client: Any) -> list[dict[str, str]]:
    """Every pipeline of the client's account and region, all pages (also the local deploy's smoke check and drill)."""
    found: list[dict[str, str]] = []
    marker = None
    while True:
        page = client.list_pipelines(**({"marker": marker} if marker else {}))
        found += page.get("pipelineIdList", [])
        marker = page.get("marker")
        if not page.get("hasMoreResults") or not marker:
            return found


@dataclass(frozen=True)
class AwsPipelineRunner:
    """The Data Pipeline service itself. ``sleep`` and ``clock`` are the waiting's (time.sleep, time.monotonic)."""

    clients: Clients
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_seconds: float = POLL_SECONDS

    def run(self, job: PipelineJob, *, progress: Out) -> JobOutcome:
        client = self.clients("datapipeline", job.region)
        pipeline_id = client.create_pipeline(name=job.name, uniqueId=job.name, description="acceptance run (deleted by cleanup)",
                                             tags=[{"key": k, "value": v} for k, v in job.tags])["pipelineId"]
        answer = client.put_pipeline_definition(pipelineId=pipeline_id, **job.definition)
        if answer.get("errored"):
            errors = [e for found in answer.get("validationErrors", []) for e in found.get("errors", [])]
            return JobOutcome("FAILED", f"PutPipelineDefinition refused the copy: {errors[:1]}")
        client.activate_pipeline(pipelineId=pipeline_id, parameterValues=[{"id": k, "stringValue": v} for k, v in job.parameter_values])
        started = self.clock()
        while True:
            states = self._instance_states(client, pipeline_id)
            waited = self.clock() - started
            progress(f"acceptance: {job.name}: {', '.join(f'{k} {v}' for k, v in sorted(states.items())) or 'starting'} ({waited:.0f} s)")
            if states and all(state in DONE_STATES for state in states.values()):
                bad = {k: v for k, v in states.items() if v != "FINISHED"}
                return JobOutcome("FAILED", f"instances {bad}") if bad else JobOutcome("FINISHED")
            if waited >= job.timeout_seconds:
                return JobOutcome("TIMED OUT", f"not done after {job.timeout_seconds:.0f} s: {states}")
            self.sleep(self.poll_seconds)

    @staticmethod
    def _instance_states(client: Any, pipeline_id: str) -> dict[str, str]:
        """Each instance's ``@status``, by the component it is an instance of (its ``name``)."""
        ids = [i for page in client.get_paginator("query_objects").paginate(pipelineId=pipeline_id, sphere="INSTANCE")
               for i in page.get("ids", [])]
        states: dict[str, str] = {}
        for start in range(0, len(ids), 25):
            for obj in client.describe_objects(pipelineId=pipeline_id, objectIds=ids[start:start + 25])["pipelineObjects"]:
                fields = {f["key"]: f.get("stringValue", f.get("refValue", "")) for f in obj.get("fields", [])}
                if fields.get("@status"):
                    states[obj.get("name", obj["id"])] = fields["@status"]
        return states

    def remove(self, *, region: str, prefix: str) -> list[str]:
        client = self.clients("datapipeline", region)
        removed = []
        for pipeline in list_pipelines(client):
            if pipeline["name"].startswith(prefix):
                client.delete_pipeline(pipelineId=pipeline["id"])
                removed.append(pipeline["name"])
        return removed


@dataclass
class RunRecord:
    """One run as the report shows it."""

    label: str
    kind: str
    pipeline: str = ""
    outcome: str = "not run"
    seconds: float = 0.0
    items_compared: int = 0
    verdict: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome.startswith("skipped") or self.verdict.startswith("verified")


@dataclass
class Result:
    run_id: str
    environment: str
    started: float
    ended: float = 0.0
    runs: list[RunRecord] = field(default_factory=list)
    denials: list[Denial] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # what the runs made (scratch tables, exports, tables of native runs)
    cleaned: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # what cleanup could not delete
    roles: set[str] = field(default_factory=set)  # the roles the run's pipelines name (role, resourceRole)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.denials and not self.left and all(r.ok for r in self.runs)


@dataclass
class Acceptance:
    """One acceptance run of ``env``. ``trail``: the CloudTrail lookup (None: no lookup, said in the report)."""

    env: EnvironmentConfig
    run_id: str
    clients: Clients
    runner: PipelineRunner
    out: Out
    trail: TrailLookup | None = None
    items: int = 40
    timeout_seconds: float = 3 * 3600.0
    clock: Callable[[], float] = time.time
    runs: tuple[PlannedRun, ...] = ()
    seeded: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    created_tables: list[tuple[str, str]] = field(default_factory=list)  # (name, region)
    bucket: str | None = None
    machines: MachineRunner | None = None  # Step Functions (AwsMachineRunner on these clients when not given)
    native: dict[str, NativeRun] = field(default_factory=dict)  # table -> its native runs

    def __post_init__(self) -> None:
        self.runs = plan_runs(self.env)
        if self.machines is None:
            self.machines = AwsMachineRunner(self.clients)
        self.names = {table: name for table, (name, _) in scratch_tables(self.env, self.runs, self.run_id).items()}

    # ------------------------------------------------------------------ finding what is deployed
    def deployed(self) -> dict[str, tuple[str, list[tuple[str, str]]]]:
        """Name prefix of each planned run -> (pipeline id, its tags), found by the environment's tags."""
        client = self.clients("datapipeline", self.env.region)
        ids = [p["id"] for p in list_pipelines(client)]
        found: dict[str, tuple[str, list[tuple[str, str]]]] = {}
        for start in range(0, len(ids), 25):
            for description in client.describe_pipelines(pipelineIds=ids[start:start + 25])["pipelineDescriptionList"]:
                tags = [(t["key"], t["value"]) for t in description.get("tags", [])]
                if ("ddb-datapipeline:environment", self.env.name) not in tags:
                    continue
                for run in self.runs:
                    if description["name"].startswith(run.name_prefix) and run.engine == "datapipeline":
                        found[run.name_prefix] = (description["pipelineId"], tags)
        return found

    def key_schema(self, table: str, region: str) -> tuple[tuple[str, str], tuple[str, str] | None]:
        """(partition key, sort key) of ``table`` as DynamoDB describes it, else as configured."""
        client = self.clients("dynamodb", region)
        try:
            described = client.describe_table(TableName=table)["Table"]
        except client.exceptions.ResourceNotFoundException:
            owned = next((t.owned for t in self.env.tables if t.name == table and t.owned), None)
            if owned is None:
                raise AcceptanceError(f"table {table} does not exist in {region}, so its key schema is unknown") from None
            sort = (owned.sort_key.name, owned.sort_key.type) if owned.sort_key else None
            return (owned.partition_key.name, owned.partition_key.type), sort
        types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
        keys = {k["KeyType"]: (k["AttributeName"], types[k["AttributeName"]]) for k in described["KeySchema"]}
        return keys["HASH"], keys.get("RANGE")

    # ------------------------------------------------------------------ scratch tables
    def create_scratch(self) -> None:
        """Every scratch table, keyed like the table it stands in for (a target without a table of its own: like its
        source), billed per request, encrypted with an AWS owned key; the sources seeded."""
        regions = scratch_tables(self.env, self.runs, self.run_id)
        sources = {run.table for run in self.runs if not run.skipped and run.engine == "datapipeline"}
        schema: dict[str, tuple[tuple[str, str], tuple[str, str] | None]] = {}
        for table in sources:
            schema[table] = self.key_schema(table, self.env.region)
        for run in self.runs:
            if run.target and run.target in regions and run.target not in schema:
                try:
                    schema[run.target] = self.key_schema(run.target, regions[run.target][1])
                except AcceptanceError:
                    schema[run.target] = schema[run.table]
        for table, (name, region) in regions.items():
            partition, sort = schema[table]
            keys = [partition, *([sort] if sort else [])]
            client = self.clients("dynamodb", region)
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in keys],
                                KeySchema=[{"AttributeName": n, "KeyType": k} for (n, _), k in zip(keys, ("HASH", "RANGE"), strict=False)],
                                Tags=[{"Key": "ddb-datapipeline:acceptance", "Value": self.run_id}])
            self.created_tables.append((name, region))
            client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
            if table in sources:
                try:
                    items = generate_items(self.items, partition_key=partition, sort_key=sort, now=int(self.clock()))
                except ValueError as error:
                    raise AcceptanceError(f"table {table}: {error}") from None
                for start in range(0, len(items), 25):
                    client.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]})
                self.seeded[table] = items
            self.out(f"acceptance: created {name} in {region}" + (f", {self.items} items" if table in sources else ""))

    # ------------------------------------------------------------------ running
    def execute(self) -> Result:
        """The whole run; everything it created is deleted whatever happens (also on Ctrl-C)."""
        result = Result(self.run_id, self.env.name, self.clock())
        try:
            self._runs(result)
        except KeyboardInterrupt:
            result.interrupted = True
            self.out(f"acceptance: interrupted; deleting what run {self.run_id} created")
        finally:
            result.created[:0] = [f"table {name} ({region})" for name, region in self.created_tables]
            try:
                result.cleaned, result.left = self.cleanup()
            except KeyboardInterrupt:
                result.left = [f"cleanup interrupted: run python -m ddb_datapipeline acceptance cleanup --env {self.env.name} "
                               f"--run-id {self.run_id}"]
            result.ended = self.clock()
        if self.trail is not None and not result.interrupted:
            try:
                result.denials = self.trail.denials(start=result.started, end=result.ended, run_id=self.run_id, roles=result.roles)
            except KeyboardInterrupt:  # everything is deleted already; the report says the trail was not read
                result.interrupted = True
        return result

    def _runs(self, result: Result) -> None:
        pipelines = any(not run.skipped and run.engine == "datapipeline" for run in self.runs)
        deployed = self.deployed() if pipelines else {}
        for run in self.runs:
            if not run.skipped and run.engine == "datapipeline" and run.name_prefix not in deployed:
                raise AcceptanceError(f"{run.label}: no deployed pipeline {run.name_prefix}<fingerprint> tagged with environment "
                                      f"{self.env.name} in {self.env.region}; deploy the environment first")
        self.create_scratch()
        exports: dict[str, str] = {}
        for number, run in enumerate(self.runs, start=1):
            record = RunRecord(run.label, run.kind)
            result.runs.append(record)
            if run.skipped:
                record.outcome = f"skipped: {run.skipped}"
                continue
            if run.needs and run.engine == "datapipeline" and run.table not in exports:  # a native run says so itself
                record.outcome = f"not run: {run.needs} did not leave an export"
                continue
            if run.engine == "native":
                self._native(run, record, f"[{number}/{len(self.runs)}]", result)
                continue
            pipeline_id, tags = deployed[run.name_prefix]
            stored = self.clients("datapipeline", self.env.region).get_pipeline_definition(pipelineId=pipeline_id)
            if self.bucket is None and run.kind == "export":
                self.bucket = export_bucket(stored, run.table)
            result.roles.update(f.get("stringValue", "") for o in stored.get("pipelineObjects", []) for f in o.get("fields", [])
                                if f["key"] in ("role", "resourceRole"))
            record.pipeline = f"{PIPELINE_PREFIX}{self.run_id}-{run.name_prefix.rstrip('-')}"
            definition = scratch_definition(stored, names=self.names, run_id=self.run_id)
            if wrong := unscratched_tables(definition, self.run_id):
                raise AcceptanceError(f"{run.label}: the copy of {run.name_prefix}<fingerprint> would still use {wrong[0]}; "
                                      "nothing of it was run")
            job = PipelineJob(record.pipeline, self.env.region, definition,
                              (("myInputS3Loc", exports[run.table]),) if run.kind == "restore" else (),
                              (*tags, ("ddb-datapipeline:acceptance", self.run_id)), self.timeout_seconds)
            self.out(f"acceptance: [{number}/{len(self.runs)}] {run.label}: running {record.pipeline}")
            started = self.clock()
            outcome = self.runner.run(job, progress=self.out)
            record.seconds, record.outcome, record.detail = self.clock() - started, outcome.status, outcome.detail
            if outcome.ok:
                self._verify(run, record, exports)
            self.out(f"acceptance: [{number}/{len(self.runs)}] {run.label}: {record.outcome} in {record.seconds:.0f} s, {record.verdict or record.detail}")

    def _native(self, run: PlannedRun, record: RunRecord, number: str, result: Result) -> None:
        """One StartExecution of a deployed native machine (``native.py``), waited for and verified."""
        assert self.machines is not None
        table = next(t for t in self.env.tables if t.name == run.table)
        native = self.native.setdefault(run.table, NativeRun(env=self.env, table=table, run_id=self.run_id, clients=self.clients,
                                                             machines=self.machines, out=self.out, timeout_seconds=self.timeout_seconds))
        kind = run.kind.removeprefix("native-")
        record.pipeline = run.name_prefix
        if role := self.machines.role(region=self.env.region, machine=run.name_prefix):
            result.roles.add(role)
        self.out(f"acceptance: {number} {run.label}: starting {run.name_prefix}")
        started, before = self.clock(), len(native.created)
        try:
            outcome, record.verdict, record.items_compared = native.start(kind, run.name_prefix)
        finally:
            result.created += native.created[before:]
        record.seconds, record.outcome, record.detail = self.clock() - started, outcome.status, outcome.detail
        self.out(f"acceptance: {number} {run.label}: {record.outcome} in {record.seconds:.0f} s, {record.verdict or record.detail}")

    # ------------------------------------------------------------------ verifying
    def _verify(self, run: PlannedRun, record: RunRecord, exports: dict[str, str]) -> None:
        source = self.seeded[run.table]
        if run.kind == "export":
            folder = self._export_folder(run.table)
            if folder is None:
                record.verdict = f"MISMATCH: no manifest under exports/{run.table}/{run_folder(self.run_id)}/"
                return
            exports[run.table] = folder
            found = read_export(self._get, folder)
            record.items_compared = len(found)
            record.verdict = self._compare(found, source, f"the export {folder}")
            return
        assert run.target is not None
        region = run.target_region or self.env.region
        found = self._items(self.names[run.target], region)
        record.items_compared = len(found)
        if run.selective:
            record.verdict = self._subset(found, source, run.table, self.names[run.target])
        else:
            record.verdict = self._compare(found, source, self.names[run.target])

    @staticmethod
    def _compare(found: list[dict[str, Any]], source: list[dict[str, Any]], where: str) -> str:
        if len(found) == len(source) and table_checksum(found) == table_checksum(source):
            return f"verified: {len(found)} items, checksums equal"
        return f"MISMATCH: {where} holds {len(found)} items, the source {len(source)}, checksums differ"

    def _subset(self, found: list[dict[str, Any]], source: list[dict[str, Any]], table: str, target: str) -> str:
        """A filtered, projected or incremental copy: each item it wrote is a seeded item, cut to the attributes it has
        (the selection itself is not worked out again here)."""
        partition, sort = self.key_schema(self.names[table], self.env.region)
        keys = [partition[0], *([sort[0]] if sort else [])]

        def key(item: Mapping[str, Any]) -> str:
            return json.dumps([item.get(k) for k in keys], sort_keys=True, default=str)

        by_key = {key(item): item for item in source}
        wrong = [item for item in found
                 if key(item) not in by_key or item_checksum({n: by_key[key(item)].get(n) for n in item}) != item_checksum(item)]
        if wrong:
            return f"MISMATCH: {len(wrong)} of the {len(found)} items in {target} are not seeded items (cut to their attributes)"
        return f"verified: {len(found)} of {len(source)} items taken, each a seeded item (the selection is not re-evaluated)"

    def _export_folder(self, table: str) -> str | None:
        if self.bucket is None:
            return None
        prefix = f"exports/{table}/{run_folder(self.run_id)}/"
        s3 = self.clients("s3", self.env.region)
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
                for o in page.get("Contents", [])]
        manifests = sorted(k for k in keys if k.endswith("/manifest"))
        return f"s3://{self.bucket}/{manifests[-1].removesuffix('/manifest')}" if manifests else None

    def _get(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return bytes(self.clients("s3", self.env.region).get_object(Bucket=bucket, Key=key)["Body"].read())

    def _items(self, table: str, region: str) -> list[dict[str, Any]]:
        pages = self.clients("dynamodb", region).get_paginator("scan").paginate(TableName=table)
        return [item for page in pages for item in page["Items"]]

    # ------------------------------------------------------------------ cleaning up
    def cleanup(self) -> tuple[list[str], list[str]]:
        """Delete everything of this run: its pipelines, scratch tables and folders, found by name (so a run
        killed before it recorded them is cleaned too). Returns (deleted, left with the reason)."""
        return clean_run(self.env, self.run_id, self.clients, self.runner, self.out, bucket=self.bucket, machines=self.machines)


def clean_run(env: EnvironmentConfig, run_id: str, clients: Clients, runner: PipelineRunner, out: Out, *,
              bucket: str | None = None, machines: MachineRunner | None = None) -> tuple[list[str], list[str]]:
    """Everything run ``run_id`` of ``env`` created, deleted: pipelines ``acceptance-<run id>-*``, tables ending in
    ``-acceptance-<run id>`` in the regions of the environment, folders ``exports|copies/*/acceptance-<run id>/``, and
    what its native executions made (``native.clean_native``)."""
    deleted: list[str] = []
    left: list[str] = []
    pipelines = any(not t.native for t in env.tables)  # else no pipeline and no acceptance-<run id>/ folder (native: here)
    if any(t.native for t in env.tables):
        deleted, left = clean_native(env, run_id, clients, machines or AwsMachineRunner(clients))
    regions = sorted({env.region, *(c.region for t in env.tables for c in t.copies)})
    suffix = scratch_name("", run_id)
    for region in regions:
        for name in runner.remove(region=region, prefix=f"{PIPELINE_PREFIX}{run_id}-") if pipelines else ():
            deleted.append(f"pipeline {name}")
        client = clients("dynamodb", region)
        for page in client.get_paginator("list_tables").paginate():
            for name in page.get("TableNames", []):
                if name.endswith(suffix):
                    try:
                        client.delete_table(TableName=name)
                        deleted.append(f"table {name} ({region})")
                    except client.exceptions.ResourceInUseException as error:
                        left.append(f"table {name} ({region}): {error}")
    if bucket is None and pipelines:
        bucket = discover_bucket(env, clients)
    for folder in _folders(env, run_id, clients, bucket):
        deleted.append(folder)
    for line in deleted:
        out(f"acceptance: deleted {line}")
    return deleted, left


def discover_bucket(env: EnvironmentConfig, clients: Clients) -> str | None:
    """The environment's export bucket, read from a deployed export pipeline's definition (found by its tags)."""
    client = clients("datapipeline", env.region)
    ids = [p["id"] for p in list_pipelines(client)]
    for start in range(0, len(ids), 25):
        for description in client.describe_pipelines(pipelineIds=ids[start:start + 25])["pipelineDescriptionList"]:
            tags = {t["key"]: t["value"] for t in description.get("tags", [])}
            if tags.get("ddb-datapipeline:environment") == env.name and tags.get("ddb-datapipeline:kind") == "export":
                stored = client.get_pipeline_definition(pipelineId=description["pipelineId"])
                if found := export_bucket(stored, tags.get("ddb-datapipeline:table", "")):
                    return found
    return None


def _folders(env: EnvironmentConfig, run_id: str, clients: Clients, bucket: str | None) -> Iterable[str]:
    """The run's folders in the environment's bucket, deleted; each as ``s3://bucket/prefix`` with its object count."""
    if bucket is None:
        return
    s3 = clients("s3", env.region)
    for top in ("exports/", "copies/"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=top, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                prefix = f"{common['Prefix']}{run_folder(run_id)}/"
                keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.rstrip("/"))
                        for o in p.get("Contents", []) if o["Key"].startswith(prefix) or o["Key"] == f"{prefix[:-1]}_$folder$"]
                for start in range(0, len(keys), 1000):
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
                if keys:
                    yield f"s3://{bucket}/{prefix} ({len(keys)} objects)"
