"""Rules about the values of a definition: expressions and the identifiers they use, parameters,
scheduling, numeric ranges and periods, and jar/class pairing of connector steps."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from . import rules as R
from .expressions import shorten
from .model import Parameter, PipelineObject
from .patterns import TABLE_NAME_RULE
from .periods import (
    DATE_TIME_PATTERN,
    MINIMUM_SCHEDULE_MINUTES,
    PERIOD_UNITS,
    START_AT_FIRST_ACTIVATION,
    period_minutes,
)
from .view import DefinitionView, Violation, did_you_mean, is_opaque, listed, string_fields


def _has_slot(ctx: DefinitionView, obj: PipelineObject, name: str) -> bool:
    if name.startswith("@"):
        return name in R.RUNTIME_FIELDS
    return name in R.OBJECT_SLOTS or name in R.PLAIN_RUNTIME_FIELDS or bool(ctx.lookup(obj, name))


def _io_problem(ctx: DefinitionView, obj: PipelineObject, segments: list[str], expr: str) -> tuple[str, str] | None:
    """``input.X`` / ``output.X``: the object needs that reference, and its target the field X."""
    head = segments[0]
    refs = [f for f in ctx.lookup(obj, head) if f.is_ref]
    if ctx.is_template(obj):
        return None
    if not refs:
        return "DP206", f"'{expr}' reads {head}, but {obj.id} has no {head} reference"
    targets = [ctx.objects[f.value] for f in refs if f.value in ctx.objects]
    if len(segments) > 1 and targets and not any(_has_slot(ctx, t, segments[1]) for t in targets):
        return "DP206", (f"'{expr}' reads {head}.{segments[1]}, but {head} object {listed(t.id for t in targets)} "
                f"has no field {segments[1]}")
    return None


def _identifier_problem(ctx: DefinitionView, obj: PipelineObject, path: str, expr: str) -> tuple[str, str] | None:
    """(rule id, message) of an identifier an expression cannot read, or None."""
    segments = path.split(".")
    head = segments[0].lstrip("*")
    if head.startswith("@"):
        if head in R.RUNTIME_FIELDS:
            return None
        return "DP204", (f"runtime field '{head}' in '{expr}' does not exist{did_you_mean(head, R.RUNTIME_FIELDS)}; "
                         "runtime fields include @scheduledStartTime, @scheduledEndTime, @actualStartTime, @pipelineId, "
                         "@id, @status")
    if len(segments) == 1 and (head in ctx.parameters or R.MASKED_PREFIX + head in ctx.parameters):
        return None  # masked "*myPassword" is read as "#{*myPassword}", and as "#{myPassword}" in AWS's samples
    if head == "node":
        obj_type = ctx.type_of(obj)
        if obj_type in R.NODE_TYPES or ctx.is_template(obj):
            return None
        return "DP205", (f"'{expr}' uses node, which exists only in {listed(sorted(R.ACTION_TYPES))} and "
                f"precondition objects, not in {obj_type}")
    if head in ("input", "output"):
        return _io_problem(ctx, obj, [head, *segments[1:]], expr)
    if head == "parent" or head in R.OBJECT_SLOTS or head in R.EXPRESSION_KEYWORDS:
        return None
    if ctx.lookup(obj, head) or ctx.lookup(obj, "*" + head) or head in R.PLAIN_RUNTIME_FIELDS:
        return None
    if head.startswith(R.PARAMETER_PREFIX) and len(segments) == 1:
        return "DP207", (f"parameter {head} is used but not declared (in '{expr}'); declare it or define "
                f"field {head} on {obj.id}")
    return "DP208", (f"unknown identifier '{head}' in '{expr}'; allowed: a declared parameter, a field of {obj.id}, "
            "a runtime @field, input./output./node. paths, or a function call")


def expressions(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in string_fields(obj):
            found, problems = ctx.scan(f.value)
            for problem in problems:
                yield Violation(obj.id, f.key, problem, "DP202" if "nests" in problem else "DP201")
            for expr in found:
                text = shorten(expr.text)
                for path, is_call in expr.names:
                    if is_call and path not in R.FUNCTIONS:
                        yield Violation(obj.id, f.key, f"function '{path}' in '{text}' is not a Data Pipeline "
                                                       f"function{did_you_mean(path, R.FUNCTIONS) or '; known functions: ' + listed(sorted(R.FUNCTIONS))}",
                                          "DP203")
                    found_problem = None if is_call else _identifier_problem(ctx, obj, path, text)
                    if found_problem:
                        yield Violation(obj.id, f.key, found_problem[1], found_problem[0])


def _parameter_used(ctx: DefinitionView, param: Parameter, used_by_objects: set[str]) -> bool:
    """Used by an object's field, or by another parameter: one of its attributes (a default such as
    ``#{myBucket}/exports``) or the value it is given (``values``), which the service expands as well."""
    bare = param.id.removeprefix(R.MASKED_PREFIX)
    others = [value for other in ctx.definition.parameters if other.id != param.id for _, value in other.attributes]
    others += [value for key, value in ctx.definition.values if key not in (param.id, bare)]
    return bool({param.id, bare} & used_by_objects) or any(
        param.id in ctx.names_in(value) or bare in ctx.names_in(value) for value in others
    )


def _parameter_values(ctx: DefinitionView, param: Parameter) -> Iterator[Violation]:
    """Its default and activation values parse as its type and are among its allowedValues."""
    kind = param.attribute("type") or "String"
    pattern = {"Integer": R.INTEGER, "Double": R.DOUBLE}.get(kind)
    allowed = [v for k, v in param.attributes if k == "allowedValues"]
    candidates = [("default", v) for k, v in param.attributes if k == "default"]
    candidates += [("value", v) for k, v in ctx.definition.values if k == param.id]
    for where, value in candidates:
        if is_opaque(value):
            continue
        if pattern and not pattern.match(value.strip()):
            yield Violation(param.id, where, f"{where} '{value}' is not a valid {kind}", "DP215")
        elif allowed and value not in allowed:
            yield Violation(param.id, where, f"{where} '{value}' is not one of the allowedValues {listed(allowed)}", "DP216")


def parameters(ctx: DefinitionView) -> Iterator[Violation]:
    used_by_objects = {
        name for obj in ctx.definition.objects for f in string_fields(obj) for name in ctx.names_in(f.value)
    }
    for param in ctx.parameters.values():
        bare = param.id.removeprefix(R.MASKED_PREFIX)  # "*myPassword": a masked parameter
        if not bare.startswith(R.PARAMETER_PREFIX):
            yield Violation(param.id, "", f"parameter id '{param.id}' must start with 'my' "
                                          f"(e.g. 'my{bare[:1].upper()}{bare[1:]}')", "DP210")
        for key, _ in param.attributes:
            if key not in R.PARAMETER_ATTRIBUTES and not R.USER_FIELD.match(key):
                yield Violation(param.id, key, f"attribute '{key}' is not a parameter attribute; "
                                               f"allowed: {listed(R.PARAMETER_ATTRIBUTES)}{did_you_mean(key, R.PARAMETER_ATTRIBUTES)}", "DP211")
        kind = param.attribute("type") or "String"
        if kind not in R.PARAMETER_TYPES:
            yield Violation(param.id, "type", f"type '{kind}' is not a parameter type; "
                                              f"allowed: {listed(R.PARAMETER_TYPES)}{did_you_mean(kind, R.PARAMETER_TYPES)}", "DP212")
        if not _parameter_used(ctx, param, used_by_objects):
            yield Violation(param.id, "", f"parameter {param.id} is declared but never used; "
                                          f"reference it as #{{{param.id}}} or remove it", "DP213")
        optional = (param.attribute("optional") or "").lower() == "true"
        if ctx.require_values and not optional and ctx.definition.value_of(param.id) is None:
            yield Violation(param.id, "", f"parameter {param.id} is not optional and has neither a default "
                                          "nor a value; the service refuses activation", "DP214")
        yield from _parameter_values(ctx, param)
    reported: set[str] = set()
    for key, value in ctx.definition.values:
        if key not in ctx.parameters and key not in reported:
            reported.add(key)
            yield Violation(key, "", f"values sets {key} = '{shorten(value)}' but no parameter {key} is declared", "DP217")




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


def _schedule_object(ctx: DefinitionView, obj: PipelineObject) -> Iterator[Violation]:
    for f in string_fields(obj):
        known = ctx.literal(f.value)
        if known is None:
            continue
        text, shown = known
        if f.key == "period":
            problem = _period_problem("period", shown, text, MINIMUM_SCHEDULE_MINUTES)
            if problem:
                yield Violation(obj.id, f.key, problem, "DP226")
        elif f.key in _SCHEDULE_VALUES and not _SCHEDULE_VALUES[f.key][0](text):
            yield Violation(obj.id, f.key, f"{f.key} {shown} is not allowed; {_SCHEDULE_VALUES[f.key][1]}", "DP227")
    if obj.value("endDateTime") is not None and obj.value("occurrences") is not None:
        yield Violation(obj.id, "", "Schedule sets both endDateTime and occurrences; set at most one", "DP228")


def _schedule_type_problem(ctx: DefinitionView, obj: PipelineObject, value: str) -> str | None:
    mode = value.lower()
    if mode not in R.SCHEDULE_TYPES:
        return f"scheduleType '{value}' is not one of {listed(R.SCHEDULE_TYPES)}"
    if obj.id != R.DEFAULT_ID and mode == R.ONDEMAND:
        return f"scheduleType '{value}' is set on {obj.id}; ondemand must be set on Default only"
    if obj.id != R.DEFAULT_ID and ctx.mode == R.ONDEMAND:
        return (f"scheduleType '{value}' conflicts with Default's 'ondemand'; an on-demand pipeline "
                "sets scheduleType on Default only")
    return None


def scheduling(ctx: DefinitionView) -> Iterator[Violation]:
    ondemand = ctx.mode == R.ONDEMAND
    for obj in ctx.definition.objects:
        obj_type = ctx.type_of(obj)
        for value in obj.values("scheduleType"):
            problem = None if is_opaque(value) else _schedule_type_problem(ctx, obj, value)
            if problem:
                yield Violation(obj.id, "scheduleType", problem, "DP220" if "is not one of" in problem else "DP221")
        for value in obj.values("failureAndRerunMode"):
            if not is_opaque(value) and value.lower() not in R.RERUN_MODES:
                yield Violation(obj.id, "failureAndRerunMode", f"failureAndRerunMode '{value}' is not one of "
                                                               f"{listed(R.RERUN_MODES)}", "DP222")
        if ondemand:
            if obj_type == "Schedule":
                yield Violation(obj.id, "", "Schedule objects are not allowed when Default's scheduleType is 'ondemand'",
                                "DP223")
            for f in obj.fields:
                if f.key == "schedule":
                    yield Violation(obj.id, f.key, f"schedule '{f.value}' is not allowed when Default's scheduleType "
                                                   "is 'ondemand'", "DP223")
                elif f.key == "lateAfterTimeout":
                    yield Violation(obj.id, f.key, f"lateAfterTimeout '{f.value}' has no effect when Default's "
                                                   "scheduleType is 'ondemand'", "DP224")
        elif obj_type == "Schedule":
            yield from _schedule_object(ctx, obj)
        elif obj_type in R.SCHEDULED_TYPES and not ctx.is_template(obj) and not ctx.lookup(obj, "schedule"):
            mode = f"'{ctx.declared_mode}'" if ctx.declared_mode else f"'{ctx.mode}' (the service default)"
            yield Violation(obj.id, "schedule", f"{obj_type} has no schedule (directly, from a parent or from "
                                                f"Default); scheduleType {mode} needs one, or set scheduleType "
                                                "ondemand on Default", "DP225")


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
    elif key in R.WHOLE_NUMBER_FIELDS:
        if not R.INTEGER.match(text) or int(text) < 0:
            return f"{key} {shown} is not a whole number of 0 or more"
    elif key in R.PERIOD_FIELDS:
        return _period_problem(key, shown, text)
    elif key == "s3EncryptionType" and text not in R.S3_ENCRYPTION_TYPES:
        return f"s3EncryptionType {shown} is not one of {listed(R.S3_ENCRYPTION_TYPES)}"
    return None


# The rule id of each range-checked field (every other one is a period field, DP234).
_RANGE_RULES: dict[str, str] = {
    **{key: "DP230" for key in R.THROUGHPUT_FIELDS}, "maximumRetries": "DP231", "retryDelay": "DP232",
    **{key: "DP233" for key in R.WHOLE_NUMBER_FIELDS}, "s3EncryptionType": "DP235",
}


def value_ranges(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in string_fields(obj):
            known = ctx.literal(f.value)
            problem = _range_problem(f.key, known[0].strip(), known[1]) if known else None
            if problem:
                yield Violation(obj.id, f.key, problem, _RANGE_RULES.get(f.key, "DP234"))
            elif known and f.key == "tableName" and ctx.type_of(obj) == "DynamoDBDataNode" and not (
                    R.TABLE_NAME.fullmatch(known[0]) or R.TABLE_ARN.fullmatch(known[0])):
                # A CDK token never gets here (not a literal): the constructs give the validator the name it stands
                # for (PipelineDefinition.with_stand_ins), so a table CloudFormation names is checked too.
                yield Violation(obj.id, f.key, f"tableName {known[1]} is neither a table name ({TABLE_NAME_RULE}) nor a "
                                               "table's ARN", "DP236")


def jar_class_pairing(ctx: DefinitionView) -> Iterator[Violation]:
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
                                                    f"'{main_class}'; {rule.family} needs {' or '.join(wanted)}", "DP240")


