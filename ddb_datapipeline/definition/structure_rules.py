"""Rules about the shape of a definition: ids and names, references, types and their required
fields, user-defined fields, and the service's size limits."""
from __future__ import annotations

from collections.abc import Iterator

from . import rules as R
from .expressions import shorten
from .model import PipelineObject
from .view import DefinitionView, Violation, did_you_mean, listed


def _length_problem(kind: str, text: str) -> str | None:
    if 1 <= len(text) <= R.MAX_ID_CHARS:
        return None
    return f"{kind} '{shorten(text)}' is {len(text)} characters; {kind}s must be 1-{R.MAX_ID_CHARS} characters"


def ids_and_names(ctx: DefinitionView) -> Iterator[Violation]:
    object_counts: dict[str, int] = {}
    for obj in ctx.definition.objects:
        object_counts[obj.id] = object_counts.get(obj.id, 0) + 1
    for obj in ctx.definition.objects:
        for problem in (_length_problem("object id", obj.id), _length_problem("name", obj.name)):
            if problem:
                yield Violation(obj.id, "", problem, "DP110")
        if object_counts[obj.id] > 1 and ctx.objects[obj.id] is obj:
            yield Violation(obj.id, "", f"object id '{obj.id}' is used by {object_counts[obj.id]} objects; "
                                        "ids must be unique", "DP111")
        for f in obj.fields:
            size = len(f.key.encode())
            if not 1 <= size <= R.MAX_KEY_BYTES:
                yield Violation(obj.id, f.key, f"field key '{shorten(f.key)}' is {size} UTF-8 bytes; "
                                               f"keys must be 1-{R.MAX_KEY_BYTES} bytes", "DP112")
            if f.value == "":
                yield Violation(obj.id, f.key, "value '' is empty; a field value must be a non-empty string "
                                               "(leave the field out instead)", "DP113")
    parameter_counts: dict[str, int] = {}
    for param in ctx.definition.parameters:
        parameter_counts[param.id] = parameter_counts.get(param.id, 0) + 1
    for param in ctx.definition.parameters:
        problem = _length_problem("parameter id", param.id)
        if problem:
            yield Violation(param.id, "", problem, "DP110")
        if parameter_counts[param.id] > 1 and ctx.parameters[param.id] is param:
            yield Violation(param.id, "", f"parameter id '{param.id}' is declared {parameter_counts[param.id]} "
                                          "times; ids must be unique", "DP111")


def references(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for f in obj.fields:
            if f.is_ref and f.value and f.value not in ctx.objects:
                yield Violation(obj.id, f.key, f"reference to '{f.value}' names no object of this definition", "DP120")
            elif f.is_ref and f.key in R.REF_TARGET_TYPES and f.value in ctx.objects:
                target_type = ctx.type_of(ctx.objects[f.value])
                allowed = R.REF_TARGET_TYPES[f.key]
                if target_type in R.KNOWN_TYPES and target_type not in allowed:
                    yield Violation(obj.id, f.key, f"{f.key} refers to '{f.value}' of type {target_type}; "
                                                   f"it must refer to one of {listed(sorted(allowed))}", "DP121")
            elif not f.is_ref and f.key in R.REF_FIELDS and f.value:
                hint = f" (use Ref('{f.value}'))" if f.value in ctx.objects else ""
                yield Violation(obj.id, f.key, f"{f.key} '{shorten(f.value)}' is a plain string; {f.key} must be "
                                               f"a reference to an object id{hint}", "DP122")
        yield from _parent_cycle(ctx, obj)


def _parent_cycle(ctx: DefinitionView, obj: PipelineObject) -> Iterator[Violation]:
    chain, current = [obj.id], obj
    while True:
        parents = [f.value for f in current.fields if f.key == "parent" and f.value in ctx.objects]
        if not parents or parents[0] in chain[1:]:
            return
        chain.append(parents[0])
        if parents[0] == obj.id:
            yield Violation(obj.id, "parent", f"parent chain {' -> '.join(chain)} is a cycle; "
                                              "parents must end at an object without parent", "DP123")
            return
        current = ctx.objects[parents[0]]




def types_and_required_fields(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        obj_type = ctx.type_of(obj)
        if obj_type is None:
            if obj.id not in ctx.templates:
                yield Violation(obj.id, "type", "type is missing; every object except Default needs a type "
                                                "(e.g. EmrActivity, S3DataNode)", "DP130")
            continue
        if obj_type not in R.KNOWN_TYPES:
            yield Violation(obj.id, "type", f"type '{obj_type}' is not a Data Pipeline object type"
                                            f"{did_you_mean(obj_type, R.KNOWN_TYPES) or '; known types: ' + listed(sorted(R.KNOWN_TYPES))}",
                          "DP131")
            continue
        for key in R.FORBIDDEN_FIELDS.get(obj_type, ()):
            value = obj.value(key)
            if value is not None:
                yield Violation(obj.id, key, f"{key} '{shorten(value)}' is not allowed on {obj_type}", "DP132")
        if ctx.is_template(obj):
            continue  # children may complete what a template leaves out
        for key in R.REQUIRED_FIELDS.get(obj_type, ()):
            if not ctx.lookup(obj, key):
                yield Violation(obj.id, key, f"{obj_type} requires {key}, which is not set "
                                             "(directly, by a parent or by Default)", "DP133")
        for key in R.EXPECTED_FIELDS.get(obj_type, ()):
            if not ctx.lookup(obj, key):
                yield Violation(obj.id, key, f"{obj_type} has no {key} (directly, by a parent or by Default), so it runs "
                                             "nothing", "DP138")
        for group in R.AT_MOST_ONE_OF.get(obj_type, ()):
            own = [key for key in group if obj.value(key) is not None]
            if len(own) > 1:
                yield Violation(obj.id, "", f"{obj_type} sets {' and '.join(own)}; set at most one of {listed(group)}", "DP134")
        for group in R.EXACTLY_ONE_OF.get(obj_type, ()):
            own = [key for key in group if obj.value(key) is not None]
            if len(own) > 1 and group == R.RUNS_ON_GROUP:
                yield Violation(obj.id, "workerGroup", f"{obj_type} sets runsOn and workerGroup; the service ignores "
                                                       "workerGroup when runsOn is set, so leave one out", "DP136")
            elif len(own) > 1:
                yield Violation(obj.id, "", f"{obj_type} sets {' and '.join(own)}; set exactly one of {listed(group)}", "DP135")
            elif not any(ctx.lookup(obj, key) for key in group):
                yield Violation(obj.id, "", f"{obj_type} needs exactly one of {listed(group)}; none is set", "DP137")




def user_defined_fields(ctx: DefinitionView) -> Iterator[Violation]:
    for obj in ctx.definition.objects:
        for key in dict.fromkeys(f.key for f in obj.fields):
            bare = key[1:] if key.startswith("*") else key  # "*password": an encrypted field
            if bare not in R.KNOWN_FIELDS and not R.USER_FIELD.match(bare):
                yield Violation(obj.id, key, f"unknown field '{key}': not a Data Pipeline field, and user-defined "
                                             "fields must start with 'my' followed by an upper-case letter or '_'"
                                             f"{did_you_mean(bare, R.KNOWN_FIELDS)}", "DP140")


def limits(ctx: DefinitionView) -> Iterator[Violation]:
    d = ctx.definition
    if len(d.objects) > R.MAX_OBJECTS:
        yield Violation(R.DEFINITION, "", f"{len(d.objects)} objects exceed the default limit of {R.MAX_OBJECTS} per "
                                          "pipeline (adjustable on request)", "DP101")
    if len(d.parameters) > R.MAX_PARAMETERS:
        yield Violation(R.DEFINITION, "", f"{len(d.parameters)} parameters exceed the usual limit of "
                                          f"{R.MAX_PARAMETERS} per definition", "DP102")
    for obj in d.objects:
        if len(obj.fields) > R.MAX_FIELDS_PER_OBJECT:
            yield Violation(obj.id, "", f"{len(obj.fields)} fields exceed the limit of "
                                        f"{R.MAX_FIELDS_PER_OBJECT} per object", "DP103")
        total = 0
        for f in obj.fields:
            size = len(f.value.encode())
            total += size + len(f.key.encode())
            if size > R.MAX_FIELD_VALUE_BYTES:
                yield Violation(obj.id, f.key, f"value of {size} UTF-8 bytes exceeds the limit of "
                                               f"{R.MAX_FIELD_VALUE_BYTES} bytes per field", "DP104")
        if total > R.MAX_OBJECT_BYTES:
            yield Violation(obj.id, "", f"fields total {total} UTF-8 bytes, over the limit of "
                                        f"{R.MAX_OBJECT_BYTES} bytes per object", "DP105")

