"""The vocabulary of a Data Pipeline definition, independent of CloudFormation and the CDK.

Every field value is a string, as the service requires; a field is either a plain string or a
reference to another object's id. Repeating a key (several ``step`` fields) is how the service
spells a multi-valued field, so fields are an ordered tuple rather than a mapping.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Ref:
    """A reference to another object of the same definition, by its id."""

    target: str


FieldValue = str | Ref


@dataclass(frozen=True)
class Field:
    key: str
    value: str
    is_ref: bool = False


@dataclass(frozen=True)
class PipelineObject:
    id: str
    name: str
    fields: tuple[Field, ...] = ()

    @classmethod
    def build(
        cls, id: str, *, name: str | None = None, **fields: FieldValue | Iterable[FieldValue] | None
    ) -> PipelineObject:
        """Builds an object from keyword fields: a ``Ref`` becomes a reference field, a list or tuple
        repeats the key, and ``None`` leaves the field out (so optional settings read naturally)."""
        built: list[Field] = []
        for key, value in fields.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for item in values:
                if item is None:
                    continue
                if isinstance(item, Ref):
                    built.append(Field(key, item.target, is_ref=True))
                elif isinstance(item, str):
                    built.append(Field(key, item))
                else:
                    raise TypeError(f"{id}.{key}: field values are strings or Refs, got {type(item).__name__}")
        return cls(id=id, name=name or id, fields=tuple(built))

    @property
    def type(self) -> str | None:
        types = self.values("type")
        return types[0] if types else None

    def values(self, key: str) -> list[str]:
        return [f.value for f in self.fields if f.key == key]

    def value(self, key: str) -> str | None:
        found = self.values(key)
        return found[0] if found else None

    def refs(self) -> list[Field]:
        return [f for f in self.fields if f.is_ref]


@dataclass(frozen=True)
class Parameter:
    """A definition parameter; attributes are kept as given so foreign definitions load unchanged."""

    id: str
    attributes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(
        cls,
        id: str,
        *,
        type: str = "String",
        description: str | None = None,
        default: str | None = None,
        optional: bool = False,
        allowed_values: Iterable[str] = (),
        watermark: str | None = None,
    ) -> Parameter:
        attrs: list[tuple[str, str]] = [("type", type)]
        if description:
            attrs.append(("description", description))
        if default is not None:
            attrs.append(("default", default))
        if optional:
            attrs.append(("optional", "true"))
        attrs.extend(("allowedValues", v) for v in allowed_values)
        if watermark:
            attrs.append(("watermark", watermark))
        return cls(id=id, attributes=tuple(attrs))

    def attribute(self, key: str) -> str | None:
        for k, v in self.attributes:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class PipelineDefinition:
    objects: tuple[PipelineObject, ...]
    parameters: tuple[Parameter, ...] = ()
    values: tuple[tuple[str, str], ...] = ()

    def object(self, object_id: str) -> PipelineObject:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(object_id)

    def objects_of_type(self, type_name: str) -> list[PipelineObject]:
        return [o for o in self.objects if o.type == type_name]

    def value_of(self, parameter_id: str) -> str | None:
        """The value a parameter resolves to at activation unless overridden: its value, else its default."""
        for key, value in self.values:
            if key == parameter_id:
                return value
        for param in self.parameters:
            if param.id == parameter_id:
                return param.attribute("default")
        return None

    def with_stand_ins(self, stand_ins: Mapping[str, str]) -> PipelineDefinition:
        """The definition with each text of ``stand_ins`` (a CDK token's text, say) replaced wherever it occurs in a
        value, a parameter attribute or a parameter value. Why: a value CloudFormation fills in at deploy (the name
        of a table it names) reaches the definition as ``${Token[...]}``; the validator must read it as what it will
        be, a table name, so the construct gives it a stand-in that follows the same rules. Refs stay as they are."""
        if not stand_ins:
            return self

        def text(value: str) -> str:
            for token, stand_in in stand_ins.items():
                value = value.replace(token, stand_in)
            return value

        return PipelineDefinition(
            objects=tuple(
                PipelineObject(obj.id, obj.name, tuple(f if f.is_ref else Field(f.key, text(f.value)) for f in obj.fields))
                for obj in self.objects
            ),
            parameters=tuple(Parameter(p.id, tuple((k, text(v)) for k, v in p.attributes)) for p in self.parameters),
            values=tuple((k, text(v)) for k, v in self.values),
        )

    def fingerprint(self) -> str:
        """A short hash of what an activated pipeline cannot change in place: which objects exist,
        their types, their references and every schedule period. Folding it into the pipeline's name
        makes CloudFormation replace the pipeline instead of attempting an update the service refuses."""
        structure = sorted(
            [
                obj.id,
                obj.type or "",
                sorted([f.key, f.value] for f in obj.refs()),
                obj.values("period") if obj.type == "Schedule" else [],
            ]
            for obj in self.objects
        )
        digest = hashlib.sha256(json.dumps(structure, sort_keys=True).encode()).hexdigest()
        return digest[:8]


def values_from(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items()))
