"""What every validation rule reads: the violation record and an indexed view of a definition
(objects by id, inheritance through ``parent`` and Default, literal values behind parameters)."""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from . import rules as R
from .expressions import Expression, scan_expressions
from .model import Field, Parameter, PipelineDefinition, PipelineObject
from .rule_registry import BY_ID, ERROR, WARNING

CDK_TOKEN = "${Token["
__all__ = ["ERROR", "WARNING", "DefinitionView", "Violation"]


@dataclass(frozen=True)
class Violation:
    """One finding. An error is what the service refuses at put or activation time, or what would
    certainly fail at run time; a warning is lint (it still runs), so its line says ``warning``."""

    object_id: str  # object id, or parameter id, or "<definition>" for whole-definition rules
    field: str  # field key, or "" when the rule is about the object as a whole
    rule: str  # one sentence naming the value and what is allowed
    code: str = ""  # the rule's id in rule_registry (DP101 ...); its severity and family come from there

    @property
    def severity(self) -> str:
        """The registry's severity of the rule (an id-less finding, built by hand in a test, is an error)."""
        known = BY_ID.get(self.code)
        return known.severity if known else ERROR

    @property
    def check(self) -> str:
        """The rule family that reports it (the validator function's name), for machine-readable output."""
        known = BY_ID.get(self.code)
        return known.check if known else ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def coded(self) -> str:
        """The line the validate command prints: the rule id before the message, and ``warning`` for lint."""
        where = f"{self.object_id}.{self.field}" if self.field else self.object_id
        marker = "" if self.is_error else "warning: "
        return f"{where}: {marker}{self.code} {self.rule}"

    def __str__(self) -> str:
        where = f"{self.object_id}.{self.field}" if self.field else self.object_id
        marker = "" if self.is_error else f"{self.severity}: "
        return f"{where}: {marker}{self.rule}"


class DefinitionView:
    def __init__(self, definition: PipelineDefinition, *, require_values: bool = True) -> None:
        self.definition = definition
        self.require_values = require_values  # synth time: every parameter must resolve
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


def string_fields(obj: PipelineObject) -> Iterator[Field]:
    return (f for f in obj.fields if not f.is_ref and f.key != "type")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean X?' with the closest known name (difflib, case-insensitive), or '' when none is close."""
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return f"; did you mean '{by_lower[close[0]]}'?" if close else ""


def listed(options: Iterable[str]) -> str:
    return ", ".join(options)


def is_opaque(value: str) -> bool:
    return CDK_TOKEN in value or "#{" in value

