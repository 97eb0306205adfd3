"""Checks a PipelineDefinition against the rules AWS Data Pipeline enforces at PutPipelineDefinition
and activation, so a broken definition fails at synth time with every problem listed at once.

Each rule family is one small function that yields Violations; ``RULES`` lists them. The tables they
check against live in ``rules.py``. CDK token strings (``${Token[...]}``) are opaque text: they are
never expressions, and values containing one are not range-checked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from . import rules as R
from .expressions import Expression, shorten, scan_expressions
from .model import Field, Parameter, PipelineDefinition, PipelineObject
from .periods import (
    DATE_TIME_PATTERN,
    MINIMUM_SCHEDULE_MINUTES,
    PERIOD_UNITS,
    START_AT_FIRST_ACTIVATION,
    period_minutes,
)

CDK_TOKEN = "${Token["


@dataclass(frozen=True)
class Violation:
    object_id: str  # object id, or parameter id, or "<definition>" for whole-definition rules
    field: str  # field key, or "" when the rule is about the object as a whole
    rule: str  # one sentence naming the value and what is allowed

    def __str__(self) -> str:
        where = f"{self.object_id}.{self.field}" if self.field else self.object_id
        return f"{where}: {self.rule}"


class DefinitionError(ValueError):
    """Raised by ensure_valid; str() lists every violation, one per line, prefixed by a one-line summary."""

    def __init__(self, violations: Iterable[Violation], label: str = "pipeline definition") -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        self.label = label
        count = len(self.violations)
        summary = f"{label} is invalid: {count} violation{'' if count == 1 else 's'}"
        super().__init__("\n".join([summary, *map(str, self.violations)]))


# --- Shared view of a definition ----------------------------------------------------------------
class _Context:
    def __init__(self, definition: PipelineDefinition) -> None:
        self.definition = definition
        self.objects: dict[str, PipelineObject] = {}
        for obj in definition.objects:
            self.objects.setdefault(obj.id, obj)
        self.default = self.objects.get(R.DEFAULT_ID)
        self.parameters: dict[str, Parameter] = {}
        for param in definition.parameters:
            self.parameters.setdefault(param.id, param)  # the first of a duplicated id counts
        self.templates = {f.value for o in definition.objects for f in o.fields if f.key == "parent"}
        declared = self.default.value("scheduleType") if self.default else None
        self.declared_mode = declared.lower() if declared else None
        self.mode = self.declared_mode or R.SERVICE_DEFAULT_SCHEDULE_TYPE
        self._scans: dict[str, tuple[list[Expression], list[str]]] = {}

    def scan(self, value: str) -> tuple[list[Expression], list[str]]:
        if value not in self._scans:
            self._scans[value] = scan_expressions(value)
        return self._scans[value]

    def names_in(self, value: str) -> set[str]:
        """First segments of the identifiers used in the expressions of ``value``."""
        return {path.split(".")[0] for expr in self.scan(value)[0] for path, _ in expr.names}

    def lookup(self, obj: PipelineObject, key: str, seen: tuple[str, ...] = ()) -> list[Field]:
        """The fields ``key`` resolves to on ``obj``: its own, else its parent chain's, and objects
        without a parent fall back to Default."""
        own = [f for f in obj.fields if f.key == key]
        if own or key in ("type", "parent") or obj.id in seen:
            return own
        parents = [self.objects[f.value] for f in obj.fields if f.key == "parent" and f.value in self.objects]
        for parent in parents:
            found = self.lookup(parent, key, seen + (obj.id,))
            if found:
                return found
        if not parents and self.default is not None and obj.id != R.DEFAULT_ID:
            return self.lookup(self.default, key, seen + (obj.id,))
        return []

    def type_of(self, obj: PipelineObject, seen: tuple[str, ...] = ()) -> str | None:
        """The object's type, inherited through ``parent`` (never from Default)."""
        if obj.type is None and obj.id not in seen:
            for f in obj.fields:
                if f.key == "parent" and f.value in self.objects:
                    found = self.type_of(self.objects[f.value], seen + (obj.id,))
                    if found:
                        return found
        return obj.type or ("Default" if obj.id == R.DEFAULT_ID else None)

    def is_template(self, obj: PipelineObject) -> bool:
        """Default and parent objects lend their fields to others; object-relative checks skip them."""
        return obj.id == R.DEFAULT_ID or obj.id in self.templates

    def literal(self, value: str) -> tuple[str, str] | None:
        """(literal text, how to show the value) for value checks, or None when it cannot be known:
        a CDK token, an expression, or a ``#{myParam}`` without a literal value or default."""
        if CDK_TOKEN in value:
            return None
        match = re.fullmatch(r"#\{\s*([A-Za-z_]\w*)\s*\}", value)
        if match and match.group(1) in self.parameters:
            resolved = self.definition.value_of(match.group(1))
            if resolved is None or "#{" in resolved or CDK_TOKEN in resolved:
                return None
            return resolved, f"'{value}' (resolves to '{resolved}')"
        return None if "#{" in value else (value, f"'{value}'")


def _string_fields(obj: PipelineObject) -> Iterator[Field]:
    return (f for f in obj.fields if not f.is_ref and f.key != "type")


def _listed(options: Iterable[str]) -> str:
    return ", ".join(options)


def _is_opaque(value: str) -> bool:
    return CDK_TOKEN in value or "#{" in value


# --- Rule families ------------------------------------------------------------------------------
def _length_problem(kind: str, text: str) -> str | None:
    if 1 <= len(text) <= R.MAX_ID_CHARS:
        return None
    return f"{kind} '{shorten(text)}' is {len(text)} characters; {kind}s must be 1-{R.MAX_ID_CHARS} characters"


def ids_and_names(ctx: _Context) -> Iterator[Violation]:
    object_counts: dict[str, int] = {}
    for obj in ctx.definition.objects:
        object_counts[obj.id] = object_counts.get(obj.id, 0) + 1
    for obj in ctx.definition.objects:
        for problem in (_length_problem("object id", obj.id), _length_problem("name", obj.name)):
            if problem:
                yield Violation(obj.id, "", problem)
        if object_counts[obj.id] > 1 and ctx.objects[obj.id] is obj:
            yield Violation(obj.id, "", f"object id '{obj.id}' is used by {object_counts[obj.id]} objects; "
                                        "ids must be unique")
        for f in obj.fields:
            size = len(f.key.encode())
            if not 1 <= size <= R.MAX_KEY_BYTES:
                yield Violation(obj.id, f.key, f"field key '{shorten(f.key)}' is {size} UTF-8 bytes; "
                                               f"keys must be 1-{R.MAX_KEY_BYTES} bytes")
            if f.value == "":
                yield Violation(obj.id, f.key, "value '' is empty; a field value must be a non-empty string "
                                               "(leave the field out instead)")
    parameter_counts: dict[str, int] = {}
    for param in ctx.definition.parameters:
        parameter_counts[param.id] = parameter_counts.get(param.id, 0) + 1
    for param in ctx.definition.parameters:
        problem = _length_problem("parameter id", param.id)
        if problem:
            yield Violation(param.id, "", problem)
        if parameter_counts[param.id] > 1 and ctx.parameters[param.id] is param:
            yield Violation(param.id, "", f"parameter id '{param.id}' is declared {parameter_counts[param.id]} "
                                          "times; ids must be unique")


def references(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in obj.fields:
            if f.is_ref and f.value and f.value not in ctx.objects:
                yield Violation(obj.id, f.key, f"reference to '{f.value}' names no object of this definition")
            elif f.is_ref and f.key in R.REF_TARGET_TYPES and f.value in ctx.objects:
                target_type = ctx.type_of(ctx.objects[f.value])
                allowed = R.REF_TARGET_TYPES[f.key]
                if target_type in R.KNOWN_TYPES and target_type not in allowed:
                    yield Violation(obj.id, f.key, f"{f.key} refers to '{f.value}' of type {target_type}; "
                                                   f"it must refer to one of {_listed(sorted(allowed))}")
            elif not f.is_ref and f.key in R.REF_FIELDS and f.value:
                hint = f" (use Ref('{f.value}'))" if f.value in ctx.objects else ""
                yield Violation(obj.id, f.key, f"{f.key} '{shorten(f.value)}' is a plain string; {f.key} must be "
                                               f"a reference to an object id{hint}")
        yield from _parent_cycle(ctx, obj)


def _parent_cycle(ctx: _Context, obj: PipelineObject) -> Iterator[Violation]:
    chain, current = [obj.id], obj
    while True:
        parents = [f.value for f in current.fields if f.key == "parent" and f.value in ctx.objects]
        if not parents or parents[0] in chain[1:]:
            return
        chain.append(parents[0])
        if parents[0] == obj.id:
            yield Violation(obj.id, "parent", f"parent chain {' -> '.join(chain)} is a cycle; "
                                              "parents must end at an object without parent")
            return
        current = ctx.objects[parents[0]]


def _has_slot(ctx: _Context, obj: PipelineObject, name: str) -> bool:
    if name.startswith("@"):
        return name in R.RUNTIME_FIELDS
    return name in R.OBJECT_SLOTS or name in R.PLAIN_RUNTIME_FIELDS or bool(ctx.lookup(obj, name))


def _io_problem(ctx: _Context, obj: PipelineObject, segments: list[str], expr: str) -> str | None:
    """``input.X`` / ``output.X``: the object needs that reference, and its target the field X."""
    head = segments[0]
    refs = [f for f in ctx.lookup(obj, head) if f.is_ref]
    if ctx.is_template(obj):
        return None
    if not refs:
        return f"'{expr}' reads {head}, but {obj.id} has no {head} reference"
    targets = [ctx.objects[f.value] for f in refs if f.value in ctx.objects]
    if len(segments) > 1 and targets and not any(_has_slot(ctx, t, segments[1]) for t in targets):
        return (f"'{expr}' reads {head}.{segments[1]}, but {head} object {_listed(t.id for t in targets)} "
                f"has no field {segments[1]}")
    return None


def _identifier_problem(ctx: _Context, obj: PipelineObject, path: str, expr: str) -> str | None:
    segments = path.split(".")
    head = segments[0].lstrip("*")
    if head.startswith("@"):
        if head in R.RUNTIME_FIELDS:
            return None
        return (f"runtime field '{head}' in '{expr}' does not exist; runtime fields include "
                "@scheduledStartTime, @scheduledEndTime, @actualStartTime, @pipelineId, @id, @status")
    if len(segments) == 1 and head in ctx.parameters:
        return None
    if head == "node":
        obj_type = ctx.type_of(obj)
        if obj_type in R.NODE_TYPES or ctx.is_template(obj):
            return None
        return (f"'{expr}' uses node, which exists only in {_listed(sorted(R.ACTION_TYPES))} and "
                f"precondition objects, not in {obj_type}")
    if head in ("input", "output"):
        return _io_problem(ctx, obj, [head, *segments[1:]], expr)
    if head == "parent" or head in R.OBJECT_SLOTS or head in R.EXPRESSION_KEYWORDS:
        return None
    if ctx.lookup(obj, head) or ctx.lookup(obj, "*" + head) or head in R.PLAIN_RUNTIME_FIELDS:
        return None
    if head.startswith(R.PARAMETER_PREFIX) and len(segments) == 1:
        return (f"parameter {head} is used but not declared (in '{expr}'); declare it or define "
                f"field {head} on {obj.id}")
    return (f"unknown identifier '{head}' in '{expr}'; allowed: a declared parameter, a field of {obj.id}, "
            "a runtime @field, input./output./node. paths, or a function call")


def expressions(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in _string_fields(obj):
            found, problems = ctx.scan(f.value)
            for problem in problems:
                yield Violation(obj.id, f.key, problem)
            for expr in found:
                text = shorten(expr.text)
                for path, is_call in expr.names:
                    if is_call and path not in R.FUNCTIONS:
                        yield Violation(obj.id, f.key, f"function '{path}' in '{text}' is not a Data Pipeline "
                                                       f"function; known functions: {_listed(sorted(R.FUNCTIONS))}")
                    problem = None if is_call else _identifier_problem(ctx, obj, path, text)
                    if problem:
                        yield Violation(obj.id, f.key, problem)


def _parameter_used(ctx: _Context, param: Parameter, used_by_objects: set[str]) -> bool:
    return param.id in used_by_objects or any(
        param.id in ctx.names_in(value)
        for other in ctx.definition.parameters
        if other.id != param.id
        for _, value in other.attributes
    )


def _parameter_values(ctx: _Context, param: Parameter) -> Iterator[Violation]:
    """Its default and activation values parse as its type and are among its allowedValues."""
    kind = param.attribute("type") or "String"
    pattern = {"Integer": R.INTEGER, "Double": R.DOUBLE}.get(kind)
    allowed = [v for k, v in param.attributes if k == "allowedValues"]
    candidates = [("default", v) for k, v in param.attributes if k == "default"]
    candidates += [("value", v) for k, v in ctx.definition.values if k == param.id]
    for where, value in candidates:
        if _is_opaque(value):
            continue
        if pattern and not pattern.match(value.strip()):
            yield Violation(param.id, where, f"{where} '{value}' is not a valid {kind}")
        elif allowed and value not in allowed:
            yield Violation(param.id, where, f"{where} '{value}' is not one of the allowedValues {_listed(allowed)}")


def parameters(ctx: _Context) -> Iterator[Violation]:
    used_by_objects = {
        name for obj in ctx.definition.objects for f in _string_fields(obj) for name in ctx.names_in(f.value)
    }
    for param in ctx.parameters.values():
        if not param.id.startswith(R.PARAMETER_PREFIX):
            yield Violation(param.id, "", f"parameter id '{param.id}' must start with 'my' "
                                          f"(e.g. 'my{param.id[:1].upper()}{param.id[1:]}')")
        for key, _ in param.attributes:
            if key not in R.PARAMETER_ATTRIBUTES:
                yield Violation(param.id, key, f"attribute '{key}' is not a parameter attribute; "
                                               f"allowed: {_listed(R.PARAMETER_ATTRIBUTES)}")
        kind = param.attribute("type") or "String"
        if kind not in R.PARAMETER_TYPES:
            yield Violation(param.id, "type", f"type '{kind}' is not a parameter type; "
                                              f"allowed: {_listed(R.PARAMETER_TYPES)}")
        if not _parameter_used(ctx, param, used_by_objects):
            yield Violation(param.id, "", f"parameter {param.id} is declared but never used; "
                                          f"reference it as #{{{param.id}}} or remove it")
        optional = (param.attribute("optional") or "").lower() == "true"
        if not optional and ctx.definition.value_of(param.id) is None:
            yield Violation(param.id, "", f"parameter {param.id} is not optional and has neither a default "
                                          "nor a value; the service refuses activation")
        yield from _parameter_values(ctx, param)
    reported: set[str] = set()
    for key, value in ctx.definition.values:
        if key not in ctx.parameters and key not in reported:
            reported.add(key)
            yield Violation(key, "", f"values sets {key} = '{shorten(value)}' but no parameter {key} is declared")


def types_and_required_fields(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        obj_type = ctx.type_of(obj)
        if obj_type is None:
            if obj.id not in ctx.templates:
                yield Violation(obj.id, "type", "type is missing; every object except Default needs a type "
                                                "(e.g. EmrActivity, S3DataNode)")
            continue
        if obj_type not in R.KNOWN_TYPES:
            yield Violation(obj.id, "type", f"type '{obj_type}' is not a Data Pipeline object type; "
                                            f"known types: {_listed(sorted(R.KNOWN_TYPES))}")
            continue
        for key in R.FORBIDDEN_FIELDS.get(obj_type, ()):
            value = obj.value(key)
            if value is not None:
                yield Violation(obj.id, key, f"{key} '{shorten(value)}' is not allowed on {obj_type}")
        if ctx.is_template(obj):
            continue  # children may complete what a template leaves out
        for key in R.REQUIRED_FIELDS.get(obj_type, ()):
            if not ctx.lookup(obj, key):
                yield Violation(obj.id, key, f"{obj_type} requires {key}, which is not set "
                                             "(directly, by a parent or by Default)")
        for group in R.EXACTLY_ONE_OF.get(obj_type, ()):
            own = [key for key in group if obj.value(key) is not None]
            if len(own) > 1:
                yield Violation(obj.id, "", f"{obj_type} sets {' and '.join(own)}; set exactly one of {_listed(group)}")
            elif not any(ctx.lookup(obj, key) for key in group):
                yield Violation(obj.id, "", f"{obj_type} needs exactly one of {_listed(group)}; none is set")


def _period_problem(key: str, shown: str, text: str, minimum: int = 0) -> str | None:
    minutes = period_minutes(text.strip().lower())  # AWS examples write "1 Day", "15 Minutes"
    if minutes is None:
        return f"{key} {shown} is not a period '<whole number> <unit>' with unit one of {PERIOD_UNITS}"
    if minutes < minimum:
        return f"{key} {shown} is shorter than the minimum of {minimum} minutes"
    return None


_SCHEDULE_VALUES: dict[str, tuple[Callable[[str], bool], str]] = {
    "startAt": (lambda v: v == START_AT_FIRST_ACTIVATION, f"the only value is {START_AT_FIRST_ACTIVATION}"),
    "startDateTime": (lambda v: bool(DATE_TIME_PATTERN.match(v)), "the format is YYYY-MM-DDTHH:MM:SS (UTC)"),
    "endDateTime": (lambda v: bool(DATE_TIME_PATTERN.match(v)), "the format is YYYY-MM-DDTHH:MM:SS (UTC)"),
    "occurrences": (lambda v: bool(R.INTEGER.match(v)) and int(v) > 0, "it must be a positive whole number"),
}


def _schedule_object(ctx: _Context, obj: PipelineObject) -> Iterator[Violation]:
    for f in _string_fields(obj):
        known = ctx.literal(f.value)
        if known is None:
            continue
        text, shown = known
        if f.key == "period":
            problem = _period_problem("period", shown, text, MINIMUM_SCHEDULE_MINUTES)
            if problem:
                yield Violation(obj.id, f.key, problem)
        elif f.key in _SCHEDULE_VALUES and not _SCHEDULE_VALUES[f.key][0](text):
            yield Violation(obj.id, f.key, f"{f.key} {shown} is not allowed; {_SCHEDULE_VALUES[f.key][1]}")
    if obj.value("endDateTime") is not None and obj.value("occurrences") is not None:
        yield Violation(obj.id, "", "Schedule sets both endDateTime and occurrences; set at most one")


def _schedule_type_problem(ctx: _Context, obj: PipelineObject, value: str) -> str | None:
    mode = value.lower()
    if mode not in R.SCHEDULE_TYPES:
        return f"scheduleType '{value}' is not one of {_listed(R.SCHEDULE_TYPES)}"
    if obj.id != R.DEFAULT_ID and mode == R.ONDEMAND:
        return f"scheduleType '{value}' is set on {obj.id}; ondemand must be set on Default only"
    if obj.id != R.DEFAULT_ID and ctx.mode == R.ONDEMAND:
        return (f"scheduleType '{value}' conflicts with Default's 'ondemand'; an on-demand pipeline "
                "sets scheduleType on Default only")
    return None


def scheduling(ctx: _Context) -> Iterator[Violation]:
    ondemand = ctx.mode == R.ONDEMAND
    for obj in ctx.definition.objects:
        obj_type = ctx.type_of(obj)
        for value in obj.values("scheduleType"):
            problem = None if _is_opaque(value) else _schedule_type_problem(ctx, obj, value)
            if problem:
                yield Violation(obj.id, "scheduleType", problem)
        for value in obj.values("failureAndRerunMode"):
            if not _is_opaque(value) and value.lower() not in R.RERUN_MODES:
                yield Violation(obj.id, "failureAndRerunMode", f"failureAndRerunMode '{value}' is not one of "
                                                               f"{_listed(R.RERUN_MODES)}")
        if ondemand:
            if obj_type == "Schedule":
                yield Violation(obj.id, "", "Schedule objects are not allowed when Default's scheduleType is 'ondemand'")
            for f in obj.fields:
                if f.key in ("schedule", "lateAfterTimeout"):
                    yield Violation(obj.id, f.key, f"{f.key} '{f.value}' is not allowed when Default's "
                                                   "scheduleType is 'ondemand'")
        elif obj_type == "Schedule":
            yield from _schedule_object(ctx, obj)
        elif obj_type in R.SCHEDULED_TYPES and not ctx.is_template(obj) and not ctx.lookup(obj, "schedule"):
            mode = f"'{ctx.declared_mode}'" if ctx.declared_mode else f"'{ctx.mode}' (the service default)"
            yield Violation(obj.id, "schedule", f"{obj_type} has no schedule (directly, from a parent or from "
                                                f"Default); scheduleType {mode} needs one, or set scheduleType "
                                                "ondemand on Default")


def _range_problem(key: str, text: str, shown: str) -> str | None:
    if key in R.THROUGHPUT_FIELDS:
        low, high = R.THROUGHPUT_MIN, R.THROUGHPUT_MAX
        if not R.DOUBLE.match(text):
            return f"{key} {shown} is not a number; allowed {low}-{high}"
        if not low <= float(text) <= high:
            return f"{key} {shown} is outside {low}-{high}"
    elif key == "maximumRetries":
        if not R.INTEGER.match(text) or not 0 <= int(text) <= R.MAX_RETRIES:
            return f"maximumRetries {shown} is not a whole number between 0 and {R.MAX_RETRIES}"
    elif key == "retryDelay":
        return _period_problem(key, shown, text, R.MIN_RETRY_DELAY_MINUTES)
    elif key in R.INSTANCE_COUNT_FIELDS:
        if not R.INTEGER.match(text) or int(text) < 0:
            return f"{key} {shown} is not a whole number of 0 or more"
    elif key in R.PERIOD_FIELDS:
        return _period_problem(key, shown, text)
    elif key == "s3EncryptionType" and text not in R.S3_ENCRYPTION_TYPES:
        return f"s3EncryptionType {shown} is not one of {_listed(R.S3_ENCRYPTION_TYPES)}"
    return None


def value_ranges(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in _string_fields(obj):
            known = ctx.literal(f.value)
            problem = _range_problem(f.key, known[0].strip(), known[1]) if known else None
            if problem:
                yield Violation(obj.id, f.key, problem)


def jar_class_pairing(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        if ctx.type_of(obj) != "EmrActivity":
            continue
        for step in obj.values("step"):
            parts = re.split(r"(?<!\\),", step)  # "\," inside an argument does not split
            jar, main_class = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
            for rule in R.JAR_RULES:
                if rule.matches(jar) and main_class not in rule.classes:
                    wanted = [c for c in rule.classes if c.lower() == main_class.lower()] or list(rule.classes)
                    yield Violation(obj.id, "step", f"step jar '{jar.rsplit('/', 1)[-1]}' is run with class "
                                                    f"'{main_class}'; {rule.family} needs {' or '.join(wanted)}")


def user_defined_fields(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for key in dict.fromkeys(f.key for f in obj.fields):
            bare = key[1:] if key.startswith("*") else key  # "*password": an encrypted field
            if bare not in R.KNOWN_FIELDS and not R.USER_FIELD.match(bare):
                yield Violation(obj.id, key, f"unknown field '{key}': not a Data Pipeline field, and user-defined "
                                             "fields must start with 'my' followed by an upper-case letter or '_'")


def limits(ctx: _Context) -> Iterator[Violation]:
    d = ctx.definition
    if len(d.objects) > R.MAX_OBJECTS:
        yield Violation(R.DEFINITION, "", f"{len(d.objects)} objects exceed the limit of {R.MAX_OBJECTS} per pipeline")
    if len(d.parameters) > R.MAX_PARAMETERS:
        yield Violation(R.DEFINITION, "", f"{len(d.parameters)} parameters exceed the limit of "
                                          f"{R.MAX_PARAMETERS} per definition")
    for obj in d.objects:
        if len(obj.fields) > R.MAX_FIELDS_PER_OBJECT:
            yield Violation(obj.id, "", f"{len(obj.fields)} fields exceed the limit of "
                                        f"{R.MAX_FIELDS_PER_OBJECT} per object")
        total = 0
        for f in obj.fields:
            size = len(f.value.encode())
            total += size + len(f.key.encode())
            if size > R.MAX_FIELD_VALUE_BYTES:
                yield Violation(obj.id, f.key, f"value of {size} UTF-8 bytes exceeds the limit of "
                                               f"{R.MAX_FIELD_VALUE_BYTES} bytes per field")
        if total > R.MAX_OBJECT_BYTES:
            yield Violation(obj.id, "", f"fields total {total} UTF-8 bytes, over the limit of "
                                        f"{R.MAX_OBJECT_BYTES} bytes per object")


RULES: tuple[Callable[[_Context], Iterable[Violation]], ...] = (
    limits,
    ids_and_names,
    references,
    types_and_required_fields,
    user_defined_fields,
    scheduling,
    value_ranges,
    jar_class_pairing,
    expressions,
    parameters,
)


# --- Entry points -------------------------------------------------------------------------------
def _in_definition_order(definition: PipelineDefinition, found: list[Violation]) -> tuple[Violation, ...]:
    """Definition-level first, then objects, then parameters, each by field position; ties keep
    the order of RULES. Identical violations are reported once."""
    owners: dict[str, int] = {R.DEFINITION: 0}
    positions: dict[str, dict[str, int]] = {}

    def place(owner: str, keys: Iterable[str]) -> None:
        if owner not in owners:  # the first object or parameter of an id decides
            owners[owner] = len(owners)
            positions[owner] = {}
            for i, key in enumerate(keys):
                positions[owner].setdefault(key, i)

    for obj in definition.objects:
        place(obj.id, [f.key for f in obj.fields])
    for param in definition.parameters:
        place(param.id, [k for k, _ in param.attributes])

    def rank(v: Violation) -> tuple[int, int]:
        field_rank = -1 if not v.field else positions.get(v.object_id, {}).get(v.field, 10**6)
        return owners.get(v.object_id, len(owners)), field_rank

    return tuple(sorted(dict.fromkeys(found), key=rank))


def validate(definition: PipelineDefinition) -> tuple[Violation, ...]:
    """Every violation at once, in a deterministic order (definition order of objects, then fields)."""
    ctx = _Context(definition)
    return _in_definition_order(definition, [v for rule in RULES for v in rule(ctx)])


def ensure_valid(definition: PipelineDefinition, *, label: str = "pipeline definition") -> PipelineDefinition:
    """Returns the definition unchanged when valid, raises DefinitionError otherwise."""
    violations = validate(definition)
    if violations:
        raise DefinitionError(violations, label)
    return definition
