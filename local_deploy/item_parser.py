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

from typing import Any

from botocore.parsers import JSONParser, ResponseParserFactory

ATTRIBUTE_VALUE = "AttributeValue"  # DynamoDB's (and DynamoDB Streams') shape name


class _Unusual(Exception):
    """A value left to botocore's walk."""


class ItemJSONParser(JSONParser):
    """botocore's JSON parser, with DynamoDB attribute values read directly."""

    def _handle_structure(self, shape: Any, value: Any) -> Any:
        if shape.name == ATTRIBUTE_VALUE:
            try:
                return self._attribute(value)
            except (_Unusual, ValueError, TypeError):
                pass  # botocore's walk decides: the same result, or the same error
        return super()._handle_structure(shape, value)

    def _attribute(self, value: Any) -> dict[str, Any]:
        if type(value) is not dict or len(value) != 1:
            raise _Unusual
        ((kind, raw),) = value.items()
        if raw is None:
            raise _Unusual
        if kind in ("S", "N", "BOOL", "NULL"):
            return {kind: raw}
        if kind == "B":
            return {"B": self._blob_parser(raw)}
        if kind in ("SS", "NS") and type(raw) is list and None not in raw:
            return {kind: list(raw)}
        if kind == "BS" and type(raw) is list and None not in raw:
            return {"BS": [self._blob_parser(member) for member in raw]}
        if kind == "M" and type(raw) is dict:
            return {"M": {key: self._attribute(member) for key, member in raw.items()}}
        if kind == "L" and type(raw) is list:
            return {"L": [self._attribute(member) for member in raw]}
        raise _Unusual


class ItemParserFactory(ResponseParserFactory):
    """botocore's factory, giving :class:`ItemJSONParser` for the JSON protocol (DynamoDB's)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return ItemJSONParser(**self._defaults)
        return super().create_parser(protocol_name)
