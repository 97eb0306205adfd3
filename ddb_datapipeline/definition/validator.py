"""Checks a PipelineDefinition against the rules AWS Data Pipeline enforces at PutPipelineDefinition
and activation, so a broken definition fails at synth time with every problem listed at once.

Each rule family is one small function that yields Violations, in ``structure_rules.py`` (shape:
ids, references, types, limits), ``value_rules.py`` (expressions, parameters, schedules, ranges,
jars), ``flow_rules.py`` (dependsOn cycles, connector step arguments, instance generations) or
``attempt_rules.py`` (a retry of an export, Hive on the cluster) or ``injection_rules.py`` (no value given at
activation reaches code); ``RULES`` lists them. Every finding carries a rule id of ``rule_registry.py``, which
gives its severity: an error (its source says the service refuses it, or the run certainly fails) or a warning
(lint). The tables they check against live in ``rules.py``. CDK token strings (``${Token[...]}``) are opaque text: they are never
expressions, and values containing one are not range-checked.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from . import rules as R
from .attempt_rules import export_retries, hive_clusters, script_backslashes
from .flow_rules import connector_arguments, depends_on_cycles, instance_generations
from .guide_rules import guide_fields
from .hive_rules import hive_copy
from .hive_script_rules import hive_scripts
from .injection_rules import parameter_code
from .model import PipelineDefinition
from .rule_registry import is_selected
from .structure_rules import ids_and_names, limits, references, types_and_required_fields, user_defined_fields
from .value_rules import expressions, jar_class_pairing, parameters, scheduling, value_ranges
from .view import DefinitionView, Violation

__all__ = ["DefinitionError", "Violation", "chosen", "ensure_valid", "errors", "validate"]


class DefinitionError(ValueError):
    """Raised by ensure_valid; str() lists every violation, one per line with its rule id (as the validate command
    prints it, so docs/linter-rules.md says where the rule comes from), prefixed by a one-line summary."""

    def __init__(self, violations: Iterable[Violation], label: str = "pipeline definition") -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        self.label = label
        count = len(self.violations)
        summary = f"{label} is invalid: {count} violation{'' if count == 1 else 's'}"
        super().__init__("\n".join([summary, *(v.coded() for v in self.violations)]))


RULES: tuple[Callable[[DefinitionView], Iterable[Violation]], ...] = (
    limits,
    ids_and_names,
    references,
    types_and_required_fields,
    user_defined_fields,
    guide_fields,
    scheduling,
    value_ranges,
    jar_class_pairing,
    connector_arguments,
    depends_on_cycles,
    instance_generations,
    hive_copy,
    hive_scripts,
    export_retries,
    hive_clusters,
    script_backslashes,
    expressions,
    parameters,
    parameter_code,
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

    unique: dict[tuple[str, str, str, str], Violation] = {}
    for v in found:
        unique.setdefault((v.object_id, v.field, v.rule, v.code), v)
    return tuple(sorted(unique.values(), key=rank))


def validate(definition: PipelineDefinition, *, require_values: bool = True) -> tuple[Violation, ...]:
    """Every error and warning at once, in a deterministic order (definition order of objects, then
    fields). ``require_values=False`` is for templates linted on their own: their parameters receive
    values at put or activation time, so a parameter without value or default is not a finding."""
    ctx = DefinitionView(definition, require_values=require_values)
    found = [v for rule in RULES for v in rule(ctx)]
    return _in_definition_order(definition, found)


def chosen(violations: Iterable[Violation], *, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> tuple[Violation, ...]:
    """The findings of the rules ``select`` and ``ignore`` keep (ids or prefixes, rule_registry.is_selected)."""
    return tuple(v for v in violations if is_selected(v.code, select=select, ignore=ignore))


def errors(violations: Iterable[Violation]) -> tuple[Violation, ...]:
    return tuple(v for v in violations if v.is_error)


def ensure_valid(definition: PipelineDefinition, *, label: str = "pipeline definition") -> PipelineDefinition:
    """Returns the definition unchanged when valid, raises DefinitionError otherwise. This is the synth
    path's stricter selection: every rule, and warnings count as errors (a warning of the command line, such as
    DP610 parameter_code or DP602 export_retries, fails the synth), and every parameter must have a value:
    what this project deploys is held to lint-clean."""
    violations = validate(definition)
    if violations:
        raise DefinitionError(violations, label)
    return definition
