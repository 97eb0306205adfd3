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
from .view import CDK_TOKEN, DefinitionView, Violation, listed

_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_NODE_ARGUMENT = re.compile(r"#\{\s*(input|output)\.(\w+)\s*\}")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_FIRST_NAME = re.compile(r"#\{\s*\*?([A-Za-z_]\w*)\s*\}")  # a value that begins with #{name}


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
                                                            f"{listed(path)} can ever start", "DP301")
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


def _literal_kind(text: str) -> str | None:
    """An s3:// path, a small number (a ratio) or a table name; None for what cannot be told (a larger
    number may be a segment count or a numeric table name)."""
    if text.startswith(R.S3_SCHEMES):
        return R.DIRECTORY
    if _NUMBER.match(text):
        return R.RATIO if float(text) <= R.RATIO_LITERAL_MAX else None
    return R.TABLE if R.TABLE_NAME.fullmatch(text) else None


def _kind(ctx: DefinitionView, obj: PipelineObject, argument: str, seen: frozenset[tuple[str, str]] = frozenset()) -> str | None:
    """What an argument holds, whatever its expression style: a literal; ``#{input.X}``/``#{output.X}`` (by the
    node's type and field, else what the node's field X holds); ``#{myParam}`` (by its value, else its type);
    ``#{myField}`` of the object itself (what that field holds); a value that begins with an expression holding
    a directory (``#{myOutputS3Loc}/#{format(...)}``). None when it cannot be told."""
    text = argument.strip()
    if CDK_TOKEN in text:
        return None
    if "#{" not in text:
        return _literal_kind(text)
    node = _NODE_ARGUMENT.fullmatch(text)
    if node:
        holder, key = node.group(1), node.group(2)
        targets = [ctx.objects[f.value] for f in ctx.lookup(obj, holder) if f.is_ref and f.value in ctx.objects]
        kinds: set[str | None] = set()
        for target in targets:
            node_kind = R.NODE_FIELD_KINDS.get((ctx.type_of(target) or "", key))
            if node_kind is None and (target.id, key) not in seen:
                held = [f.value for f in ctx.lookup(target, key) if not f.is_ref]
                node_kind = _kind(ctx, target, held[0], seen | {(target.id, key)}) if held else None
            kinds.add(node_kind)
        return kinds.pop() if len(kinds) == 1 else None
    first = _FIRST_NAME.match(text)
    if first is None:
        return None
    name, whole = first.group(1), first.end() == len(text)
    kind: str | None = None
    if name in ctx.parameters or R.MASKED_PREFIX + name in ctx.parameters:
        param = ctx.parameters.get(name) or ctx.parameters[R.MASKED_PREFIX + name]
        value = ctx.definition.value_of(param.id)
        kind = _kind(ctx, obj, value, seen) if value is not None and "#{" not in value else None
        kind = kind or R.PARAMETER_KINDS.get(param.attribute("type") or "String")
    elif (obj.id, name) not in seen:
        held = [f.value for f in ctx.lookup(obj, name) if not f.is_ref]
        kind = _kind(ctx, obj, held[0], seen | {(obj.id, name)}) if held else None
    if whole:
        return kind
    return R.DIRECTORY if kind == R.DIRECTORY else None  # a folder with more after it is still a folder


def _invocations(ctx: DefinitionView, obj: PipelineObject) -> Iterator[tuple[str, str, list[str]]]:
    """(field, main class, arguments) of each program an activity runs: an EmrActivity's steps (jar, class,
    arguments), a HadoopActivity's mainClass with its ``argument`` fields in order."""
    obj_type = ctx.type_of(obj)
    if obj_type == "EmrActivity":
        for step in obj.values("step"):
            parts = [p.strip() for p in _UNESCAPED_COMMA.split(step)]
            if len(parts) >= 2:
                yield "step", parts[1], parts[2:]
    elif obj_type == "HadoopActivity":
        for main_class in (f.value for f in ctx.lookup(obj, "mainClass") if not f.is_ref):
            yield "argument", main_class.strip(), [f.value.strip() for f in ctx.lookup(obj, "argument") if not f.is_ref]


def _signature(main_class: str) -> R.ToolSignature | None:
    return next((s for s in R.TOOL_SIGNATURES if main_class in s.main_classes), None)


def _tool_problem(ctx: DefinitionView, obj: PipelineObject, signature: R.ToolSignature,
                  given: list[str]) -> tuple[str, str] | None:
    """(rule id, message) of the first thing the tool would refuse, or None."""
    tool = signature.tool
    takes = f"takes {listed([*signature.required, *(f'[{o}]' for o in signature.optional)])}"
    arguments = _positional(given)
    most = len(signature.required) + len(signature.optional)
    count = f"{len(arguments)} argument{'s' if len(arguments) != 1 else ''}"
    if len(arguments) < len(signature.required):
        return "DP302", f"{obj.id} passes {count} to {tool}, which {takes}; it stops with 'Not enough parameters'"
    wanted = [*signature.required, *signature.optional]
    for position, argument in enumerate(arguments[:most]):
        kind = _kind(ctx, obj, argument)
        if kind is None or kind == wanted[position] or (wanted[position] == R.COUNT and kind == R.RATIO):
            continue
        return "DP304", (f"argument {position + 1} '{shorten(argument)}' of {obj.id} is the {kind}, where {tool} "
                         f"expects the {wanted[position]}; {tool} {takes}")
    if len(arguments) > most:
        return "DP303", f"{obj.id} passes {count} to {tool}, which {takes}; it ignores the rest"
    return None


def connector_arguments(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for field, main_class, arguments in _invocations(ctx, obj):
            signature = _signature(main_class)
            found = _tool_problem(ctx, obj, signature, arguments) if signature else None
            if found:
                yield Violation(obj.id, field, found[1], found[0])


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
                                               "its current counterpart", "DP305")
