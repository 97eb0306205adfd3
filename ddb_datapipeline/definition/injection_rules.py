"""No value typed at activation runs as code (``parameter_code``).

ActivatePipeline's ``parameterValues`` override the stored values, and Data Pipeline pastes a value into the
fields that name it as text (AWS Data Pipeline Developer Guide, "Pipeline Expressions and Functions"; why it
matters in ``guard``). The service checks nothing about it, and the permission model sees only the stored
values. So a parameter may not reach a field that is code: a shell ``command``, a ``hiveScript``, a
``filterSql``, an EmrActivity's ``step`` or its pre- and post-step commands, a ``scriptUri``. A reference
counts however it arrives: ``#{myX}`` itself, or ``#{input.directoryPath}`` of a node whose
``directoryPath`` holds ``#{myX}``, through ``input``, ``output`` and ``node``, through a field of the object
itself (``#{myFolder}``, a user-defined field) and through each field those name in turn, inherited through
``parent`` and Default as the service reads them.

The one way through is a guard: the activity ``dependsOn`` (directly or not) a ShellCommandActivity whose
``command`` is ``guard.FolderGuard``'s and whose only ``scriptArgument`` is ``#{myX}`` itself. The guard's own
argument is data, not code. An error, since a definition of this project has none.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from . import rules as R
from .guard import read_guard
from .model import PipelineObject
from .view import DefinitionView, Violation

CODE_FIELDS = ("command", "hiveScript", "filterSql", "step", "preStepCommand", "postStepCommand", "scriptUri")
_EXPRESSION = re.compile(r"#\{([^{}]*)\}")
_HOLDER = re.compile(r"\b(input|output|node)\.([A-Za-z_@][\w@]*)")
_NAME = re.compile(r"(?<![.\w@*])\*?([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")  # an identifier, not a function's name
_ALONE = re.compile(r"\s*#\{\s*(\*?my[A-Za-z0-9_]*)\s*\}\s*")


def _holders(ctx: DefinitionView, obj: PipelineObject, holder: str, activity: PipelineObject | None) -> list[PipelineObject]:
    """The objects ``input.``/``output.`` (the holder's refs) or ``node.`` (the activity an action or
    precondition runs for: every activity, when not known) name."""
    if holder == "node":
        if activity is not None:
            return [activity]
        return [o for o in ctx.definition.objects if (ctx.type_of(o) or "") in R.ACTIVITY_TYPES]
    return [ctx.objects[f.value] for f in ctx.lookup(obj, holder) if f.is_ref and f.value in ctx.objects]


def parameters_reached(ctx: DefinitionView, obj: PipelineObject, text: str, *, seen: frozenset[tuple[str, str]] = frozenset(),
                       activity: PipelineObject | None = None) -> dict[str, str]:
    """Each parameter ``text`` of ``obj`` expands to, with the path it takes (``S3InputDataNode.directoryPath``)."""
    found: dict[str, str] = {}
    for body in _EXPRESSION.findall(text):
        for name in _NAME.findall(body):
            own = [] if name in ctx.parameters or (obj.id, name) in seen else [f for f in ctx.lookup(obj, name) if not f.is_ref]
            for field in own:  # a field of the object itself (``#{myFolder}`` naming its own user-defined field)
                deeper = parameters_reached(ctx, obj, field.value, seen=seen | {(obj.id, name)}, activity=activity)
                for reached, path in deeper.items():
                    found.setdefault(reached, f"#{{{name}}} -> {obj.id}.{name}" + ("" if path.startswith("#{my") else f" -> {path}"))
            if not own and (name in ctx.parameters or name.startswith(R.PARAMETER_PREFIX)):  # declared, or named as parameters are
                found.setdefault(name, f"#{{{name}}}")
        for holder, key in _HOLDER.findall(body):
            for target in _holders(ctx, obj, holder, activity):
                if (target.id, key) in seen:
                    continue
                for field in ctx.lookup(target, key):
                    if field.is_ref:
                        continue
                    deeper = parameters_reached(ctx, target, field.value, seen=seen | {(target.id, key)}, activity=activity)
                    for name, path in deeper.items():
                        found.setdefault(name, f"#{{{holder}.{key}}} -> {target.id}.{key}" + ("" if path.startswith("#{my") else f" -> {path}"))
    return found


def _guards(ctx: DefinitionView, activity: PipelineObject) -> set[str]:
    """The parameters guards checked before ``activity`` runs: those of every activity it dependsOn, transitively."""
    checked: set[str] = set()
    pending = [f.value for f in ctx.lookup(activity, "dependsOn") if f.is_ref]
    visited: set[str] = set()
    while pending:
        current = pending.pop()
        if current in visited or current not in ctx.objects:
            continue
        visited.add(current)
        earlier = ctx.objects[current]
        commands = [f.value for f in ctx.lookup(earlier, "command")]
        arguments = [f.value for f in ctx.lookup(earlier, "scriptArgument")]
        if (ctx.type_of(earlier) == "ShellCommandActivity" and len(commands) == 1 and read_guard(commands[0]) is not None
                and len(arguments) == 1 and (alone := _ALONE.fullmatch(arguments[0]))):
            checked.add(alone.group(1))
        pending += [f.value for f in ctx.lookup(earlier, "dependsOn") if f.is_ref]
    return checked


def parameter_code(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        if ctx.is_template(obj):
            continue
        guarded = _guards(ctx, obj)
        for key in CODE_FIELDS:
            for field in obj.fields:
                if field.key != key or field.is_ref:
                    continue
                reached = parameters_reached(ctx, obj, field.value, seen=frozenset({(obj.id, key)}))
                for name, path in sorted(reached.items()):
                    if name in guarded:
                        continue
                    via = "" if path == f"#{{{name}}}" else f" (through {path})"
                    yield Violation(obj.id, key, f"{key} expands parameter {name}{via}, and a value given at activation replaces "
                                                 "its stored one as text, so it would run as code; allowed: a literal in the "
                                                 f"definition, or a step that dependsOn a guard ShellCommandActivity whose "
                                                 f"scriptArgument is #{{{name}}}", "DP610")
