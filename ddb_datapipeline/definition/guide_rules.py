"""Rules from the Developer Guide's per-type field tables (``object_fields.py``): which fields a type
has, which it requires, which it marks deprecated.

A field the guide does not list for its type is a warning, not an error: the archived guide lags the
service in places (``emrLogUri`` on EmrCluster is accepted and missing from its table), and a linter
that cries wolf gets switched off. A required field or group the guide lists, and that no object, parent
or Default sets, is an error: the service refuses the definition. Types the guide does not document
(Default) are left to the hand-written rules; the EBS objects, which the guide shows only in an
example, are checked against that example.
"""
from __future__ import annotations

from collections.abc import Iterator

from . import rules as R
from .model import PipelineObject
from .object_fields import OBJECT_FIELDS, TypeFields
from .view import DefinitionView, Violation, listed

# Fields every object may carry besides its type's own.
COMMON_FIELDS = frozenset({"type", "parent"})
# Fields the service accepts on a type though the archived guide's table omits them: each seen in AWS's
# own definitions (console templates, the guide's examples), with where.
ACCEPTED_EXTRA: dict[str, frozenset[str]] = {
    # EmrCluster: "emrLogUri" in the console's DynamoDB templates; the EBS references on the
    # "Launch an Amazon EMR cluster with EBS volumes" example page.
    "EmrCluster": frozenset({"emrLogUri", "masterEbsConfiguration", "coreEbsConfiguration", "taskEbsConfiguration"}),
}
# Types the guide shows only in an example ("Attach EBS volumes to cluster nodes"), with the fields it
# gives them there.
EXAMPLE_TYPES: dict[str, TypeFields] = {
    "EbsConfiguration": TypeFields("emrcluster-example-ebs.html", optional={"ebsBlockDeviceConfig": "Reference", "ebsOptimized": "Boolean"}),
    "EbsBlockDeviceConfig": TypeFields("emrcluster-example-ebs.html", optional={"volumeSpecification": "Reference",
                                                                                 "volumesPerInstance": "Integer"}),
    "VolumeSpecification": TypeFields("emrcluster-example-ebs.html", optional={"iops": "Integer", "sizeInGB": "Integer",
                                                                                "volumeType": "String"}),
}
DOCUMENTED: dict[str, TypeFields] = {**OBJECT_FIELDS, **EXAMPLE_TYPES}
# Deprecated types, with the type the guide recommends instead (MySqlDataNode page).
DEPRECATED_TYPES = {"MySqlDataNode": "SqlDataNode"}


def guide_fields(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        obj_type = ctx.type_of(obj)
        documented = DOCUMENTED.get(obj_type or "")
        if obj_type is None or documented is None or ctx.is_template(obj):
            continue
        page = R.GUIDE + documented.page
        if obj_type in DEPRECATED_TYPES and obj.type == obj_type:
            yield Violation(obj.id, "type", f"{obj_type} is deprecated ({page}); use {DEPRECATED_TYPES[obj_type]}", "DP401")
        yield from _fields_of(obj.id, [f.key for f in obj.fields], obj_type, documented, page)
        yield from _values(ctx, obj, obj_type, documented, page)
        yield from _required(ctx, obj, obj_type, documented, page)


def _values(ctx: DefinitionView, obj: PipelineObject, obj_type: str, documented: TypeFields, page: str) -> Iterator[Violation]:
    """The two slot types the guide states reliably: a Reference is an object reference, a Boolean is
    true or false. (Its Integer is not: terminateAfter is listed as Integer, and every example gives a
    period such as "2 hours".)"""
    slots = documented.all()
    for f in obj.fields:
        kind = slots.get(f.key)
        if kind == "Reference" and not f.is_ref and f.key not in R.REF_FIELDS and f.value:
            yield Violation(obj.id, f.key, f"{f.key} must be a reference to an object id ({page}), not the string '{f.value}'", "DP404")
        elif kind == "Boolean" and not f.is_ref:
            literal = ctx.literal(f.value)
            if literal is not None and literal[0].lower() not in ("true", "false"):
                yield Violation(obj.id, f.key, f"{f.key} {literal[1]} is not true or false ({page})", "DP405")


def _fields_of(object_id: str, keys: list[str], obj_type: str, documented: TypeFields, page: str) -> Iterator[Violation]:
    allowed = set(documented.all()) | COMMON_FIELDS | ACCEPTED_EXTRA.get(obj_type, frozenset())
    for key in dict.fromkeys(keys):
        bare = key.removeprefix("*")
        if key in allowed or bare in allowed or f"*{bare}" in allowed:
            if bare in documented.deprecated:
                yield Violation(object_id, key, f"{key} is deprecated on {obj_type} ({page})", "DP402")
            continue
        if bare not in R.KNOWN_FIELDS or R.USER_FIELD.match(bare):
            continue  # an unknown field is an error of its own rule; a user field is free
        yield Violation(object_id, key, f"{key} is not listed for {obj_type} in the Developer Guide ({page}); "
                                        "it may have no effect there", "DP403")


def _required(ctx: DefinitionView, obj: PipelineObject, obj_type: str, documented: TypeFields, page: str) -> Iterator[Violation]:
    stated = set(R.REQUIRED_FIELDS.get(obj_type, ()))  # already checked, in the hand-written rules' words
    grouped = {frozenset(g) for g in (*R.EXACTLY_ONE_OF.get(obj_type, ()), *R.AT_MOST_ONE_OF.get(obj_type, ()))}
    for key in documented.required:
        bare = key.removeprefix("*")
        if key in stated or bare in stated or ctx.lookup(obj, key) or ctx.lookup(obj, bare):
            continue
        yield Violation(obj.id, bare, f"{obj_type} requires {bare} ({page}), which is not set (directly, by a parent or by Default)", "DP406")
    for group in documented.groups:
        if frozenset(group) in grouped or any(ctx.lookup(obj, key) for key in group):
            continue
        yield Violation(obj.id, "", f"{obj_type} needs one of {listed(list(group))} ({page}); none is set", "DP407")
