"""Renders a definition to the two shapes the service accepts, and reads the file shape back.

CloudFormation takes ``PipelineObjects``/``ParameterObjects``/``ParameterValues`` lists; the CLI
(``put-pipeline-definition``, ``validate-pipeline-definition``) takes the JSON file format. Having both
come from one model means the review file and the deployed pipeline cannot drift apart.
"""
from __future__ import annotations

from typing import Any

from .model import Field, Parameter, PipelineDefinition, PipelineObject


class DefinitionFormatError(ValueError):
    """The input is not a pipeline definition in the JSON file format at all."""


def to_cloudformation(definition: PipelineDefinition) -> dict[str, list[dict[str, Any]]]:
    return {
        "PipelineObjects": [
            {
                "Id": obj.id,
                "Name": obj.name,
                "Fields": [
                    {"Key": f.key, ("RefValue" if f.is_ref else "StringValue"): f.value}
                    for f in obj.fields
                ],
            }
            for obj in definition.objects
        ],
        "ParameterObjects": [
            {"Id": p.id, "Attributes": [{"Key": k, "StringValue": v} for k, v in p.attributes]}
            for p in definition.parameters
        ],
        "ParameterValues": [{"Id": k, "StringValue": v} for k, v in definition.values],
    }


def _group(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Repeated keys become a list, as in the file format."""
    grouped: dict[str, Any] = {}
    for key, value in pairs:
        if key in grouped:
            existing = grouped[key]
            grouped[key] = (existing if isinstance(existing, list) else [existing]) + [value]
        else:
            grouped[key] = value
    return grouped


def to_definition_file(definition: PipelineDefinition) -> dict[str, Any]:
    objects = []
    for obj in definition.objects:
        pairs: list[tuple[str, Any]] = [("id", obj.id), ("name", obj.name)]
        pairs += [(f.key, {"ref": f.value} if f.is_ref else f.value) for f in obj.fields]
        objects.append(_group(pairs))
    parameters = [_group([("id", p.id), *p.attributes]) for p in definition.parameters]
    result: dict[str, Any] = {"objects": objects, "parameters": parameters}
    if definition.values:
        result["values"] = _group(list(definition.values))
    return result


def _strings(where: str, key: str, raw: Any) -> list[Any]:
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if not isinstance(item, (str, dict)) or (isinstance(item, dict) and set(item) != {"ref"}):
            raise DefinitionFormatError(
                f"{where}.{key}: value {item!r} is neither a string nor {{\"ref\": id}}"
            )
    return items


# Console templates carry a "metadata" key (template name, description); the AWS CLI reads only
# objects, parameters and values, so the rest of such a file is ignored rather than refused.
IGNORED_TOP_LEVEL_KEYS = frozenset({"metadata"})


def from_definition_file(data: Any) -> PipelineDefinition:
    """Reads the JSON file format (as written by ``get-pipeline-definition`` or by hand)."""
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise DefinitionFormatError('expected a JSON object with an "objects" list')
    unknown = set(data) - {"objects", "parameters", "values"} - IGNORED_TOP_LEVEL_KEYS
    if unknown:
        raise DefinitionFormatError(
            f"unknown top-level keys {sorted(unknown)}; allowed: objects, parameters, values, metadata"
        )
    objects = []
    for index, raw in enumerate(data["objects"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise DefinitionFormatError(f"objects[{index}]: expected an object with a string \"id\"")
        fields: list[Field] = []
        for key, value in raw.items():
            if key in ("id", "name"):
                continue
            for item in _strings(raw["id"], key, value):
                if isinstance(item, dict):
                    fields.append(Field(key, str(item["ref"]), is_ref=True))
                else:
                    fields.append(Field(key, item))
        name = raw.get("name", raw["id"])
        if not isinstance(name, str):
            raise DefinitionFormatError(f"{raw['id']}.name: expected a string, got {name!r}")
        objects.append(PipelineObject(id=raw["id"], name=name, fields=tuple(fields)))
    return PipelineDefinition(
        objects=tuple(objects), parameters=parameters_from_file(data), values=values_from_file(data)
    )


def parameters_from_file(data: Any) -> tuple[Parameter, ...]:
    """The ``parameters`` list of a definition file, or of a ``--parameter-objects`` file (which the
    AWS CLI reads in the same shape: ``{"parameters": [...]}``)."""
    if not isinstance(data, dict):
        raise DefinitionFormatError('expected a JSON object with a "parameters" list')
    parameters = []
    raw_parameters = data.get("parameters", [])
    if not isinstance(raw_parameters, list):
        raise DefinitionFormatError('"parameters" must be a list')
    for index, raw in enumerate(raw_parameters):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise DefinitionFormatError(f"parameters[{index}]: expected an object with a string \"id\"")
        attrs = []
        for key, value in raw.items():
            if key == "id":
                continue
            for item in _strings(raw["id"], key, value):
                if not isinstance(item, str):
                    raise DefinitionFormatError(f"{raw['id']}.{key}: parameter attributes are strings")
                attrs.append((key, item))
        parameters.append(Parameter(id=raw["id"], attributes=tuple(attrs)))
    return tuple(parameters)


def values_from_file(data: Any) -> tuple[tuple[str, str], ...]:
    """The ``values`` object of a definition file, or of a ``--parameter-values-uri`` file
    (``{"values": {"myX": "v", "myList": ["a", "b"]}}``)."""
    if not isinstance(data, dict):
        raise DefinitionFormatError('expected a JSON object with a "values" object')
    raw_values = data.get("values", {})
    if not isinstance(raw_values, dict):
        raise DefinitionFormatError('"values" must be an object of parameter id -> value')
    values = []
    for key, value in raw_values.items():
        for item in _strings("values", key, value):
            if not isinstance(item, str):
                raise DefinitionFormatError(f"values.{key}: values are strings")
            values.append((key, item))
    return tuple(values)


def _cfn_string(where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise DefinitionFormatError(
            f"{where}: value {value!r} is not a string; resolve CloudFormation intrinsics to text first"
        )
    return value


def _cfn_list(where: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DefinitionFormatError(f"{where}: expected a list")
    return value


def from_cloudformation(properties: Any) -> PipelineDefinition:
    """Reads the CloudFormation shape back (``PipelineObjects``, ``ParameterObjects``, ``ParameterValues``
    of an ``AWS::DataPipeline::Pipeline``), so a synthesized template can be reviewed and re-validated
    with the same model that produced it. Every value must already be a string: a caller reading a
    template turns intrinsics such as ``{"Ref": ...}`` into readable placeholders first."""
    if not isinstance(properties, dict):
        raise DefinitionFormatError("expected the Properties object of an AWS::DataPipeline::Pipeline")
    objects = []
    for index, raw in enumerate(_cfn_list("PipelineObjects", properties.get("PipelineObjects"))):
        if not isinstance(raw, dict) or not isinstance(raw.get("Id"), str):
            raise DefinitionFormatError(f"PipelineObjects[{index}]: expected an object with a string Id")
        object_id = raw["Id"]
        fields = []
        for position, field in enumerate(_cfn_list(f"{object_id}.Fields", raw.get("Fields"))):
            where = f"{object_id}.Fields[{position}]"
            if not isinstance(field, dict) or not isinstance(field.get("Key"), str):
                raise DefinitionFormatError(f"{where}: expected an object with a string Key")
            kinds = [k for k in ("StringValue", "RefValue") if k in field]
            if len(kinds) != 1:
                raise DefinitionFormatError(f"{where}: expected exactly one of StringValue and RefValue")
            value = _cfn_string(f"{object_id}.{field['Key']}", field[kinds[0]])
            fields.append(Field(field["Key"], value, is_ref=kinds[0] == "RefValue"))
        name = _cfn_string(f"{object_id}.Name", raw.get("Name", object_id))
        objects.append(PipelineObject(id=object_id, name=name, fields=tuple(fields)))
    parameters = []
    for index, raw in enumerate(_cfn_list("ParameterObjects", properties.get("ParameterObjects"))):
        if not isinstance(raw, dict) or not isinstance(raw.get("Id"), str):
            raise DefinitionFormatError(f"ParameterObjects[{index}]: expected an object with a string Id")
        attributes = []
        for attribute in _cfn_list(f"{raw['Id']}.Attributes", raw.get("Attributes")):
            if not isinstance(attribute, dict) or not isinstance(attribute.get("Key"), str):
                raise DefinitionFormatError(f"{raw['Id']}.Attributes: expected objects with a string Key")
            key = attribute["Key"]
            attributes.append((key, _cfn_string(f"{raw['Id']}.{key}", attribute.get("StringValue"))))
        parameters.append(Parameter(id=raw["Id"], attributes=tuple(attributes)))
    values = []
    for index, raw in enumerate(_cfn_list("ParameterValues", properties.get("ParameterValues"))):
        if not isinstance(raw, dict) or not isinstance(raw.get("Id"), str):
            raise DefinitionFormatError(f"ParameterValues[{index}]: expected an object with a string Id")
        values.append((raw["Id"], _cfn_string(f"values.{raw['Id']}", raw.get("StringValue"))))
    return PipelineDefinition(objects=tuple(objects), parameters=tuple(parameters), values=tuple(values))
