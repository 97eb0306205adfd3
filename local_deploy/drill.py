"""``make drill-local``: deploy locally, put generated items into each source table, run every
export, restore and copy of the deployed Data Pipeline environments from their stored definitions
(``drill_run.py``), and verify what moved: an export holds one line per item of the table, a restore or a
copy leaves its target holding exactly the source's items (or, for a filtered or incremental copy,
exactly those its filterSql keeps), compared item by item by checksum.

A table the configuration only references exists outside this project, so the deploy does not create it;
the drill creates a stand-in in the emulator (keyed ``pk``, a string: the configuration does not say the
real key, and an export, restore or copy moves items whatever their key), and for its restore target or
copy target when those are not created either, and says so under the table.

A copy into another account runs in the emulator's one account, but every call it makes is decided in the
accounts it will have on AWS (``drill_access``): the node role of the source account writing into the
target account's staging bucket and table, by their policies.

A native-engine table's deployed state machines run on the emulator's Step Functions interpreter
(``drill_native``): its export, verified against the items put in, then its restore of that export and each
copy in its own account and region, verified as a Data Pipeline restore or copy is. Not run locally, each said in
its row: a native copy into another account or region (its two machines and the rule between them are run by
``tests/integration/test_native_state_machine.py``).
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ddb_datapipeline.acceptance.connector_format import read_export
from ddb_datapipeline.acceptance.items import generate_items, table_checksum
from ddb_datapipeline.acceptance.run import list_pipelines
from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.definition.hive_copy import EPOCH_SECONDS, CopySelection
from ddb_datapipeline.definition.periods import PERIOD_PATTERN, period_minutes
from ddb_datapipeline.definition.run_time import add_months
from ddb_datapipeline.permissions.assembly_view import load_world

from . import LocalDeployError
from .deploy import Options, acquire_target, deploy, environments, origin, project_context, release_target
from .drill_access import Access, RunFailed
from .drill_native import NativeRunner, deployed_machines, execute_state_machines
from .drill_run import PipelineRun, RunResult
from .hive_filter import holds
from .smoke_common import ClientFactory
from .synth import synthesize_local

REFERENCE_TIME = 1_800_000_000  # the generated items' clock: their updated_at lie in the 48 hours before it
SCHEDULED_START = datetime.fromtimestamp(REFERENCE_TIME, UTC).replace(tzinfo=None, second=0)
STAND_IN_KEY = ("pk", "S")


@dataclass
class Row:
    pipeline: str
    items: int = 0
    bytes: int = 0
    files: int = 0
    seconds: float = 0.0
    verdict: str = "verified"
    rate: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "verified" or self.verdict.startswith("not run")


def _tagged(clients: ClientFactory, regions: set[str]) -> dict[tuple[str, str, str], list[tuple[str, str, str]]]:
    """(environment, table, kind) -> (pipeline id, name, region) of every deployed pipeline."""
    found: dict[tuple[str, str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for region in sorted(regions):
        client = clients("datapipeline", region)
        ids = [p["id"] for p in list_pipelines(client)]
        for start in range(0, len(ids), 25):
            for description in client.describe_pipelines(pipelineIds=ids[start:start + 25])["pipelineDescriptionList"]:
                tags = {t["key"]: t["value"] for t in description.get("tags", [])}
                key = (tags.get("ddb-datapipeline:environment", ""), tags.get("ddb-datapipeline:table", ""), tags.get("ddb-datapipeline:kind", ""))
                found[key].append((description["pipelineId"], description["name"], region))
    return found


def aws_assembly(options: Options, keep: Collection[str]) -> Any | None:
    """The environment stacks of the environments ``keep`` as ``cdk synth`` writes them for AWS, whose accounts the drill
    decides every Data Pipeline call in (``drill_access``); None when ``keep`` is empty. Without the delivery stack: the
    local deploy does not deploy it, no pipeline calls anything of it, and it builds every environment a second time
    inside its stages (a third of this synth's CPU). The environment stacks' templates are the same byte for byte with
    or without it (compared on the drill's configuration), so every decision is too; the whole configuration, delivery
    included, was checked by the deploy's synth before this one. Without the environments that have no Data Pipeline
    table either: the drill runs their state machines on the emulator (``drill_native``) and decides none of their
    calls; each environment's stacks are built from its own configuration (inferred from the stacks' code)."""
    if not keep:
        return None
    outdir = options.state_dir / "drill-assembly"
    context = options.context if options.context is not None else project_context()
    kept = {name: value for name, value in context.get("environments", {}).items() if name in keep}
    rest = {key: value for key, value in context.items() if key not in ("delivery", "environments")}
    synthesize_local({**rest, "environments": kept}, options.env, outdir, local=False)
    return load_assembly(outdir)


class Drill:
    def __init__(self, endpoint: str, options: Options, item_count: int) -> None:
        self.clients = ClientFactory(endpoint)
        self.item_count = item_count
        self.out = options.out
        assembly = load_assembly(options.assembly_dir)
        deployed = {stack.name: self.clients("cloudformation", stack.region or "us-east-1").describe_stack_resources(
            StackName=stack.name)["StackResources"] for stack in assembly.stacks if stack.region}
        self.environments = environments(options)
        as_deployed = aws_assembly(options, {env.name for env in self.environments if not all(t.native for t in env.tables)})
        self.access = Access.of(load_world(as_deployed), as_deployed.stacks, deployed) if as_deployed is not None else None
        self.pipelines = _tagged(self.clients, {env.region for env in self.environments})
        self.notes: list[str] = []
        self.seeded: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (environment, table) -> the items put in
        self.endpoint = endpoint
        self.native: dict[str, NativeRunner] = {}  # region -> the runner of its state machines

    def stored(self, pipeline_id: str, region: str) -> dict[str, Any]:
        return dict(self.clients("datapipeline", region).get_pipeline_definition(pipelineId=pipeline_id))

    def run(self, name: str, pipeline_id: str, region: str, overrides: dict[str, str] | None = None,
            stored: dict[str, Any] | None = None, fail_attempts: dict[str, int] | None = None) -> RunResult:
        """One run of the pipeline from its definition as stored in the emulator (or ``stored``, a changed copy of it);
        ``fail_attempts``: the first attempts of these activities fail after writing their files (PipelineRun)."""
        stored = stored if stored is not None else self.stored(pipeline_id, region)
        return PipelineRun(name, stored, clients=self.clients, access=self.access, region=region, scheduled_start=SCHEDULED_START,
                           overrides=overrides, fail_attempts=fail_attempts).run()

    def items_of(self, table: str, region: str) -> list[dict[str, Any]]:
        pages = self.clients("dynamodb", region).get_paginator("scan").paginate(TableName=table)
        return [item for page in pages for item in page["Items"]]

    def stand_in(self, name: str, region: str) -> bool:
        """Create ``name`` (keyed like every stand-in) unless it exists; whether it was created."""
        client = self.clients("dynamodb", region)
        try:
            client.describe_table(TableName=name)
            return False
        except client.exceptions.ResourceNotFoundException:
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                AttributeDefinitions=[{"AttributeName": STAND_IN_KEY[0], "AttributeType": STAND_IN_KEY[1]}],
                                KeySchema=[{"AttributeName": STAND_IN_KEY[0], "KeyType": "HASH"}])
            return True

    def stand_ins(self, env: Any, table: Any) -> None:
        """Stand-ins for a referenced table and for the targets of its pipelines that the deploy does not create."""
        wanted = [(table.name, env.region), (table.restore.target_table, env.region)]
        wanted += [(copy.target_table, copy.region) for copy in table.copies]
        created = [name for name, region in dict.fromkeys(wanted) if self.stand_in(name, region)]
        if created:
            self.notes.append(f"{env.name}/{table.name} is only referenced: the drill created stand-in tables "
                              f"{', '.join(created)}, keyed {STAND_IN_KEY[0]} ({STAND_IN_KEY[1]})")

    def seed(self, table: Any, region: str) -> list[dict[str, Any]]:
        owned = table.owned
        partition_key = (owned.partition_key.name, owned.partition_key.type) if owned else STAND_IN_KEY
        sort_key = (owned.sort_key.name, owned.sort_key.type) if owned and owned.sort_key else None
        items = generate_items(self.item_count, partition_key=partition_key, sort_key=sort_key, now=REFERENCE_TIME)
        client = self.clients("dynamodb", region)
        for start in range(0, len(items), 25):
            client.batch_write_item(RequestItems={table.name: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]})
        return items  # what the table holds (the checksums compare numbers and sets by value, not by spelling)

    def rows(self) -> list[Row]:
        try:
            return self._rows()
        finally:
            self.close()

    def _rows(self) -> list[Row]:
        rows: list[Row] = []
        for env in self.environments:
            for table in env.tables:
                if table.native:
                    rows += self._native_rows(env, table)
                    continue
                if table.owned is None:
                    self.stand_ins(env, table)
                source = self.seeded[(env.name, table.name)] = self.seed(table, env.region)
                rows += self._table_rows(env, table, source)
        return rows

    def runner(self, region: str) -> NativeRunner:
        """The runner of ``region``'s native machines; the first call reads every region's deployed machines, then turns
        moto's execution on (after which moto lists only the machines it runs: drill_native)."""
        if not self.native:
            regions = sorted({env.region for env in self.environments if any(table.native for table in env.tables)})
            deployed = {name: deployed_machines(self.clients, name) for name in regions}
            execute_state_machines(self.endpoint, on=True)
            self.native = {name: NativeRunner(clients=self.clients, region=name, deployed=deployed[name]) for name in regions}
        return self.native[region]

    def close(self) -> None:
        """Turns moto's execution of state machines off again if the drill turned it on."""
        if self.native:
            execute_state_machines(self.endpoint, on=False)

    def _native_rows(self, env: Any, table: Any) -> list[Row]:
        """The export, then the restore of that export and each same-account, same-region copy, each verified against
        the items put in (a copy elsewhere is a row saying where it is run instead)."""
        from ddb_datapipeline.definition.generated_names import machine_name

        if table.owned is None and self.stand_in(table.name, env.region):
            self.notes.append(f"{env.name}/{table.name} is only referenced: the drill created a stand-in table {table.name}, "
                              f"keyed {STAND_IN_KEY[0]} ({STAND_IN_KEY[1]})")
        source = self.seeded[(env.name, table.name)] = self.seed(table, env.region)
        expected = table_checksum(source)
        runner = self.runner(env.region)
        self.clients("dynamodb", env.region).update_continuous_backups(  # moto ignores the template's setting
            TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        exports: list[Any] = []

        def export() -> RunResult:
            name = machine_name(env.name, table.name, "export")
            _, seconds = runner.run(name, {})
            exports.append(runner.latest_export(table.name))
            items, size, files = runner.export_items(exports[-1])
            exported.extend(items)
            return RunResult(name, items=len(items), bytes=size, files=files, seconds=seconds)

        exported: list[dict[str, Any]] = []
        done, row = self._attempt(machine_name(env.name, table.name, "export"), export)
        rows = [row]
        if done is None:
            return rows
        row.verdict = ("verified" if len(exported) == len(source) and table_checksum(exported) == expected
                       else f"MISMATCH: the export holds {len(exported)} items, the table {len(source)}")
        if table.owned is not None:
            prefix = table.restore.target_prefix or f"{table.name}-restore"
            target = f"{prefix}-{exports[-1].export_id}"
            name = machine_name(env.name, table.name, "restore")
            restored, row = self._attempt(name, lambda: self._native_run(runner, name, {"export": exports[-1].data_folder, "table": target}, target))
            rows.append(row)
            if restored is not None:
                row.verdict = self.same(target, env.region, expected, len(source))
        for copy in table.copies:
            name = machine_name(env.name, table.name, f"copy-{copy.target_prefix}")
            if copy.region != env.region or copy.cross_account:
                rows.append(Row(name, verdict="not run: a copy into another account or region "
                                              "(tests/integration/test_native_state_machine.py runs it)"))
                continue
            before = set(self.tables_of(copy.target_prefix, env.region))
            copied, row = self._attempt(name, lambda name=name, copy=copy, before=before: self._native_copy(runner, name, copy.target_prefix, before))
            rows.append(row)
            if copied is not None:
                row.verdict = self.same(copied.pipeline, env.region, expected, len(source))
        return rows

    def _native_run(self, runner: NativeRunner, name: str, execution_input: dict[str, Any], table: str) -> RunResult:
        _, seconds = runner.run(name, execution_input)
        return RunResult(name, items=len(self.items_of(table, runner.region)), seconds=seconds)

    def _native_copy(self, runner: NativeRunner, name: str, prefix: str, before: set[str]) -> RunResult:
        """One copy run; its result names the table it created (``<prefix>-<export id>``) in place of the machine."""
        _, seconds = runner.run(name, {})
        created = sorted(set(self.tables_of(prefix, runner.region)) - before)
        if len(created) != 1:
            raise RunFailed(f"{name}: expected one new table {prefix}-<export id>, found {created or 'none'}")
        return RunResult(created[0], items=len(self.items_of(created[0], runner.region)), seconds=seconds)

    def tables_of(self, prefix: str, region: str) -> list[str]:
        pages = self.clients("dynamodb", region).get_paginator("list_tables").paginate()
        return [name for page in pages for name in page["TableNames"] if name.startswith(f"{prefix}-")]

    def one(self, env: Any, table: str, kind: str, prefix: str) -> tuple[str, str, str]:
        found = [p for p in self.pipelines.get((env.name, table, kind), []) if p[1].startswith(prefix)]
        if len(found) != 1:
            raise LocalDeployError(f"drill: expected one deployed pipeline {prefix}<fingerprint>, found {len(found)}")
        return found[0]

    def _table_rows(self, env: Any, table: Any, source: list[dict[str, Any]]) -> list[Row]:
        rows = []
        expected = table_checksum(source)
        pipeline_id, name, region = self.one(env, table.name, "export", f"ddb-{env.name}-{table.name}-export-")
        export, row = self._attempt(name, lambda: self.run(name, pipeline_id, region))
        rows.append(row)
        if export is not None:
            row.verdict = self._verify_export(export, expected, len(source))
            pipeline_id, name, region = self.one(env, table.name, "restore", f"ddb-{env.name}-{table.name}-restore-")
            restored, row = self._attempt(name, lambda: self.run(name, pipeline_id, region, {"myInputS3Loc": export.exports[0]}))
            rows.append(row)
            if restored is not None:
                row.verdict = self.same(table.restore.target_table, env.region, expected)
        for copy in table.copies:
            copy_prefix = f"ddb-{env.name}-{table.name}-copy-{copy.label}-"
            pipeline_id, name, region = self.one(env, table.name, "copy", copy_prefix)
            copied, row = self._attempt(name, lambda name=name, pipeline_id=pipeline_id, region=region: self.run(name, pipeline_id, region))
            rows.append(row)
            if copied is not None:
                row.verdict = self.copy_verdict(copy, source)
        return rows

    def copy_verdict(self, copy: Any, source: list[dict[str, Any]]) -> str:
        """Whether the copy's target holds exactly what the configuration says the copy takes from ``source``."""
        wanted = [item for item in source if copy.selection is None or selected(copy.selection, copy.schedule, item)]
        if copy.selection is not None and copy.selection.attributes:  # read from the configuration, not from the script
            wanted = [{name: value for name, value in item.items() if name in copy.selection.attributes} for item in wanted]
        return self.same(copy.target_table, copy.region, table_checksum(wanted), len(wanted))

    def _attempt(self, name: str, run: Any) -> tuple[RunResult | None, Row]:
        self.out(f"drill: running {name}")  # a run takes seconds to minutes: show that the drill moves
        started = time.monotonic()
        try:
            result = run()
        except RunFailed as error:
            return None, Row(name, seconds=time.monotonic() - started, verdict=f"FAILED: {error}")
        return result, Row(name, result.items, result.bytes, result.files, result.seconds, rate="; ".join(result.rates))

    def _verify_export(self, result: RunResult, expected: str, count: int) -> str:
        def get(uri: str) -> bytes:
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            return bytes(self.clients("s3", "us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read())

        exported = read_export(get, result.exports[0])
        if len(exported) != count or table_checksum(exported) != expected:
            return f"MISMATCH: the export holds {len(exported)} items, the table {count}"
        return "verified"

    def same(self, table: str, region: str, expected: str, count: int | None = None) -> str:
        found = self.items_of(table, region)
        if table_checksum(found) == expected:
            return "verified"
        return f"MISMATCH: {table} holds {len(found)} items" + (f", expected {count}" if count is not None else " that differ from the source's")


def selected(selection: CopySelection, schedule: Any, item: dict[str, Any]) -> bool:
    """Whether a filtered or incremental copy should take ``item``, worked out from the configuration
    (its predicate and window, in Python), not from the stored filterSql the runner executes, so the
    verification compares two readings of the copy."""
    if selection.row_filter is not None and not holds(selection.row_filter, item):
        return False
    window = selection.incremental
    if window is None:
        return True
    match = PERIOD_PATTERN.match(schedule.period)
    assert match is not None  # the configuration accepted the period
    lower = (add_months(SCHEDULED_START, -int(match.group(1))) if match.group(2).startswith("month")
             else SCHEDULED_START - timedelta(minutes=period_minutes(schedule.period) or 0)) - timedelta(minutes=window.overlap_minutes)
    value = item.get(window.attribute) or {}
    if window.time_format == EPOCH_SECONDS:
        return "N" in value and lower.replace(tzinfo=UTC).timestamp() <= float(value["N"]) < SCHEDULED_START.replace(tzinfo=UTC).timestamp()
    return "S" in value and lower.isoformat() <= value["S"] < SCHEDULED_START.isoformat()


def table_lines(rows: list[Row]) -> list[str]:
    header = ["pipeline", "items", "bytes", "files", "seconds", "rate held", "verdict"]
    body = [[r.pipeline, str(r.items), f"{r.bytes:,}", str(r.files), f"{r.seconds:.2f}", r.rate or "-", r.verdict] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header) - 1)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1] for line in [header, *body]]


def drill(options: Options, item_count: int = 2000) -> list[Row]:
    """Deploy (on an emulator this command starts, or the one given), drill, print the table; the
    emulator this command started is stopped at the end."""
    environments(options)  # a configuration mistake stops before anything starts
    target = acquire_target(options)
    try:
        options.endpoint, options.endpoint_origin = target.endpoint, origin(target)
        deploy(options)
        started = time.monotonic()
        runner = Drill(target.endpoint, options, item_count)
        rows = runner.rows()
        for line in table_lines(rows) + runner.notes:
            options.out(line)
        failed = [r for r in rows if not r.ok]
        verified = sum(r.verdict == "verified" for r in rows)
        options.out(f"Drill: {verified} of {len(rows)} rows verified, {len(rows) - verified - len(failed)} not run locally, "
                    f"{len(failed)} failed ({time.monotonic() - started:.1f} s, {item_count} items per table).")
        if failed:
            raise LocalDeployError(f"drill failed: {failed[0].pipeline}: {failed[0].verdict}")
        return rows
    finally:
        release_target(target)
