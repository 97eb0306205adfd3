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
from .model import Field, PipelineDefinition, PipelineObject
from .periods import DATE_TIME_PATTERN, PERIOD_UNITS, START_AT_FIRST_ACTIVATION, period_minutes

MINIMUM_SCHEDULE_MINUTES = 15
CDK_TOKEN = "${Token["


@dataclass(frozen=True)
class Violation:
    object_id: str  # object id, or parameter id, or "<definition>" for whole-definition rules
    field: str  # field key, or "" when the rule is about the object as a whole
    rule: str  # one sentence naming the value and what is allowed

    def __str__(self) -> str:
        return f"{self.object_id}.{self.field}: {self.rule}" if self.field else f"{self.object_id}: {self.rule}"


class DefinitionError(ValueError):
    """Raised by ensure_valid; str() lists every violation, one per line, prefixed by a one-line summary."""

    def __init__(self, violations: Iterable[Violation], label: str = "pipeline definition") -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        self.label = label
        count = len(self.violations)
        summary = f"{label} is invalid: {count} violation{'' if count == 1 else 's'}"
        super().__init__("\n".join([summary, *map(str, self.violations)]))


# --- Expressions --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expression:
    text: str  # the whole "#{...}"
    names: tuple[tuple[str, bool], ...]  # identifier paths ("input.tableName") and whether each is a call


_TOKEN = re.compile(
    r"""(?P<space>\s+) | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
      | (?P<opaque>\$\{[^}]*\}) | (?P<number>\d+(?:\.\d+)?)
      | (?P<path>[@*]?[A-Za-z_]\w*(?:\.[@*]?[A-Za-z_]\w*)*) | (?P<other>.)""",
    re.X | re.S,
)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _close(value: str, start: int) -> tuple[int, bool]:
    """Index of the '}' closing the brace opened just before ``start`` (quotes and nested braces
    respected), or -1; the flag says whether a nested '#{' was seen on the way."""
    depth, quote, nested, i = 1, "", False, start
    while i < len(value):
        char = value[i]
        if quote:
            i += 2 if char == "\\" else 1
            quote = "" if char == quote else quote
            continue
        if char in "'\"":
            quote = char
        elif char == "{":
            nested = nested or value[i - 1] == "#"
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i, nested
        i += 1
    return -1, nested


def _names(body: str) -> list[tuple[str, bool]]:
    """Identifier paths of an expression body (string literals, numbers and tokens skipped), each
    flagged when it is called as a function."""
    return [
        (match.group(), body[match.end():].lstrip().startswith("("))
        for match in _TOKEN.finditer(body)
        if match.lastgroup == "path"
    ]


def scan_expressions(value: str) -> tuple[list[Expression], list[str]]:
    """The ``#{...}`` expressions of a string value, and the syntax problems found."""
    found: list[Expression] = []
    problems: list[str] = []
    i = 0
    while i < len(value):
        if value.startswith("${", i):  # a CDK token or a shell variable: opaque text
            end, _ = _close(value, i + 2)
            i = len(value) if end < 0 else end + 1
        elif value.startswith("#{", i):
            end, nested = _close(value, i + 2)
            if end < 0:
                problems.append(f"expression '{_short(value[i:])}' has no closing '}}'")
                break
            text, body = value[i : end + 1], value[i + 2 : end]
            syntax = []
            if nested:
                syntax.append("nests '#{' inside an expression, which the service does not allow")
            if not body.strip():
                syntax.append("is empty")
            problems.extend(f"expression '{_short(text)}' {problem}" for problem in syntax)
            found.append(Expression(text, tuple(_names(body))))
            i = end + 1
        else:
            i += 1
    return found, problems


# --- Shared view of a definition ----------------------------------------------------------------
class _Context:
    def __init__(self, definition: PipelineDefinition) -> None:
        self.definition = definition
        self.objects: dict[str, PipelineObject] = {}
        for obj in definition.objects:
            self.objects.setdefault(obj.id, obj)
        self.default = self.objects.get(R.DEFAULT_ID)
        self.parameters = {p.id: p for p in reversed(definition.parameters)}
        self.templates = {f.value for o in definition.objects for f in o.fields if f.key == "parent"}
        mode = self.default.value("scheduleType") if self.default else None
        self.declared_mode = mode.lower() if mode else None
        self.mode = self.declared_mode or R.SERVICE_DEFAULT_SCHEDULE_TYPE
        self._scans: dict[str, tuple[list[Expression], list[str]]] = {}

    def scan(self, value: str) -> tuple[list[Expression], list[str]]:
        if value not in self._scans:
            self._scans[value] = scan_expressions(value)
        return self._scans[value]

    def names_in(self, value: str) -> set[str]:
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
        if obj.type is not None or obj.id in seen:
            return obj.type or ("Default" if obj.id == R.DEFAULT_ID else None)
        for f in obj.fields:
            if f.key == "parent" and f.value in self.objects:
                found = self.type_of(self.objects[f.value], seen + (obj.id,))
                if found:
                    return found
        return "Default" if obj.id == R.DEFAULT_ID else None

    def is_template(self, obj: PipelineObject) -> bool:
        """Default and parent objects lend their fields to others; object-relative checks skip them."""
        return obj.id == R.DEFAULT_ID or obj.id in self.templates

    def literal(self, value: str) -> tuple[str, str] | None:
        """(literal text, how to show the value) for range checks, or None when it cannot be known."""
        if CDK_TOKEN in value:
            return None
        match = re.fullmatch(r"#\{\s*([A-Za-z_]\w*)\s*\}", value)
        if match and match.group(1) in self.parameters:
            resolved = self.definition.value_of(match.group(1))
            if resolved is None or "#{" in resolved or CDK_TOKEN in resolved:
                return None
            return resolved, f"'{value}' (resolves to '{resolved}')"
        return (None if "#{" in value else (value, f"'{value}'"))


def _string_fields(obj: PipelineObject) -> Iterator[Field]:
    return (f for f in obj.fields if not f.is_ref and f.key != "type")


def _one_of(options: Iterable[str]) -> str:
    return ", ".join(options)


# --- Rule families ------------------------------------------------------------------------------
def ids_and_names(ctx: _Context) -> Iterator[Violation]:
    def sized(kind: str, text: str) -> str | None:
        if 1 <= len(text) <= R.MAX_ID_CHARS:
            return None
        return f"{kind} '{_short(text)}' is {len(text)} characters; {kind}s must be 1-{R.MAX_ID_CHARS} characters"

    counts: dict[str, int] = {}
    for obj in ctx.definition.objects:
        counts[obj.id] = counts.get(obj.id, 0) + 1
    for index, obj in enumerate(ctx.definition.objects):
        owner = _owner(obj, index)
        for problem in (sized("object id", obj.id), sized("name", obj.name)):
            if problem:
                yield Violation(owner, "", problem)
        if counts[obj.id] > 1 and ctx.objects[obj.id] is obj:
            yield Violation(owner, "", f"object id '{obj.id}' is used by {counts[obj.id]} objects; ids must be unique")
        for f in obj.fields:
            size = len(f.key.encode())
            if not 1 <= size <= R.MAX_KEY_BYTES:
                yield Violation(owner, f.key, f"field key '{_short(f.key)}' is {size} UTF-8 bytes; keys must be 1-{R.MAX_KEY_BYTES} bytes")
            if f.value == "":
                yield Violation(owner, f.key, "value '' is empty; a field value must be a non-empty string (leave the field out instead)")
    seen: dict[str, int] = {}
    for param in ctx.definition.parameters:
        seen[param.id] = seen.get(param.id, 0) + 1
    for param in ctx.definition.parameters:
        problem = sized("parameter id", param.id)
        if problem:
            yield Violation(param.id, "", problem)
        if seen.get(param.id, 0) > 1:
            yield Violation(param.id, "", f"parameter id '{param.id}' is declared {seen.pop(param.id)} times; ids must be unique")


def references(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in obj.fields:
            if f.is_ref and f.value and f.value not in ctx.objects:
                yield Violation(obj.id, f.key, f"reference to '{f.value}' names no object of this definition")
            elif f.is_ref and f.key in R.REF_TARGET_TYPES and f.value in ctx.objects:
                target_type = ctx.type_of(ctx.objects[f.value])
                allowed = R.REF_TARGET_TYPES[f.key]
                if target_type in R.KNOWN_TYPES and target_type not in allowed:
                    yield Violation(obj.id, f.key, f"{f.key} refers to '{f.value}' of type {target_type}; it must refer to one of {_one_of(sorted(allowed))}")
            elif not f.is_ref and f.key in R.REF_FIELDS and f.value:
                hint = f" (use Ref('{f.value}'))" if f.value in ctx.objects else ""
                yield Violation(obj.id, f.key, f"{f.key} '{_short(f.value)}' is a plain string; {f.key} must be a reference to an object id{hint}")
        chain, current = [obj.id], obj
        while True:
            parents = [f.value for f in current.fields if f.key == "parent" and f.value in ctx.objects]
            if not parents or parents[0] in chain[1:]:
                break
            chain.append(parents[0])
            if parents[0] == obj.id:
                yield Violation(obj.id, "parent", f"parent chain {' -> '.join(chain)} is a cycle; parents must end at an object without parent")
                break
            current = ctx.objects[parents[0]]


def _identifier_problem(ctx: _Context, obj: PipelineObject, path: str, expr: str) -> str | None:
    segments = path.split(".")
    head = segments[0].lstrip("*")
    obj_type = ctx.type_of(obj)
    if head.startswith("@"):
        return None if head in R.RUNTIME_FIELDS else (
            f"runtime field '{head}' in '{expr}' does not exist; runtime fields include "
            "@scheduledStartTime, @scheduledEndTime, @actualStartTime, @pipelineId, @id, @status")
    if len(segments) == 1 and head in ctx.parameters:
        return None
    if head == "node":
        if obj_type in R.NODE_TYPES or ctx.is_template(obj):
            return None
        return f"'{expr}' uses node, which exists only in {_one_of(sorted(R.ACTION_TYPES))} and precondition objects, not in {obj_type}"
    if head in ("input", "output"):
        refs = [f for f in ctx.lookup(obj, head) if f.is_ref]
        if ctx.is_template(obj):
            return None
        if not refs:
            return f"'{expr}' reads {head}, but {obj.id} has no {head} reference"
        targets = [ctx.objects[f.value] for f in refs if f.value in ctx.objects]
        if len(segments) > 1 and targets and not any(_has_slot(ctx, t, segments[1]) for t in targets):
            names = _one_of(t.id for t in targets)
            return f"'{expr}' reads {head}.{segments[1]}, but {head} object {names} has no field {segments[1]}"
        return None
    if head == "parent" or head in R.OBJECT_SLOTS or head in R.EXPRESSION_KEYWORDS:
        return None
    if ctx.lookup(obj, head) or ctx.lookup(obj, "*" + head) or head in R.PLAIN_RUNTIME_FIELDS:
        return None
    if head.startswith(R.PARAMETER_PREFIX) and len(segments) == 1:
        return f"parameter {head} is used but not declared (in '{expr}'); declare it or define field {head} on {obj.id}"
    return (f"unknown identifier '{head}' in '{expr}'; allowed: a declared parameter, a field of {obj.id}, "
            "a runtime @field, input./output./node. paths, or a function call")


def _has_slot(ctx: _Context, obj: PipelineObject, name: str) -> bool:
    if name.startswith("@"):
        return name in R.RUNTIME_FIELDS
    return name in R.OBJECT_SLOTS or name in R.PLAIN_RUNTIME_FIELDS or bool(ctx.lookup(obj, name))


def expressions(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in _string_fields(obj):
            found, problems = ctx.scan(f.value)
            for problem in problems:
                yield Violation(obj.id, f.key, problem)
            for expr in found:
                for path, is_call in expr.names:
                    if is_call:
                        if path not in R.FUNCTIONS:
                            yield Violation(obj.id, f.key, f"function '{path}' in '{_short(expr.text)}' is not a Data Pipeline function; known functions: {_one_of(sorted(R.FUNCTIONS))}")
                        continue
                    problem = _identifier_problem(ctx, obj, path, _short(expr.text))
                    if problem:
                        yield Violation(obj.id, f.key, problem)


def parameters(ctx: _Context) -> Iterator[Violation]:
    used_by_objects = {name for obj in ctx.definition.objects for f in _string_fields(obj) for name in ctx.names_in(f.value)}
    for param in ctx.definition.parameters:
        if ctx.parameters[param.id] is not param:
            continue  # a duplicate id, reported by ids_and_names
        if not param.id.startswith(R.PARAMETER_PREFIX):
            yield Violation(param.id, "", f"parameter id '{param.id}' must start with 'my' (e.g. 'my{param.id[:1].upper()}{param.id[1:]}')")
        for key, _ in param.attributes:
            if key not in R.PARAMETER_ATTRIBUTES:
                yield Violation(param.id, key, f"attribute '{key}' is not a parameter attribute; allowed: {_one_of(R.PARAMETER_ATTRIBUTES)}")
        kind = param.attribute("type") or "String"
        if kind not in R.PARAMETER_TYPES:
            yield Violation(param.id, "type", f"type '{kind}' is not a parameter type; allowed: {_one_of(R.PARAMETER_TYPES)}")
        used_by_parameters = any(
            param.id in ctx.names_in(value) for other in ctx.definition.parameters if other.id != param.id for _, value in other.attributes
        )
        if param.id not in used_by_objects and not used_by_parameters:
            yield Violation(param.id, "", f"parameter {param.id} is declared but never used; reference it as #{{{param.id}}} or remove it")
        optional = (param.attribute("optional") or "").lower() == "true"
        if not optional and ctx.definition.value_of(param.id) is None:
            yield Violation(param.id, "", f"parameter {param.id} is not optional and has neither a default nor a value; the service refuses activation")
        candidates = [("default", v) for k, v in param.attributes if k == "default"]
        candidates += [("value", v) for k, v in ctx.definition.values if k == param.id]
        allowed = [v for k, v in param.attributes if k == "allowedValues"]
        for where, value in candidates:
            if CDK_TOKEN in value or "#{" in value:
                continue
            pattern = {"Integer": R.INTEGER, "Double": R.DOUBLE}.get(kind)
            if pattern and not pattern.match(value.strip()):
                yield Violation(param.id, where, f"{where} '{value}' is not a valid {kind}")
            elif allowed and value not in allowed:
                yield Violation(param.id, where, f"{where} '{value}' is not one of the allowedValues {_one_of(allowed)}")
    reported: set[str] = set()
    for key, value in ctx.definition.values:
        if key not in ctx.parameters and key not in reported:
            reported.add(key)
            yield Violation(key, "", f"values sets {key} = '{_short(value)}' but no parameter {key} is declared")


def types_and_required_fields(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        obj_type = ctx.type_of(obj)
        if obj_type is None:
            if obj.id not in ctx.templates:
                yield Violation(obj.id, "type", "type is missing; every object except Default needs a type (e.g. EmrActivity, S3DataNode)")
            continue
        if obj_type not in R.KNOWN_TYPES:
            yield Violation(obj.id, "type", f"type '{obj_type}' is not a Data Pipeline object type; known types: {_one_of(sorted(R.KNOWN_TYPES))}")
            continue
        for key in R.FORBIDDEN_FIELDS.get(obj_type, ()):
            if obj.value(key) is not None:
                yield Violation(obj.id, key, f"{key} '{_short(obj.value(key) or '')}' is not allowed on {obj_type}")
        if ctx.is_template(obj):
            continue
        for key in R.REQUIRED_FIELDS.get(obj_type, ()):
            if not ctx.lookup(obj, key):
                yield Violation(obj.id, key, f"{obj_type} requires {key}, which is not set (directly, by a parent or by Default)")
        for group in R.EXACTLY_ONE_OF.get(obj_type, ()):
            own = [key for key in group if obj.value(key) is not None]
            if len(own) > 1:
                yield Violation(obj.id, "", f"{obj_type} sets {' and '.join(own)}; set exactly one of {_one_of(group)}")
            elif not any(ctx.lookup(obj, key) for key in group):
                yield Violation(obj.id, "", f"{obj_type} needs exactly one of {_one_of(group)}; none is set")


def _period_problem(key: str, shown: str, text: str, minimum: int = 0) -> str | None:
    minutes = period_minutes(text.strip().lower())
    if minutes is None:
        return f"{key} {shown} is not a period '<whole number> <unit>' with unit one of {PERIOD_UNITS}"
    if minutes < minimum:
        return f"{key} {shown} is shorter than the minimum of {minimum} minutes"
    return None


def _schedule_object(ctx: _Context, obj: PipelineObject) -> Iterator[Violation]:
    checks: dict[str, Callable[[str], bool]] = {
        "startAt": lambda v: v == START_AT_FIRST_ACTIVATION,
        "startDateTime": lambda v: bool(DATE_TIME_PATTERN.match(v)),
        "endDateTime": lambda v: bool(DATE_TIME_PATTERN.match(v)),
        "occurrences": lambda v: bool(R.INTEGER.match(v)) and int(v) > 0,
    }
    allowed = {
        "startAt": f"the only value is {START_AT_FIRST_ACTIVATION}",
        "startDateTime": "the format is YYYY-MM-DDTHH:MM:SS (UTC)",
        "endDateTime": "the format is YYYY-MM-DDTHH:MM:SS (UTC)",
        "occurrences": "it must be a positive whole number",
    }
    for f in _string_fields(obj):
        known = ctx.literal(f.value)
        if known is None:
            continue
        text, shown = known
        if f.key == "period":
            problem = _period_problem("period", shown, text, MINIMUM_SCHEDULE_MINUTES)
            if problem:
                yield Violation(obj.id, f.key, problem)
        elif f.key in checks and not checks[f.key](text):
            yield Violation(obj.id, f.key, f"{f.key} {shown} is not allowed; {allowed[f.key]}")
    if obj.value("endDateTime") is not None and obj.value("occurrences") is not None:
        yield Violation(obj.id, "", "Schedule sets both endDateTime and occurrences; set at most one")


def scheduling(ctx: _Context) -> Iterator[Violation]:
    ondemand = ctx.mode == R.ONDEMAND
    for obj in ctx.definition.objects:
        obj_type = ctx.type_of(obj)
        for value in obj.values("scheduleType"):
            mode = value.lower()
            if CDK_TOKEN in value or "#{" in value:
                continue
            if mode not in R.SCHEDULE_TYPES:
                yield Violation(obj.id, "scheduleType", f"scheduleType '{value}' is not one of {_one_of(R.SCHEDULE_TYPES)}")
            elif obj.id != R.DEFAULT_ID and mode == R.ONDEMAND:
                yield Violation(obj.id, "scheduleType", f"scheduleType '{value}' is set on {obj.id}; ondemand must be set on Default only")
            elif obj.id != R.DEFAULT_ID and ondemand:
                yield Violation(obj.id, "scheduleType", f"scheduleType '{value}' conflicts with Default's 'ondemand'; an on-demand pipeline sets scheduleType on Default only")
        for value in obj.values("failureAndRerunMode"):
            if CDK_TOKEN not in value and "#{" not in value and value.lower() not in R.RERUN_MODES:
                yield Violation(obj.id, "failureAndRerunMode", f"failureAndRerunMode '{value}' is not one of {_one_of(R.RERUN_MODES)}")
        if ondemand:
            if obj_type == "Schedule":
                yield Violation(obj.id, "", "Schedule objects are not allowed when Default's scheduleType is 'ondemand'")
            for f in obj.fields:
                if f.key in ("schedule", "lateAfterTimeout"):
                    yield Violation(obj.id, f.key, f"{f.key} '{f.value}' is not allowed when Default's scheduleType is 'ondemand'")
            continue
        if obj_type == "Schedule":
            yield from _schedule_object(ctx, obj)
        elif obj_type in R.SCHEDULED_TYPES and not ctx.is_template(obj) and not ctx.lookup(obj, "schedule"):
            shown = ctx.declared_mode or f"{ctx.mode}, the service default"
            yield Violation(obj.id, "schedule", f"{obj_type} has no schedule (directly, from a parent or from Default); scheduleType {shown} needs one, or set scheduleType ondemand on Default")


def value_ranges(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in _string_fields(obj):
            known = ctx.literal(f.value)
            if known is None:
                continue
            text, shown = known
            problem = _range_problem(f.key, text.strip(), shown)
            if problem:
                yield Violation(obj.id, f.key, problem)


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
        return f"s3EncryptionType {shown} is not one of {_one_of(R.S3_ENCRYPTION_TYPES)}"
    return None


def jar_class_pairing(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        if ctx.type_of(obj) != "EmrActivity":
            continue
        for step in obj.values("step"):
            parts = re.split(r"(?<!\\),", step)
            jar, main_class = parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")
            for rule in R.JAR_RULES:
                if rule.matches(jar) and main_class not in rule.classes:
                    lowered = main_class.lower()
                    wanted = [c for c in rule.classes if c.lower() == lowered] or list(rule.classes)
                    yield Violation(obj.id, "step", (
                        f"step jar '{jar.rsplit('/', 1)[-1]}' is run with class '{main_class}'; "
                        f"{rule.family} needs {' or '.join(wanted)}"))


def user_defined_fields(ctx: _Context) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for key in dict.fromkeys(f.key for f in obj.fields):
            bare = key[1:] if key.startswith("*") else key
            if bare not in R.KNOWN_FIELDS and not R.USER_FIELD.match(bare):
                yield Violation(obj.id, key, (
                    f"unknown field '{key}': not a Data Pipeline field, and user-defined fields must "
                    "start with 'my' followed by an upper-case letter or '_'"))


def limits(ctx: _Context) -> Iterator[Violation]:
    d = ctx.definition
    if len(d.objects) > R.MAX_OBJECTS:
        yield Violation(R.DEFINITION, "", f"{len(d.objects)} objects exceed the limit of {R.MAX_OBJECTS} per pipeline")
    if len(d.parameters) > R.MAX_PARAMETERS:
        yield Violation(R.DEFINITION, "", f"{len(d.parameters)} parameters exceed the limit of {R.MAX_PARAMETERS} per definition")
    for obj in d.objects:
        if len(obj.fields) > R.MAX_FIELDS_PER_OBJECT:
            yield Violation(obj.id, "", f"{len(obj.fields)} fields exceed the limit of {R.MAX_FIELDS_PER_OBJECT} per object")
        total = 0
        for f in obj.fields:
            size = len(f.value.encode())
            total += size + len(f.key.encode())
            if size > R.MAX_FIELD_VALUE_BYTES:
                yield Violation(obj.id, f.key, f"value of {size} UTF-8 bytes exceeds the limit of {R.MAX_FIELD_VALUE_BYTES} bytes per field")
        if total > R.MAX_OBJECT_BYTES:
            yield Violation(obj.id, "", f"fields total {total} UTF-8 bytes, over the limit of {R.MAX_OBJECT_BYTES} bytes per object")


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
def _owner(obj: PipelineObject, index: int) -> str:
    return obj.id or f"<object {index + 1}>"


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

    for index, obj in enumerate(definition.objects):
        place(_owner(obj, index), [f.key for f in obj.fields])
    for param in definition.parameters:
        place(param.id, [k for k, _ in param.attributes])
    last = len(owners) + 1

    def rank(v: Violation) -> tuple[int, int]:
        field_rank = -1 if not v.field else positions.get(v.object_id, {}).get(v.field, 10**6)
        return owners.get(v.object_id, last), field_rank

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
