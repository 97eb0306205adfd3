"""Rules for this project's ``HiveActivity``: it runs one for a copy of some attributes (the script
``hive_projection`` writes) and one for the count after a copy (``hive_verify``), and checks each as
closely as the HiveCopyActivity's filterSql. A HiveActivity is this project's when its script begins by
declaring the table ``ddb_source``; any other (the AWS samples', which use ``${input1}`` and staging) is
left to the generic rules.

PutPipelineDefinition checks none of this; a script Hive cannot run, or one run with staging on (Data
Pipeline would then also declare tables of its own from the nodes' formats), fails only on the cluster.
So a HiveActivity whose script is not one ``read_script`` reads back is an error here, as is a ``${``
(Hive substitutes variables in a script before it runs it), staging, a node that is not a table, and a
WHERE with unbalanced quotes or a column the script does not declare.
"""
from __future__ import annotations

from collections.abc import Iterator

from .hive_projection import ProjectionScript, UnreadableScript, read_script
from .hive_rules import DYNAMODB_NODE, OPAQUE, _targets, scan_hive
from .hive_tables import SOURCE_TABLE
from .hive_verify import VerifyScript, read_verify_script
from .model import PipelineObject
from .view import CDK_TOKEN, DefinitionView, Violation

HIVE_ACTIVITY = "HiveActivity"


def _read(script: str) -> ProjectionScript | VerifyScript:
    try:
        return read_script(script)
    except UnreadableScript as projection:
        try:
            return read_verify_script(script)
        except UnreadableScript as count:
            raise UnreadableScript(f"not a projection ({projection}) nor a count ({count})") from None


def _nodes(ctx: DefinitionView, activity: PipelineObject, script: ProjectionScript | VerifyScript) -> Iterator[Violation]:
    """A projection reads its input table and writes its output table; a count reads both as inputs."""
    wanted = {"input": 1, "output": 1} if isinstance(script, ProjectionScript) else {"input": 2, "output": 0}
    for key, count in wanted.items():
        nodes = _targets(ctx, activity, key)
        if len(nodes) != count:
            yield Violation(activity.id, key, f"this {HIVE_ACTIVITY}'s script needs {count} {key} {DYNAMODB_NODE} node(s) "
                                              f"(source{' and target' if count == 2 else ''} table), found {len(nodes)}", "DP520")
        for node in nodes:
            if ctx.type_of(node) != DYNAMODB_NODE:
                yield Violation(activity.id, key, f"{key} refers to '{node.id}' of type {ctx.type_of(node)}; the script reads and "
                                                  f"writes {DYNAMODB_NODE} nodes only", "DP520")


def _script(ctx: DefinitionView, activity: PipelineObject) -> Iterator[Violation]:
    for field in ctx.lookup(activity, "hiveScript"):
        if field.is_ref or CDK_TOKEN in field.value:
            continue
        if "${" in field.value:
            yield Violation(activity.id, "hiveScript", "hiveScript holds '${', which Hive substitutes as a variable before the "
                                                       "script runs", "DP521")
            continue
        try:
            script = _read(field.value)
        except UnreadableScript as error:
            yield Violation(activity.id, "hiveScript", f"hiveScript is not a script this project writes: {error}", "DP522")
            continue
        yield from _nodes(ctx, activity, script)
        scanned = scan_hive(ctx, script.where)
        if scanned is None:
            continue
        unbalanced, identifiers = scanned
        if unbalanced:
            yield Violation(activity.id, "hiveScript", f"the script's WHERE: {unbalanced}; quotes and parentheses must balance "
                                                       "outside #{...} expressions, or Hive fails at run time", "DP523")
            continue
        declared = {name.lower() for name, _ in script.columns}
        for name in identifiers:
            if OPAQUE not in name and name.lower() not in declared:
                yield Violation(activity.id, "hiveScript", f"the script's WHERE names column `{name}`, which its table "
                                                           f"does not declare ({', '.join(sorted(declared)) or 'none'})", "DP524")


def _projects(ctx: DefinitionView, activity: PipelineObject) -> bool:
    return any(not f.is_ref and f"CREATE EXTERNAL TABLE {SOURCE_TABLE} " in f.value for f in ctx.lookup(activity, "hiveScript"))


def hive_scripts(ctx: DefinitionView) -> Iterator[Violation]:
    """Every HiveActivity of this project: staging off, its script read back, its nodes."""
    for activity in ctx.definition.objects:
        if ctx.type_of(activity) != HIVE_ACTIVITY or ctx.is_template(activity) or not _projects(ctx, activity):
            continue
        stage = [f.value for f in ctx.lookup(activity, "stage")]
        if stage != ["false"]:
            yield Violation(activity.id, "stage", f"stage is {stage[0] if stage else 'unset (true)'}; the script declares its "
                                                  "own tables, so stage must be false", "DP525")
        yield from _script(ctx, activity)
