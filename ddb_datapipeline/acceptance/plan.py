"""What an acceptance run does, worked out from the configuration and the stored definitions alone (no AWS call):
the runs of an environment, the scratch tables they use, and the copy of each Data Pipeline definition that points
at those tables instead of the configured ones.

Why a copy of the definition: a deployed pipeline takes its tables as literals written into its objects (a
``DynamoDBDataNode``'s ``tableName``, a Hive script's ``dynamodb.table.name``); its only parameter is a restore's
export folder (``myInputS3Loc``), and the restore's guard admits only ``s3://<bucket>/exports/<table>/YYYY-MM-dd-HH-mm-ss``
(``definition/guard.py``). Activating a deployed pipeline would therefore read and write the configured tables, and
activating a scheduled one would start its schedule. The acceptance run instead creates a new on-demand pipeline
(``acceptance-<run id>-...``) from the stored definition with every configured table name replaced by its scratch
table (``<table>-acceptance-<run id>``), every export and staging folder moved one level down
(``exports/<table>/acceptance-<run id>/...``, so nothing lands among the real exports, and the rewritten guard
admits exactly that folder), and its schedule removed. The node roles may use those scratch tables only when the
environment states ``acceptance: true`` (``constructs/pipeline_roles.py``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config.model import EnvironmentConfig, TableConfig
from ..definition.generated_names import ACCEPTANCE_SUFFIX

RUN_ID = re.compile(r"[a-z0-9]{6,16}")
RUN_ID_RULE = "6-16 lower-case letters and digits"
MAX_TABLE_NAME = 255  # DynamoDB's limit on a table name (CreateTable, TableName: 3-255 characters)
PIPELINE_PREFIX = "acceptance-"  # the pipelines a run creates are acceptance-<run id>-<deployed pipeline's name>
# Folders whose next level is one table's or one copy's own: the run's files go one level further down.
_FOLDER = re.compile(r"(/(?:exports|copies)/[^/'\"#\s,]+/)")


class AcceptanceError(ValueError):
    """A refusal or a failure the user can act on; its message is one line."""


def check_run_id(run_id: str) -> str:
    if not RUN_ID.fullmatch(run_id):
        raise AcceptanceError(f"--run-id: {run_id!r} is not allowed; expected {RUN_ID_RULE}")
    return run_id


def scratch_name(table: str, run_id: str) -> str:
    """The scratch table standing in for ``table`` during run ``run_id``."""
    name = f"{table}{ACCEPTANCE_SUFFIX}{run_id}"
    if len(name) > MAX_TABLE_NAME:
        raise AcceptanceError(f"table {table!r}: its scratch table {name[:40]}... would pass DynamoDB's {MAX_TABLE_NAME} characters")
    return name


def run_folder(run_id: str) -> str:
    return f"acceptance-{run_id}"


@dataclass(frozen=True)
class PlannedRun:
    """One pipeline or state machine of the environment, run once. ``kind``: export, restore, copy (Data Pipeline)
    or native-<machine kind>; ``skipped``: why it is not run (then nothing of it is created)."""

    label: str
    kind: str
    table: str
    name_prefix: str  # the deployed pipeline's name up to its fingerprint, or the state machine's name
    target: str | None = None  # the configured restore or copy target
    target_region: str | None = None
    copy_label: str | None = None
    selective: bool = False  # a filtered, projected or incremental copy: it takes part of the source
    needs: str | None = None  # the label of the run whose output it reads (a restore reads the export's folder)
    skipped: str | None = None

    @property
    def engine(self) -> str:
        return "native" if self.kind.startswith("native-") else "datapipeline"


def _pipeline_runs(env: EnvironmentConfig, table: TableConfig) -> list[PlannedRun]:
    base = f"ddb-{env.name}-{table.name}"
    export = PlannedRun(f"{table.name} export", "export", table.name, f"{base}-export-")
    runs = [export, PlannedRun(f"{table.name} restore", "restore", table.name, f"{base}-restore-", target=table.restore.target_table,
                               target_region=env.region, needs=export.label,
                               skipped="restores into its own source (allow_into_source)" if table.restore.target_table == table.name else None)]
    for copy in table.copies:
        runs.append(PlannedRun(
            f"{table.name} copy {copy.label}", "copy", table.name, f"{base}-copy-{copy.label}-", target=copy.target_table,
            target_region=copy.region, copy_label=copy.label, selective=copy.selection is not None,
            skipped=("a copy into another account: its scratch target would be in that account, which this run's session "
                     "does not reach" if copy.cross_account else None)))
    return runs


def _native_runs(env: EnvironmentConfig, table: TableConfig) -> list[PlannedRun]:
    """One run per deployed state machine of the table (``native.native_machines``): StartExecution of the machine
    itself, as none takes a table as input; what each may write is said in ``native.py``."""
    from .native import native_machines

    export = f"{table.name} native export"
    return [PlannedRun(f"{table.name} native {kind}", f"native-{kind}", table.name, machine, skipped=skipped,
                       needs=export if kind in ("restore", "drill") else None)
            for kind, machine, skipped in native_machines(env, table)]


def plan_runs(env: EnvironmentConfig) -> tuple[PlannedRun, ...]:
    """Every run of ``env``, in the order they run (a table's export before its restore)."""
    runs: list[PlannedRun] = []
    for table in env.tables:
        runs += _native_runs(env, table) if table.native else _pipeline_runs(env, table)
    return tuple(runs)


def refuse_environment(env: EnvironmentConfig, *, owns_sandbox: bool) -> None:
    """The environments an acceptance run may not touch, each with the one line that says why."""
    if env.retain_data and not owns_sandbox:
        raise AcceptanceError(f"environments.{env.name}.retain_data: true marks data that must survive; the acceptance run "
                              "refuses such an environment unless --i-own-this-sandbox is given")
    if not env.acceptance and any(not t.native for t in env.tables):
        raise AcceptanceError(f"environments.{env.name}.acceptance: false; the node roles may not use scratch tables "
                              "<table>-acceptance-*, so every run would be denied: set \"acceptance\": true and deploy first")


def scratch_tables(env: EnvironmentConfig, runs: tuple[PlannedRun, ...], run_id: str) -> dict[str, tuple[str, str]]:
    """Configured table -> (its scratch table, region) for every table a run that is not skipped reads or writes."""
    found: dict[str, tuple[str, str]] = {}
    for run in runs:
        if run.skipped or run.engine != "datapipeline":
            continue
        found.setdefault(run.table, (scratch_name(run.table, run_id), env.region))
        if run.target:
            found.setdefault(run.target, (scratch_name(run.target, run_id), run.target_region or env.region))
    return found


def _rename(text: str, names: Mapping[str, str], folder: str) -> str:
    for table, scratch in sorted(names.items(), key=lambda pair: -len(pair[0])):
        # A name as a whole word (in a tableName, a Hive property, a message) or after ``:table/`` (an ARN); never inside
        # a folder (``/exports/orders/``), a longer name (``orders-staging``) or a log path.
        text = re.sub(rf"(?:(?<=:table/)|(?<![\w./:-])){re.escape(table)}(?![\w.-])", scratch, text)
    return _FOLDER.sub(lambda match: f"{match.group(1)}{folder}/", text)


def scratch_definition(stored: Mapping[str, Any], *, names: Mapping[str, str], run_id: str) -> dict[str, Any]:
    """A GetPipelineDefinition answer rewritten for the run: tables renamed to their scratch tables, folders moved
    under ``acceptance-<run id>/``, schedules removed and the pipeline made on-demand, so that activating it runs it
    once, now, against the scratch tables only."""
    folder = run_folder(run_id)
    objects = []
    for obj in stored.get("pipelineObjects", []):
        fields = [f for f in obj.get("fields", []) if f["key"] != "schedule"]
        if any(f["key"] == "type" and f.get("stringValue") == "Schedule" for f in fields):
            continue
        rewritten = []
        for f in fields:
            if f["key"] == "scheduleType":
                rewritten.append({"key": "scheduleType", "stringValue": "ondemand"})
            elif "stringValue" in f:
                rewritten.append({"key": f["key"], "stringValue": _rename(f["stringValue"], names, folder)})
            else:
                rewritten.append(dict(f))
        if obj["id"] == "Default" and not any(f["key"] == "scheduleType" for f in rewritten):
            rewritten.append({"key": "scheduleType", "stringValue": "ondemand"})
        objects.append({"id": obj["id"], "name": obj.get("name", obj["id"]), "fields": rewritten})
    parameters = [{"id": p["id"], "attributes": [{"key": a["key"], "stringValue": _rename(a.get("stringValue", ""), names, folder)}
                                                 for a in p.get("attributes", [])]} for p in stored.get("parameterObjects", [])]
    values = [{"id": v["id"], "stringValue": _rename(v.get("stringValue", ""), names, folder)} for v in stored.get("parameterValues", [])]
    return {"pipelineObjects": objects, "parameterObjects": parameters, "parameterValues": values}


_HIVE_TABLE = re.compile(r'"dynamodb\.table\.name"\s*=\s*"([^"]*)"')


def unscratched_tables(definition: Mapping[str, Any], run_id: str) -> list[str]:
    """The tables a rewritten definition still reads or writes that are not scratch tables of this run (every
    ``tableName`` and every Hive ``dynamodb.table.name`` that is not its input's or output's): checked apart from the renaming, before anything runs, so a
    table named in a way the renaming does not know stops the run instead of reaching a configured table."""
    suffix = f"{ACCEPTANCE_SUFFIX}{run_id}"
    found = []
    for obj in definition.get("pipelineObjects", []):
        for f in obj.get("fields", []):
            value = f.get("stringValue", "")
            names = [value] if f["key"] == "tableName" else _HIVE_TABLE.findall(value) if f["key"] == "hiveScript" else []
            # #{input.tableName} / #{output.tableName}: the data node's tableName, checked on its own object
            found += [f"{obj['id']}.{f['key']}: {name}" for name in names
                      if not name.endswith(suffix) and not re.fullmatch(r"#\{(input|output)\.tableName\}", name)]
    return found


def export_bucket(stored: Mapping[str, Any], table: str) -> str | None:
    """The bucket an export pipeline's definition writes ``exports/<table>/`` into."""
    pattern = re.compile(rf"s3://([^/]+)/exports/{re.escape(table)}/")
    for obj in stored.get("pipelineObjects", []):
        for f in obj.get("fields", []):
            if found := pattern.search(f.get("stringValue", "")):
                return found.group(1)
    return None
