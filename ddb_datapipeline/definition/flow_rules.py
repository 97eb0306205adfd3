"""Rules about how objects work together at run time: ``dependsOn`` chains that loop, connector
steps whose arguments are out of order, and previous-generation cluster instance types.

A ``dependsOn`` loop is accepted by PutPipelineDefinition but no activity of it ever starts, so it is
an error. The connector tools read positional arguments (directory, table, ratio); a swapped pair runs
and fails inside the EMR job, hours after activation, so the step is parsed and checked here.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from . import rules as R
from .expressions import shorten
from .model import PipelineObject
from .view import WARNING, DefinitionView, Violation, listed

_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_NODE_ARGUMENT = re.compile(r"#\{\s*(input|output)\.(\w+)\s*\}")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


# --- dependsOn cycles ---------------------------------------------------------------------------
def _depends_on(ctx: DefinitionView, obj: PipelineObject) -> list[str]:
    return [f.value for f in obj.fields if f.key == "dependsOn" and f.is_ref and f.value in ctx.objects]


def depends_on_cycles(ctx: DefinitionView) -> Iterator[Violation]:
    """Each loop once, reported on its first object in definition order, in the order it runs."""
    order = {obj_id: i for i, obj_id in enumerate(ctx.objects)}
    reported: set[frozenset[str]] = set()
    for start in ctx.objects:
        # depth-first from ``start``; a path back to ``start`` is a cycle through it
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        visited: set[str] = set()
        while stack:
            current, path = stack.pop()
            for target in _depends_on(ctx, ctx.objects[current]):
                if target == start:
                    members = frozenset(path)
                    if members not in reported and min(path, key=order.__getitem__) == start:
                        reported.add(members)
                        chain = " -> ".join([*path, start])
                        yield Violation(start, "dependsOn", f"dependsOn chain {chain} is a cycle; none of "
                                                            f"{listed(path)} can ever start")
                elif target not in visited:
                    visited.add(target)
                    stack.append((target, [*path, target]))


# --- connector step arguments -------------------------------------------------------------------
def _positional(arguments: list[str]) -> list[str]:
    """The tool's own arguments: Hadoop generic options (``-Dk=v``, ``-D k=v``, ``-conf FILE`` ...)
    come first and are consumed by ToolRunner before the tool sees the rest."""
    i = 0
    while i < len(arguments) and arguments[i].startswith("-"):
        i += 2 if arguments[i] in R.HADOOP_OPTIONS_WITH_VALUE else 1
    return arguments[i:]


def _kind(ctx: DefinitionView, obj: PipelineObject, argument: str) -> str | None:
    """What an argument holds, when it can be told: a node field through #{input.X}/#{output.X}
    (by the referenced node's type), an s3:// literal, or a number; None when unknown."""
    match = _NODE_ARGUMENT.fullmatch(argument.strip())
    if match:
        refs = [f.value for f in ctx.lookup(obj, match.group(1)) if f.is_ref and f.value in ctx.objects]
        kinds = {R.NODE_FIELD_KINDS.get((ctx.type_of(ctx.objects[r]) or "", match.group(2))) for r in refs}
        return kinds.pop() if len(kinds) == 1 else None
    known = ctx.literal(argument.strip())
    if known is None:
        return None
    text = known[0].strip()
    if text.startswith(("s3://", "s3n://", "s3a://", "hdfs://")):
        return R.DIRECTORY
    # A small number is a ratio; a larger one may be a numeric table name ("2024" is a valid name).
    return R.RATIO if _NUMBER.match(text) and float(text) <= R.RATIO_LITERAL_MAX else None


def _step_problem(ctx: DefinitionView, obj: PipelineObject, step: str) -> str | None:
    parts = [p.strip() for p in _UNESCAPED_COMMA.split(step)]
    if len(parts) < 2:
        return None
    signature = next((s for s in R.TOOL_SIGNATURES if s.main_class == parts[1]), None)
    if signature is None:
        return None
    tool = signature.main_class.rsplit(".", 1)[-1]
    expected = [*signature.required, *(f"[{o}]" for o in signature.optional)]
    takes = f"takes {listed(expected)}"
    arguments = _positional(parts[2:])
    most = len(signature.required) + len(signature.optional)
    if not len(signature.required) <= len(arguments) <= most:
        return f"step passes {len(arguments)} argument{'s' if len(arguments) != 1 else ''} to {tool}, which {takes}"
    wanted = [*signature.required, *signature.optional]
    for position, argument in enumerate(arguments):
        kind = _kind(ctx, obj, argument)
        if kind is not None and kind != wanted[position] and wanted[position] != R.COUNT:
            return (f"step argument {position + 1} '{shorten(argument)}' is the {kind}, where {tool} expects "
                    f"the {wanted[position]}; {tool} {takes}")
    return None


def connector_arguments(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        if ctx.type_of(obj) != "EmrActivity":
            continue
        for step in obj.values("step"):
            problem = _step_problem(ctx, obj, step)
            if problem:
                yield Violation(obj.id, "step", problem)


# --- previous-generation instance types ---------------------------------------------------------
def current_counterpart(instance_type: str) -> str | None:
    """The current-generation type to use instead of a previous-generation one (None for current types)."""
    family, _, size = instance_type.partition(".")
    current = R.PREVIOUS_GENERATION.get(family.lower())
    if current is None or not size:
        return None
    return f"{current}.{R.SMALLEST_CURRENT_SIZE.get(size, size)}"


def instance_generations(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        if ctx.type_of(obj) != "EmrCluster":
            continue
        for f in obj.fields:
            known = ctx.literal(f.value) if f.key in R.EMR_INSTANCE_FIELDS else None
            suggestion = current_counterpart(known[0].strip()) if known else None
            if known and suggestion:
                yield Violation(obj.id, f.key, f"{f.key} {known[1]} is a previous-generation instance type that "
                                               f"many regions and EMR releases no longer offer; use {suggestion}, "
                                               "its current counterpart", WARNING)
