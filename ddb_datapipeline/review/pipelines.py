"""The pipelines of a template as definition models, and their review section in words.

Each ``AWS::DataPipeline::Pipeline`` is read back into the same ``PipelineDefinition`` the stack was
built from (intrinsics as placeholders), re-checked by the definition validator, written in the JSON
file format the CLI takes, and summarised as a reviewer would say it: when it runs, how hard it may
hit the table, how big the cluster is, and who hears about a failure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ..assembly import StackArtifact
from ..definition import rules as R
from ..definition.emr import REMOVE_FOLDER, removed_folder
from ..definition.hive_projection import UnreadableScript, read_script
from ..definition.hive_verify import read_verify_script
from ..definition.model import PipelineDefinition, PipelineObject
from ..definition.render import from_cloudformation, to_definition_file
from ..definition.validator import Violation, validate
from . import intrinsics
from . import markdown as md
from ..estimate_report import ESTIMATE_METADATA
from .mermaid import flowchart

PIPELINE_TYPE = "AWS::DataPipeline::Pipeline"
_PARAMETER = re.compile(r"#\{\s*(my\w*)\s*\}")


@dataclass(frozen=True)
class Pipeline:
    stack: str
    logical_id: str
    name: str
    description: str
    activate: bool  # CloudFormation's default is true
    tags: tuple[tuple[str, str], ...]
    definition: PipelineDefinition
    violations: tuple[Violation, ...]
    file_name: str  # of its JSON definition file, relative to the review directory
    estimate: dict[str, Any] | None = None  # the synth-time estimate, when the table states size_gib


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "pipeline"


def pipelines_of(stack: StackArtifact) -> tuple[Pipeline, ...]:
    """Every pipeline of the stack, sorted by name. Raises DefinitionFormatError for a pipeline
    resource whose shape is not a definition."""
    found = []
    for logical_id, resource in stack.resources_of_type(PIPELINE_TYPE).items():
        properties = intrinsics.resolve(resource.get("Properties") or {})
        definition = from_cloudformation(properties)
        tags = tuple(
            (intrinsics.text(t.get("Key")), intrinsics.text(t.get("Value")))
            for t in properties.get("PipelineTags") or []
            if isinstance(t, dict)
        )
        found.append(
            Pipeline(
                stack=stack.name,
                logical_id=logical_id,
                name=intrinsics.text(properties.get("Name", logical_id)),
                description=intrinsics.text(properties.get("Description", "")),
                activate=properties.get("Activate", True) not in (False, "false", "False"),
                tags=tuple(sorted(tags)),
                definition=definition,
                violations=validate(definition),
                file_name="",
                estimate=(resource.get("Metadata") or {}).get(ESTIMATE_METADATA),
            )
        )
    found.sort(key=lambda p: (p.name, p.logical_id))
    stems = [_file_stem(p.name) for p in found]
    named = []
    for pipeline, stem in zip(found, stems, strict=True):
        if stems.count(stem) > 1:
            stem = f"{stem}-{pipeline.logical_id}"
        named.append(replace(pipeline, file_name=f"{_file_stem(stack.name)}/{stem}.json"))
    return tuple(named)


# --- In words -----------------------------------------------------------------------------------
def _resolved(definition: PipelineDefinition, value: str) -> str:
    """``value`` with each ``#{myParam}`` replaced by what it resolves to when not overridden."""
    def substitute(match: re.Match[str]) -> str:
        resolved = definition.value_of(match.group(1))
        return match.group(0) if resolved is None else resolved

    return _PARAMETER.sub(substitute, value)


def _shown(definition: PipelineDefinition, value: str) -> str:
    """The value as it resolves, naming the parameters it comes from (overridable at activation)."""
    resolved = _resolved(definition, value)
    if resolved == value:
        return md.code(value)
    names = ", ".join(md.code(name) for name in dict.fromkeys(_PARAMETER.findall(value)))
    return f"{md.code(resolved)} via {names}"


def _default(definition: PipelineDefinition) -> PipelineObject | None:
    for obj in definition.objects:
        if obj.id == R.DEFAULT_ID:
            return obj
    return None


def _inherited(definition: PipelineDefinition, obj: PipelineObject, key: str) -> str | None:
    """A field of the object, else of Default (this summary does not follow ``parent`` chains)."""
    own = obj.value(key)
    if own is not None:
        return own
    default = _default(definition)
    return default.value(key) if default is not None and obj.id != R.DEFAULT_ID else None


def _of_types(definition: PipelineDefinition, types: frozenset[str] | set[str]) -> list[PipelineObject]:
    return [o for o in definition.objects if o.type in types]


def schedule_words(pipeline: Pipeline) -> str:
    d = pipeline.definition
    default = _default(d)
    declared = default.value("scheduleType") if default else None
    mode = (declared or R.SERVICE_DEFAULT_SCHEDULE_TYPE).lower()
    if mode == R.ONDEMAND:
        return "on demand: each activation starts one run, nothing recurs"
    parts = []
    for schedule in _of_types(d, {"Schedule"}):
        period = schedule.value("period") or "?"
        words = f"every {_shown(d, period)}"
        if schedule.value("startAt") == "FIRST_ACTIVATION_DATE_TIME":
            words += ", first run at the first activation"
        elif schedule.value("startDateTime"):
            words += f", first run at {_shown(d, schedule.value('startDateTime') or '')} UTC"
        if schedule.value("endDateTime"):
            words += f", no run after {_shown(d, schedule.value('endDateTime') or '')} UTC"
        if schedule.value("occurrences"):
            words += f", {_shown(d, schedule.value('occurrences') or '')} runs in all"
        parts.append(f"{md.code(schedule.id)}: {words}")
    when = {"cron": "at the start of each period (cron)", "timeseries": "at the end of each period (timeseries)"}
    mode_words = when.get(mode, md.code(mode))
    if declared is None:
        mode_words += ", the service default as Default sets no scheduleType"
    return "; ".join(parts or [md.warn(True, "no Schedule object")]) + f"; runs {mode_words}"


def activation_words(pipeline: Pipeline) -> str:
    if not pipeline.activate:
        return "`Activate: false`: the deploy creates it and never activates it; nothing runs until someone activates it"
    default = _default(pipeline.definition)
    ondemand = default is not None and (default.value("scheduleType") or "").lower() == R.ONDEMAND
    if ondemand:
        return "`Activate: true`: the deploy activates it, and activating an on-demand pipeline starts a run"
    return "`Activate: true`: the deploy activates it and runs follow the schedule"


def throughput_words(pipeline: Pipeline) -> list[str]:
    d = pipeline.definition
    lines = []
    for node in _of_types(d, {"DynamoDBDataNode"}):
        table = _shown(d, node.value("tableName") or "?")
        for key, verb, capacity in (("readThroughputPercent", "reads", "read"), ("writeThroughputPercent", "writes", "write")):
            value = node.value(key)
            if value is None:
                continue
            resolved = _resolved(d, value)
            share = f"{float(resolved) * 100:g}% of" if R.DOUBLE.match(resolved.strip()) else "a share of"
            lines.append(f"{md.code(node.id)} {verb} table {table} with at most {share} its {capacity} capacity "
                         f"({md.code(key)} = {_shown(d, value)})")
        if node.value("readThroughputPercent") is None and node.value("writeThroughputPercent") is None:
            lines.append(f"{md.code(node.id)} (table {table}) sets no throughput ratio: the connector's default applies")
    return lines


def cluster_words(pipeline: Pipeline) -> list[str]:
    d = pipeline.definition
    lines = []
    for cluster in _of_types(d, R.RESOURCE_TYPES):
        if cluster.type == "EmrCluster":
            release = cluster.value("releaseLabel") or (f"AMI {cluster.value('amiVersion')}" if cluster.value("amiVersion") else "?")
            groups = [f"1 master {md.code(cluster.value('masterInstanceType') or 'service default')}"]
            groups.append(f"{_resolved(d, cluster.value('coreInstanceCount') or '0')} core "
                          f"{md.code(cluster.value('coreInstanceType') or 'service default')}")
            if cluster.value("taskInstanceCount"):
                groups.append(f"{_resolved(d, cluster.value('taskInstanceCount') or '')} task "
                              f"{md.code(cluster.value('taskInstanceType') or 'service default')}")
            words = f"{md.code(cluster.id)}: EMR {md.code(release)}, " + ", ".join(groups)
        else:
            words = f"{md.code(cluster.id)}: EC2 {md.code(cluster.value('instanceType') or 'service default')}"
        terminate = cluster.value("terminateAfter")
        words += (f", terminated after {md.code(terminate)}" if terminate
                  else ", " + md.warn(True, "no terminateAfter: a stuck cluster keeps running and billing"))
        if cluster.value("region"):
            words += f", region {_shown(d, cluster.value('region') or '')}"
        words += f", subnet {md.code(cluster.value('subnetId') or '')}" if cluster.value("subnetId") else ", default VPC"
        for ref in cluster.values("configuration") if cluster.type == "EmrCluster" else []:
            configuration = next((o for o in d.objects if o.id == ref), None)
            settings = [f"{p.value('key')}={p.value('value')}" for p in d.objects
                        if configuration is not None and p.id in configuration.values("property")]
            if configuration is not None:
                words += f", {md.code(configuration.value('classification') or '?')}: " + ", ".join(md.code(x) for x in settings)
        spot = [k for k in ("masterInstanceBidPrice", "coreInstanceBidPrice", "taskInstanceBidPrice") if cluster.value(k)]
        if spot:
            words += ", spot: " + ", ".join(md.code(k) for k in spot)
        lines.append(words)
    return lines


def _step_words(step: str) -> str:
    folder = removed_folder(step)
    if folder is not None:  # the export's first step (definition/emr.py): each attempt starts from no folder
        return f"first removes {md.code(folder)} ({md.code(' '.join(REMOVE_FOLDER))})"
    parts = re.split(r"(?<!\\),", step)
    jar = parts[0].strip().rsplit("/", 1)[-1]
    main_class = parts[1].strip().rsplit(".", 1)[-1] if len(parts) > 1 else "?"
    return f"step {md.code(main_class)} of {md.code(jar)}"


def work_words(pipeline: Pipeline) -> list[str]:
    d = pipeline.definition
    lines = []
    for activity in _of_types(d, R.ACTIVITY_TYPES):
        words = f"{md.code(activity.id)} ({activity.type})"
        runs_on = activity.values("runsOn") or activity.values("workerGroup")
        if runs_on:
            words += " on " + ", ".join(md.code(r) for r in runs_on)
        if activity.values("input"):
            words += ", reads " + ", ".join(md.code(r) for r in activity.values("input"))
        if activity.values("output"):
            words += ", writes " + ", ".join(md.code(r) for r in activity.values("output"))
        for step in activity.values("step"):
            words += f"; {_step_words(step)}"
        for filter_sql in activity.values("filterSql"):  # a HiveCopyActivity: the rows it keeps, as Hive reads them
            words += f"; keeps the rows where {md.code(filter_sql)}"
        for script in activity.values("hiveScript"):  # this project's projection (definition/hive_projection.py)
            words += f"; {_script_words(script)}"
        for command in activity.values("command") + activity.values("scriptUri"):
            words += f"; runs {md.code(command if len(command) <= 120 else command[:117] + '...')}"
        retries = _inherited(d, activity, "maximumRetries")
        words += f"; up to {md.code(retries)} retries" if retries else "; service default retries"
        if (activity.value("resizeClusterBeforeRunning") or "").lower() == "true":
            words += "; " + md.warn(True, "resizeClusterBeforeRunning: with a DynamoDB node the service switches to m3.xlarge")
        lines.append(words)
    for node in _of_types(d, {"S3DataNode"}):
        path = node.value("directoryPath") or node.value("filePath") or "?"
        words = f"{md.code(node.id)} is {_shown(d, path)}"
        for precondition in node.values("precondition"):
            words += f", once {md.code(precondition)} holds"
        lines.append(words)
    for check in _of_types(d, R.PRECONDITION_TYPES):
        target = check.value("s3Key") or check.value("s3Prefix") or check.value("tableName") or ""
        timeout = check.value("preconditionTimeout")
        lines.append(f"{md.code(check.id)} ({check.type}) waits for {_shown(d, target)}"
                     + (f", up to {md.code(timeout)}" if timeout else ""))
    return lines


def failure_words(pipeline: Pipeline) -> list[str]:
    d = pipeline.definition
    lines = []
    runnable = _of_types(d, R.ACTIVITY_TYPES)
    silent = [a.id for a in runnable if not _inherited(d, a, "onFail")]
    for alarm in _of_types(d, {"SnsAlarm"}):
        lines.append(f"{md.code(alarm.id)} publishes to {md.code(alarm.value('topicArn') or '?')} "
                     f"with subject {md.code(alarm.value('subject') or '?')}")
    if silent:
        lines.append(md.warn(True, "no onFail on " + ", ".join(md.code(s) for s in silent) + ": its failures alert nobody"))
    default = _default(d)
    if default is not None and default.value("failureAndRerunMode"):
        lines.append(f"failureAndRerunMode {md.code(default.value('failureAndRerunMode') or '')}")
    return lines


# --- Section ------------------------------------------------------------------------------------
def _fields_cell(obj: PipelineObject) -> str:
    cells = []
    for f in obj.fields:
        if f.key == "type":
            continue
        cells.append(f"{md.code(f.key)} \u2192 {md.code(f.value)}" if f.is_ref else f"{md.code(f.key)} = {md.code(f.value)}")
    return "<br>".join(cells)


def estimate_words(pipeline: Pipeline) -> list[str]:
    """The estimate the app wrote beside the pipeline (from the table's size_gib), in words."""
    e = pipeline.estimate
    if not e:
        return []
    fits = e.get("fits_terminate_after")
    cost = e.get("estimated_cost_per_run")
    words = [
        f"{e['hours']} h per run for {e['size_gib']} GiB (longest cluster {e['longest_cluster_hours']} h, "
        f"limit {md.code(str(e['terminate_after']))}: {'fits with the 1.5 margin' if fits else md.warn(True, 'does not fit')})",
        f"{e['useful_core_nodes']} useful core nodes (configured {e['core_instance_count']}), {e['instance_hours']} instance-hours",
    ]
    if cost is not None:
        words.append(f"about {cost} {e['currency']} per run (an estimate, prices of {e['prices_as_of']})")
    if e.get("capacity_assumed"):
        words.append("capacity of a table this stack does not declare: on-demand assumed")
    return words


def section(pipeline: Pipeline, level: int) -> str:
    d = pipeline.definition
    parts = [md.heading(level, md.text(pipeline.name)), ""]
    if pipeline.description:
        parts += [md.text(pipeline.description), ""]
    verdict = ("no violations" if not pipeline.violations
               else md.warn(True, f"{len(pipeline.violations)} violation{'s' if len(pipeline.violations) != 1 else ''}"))
    parts += [f"Resource {md.code(pipeline.logical_id)}, definition file [{md.code(pipeline.file_name)}]({pipeline.file_name}), "
              f"definition validator: {verdict}.", ""]
    bullets: list[tuple[str, list[str]]] = [
        ("Schedule", [schedule_words(pipeline)]),
        ("Activation", [activation_words(pipeline)]),
        ("Throughput", throughput_words(pipeline)),
        ("Cluster", cluster_words(pipeline)),
        ("Work", work_words(pipeline)),
        ("On failure", failure_words(pipeline)),
        ("Estimate", estimate_words(pipeline)),
        ("Tags", [", ".join(f"{md.code(k)}={md.code(v)}" for k, v in pipeline.tags)] if pipeline.tags else []),
    ]
    for title, lines in bullets:
        if len(lines) == 1:
            parts.append(f"- **{title}**: {lines[0]}")
        elif lines:
            parts.append(f"- **{title}**:")
            parts += [f"  - {line}" for line in lines]
    parts.append("")
    for violation in pipeline.violations:
        parts.append(f"- {md.warn(True, md.code(str(violation)))}")
    if pipeline.violations:
        parts.append("")
    parts += ["```mermaid", flowchart(d), "```", ""]
    if d.parameters:
        rows = []
        for p in d.parameters:
            values = [v for k, v in d.values if k == p.id]
            rows.append([
                md.code(p.id),
                md.code(p.attribute("type") or "String"),
                md.code(p.attribute("default") or "") if p.attribute("default") is not None else "",
                md.codes(values) if values else "",
                md.text(p.attribute("description") or ""),
            ])
        parts += [md.table(["Parameter", "Type", "Default", "Value", "Description"], rows), ""]
    parts.append(md.table(["Object", "Type", "Fields"],
                          ([md.code(o.id), md.code(o.type or "") if o.type else "", _fields_cell(o)] for o in d.objects)))
    parts.append("")
    return "\n".join(parts)


def definition_file(pipeline: Pipeline) -> dict[str, Any]:
    """The definition in the JSON file format (``aws datapipeline validate-pipeline-definition``)."""
    return to_definition_file(pipeline.definition)


def _script_words(script: str) -> str:
    """A HiveActivity's script in words when it is one of this project's (a projection, a count), else its start."""
    try:
        read = read_script(script)
    except UnreadableScript:
        try:
            count = read_verify_script(script)
        except UnreadableScript:
            return f"runs the Hive script {md.code(script if len(script) <= 120 else script[:117] + '...')}"
        rows = f"the rows where {md.code(count.where)}" if count.where else "every row"
        return (f"counts {rows} of the source and looks each up in the target by {', '.join(md.code(k) for k in count.keys)}; "
                "fails (and so alarms) when any is missing (its Hive script)")
    kept = f"keeps the rows where {md.code(read.where)}" if read.where else "keeps every row"
    return f"{kept}, copying only the attributes {', '.join(md.code(a) for a in read.attributes)} of each (its Hive script)"
