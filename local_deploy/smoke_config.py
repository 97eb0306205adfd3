"""The smoke check against the configuration (``cdk.json``): each table's key schema and billing
mode, each pipeline's table, throughput, schedule and cluster, and no pipeline that belongs to no stack."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ddb_datapipeline.assembly import StackArtifact
from ddb_datapipeline.definition.attempt_rules import export_retries, hive_clusters
from ddb_datapipeline.definition.hive_projection import UnreadableScript, read_script
from ddb_datapipeline.definition.hive_verify import read_verify_script
from ddb_datapipeline.definition.injection_rules import parameter_code
from ddb_datapipeline.definition.model import Field, Parameter, PipelineDefinition, PipelineObject
from ddb_datapipeline.definition.view import DefinitionView

from .smoke_common import Check, describe_table, key_schema, pipeline_definition, pipeline_descriptions, pipelines_listed, state_machines_listed
from .smoke_report import TableRow

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
            if restore.target_table != table.name and not table.native:
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


def check_configuration(check: Check, environments: list[Any]) -> None:
    seen: set[tuple[str, str]] = set()
    for expected in expected_tables(environments):
        where = f"config {expected.environment}/{expected.role} {expected.name}"
        if expected.owned is None:
            if (expected.region, expected.name) not in seen:
                check.report.tables.append(TableRow(expected.environment, expected.region, expected.name, "-", "-", "referenced, not deployed"))
                seen.add((expected.region, expected.name))
            continue
        seen.add((expected.region, expected.name))
        table = describe_table(check, expected.region, expected.name)
        check.count()
        keys = _config_keys(expected.owned)
        if table is None:
            check.differ(where, f"table does not exist in {expected.region}")
            check.report.tables.append(TableRow(expected.environment, expected.region, expected.name, keys, expected.billing, "missing"))
            continue
        deployed_keys = key_schema(table.get("AttributeDefinitions", []), table.get("KeySchema", []))
        billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
        check.count(2)
        if deployed_keys != keys:
            check.differ(where, f"key schema is {deployed_keys}, configuration says {keys}")
        if billing != expected.billing:
            check.differ(where, f"billing mode is {billing}, configuration says {expected.billing}")
        if expected.billing == "PROVISIONED" and expected.role == "table":
            throughput = table.get("ProvisionedThroughput", {})
            capacities = (("read", "ReadCapacityUnits", expected.owned.read_capacity), ("write", "WriteCapacityUnits", expected.owned.write_capacity))
            for label, key, wanted in capacities:
                check.count()
                if throughput.get(key) != wanted:
                    check.differ(where, f"{label} capacity is {throughput.get(key)}, configuration says {wanted}")
        check.report.tables.append(TableRow(expected.environment, expected.region, expected.name, deployed_keys, billing, "deployed"))
    _check_pipelines_against_configuration(check, environments)
    _check_native_against_configuration(check, environments)


def _deployed_definition(check: Check, client: Any, name: str, where: str, region: str) -> dict[str, Any] | None:
    """The definition of the one state machine named ``name``; a difference (and None) when there is not
    exactly one."""
    import json

    machines = [m for m in state_machines_listed(check, region) if m["name"] == name]
    check.count()
    if len(machines) != 1:
        check.differ(where, f"expected one state machine named {name} in {region}, found {len(machines)}")
        return None
    return dict(json.loads(client.describe_state_machine(stateMachineArn=machines[0]["stateMachineArn"])["definition"]))


def _check_native_against_configuration(check: Check, environments: list[Any]) -> None:
    """Each native table's state machines exist: its export into its own prefix, its restore and copies
    into new tables of the configured prefixes."""
    from ddb_datapipeline.constructs.native_incremental import window_expression
    from ddb_datapipeline.definition.generated_names import machine_name
    from ddb_datapipeline.definition.periods import period_minutes

    for env in environments:
        for table in (t for t in env.tables if t.native):
            client = check.clients("stepfunctions", env.region)
            where = f"config {env.name}/{table.name} native export"
            # Each machine is looked for on its own: a missing export does not hide a missing restore or drill.
            if definition := _deployed_definition(check, client, machine_name(env.name, table.name, "export"), where, env.region):
                export = definition["States"]["Export"]["Parameters"]
                check.count(2)
                if not str(export.get("TableArn", "")).endswith(f":table/{table.name}"):
                    check.differ(where, f"exports {export.get('TableArn')}, configuration says table {table.name}")
                if export.get("S3Prefix") != f"exports/{table.name}":
                    check.differ(where, f"writes under {export.get('S3Prefix')}, expected exports/{table.name}")
            where = f"config {env.name}/{table.name} native incremental export"
            name = machine_name(env.name, table.name, "incremental")
            if table.export.incremental is not None and (incremental := _deployed_definition(check, client, name, where, env.region)):
                check.count()
                if incremental["States"]["Window"]["Output"] != window_expression(period_minutes(table.export.incremental) or 0):
                    check.differ(where, f"computes its window otherwise than for a period of {table.export.incremental}")
            where = f"config {env.name}/{table.name} native restore"
            if table.owned is not None and (
                checked := _deployed_definition(check, client, machine_name(env.name, table.name, "restore"), where, env.region)
            ):
                condition = checked["States"]["OwnExportAndNewTable?"]["Choices"][0]["And"]
                prefixes = {c["Variable"]: c["StringMatches"] for c in condition}
                check.count()
                if prefixes.get("$.table") != f"{table.restore.target_prefix}*":
                    check.differ(where, f"creates tables {prefixes.get('$.table')}, configuration says {table.restore.target_prefix}*")
            where = f"config {env.name}/{table.name} native restore drill"
            if table.restore.drill is not None and (
                drill := _deployed_definition(check, client, machine_name(env.name, table.name, "drill"), where, env.region)
            ):
                listed = str(drill["States"]["ListExports"]["Parameters"].get("TableArn", ""))
                check.count()
                if not listed.endswith(f":table/{table.name}"):
                    check.differ(where, f"drills the exports of {listed}, configuration says table {table.name}")
            for copy in table.copies:
                where = f"config {env.name}/{table.name} native copy {copy.target_prefix}"
                name = machine_name(env.name, table.name, f"copy-{copy.target_prefix}")
                if not (copied := _deployed_definition(check, client, name, where, env.region)):
                    continue
                exported = copied["States"]["Export"]["Parameters"]
                naming = str(copied["States"]["NameNewTable"]["Parameters"].get("table.$", ""))
                check.count(2)
                if not str(exported.get("TableArn", "")).endswith(f":table/{table.name}"):
                    check.differ(where, f"exports {exported.get('TableArn')}, configuration says table {table.name}")
                if not naming.startswith(f"States.Format('{copy.target_prefix}-"):
                    check.differ(where, f"names new tables {naming}, configuration says {copy.target_prefix}-<export id>")
                if copy.region != env.region and not copy.cross_account:  # its import machine, in the target region
                    where = f"config {env.name}/{table.name} native copy {copy.target_prefix} import in {copy.region}"
                    name = machine_name(env.name, table.name, f"copy-{copy.target_prefix}-import")
                    there = check.clients("stepfunctions", copy.region)
                    if imports := _deployed_definition(check, there, name, where, copy.region):
                        condition = imports["States"]["OwnExportAndNewTable?"]["Choices"][0]["And"]
                        creates = {c["Variable"]: c["StringMatches"] for c in condition}.get("$.table")
                        check.count()
                        if creates != f"{copy.target_prefix}-*":
                            check.differ(where, f"creates tables {creates}, configuration says {copy.target_prefix}-*")


@dataclass(frozen=True)
class ExpectedPipeline:
    environment: Any
    table: str
    kind: str  # export, restore, copy
    name_prefix: str
    values: dict[tuple[str, str], str]  # (object id, field) -> the literal the configuration decides
    schedule: Any  # ScheduleSpec, or None for on demand
    filter_sql: str | None = None  # a filtered or incremental copy: its HiveCopyActivity's filterSql (or its script's WHERE)
    attributes: tuple[str, ...] = ()  # a copy of some attributes: those its HiveActivity's script copies
    verify_keys: tuple[str, ...] = ()  # a copy counted after each run: the keys its count joins on


def attempt_findings(stored: dict[str, Any]) -> list[str]:
    """What a deployed definition (GetPipelineDefinition's shape, repeated keys kept) lacks for a second attempt or
    for Hive: an export without the removal of its folder first, a Hive cluster without its hive-site settings
    (definition/attempt_rules.py); and a parameter that reaches code outside a guard (definition/injection_rules.py);
    the stored definition is read, so a deploy that lost a step or a guard is seen."""
    objects = tuple(PipelineObject(o["id"], o.get("name", o["id"]), tuple(
        Field(f["key"], f.get("stringValue", f.get("refValue", "")), "refValue" in f) for f in o.get("fields", [])))
        for o in stored.get("pipelineObjects", []))
    parameters = tuple(Parameter(p["id"], tuple((a["key"], a.get("stringValue", "")) for a in p.get("attributes", [])))
                       for p in stored.get("parameterObjects", []))
    view = DefinitionView(PipelineDefinition(objects=objects, parameters=parameters), require_values=False)
    return [str(v) for rule in (export_retries, hive_clusters, parameter_code) for v in rule(view)]


def _hive_script(script: str) -> tuple[str, tuple[str, tuple[str, ...]] | str]:
    """("projection", (WHERE, attributes)), ("count", (WHERE, keys)) or ("unreadable", why) of a HiveActivity's script."""
    try:
        read = read_script(script)
        return "projection", (read.where, read.attributes)
    except UnreadableScript as error:
        try:
            count = read_verify_script(script)
            return "count", (count.where, count.keys)
        except UnreadableScript:
            return "unreadable", str(error)


def expected_pipelines(environments: list[Any]) -> list[ExpectedPipeline]:
    found = []
    for env in environments:
        for table in env.tables:
            if table.native:
                continue  # a state machine, not a pipeline: _check_native_against_configuration
            prefix = f"ddb-{env.name}-{table.name}"
            found.append(
                ExpectedPipeline(env, table.name, "export", f"{prefix}-export-",
                                 {("DDBSourceTable", "tableName"): table.name,
                                  ("DDBSourceTable", "readThroughputPercent"): str(table.export.read_ratio)}, table.export.schedule)
            )
            found.append(
                ExpectedPipeline(env, table.name, "restore", f"{prefix}-restore-",
                                 {("DDBDestinationTable", "tableName"): table.restore.target_table,
                                  ("DDBDestinationTable", "writeThroughputPercent"): str(table.restore.write_ratio)}, None)
            )
            for copy in getattr(table, "copies", ()):
                values = {
                    ("SourceTable", "tableName"): table.name,
                    ("TargetTable", "region"): copy.region,
                    ("SourceTable", "readThroughputPercent"): str(copy.read_ratio),
                    ("TargetTable", "writeThroughputPercent"): str(copy.write_ratio),
                }
                selected = copy.selection.filter_sql(copy.schedule.period if copy.schedule else None) if copy.selection else None
                found.append(ExpectedPipeline(env, table.name, "copy", f"{prefix}-copy-{copy.label}-", values, copy.schedule, selected,
                                              copy.selection.attributes if copy.selection else (),
                                              copy.selection.verify_keys if copy.selection else ()))
    return found


def _check_pipelines_against_configuration(check: Check, environments: list[Any]) -> None:
    """Each configured pipeline carries the configured table, throughput ratios, schedule and EMR cluster."""
    tagged: dict[tuple[str, str, str, str], list[tuple[str, str]]] = defaultdict(list)  # (region, env, table, kind) -> (id, name)
    for region in sorted({env.region for env in environments}):
        for description in pipeline_descriptions(check, region).values():
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
        definition = pipeline_definition(check, env.region, pipeline_id)
        deployed_fields = {(o["id"], f["key"]): f.get("stringValue") for o in definition.get("pipelineObjects", []) for f in o["fields"]}
        for (object_id, key), value in expected.values.items():
            check.count()
            if deployed_fields.get((object_id, key)) != value:
                check.differ(where, f"{label}: {object_id}.{key} is {deployed_fields.get((object_id, key))!r}, configuration says {value!r}")
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
        check.count()
        for finding in attempt_findings(definition):
            check.differ(where, f"{label}: {finding}")
        filters = [fields.get("filterSql") for fields in objects if fields.get("type") == "HiveCopyActivity"]
        read = [_hive_script(fields.get("hiveScript", "")) for fields in objects if fields.get("type") == "HiveActivity"]
        scripts = [found for kind, found in read if kind != "count"]
        counts = [found for kind, found in read if kind == "count"]
        check.count()
        wanted = [(expected.filter_sql or "", expected.verify_keys)] if expected.verify_keys else []
        if counts != wanted:
            check.differ(where, f"{label}: counts after each run {counts or 'nothing'} (WHERE, keys), configuration says "
                                f"{wanted or 'no count'}")
        check.count()
        if expected.attributes:
            if scripts != [(expected.filter_sql or "", expected.attributes)]:
                check.differ(where, f"{label}: copies {scripts or 'no projection'} (WHERE, attributes), configuration says "
                                    f"{(expected.filter_sql or '', expected.attributes)!r}")
        elif scripts or filters != ([expected.filter_sql] if expected.filter_sql else []):
            check.differ(where, f"{label}: copies with filterSql {filters or 'none (a whole-table copy)'}"
                                f"{' and a HiveActivity' if scripts else ''}, configuration says {expected.filter_sql or 'a whole-table copy'!r}")
        periods = [fields.get("period") for fields in objects if fields.get("type") == "Schedule"]
        check.count()
        if expected.schedule is None and periods:
            check.differ(where, f"{label}: has a Schedule ({periods}), configuration says on demand")
        elif expected.schedule is not None and periods != [expected.schedule.period]:
            check.differ(where, f"{label}: schedule period is {periods or 'none (on demand)'}, configuration says {expected.schedule.period!r}")




def check_stray_pipelines(check: Check, stacks: list[StackArtifact], environments: list[Any]) -> None:
    """A pipeline of a deployed environment that no stack owns was left behind (e.g. by a replacement)."""
    owned = {row.pipeline_id for row in check.report.pipelines}
    prefixes = tuple(f"ddb-{env.name}-" for env in environments)
    for region in sorted({stack.region for stack in stacks}):
        for pipeline in pipelines_listed(check, region):
            check.count()
            if pipeline["name"].startswith(prefixes) and pipeline["id"] not in owned:
                check.differ(f"region {region}", f"pipeline {pipeline['name']} ({pipeline['id']}) belongs to no deployed stack")

