"""What changed per resource between a baseline cloud assembly and this one.

``cdk diff`` needs credentials and a deployed stack; a reviewer of a pull request only has two
synthesized assemblies. This compares them offline: resources added, removed or changed, each change
with its property path. Pipelines are compared as definitions (objects, fields, parameters), since a
position shift in ``PipelineObjects`` would otherwise read as a change to every object after it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..assembly import CloudAssembly, StackArtifact
from ..definition.model import PipelineDefinition
from ..definition.render import DefinitionFormatError, from_cloudformation
from . import intrinsics
from . import markdown as md
from .pipelines import PIPELINE_TYPE
from .resources import SKIPPED_TYPES

MAX_SHOWN = 160  # characters of one value; longer ones are cut, the path still says where
REPLACING_PIPELINE_PROPERTIES = ("Name", "Description")  # changing either replaces the pipeline


@dataclass(frozen=True)
class Change:
    logical_id: str
    type: str
    kind: str  # added, removed, changed
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackDiff:
    stack: str
    status: str  # compared, added, removed
    changes: tuple[Change, ...]


def _show(value: Any) -> str:
    text = intrinsics.text(value)
    return md.code(text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "...")


def _changes(path: str, old: Any, new: Any, out: list[str]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict) and not intrinsics.is_intrinsic(old) and not intrinsics.is_intrinsic(new):
        for key in sorted(set(old) | set(new)):
            where = f"{path}.{key}" if path else key
            if key not in old:
                out.append(f"{md.code(where)}: added {_show(new[key])}")
            elif key not in new:
                out.append(f"{md.code(where)}: removed, was {_show(old[key])}")
            else:
                _changes(where, old[key], new[key], out)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) == len(new) and sorted(map(intrinsics.text, old)) != sorted(map(intrinsics.text, new)):
            for index, (a, b) in enumerate(zip(old, new, strict=True)):
                _changes(f"{path}[{index}]", a, b, out)
            return
        removed = [item for item in old if item not in new]
        added = [item for item in new if item not in old]
        out += [f"{md.code(path)}: removed {_show(item)}" for item in removed]
        out += [f"{md.code(path)}: added {_show(item)}" for item in added]
        if not removed and not added:
            out.append(f"{md.code(path)}: same items, new order")
    else:
        out.append(f"{md.code(path)}: {_show(old)} \u2192 {_show(new)}")


def _definition(resource: dict[str, Any]) -> PipelineDefinition | None:
    try:
        return from_cloudformation(intrinsics.resolve(resource.get("Properties") or {}))
    except DefinitionFormatError:
        return None


def _field_text(values: list[tuple[str, bool]]) -> str:
    return ", ".join(("\u2192 " if is_ref else "") + value for value, is_ref in values) or "(none)"


def _pipeline_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str] | None:
    a, b = _definition(old), _definition(new)
    if a is None or b is None:
        return None
    out: list[str] = []
    old_objects = {o.id: o for o in a.objects}
    new_objects = {o.id: o for o in b.objects}
    for object_id in sorted(set(old_objects) | set(new_objects)):
        if object_id not in old_objects:
            out.append(f"object {md.code(object_id)}: added ({md.text(new_objects[object_id].type or 'no type')})")
        elif object_id not in new_objects:
            out.append(f"object {md.code(object_id)}: removed")
        else:
            before, after = old_objects[object_id], new_objects[object_id]
            if before.name != after.name:
                out.append(f"object {md.code(object_id)} name: {_show(before.name)} \u2192 {_show(after.name)}")
            changed = False
            for key in sorted({f.key for f in before.fields} | {f.key for f in after.fields}):
                was = [(f.value, f.is_ref) for f in before.fields if f.key == key]
                now = [(f.value, f.is_ref) for f in after.fields if f.key == key]
                if was != now:
                    changed = True
                    out.append(f"object {md.code(object_id)} field {md.code(key)}: "
                               f"{_show(_field_text(was))} \u2192 {_show(_field_text(now))}")
            if not changed and before.fields != after.fields:
                out.append(f"object {md.code(object_id)}: same fields, new order")
    if set(old_objects) == set(new_objects) and [o.id for o in a.objects] != [o.id for o in b.objects]:
        out.append("objects: same ids, new order")
    old_parameters = {p.id: p.attributes for p in a.parameters}
    new_parameters = {p.id: p.attributes for p in b.parameters}
    for parameter_id in sorted(set(old_parameters) | set(new_parameters)):
        if old_parameters.get(parameter_id) != new_parameters.get(parameter_id):
            out.append(f"parameter {md.code(parameter_id)}: {_show(dict(old_parameters.get(parameter_id, ())) or '(none)')} "
                       f"\u2192 {_show(dict(new_parameters.get(parameter_id, ())) or '(none)')}")
    old_values, new_values = dict(a.values), dict(b.values)
    for key in sorted(set(old_values) | set(new_values)):
        if old_values.get(key) != new_values.get(key):
            out.append(f"value {md.code(key)}: {_show(old_values.get(key, '(none)'))} \u2192 {_show(new_values.get(key, '(none)'))}")
    rest_old = {k: v for k, v in old.items() if k != "Properties"}
    rest_new = {k: v for k, v in new.items() if k != "Properties"}
    definition_keys = ("PipelineObjects", "ParameterObjects", "ParameterValues")
    rest_old["Properties"] = {k: v for k, v in (old.get("Properties") or {}).items() if k not in definition_keys}
    rest_new["Properties"] = {k: v for k, v in (new.get("Properties") or {}).items() if k not in definition_keys}
    _changes("", rest_old, rest_new, out)
    for key in REPLACING_PIPELINE_PROPERTIES:
        if (old.get("Properties") or {}).get(key) != (new.get("Properties") or {}).get(key):
            out.append(f"{md.WARNING} {md.code('Properties.' + key)} changed: CloudFormation replaces this pipeline")
    return out


def _compare(base: StackArtifact, head: StackArtifact) -> tuple[Change, ...]:
    changes = []
    old_resources = {k: v for k, v in base.resources.items() if v.get("Type") not in SKIPPED_TYPES}
    new_resources = {k: v for k, v in head.resources.items() if v.get("Type") not in SKIPPED_TYPES}
    for logical_id in sorted(set(old_resources) | set(new_resources)):
        old, new = old_resources.get(logical_id), new_resources.get(logical_id)
        type_name = intrinsics.text((new or old or {}).get("Type", "?"))
        if old is None:
            changes.append(Change(logical_id, type_name, "added"))
        elif new is None:
            changes.append(Change(logical_id, type_name, "removed"))
        elif old != new:
            details = None
            if old.get("Type") == new.get("Type") == PIPELINE_TYPE:
                details = _pipeline_changes(old, new)
            if details is None:
                details = []
                _changes("", old, new, details)
            if not details:
                details = ["same content in a new order or shape"]
            changes.append(Change(logical_id, type_name, "changed", tuple(details)))
    outputs: list[str] = []
    _changes("Outputs", base.template.get("Outputs") or {}, head.template.get("Outputs") or {}, outputs)
    if outputs:
        changes.append(Change("Outputs", "stack outputs", "changed", tuple(outputs)))
    return tuple(changes)


def diff(base: CloudAssembly, head: CloudAssembly) -> tuple[StackDiff, ...]:
    old = {s.name: s for s in base.stacks}
    new = {s.name: s for s in head.stacks}
    found = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            found.append(StackDiff(name, "added", ()))
        elif name not in new:
            found.append(StackDiff(name, "removed", ()))
        else:
            found.append(StackDiff(name, "compared", _compare(old[name], new[name])))
    return tuple(found)


def render(diffs: tuple[StackDiff, ...]) -> str:
    parts = [
        "# What changed",
        "",
        "Generated by `python -m ddb_datapipeline review --base ...`; do not edit. Compares the templates of "
        "the baseline cloud assembly with this one, resource by resource (logical ids). Values are shown "
        "as in `README.md`: `${LogicalId}` and `${LogicalId.Attribute}` stand for values CloudFormation "
        "fills in at deploy time. `AWS::CDK::Metadata` is left out.",
        "",
    ]
    counts = {kind: sum(1 for d in diffs for c in d.changes if c.kind == kind and c.type != "stack outputs")
              for kind in ("added", "removed", "changed")}
    parts += [f"Resources: {counts['added']} added, {counts['removed']} removed, {counts['changed']} changed.", ""]
    for stack_diff in diffs:
        parts += [md.heading(2, f"Stack {md.text(stack_diff.stack)}"), ""]
        if stack_diff.status != "compared":
            parts += [f"Stack {stack_diff.status}: {'not in the baseline' if stack_diff.status == 'added' else 'no longer synthesized'}.", ""]
            continue
        if not stack_diff.changes:
            parts += ["No changes.", ""]
            continue
        for change in stack_diff.changes:
            parts.append(f"- **{change.kind}** {md.code(change.logical_id)} ({md.text(change.type)})")
            parts += [f"  - {detail}" for detail in change.details]
        parts.append("")
    return "\n".join(parts)
