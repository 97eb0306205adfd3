"""Rules about what happens on a second attempt and on the cluster's Hive, none of which
PutPipelineDefinition or activation checks; each fails hours after activation, on AWS's words quoted here.

- ``export_retries``: an EmrActivity running ``DynamoDBExport`` into an S3 folder must first remove that
  folder (``emr.remove_output_step``), or its retries and reruns fail with Hadoop's
  ``FileAlreadyExistsException``; a removal step must remove the activity's own output folder, before the
  export, so it never deletes anything else.
- ``hive_clusters``: a cluster that runs a HiveActivity or HiveCopyActivity must apply ``emr.HIVE_SETTINGS``
  through an EmrConfiguration of classification hive-site (MapReduce, not Tez; no pushdown of a WHERE into a
  Query of an index, which reads partial items).
- ``script_backslashes``: a ``hiveScript`` with a backslash, which Data Pipeline may remove (a warning).

Why each, with its source, is in ``emr``; these rules read the definition only, so a definition from
anywhere (the stored one, a file) is held to them.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from . import rules as R
from .emr import HIVE_SETTINGS, HIVE_SITE, OUTPUT_FOLDER, remove_output_step, removed_folder
from .model import PipelineObject
from .view import DefinitionView, Violation

HIVE_ACTIVITIES = ("HiveActivity", "HiveCopyActivity")
# The tools' DynamoDBExport, whose source was read; the legacy emr-ddb-2.1.0.jar is closed, so what it does
# with an existing folder is not known and its steps are left alone.
_EXPORT_CLASSES = frozenset({R.JAR_RULES[0].classes[0]})
# Releases whose Hive runs on Tez by default and whose connector pushes filters into index queries: emr-5.0.0
# and later (EMR Release Guide, "Set up a Hive table to run Hive commands"; emr-4.x runs Hive on MapReduce). A
# cluster of an AMI version (amiVersion) takes no EmrConfiguration and is left alone.
_TEZ_RELEASE = re.compile(r"emr-(\d+)\.")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def _refs(ctx: DefinitionView, obj: PipelineObject, key: str) -> list[PipelineObject]:
    return [ctx.objects[f.value] for f in ctx.lookup(obj, key) if f.is_ref and f.value in ctx.objects]


def _output_shown(ctx: DefinitionView, activity: PipelineObject) -> str:
    """The output folder as far as it is known, for the message (the expression when it is not)."""
    for node in _refs(ctx, activity, "output"):
        for f in ctx.lookup(node, "directoryPath"):
            return f.value
    return OUTPUT_FOLDER


# --- Retries of an export ---------------------------------------------------------------------------------
def export_retries(ctx: DefinitionView) -> Iterator[Violation]:
    for activity in ctx.definition.objects:
        if ctx.type_of(activity) != "EmrActivity" or ctx.is_template(activity):
            continue
        steps = activity.values("step")
        exports = [i for i, step in enumerate(steps)
                   if len(parts := _UNESCAPED_COMMA.split(step)) > 1 and parts[1].strip() in _EXPORT_CLASSES]
        removals = {i: folder for i, step in enumerate(steps) if (folder := removed_folder(step)) is not None}
        for index, folder in removals.items():
            if folder != OUTPUT_FOLDER:
                yield Violation(activity.id, "step", f"step {index + 1} removes '{folder}', not the activity's own output folder "
                                                     f"{OUTPUT_FOLDER}: it would delete data this activity does not write", "DP601")
        outputs = [node for node in _refs(ctx, activity, "output") if ctx.type_of(node) == "S3DataNode"]
        if not outputs:
            continue
        for index in exports:
            if not any(i < index and folder == OUTPUT_FOLDER for i, folder in removals.items()):
                yield Violation(activity.id, "step", (
                    f"step {index + 1} exports straight into {_output_shown(ctx, activity)} (ExportOutputFormat writes no "
                    "_temporary folder), and the folder is the same for every attempt of a scheduled run: once an attempt wrote "
                    "a file, each retry and rerun fails with 'org.apache.hadoop.mapred.FileAlreadyExistsException: Output "
                    f"directory ... already exists'; put the step '{remove_output_step()}' before it"), "DP602")


# --- Hive on the cluster ----------------------------------------------------------------------------------
def _settings(ctx: DefinitionView, cluster: PipelineObject) -> dict[str, str]:
    """The hive-site properties the cluster's EmrConfiguration objects set (literal keys and values)."""
    found: dict[str, str] = {}
    for configuration in _refs(ctx, cluster, "configuration"):
        if ctx.type_of(configuration) != "EmrConfiguration" or configuration.value("classification") != HIVE_SITE:
            continue
        for prop in _refs(ctx, configuration, "property"):
            key, value = prop.value("key"), prop.value("value")
            if key is not None and value is not None:
                found[key] = value
    return found


_WHY = {
    "hive.execution.engine": ("Hive runs on Tez, the default since EMR 5.0, where the EMR Release Guide reports errors "
                              "with DynamoDB tables and recommends MapReduce"),
    "dynamodb.filter.pushdown": ("a WHERE with = on an index's hash key makes the connector Query that index "
                                 "(DynamoDBFilterPushdown); with a projection other than ALL each item read is partial and "
                                 "is written over the whole target item"),
}


def hive_clusters(ctx: DefinitionView) -> Iterator[Violation]:
    clusters: dict[str, list[str]] = {}
    for activity in ctx.definition.objects:
        if ctx.type_of(activity) in HIVE_ACTIVITIES and not ctx.is_template(activity):
            for cluster in _refs(ctx, activity, "runsOn"):
                if ctx.type_of(cluster) == "EmrCluster":
                    clusters.setdefault(cluster.id, []).append(activity.id)
    for cluster_id, activities in clusters.items():
        cluster = ctx.objects[cluster_id]
        release = [f.value for f in ctx.lookup(cluster, "releaseLabel")]
        known = ctx.literal(release[0]) if release else None
        major = _TEZ_RELEASE.match(known[0].strip()) if known else None
        if not release or (major is not None and int(major.group(1)) < 5):
            continue  # an AMI version, or emr-4.x: Hive on MapReduce already, and no index pushdown
        settings = _settings(ctx, cluster)
        for key, wanted in HIVE_SETTINGS:
            if settings.get(key) != wanted:
                shown = f"sets {key}={settings[key]}" if key in settings else f"does not set {key}"
                yield Violation(cluster_id, "configuration", (
                    f"runs Hive ({', '.join(activities)}) and its {HIVE_SITE} configuration {shown}: {_WHY[key]}; "
                    f"refer to an EmrConfiguration (classification {HIVE_SITE}) with the Property {key}={wanted}"), "DP510")


def script_backslashes(ctx: DefinitionView) -> Iterator[Violation]:
    for activity in ctx.definition.objects:
        for script in activity.values("hiveScript"):
            if "\\" in script:
                yield Violation(activity.id, "hiveScript", (
                    "the script holds a backslash, and Data Pipeline removes one from a step before use and may do the same "
                    "here ('\\002' would become '002'); write such characters with Hive's chr()"), "DP511")
