"""This project's checks on any synthesized cloud assembly, without the CDK: the runtime permission check (every
call each Data Pipeline pipeline and native-engine state machine makes at run time, decided against the
synthesized policies), the cluster isolation check, AWS's per-stack limits (resources, template size, IAM policy
sizes) and the definition validator on every ``AWS::DataPipeline::Pipeline``.

Why a module of its own: the CDK policy validation plugin (``validation_plugin.py``) is a thin jsii adapter over
``check_templates``, so the checks stay testable and typed (mypy --strict) without a CDK app, and the project's own
``make synth`` and a team's app run exactly the same code. Each check yields ``Finding``s naming the rule, the
resource (template and logical id) and a fix, the shape cdk-nag's reports have.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import limits
from .assembly import AssemblyError, CloudAssembly, load_assembly
from .config import ConfigError
from .definition.render import DefinitionFormatError
from .definition.validator import validate
from .permissions.assembly_view import Pipeline, StateMachine, World, load_world
from .permissions.audit import Crossing, Outcome, checked_line, cluster_isolation, decide, isolation_line
from .permissions.evaluator import Unsupported
from .permissions.expand import Expected, ModelGap, expected_requests
from .permissions.native_expand import native_requests

# Rule names as the validation report shows them (namespaced by the plugin's name: DdbDataPipeline::RuntimePermission),
# so a team can acknowledge one with aws_cdk.Validations.of(construct).acknowledge(...).
RUNTIME_PERMISSION = "RuntimePermission"
CLUSTER_ISOLATION = "ClusterIsolation"
NOT_CHECKED = "NotChecked"
STACK_LIMIT = "StackLimit"
DEFINITION = "Definition"  # suffixed with the validator's rule id: Definition-DP101
RULES = (RUNTIME_PERMISSION, CLUSTER_ISOLATION, NOT_CHECKED, STACK_LIMIT, DEFINITION)

# What the validator rule ids' docs are called in this package (docs/linter-rules.md of the repository).
_DEFINITION_FIX = "change the pipeline's definition so the rule holds (the rule ids are listed in the project's docs/linter-rules.md)"


@dataclass(frozen=True)
class Finding:
    """One violation: ``rule`` (one of RULES, or Definition-<id>), the resource it is about (``logical_id`` in
    ``template_path``; a stack-wide finding names the stack), what is wrong and what to change."""

    rule: str
    description: str
    fix: str
    template_path: str
    logical_id: str
    severity: str = "error"  # "error" fails the synth; "warning" is reported only


@dataclass(frozen=True)
class Report:
    """Every finding, and the summary lines (figures of what was checked) ``make synth`` prints."""

    findings: tuple[Finding, ...]
    summary: tuple[str, ...]
    pipelines: int = 0
    calls: int = 0

    @property
    def success(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


@dataclass(frozen=True)
class GenericOwner(limits.StackOwner):
    """A stack that no configuration of this project owns (a team's own stack): the limit's message names the stack
    and the limit, without configuration advice."""

    def refuse(self, stack: str, limit: str, found: str, allowed: str, fits: int | None = None) -> ConfigError:
        found = found if found.startswith(("hold", "write", "give", "attach")) else f"have {found}"
        return ConfigError(f"stack {stack} would {found}; expected at most {allowed} ({limit})")


def check_templates(template_paths: Sequence[str], *, stack_limits: bool = True) -> Report:
    """Every check on the stacks of ``template_paths`` (as CDK hands them to a validation plugin: absolute paths
    into the cloud assembly and its nested stage assemblies). Each assembly directory is one deployable world
    (a CDK Pipelines stage's stacks reference each other, not the app's top-level stacks of the same name), so
    each is checked on its own. ``stack_limits=False`` leaves AWS's per-stack limits to the caller (this project's app
    checks them itself, naming the configuration field to change)."""
    by_directory: dict[Path, set[Path]] = {}
    for text in template_paths:
        path = Path(text).resolve()
        by_directory.setdefault(path.parent, set()).add(path)
    findings: list[Finding] = []
    summary: list[str] = []
    pipelines = calls = 0
    root = min(by_directory, key=lambda d: len(d.parts)) if by_directory else None
    for directory, wanted in by_directory.items():
        try:
            whole = load_assembly(directory)
        except AssemblyError as error:
            findings.append(Finding(NOT_CHECKED, f"the cloud assembly cannot be read: {error}", "synthesize again",
                                    str(directory), directory.name))
            continue
        stacks = tuple(s for s in whole.stacks if (directory / s.template_file).resolve() in wanted)
        assembly = CloudAssembly(stacks, None)
        if stack_limits:
            findings += _limits(directory, assembly)
        world, checked = _world_findings(directory, assembly)
        findings += checked.findings
        if world is None:
            continue
        pipelines += len(world.pipelines)
        calls += checked.calls
        summary += _summary(world, checked, "" if directory == root else f"{directory.name}: ")
    return Report(tuple(dict.fromkeys(findings)), tuple(summary), pipelines, calls)


# --- AWS limits ------------------------------------------------------------------------------------
def _limits(directory: Path, assembly: CloudAssembly) -> list[Finding]:
    templates = {s.name: limits.StackTemplate(s.name, directory / s.template_file, s.region, s.account) for s in assembly.stacks}
    loaded = {s.name: s.template for s in assembly.stacks}
    found = []
    owner = GenericOwner(environment="", tables=0, advice=lambda fits: "")
    for stack in assembly.stacks:
        path = str(directory / stack.template_file)
        checks: tuple[Callable[[], None], ...] = (
            functools.partial(limits.check_resource_count, stack.name, limits.resource_count(stack.template), owner),
            functools.partial(limits.check_template_size, stack.name, len(stack.template_text.encode()), owner),
            functools.partial(limits.check_policy_sizes, stack.name, stack.template, owner, limits.Outputs(templates, loaded)),
        )
        for check in checks:
            try:
                check()
            except ConfigError as error:
                found.append(Finding(STACK_LIMIT, str(error), "split the stack, or make it smaller as the message says", path, stack.name))
            except (KeyError, ValueError) as error:  # a reference the limit check cannot size
                found.append(Finding(NOT_CHECKED, f"{stack.name}: the policy sizes cannot be measured: {error}",
                                     "report the template to the ddb-datapipeline project", path, stack.name, "warning"))
    return found


# --- Runtime permissions, cluster isolation, definitions ---------------------------------------------
@dataclass(frozen=True)
class _Checked:
    findings: tuple[Finding, ...]
    calls: int
    denied: int
    crossings: tuple[Crossing, ...]


def _world_findings(directory: Path, assembly: CloudAssembly) -> tuple[World | None, _Checked]:
    paths = {s.name: str(directory / s.template_file) for s in assembly.stacks}
    try:
        world = load_world(assembly)
    except (ValueError, KeyError, DefinitionFormatError) as error:
        return None, _Checked((Finding(NOT_CHECKED, f"the runtime permission check cannot read the assembly: {error}",
                                       "report the template to the ddb-datapipeline project", str(directory), directory.name),), 0, 0, ())
    found: list[Finding] = []
    calls = denied = 0
    owners: list[tuple[Pipeline | StateMachine, Callable[[], list[Expected]]]] = [
        *((p, functools.partial(expected_requests, world, p)) for p in world.pipelines),
        *((m, functools.partial(native_requests, world, m)) for m in ours(world.state_machines)),
    ]
    for pipeline in world.pipelines:
        found += _definition(pipeline, paths[pipeline.stack])
    for owner, requests in owners:
        path = paths[owner.stack]
        try:
            results = [Outcome(e, decide(world, e)) for e in requests()]
        except (ModelGap, Unsupported) as error:
            found.append(Finding(NOT_CHECKED, f"{owner.label}: its runtime calls cannot be checked: {error}",
                                 "use the project's constructs, or report the definition to the ddb-datapipeline project",
                                 path, owner.logical_id))
            continue
        calls += len(results)
        refused = [o for o in results if not o.decision.allowed]
        denied += len(refused)
        found += [Finding(RUNTIME_PERMISSION, o.line(), _fix(o), path, owner.logical_id) for o in refused]
    try:
        crossings = tuple(cluster_isolation(world))
    except (ModelGap, Unsupported):
        crossings = ()  # the pipeline's own finding already says what the model cannot follow
    for crossing in crossings:
        if crossing.wrong:
            found.append(Finding(
                CLUSTER_ISOLATION, crossing.line(),
                "keep each pipeline's node role to its own clusters: the step actions only where the cluster's "
                "ddb-datapipeline:nodes tag equals the caller's", paths[crossing.caller.stack], crossing.caller.logical_id))
    return world, _Checked(tuple(found), calls, denied, crossings)


def ours(machines: Iterable[StateMachine]) -> list[StateMachine]:
    """The state machines of the native engine: those with a DynamoDB export or import task. A team's other state
    machines are none of this check's business, and the model has no rows for them."""
    return [m for m in machines if any(task in str(s.get("Resource")) for s in _states(m.definition)
                                       for task in (":dynamodb:exportTableToPointInTime", ":dynamodb:importTable"))]


def _states(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for state in (definition.get("States") or {}).values():
        yield state
        for branch in state.get("Branches") or ():
            yield from _states(branch)
        inner = state.get("ItemProcessor") or state.get("Iterator")
        if inner:
            yield from _states(inner)


def _fix(outcome: Outcome) -> str:
    request = outcome.expected.request
    return (f"allow {request.action} on {request.resource} to {request.principal} (its identity policy, and the resource's "
            "policy where it has one)")


def _definition(pipeline: Pipeline, path: str) -> list[Finding]:
    return [Finding(f"{DEFINITION}-{v.code}" if v.code else DEFINITION, f"{pipeline.label}: {v.coded()}", _DEFINITION_FIX, path,
                    pipeline.logical_id, "error" if v.is_error else "warning")
            for v in validate(pipeline.definition)]


def _summary(world: World, checked: _Checked, prefix: str) -> list[str]:
    """The figures ``python -m ddb_datapipeline permissions`` prints, in its words."""
    machines = ours(world.state_machines)
    if not world.pipelines and not machines:
        return []
    lines = [prefix + checked_line(pipelines=len(world.pipelines), machines=len(machines), calls=checked.calls,
                                   denied=checked.denied)]
    if world.pipelines and checked.crossings:
        lines.append(prefix + isolation_line(checked.crossings))
    return lines


__all__ = ["RULES", "Finding", "GenericOwner", "Report", "check_templates", "ours"]
