"""The local deploy's, smoke check's and drill's boto3 clients read DynamoDB attribute values directly, not member by
member along botocore's shapes.

Why: botocore parses every ``AttributeValue`` of an answer as a structure of ten members, looking each one up (its
JSON parser's ``_handle_structure``), which was about a third of the drill process's own CPU in ``make drill-local``
(py-spy, measured here: the Scan answers of its exports, counts and checks, 2,000 many-typed items a table). A
well-formed value has one member; this parser reads it as botocore's walk does (botocore/parsers.py, read there:
binary through the parser's blob parser, base64 by default; strings, numbers-as-strings and booleans as sent; lists
and maps member by member) and hands any other value (two members, a null, an unknown type) to botocore's own walk,
so the answer is the same either way (``tests/unit/test_item_parser.py`` compares both). Every other protocol and
shape is botocore's.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.parsers import JSONParser, ResponseParserFactory

ATTRIBUTE_VALUE = "AttributeValue"  # DynamoDB's (and DynamoDB Streams') shape name


class Unusual(Exception):
    """A value a fast reader leaves to the library's own walk."""


def read_attribute(value: Any, *, blob: Callable[[Any], Any]) -> dict[str, Any]:
    """A well-formed DynamoDB attribute value in its JSON wire form, as botocore's response walk and moto's request walk
    both read it: binary through ``blob``, strings, numbers-as-strings and booleans as sent (a null inside a string or
    number set too), lists and maps member by member. Anything else (two members, a null, an unknown type) raises
    :class:`Unusual`; an error of ``blob`` (TypeError, ValueError) reaches the caller, which leaves that value to the walk
    as well."""
    if type(value) is not dict or len(value) != 1:
        raise Unusual
    ((kind, raw),) = value.items()
    if raw is None:
        raise Unusual
    if kind in ("S", "N", "BOOL", "NULL"):
        return {kind: raw}
    if kind == "B":
        return {"B": blob(raw)}
    if kind in ("SS", "NS", "BS") and type(raw) is list:
        return {kind: [blob(member) for member in raw] if kind == "BS" else list(raw)}
    if kind == "M" and type(raw) is dict:
        return {"M": {key: read_attribute(member, blob=blob) for key, member in raw.items()}}
    if kind == "L" and type(raw) is list:
        return {"L": [read_attribute(member, blob=blob) for member in raw]}
    raise Unusual


class ItemJSONParser(JSONParser):
    """botocore's JSON parser, with DynamoDB attribute values read directly."""

    def _handle_structure(self, shape: Any, value: Any) -> Any:
        if shape.name == ATTRIBUTE_VALUE:
            try:
                return read_attribute(value, blob=self._blob_parser)
            except (Unusual, ValueError, TypeError):
                pass  # botocore's walk decides: the same result, or the same error
        return super()._handle_structure(shape, value)


class ItemParserFactory(ResponseParserFactory):
    """botocore's factory, giving :class:`ItemJSONParser` for the JSON protocol (DynamoDB's)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return ItemJSONParser(**self._defaults)
        return super().create_parser(protocol_name)
