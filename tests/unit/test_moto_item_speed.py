"""Fixes 15 to 17 of the emulator (local_deploy/moto_fixes.py), for speed alone: moto measures the same attribute sizes,
answers with the same items and reads the same request parameters with them as without them, on the drill's generated
items (every DynamoDB type, nested, some sparse) and on values the fast readers leave to moto."""
from __future__ import annotations

import functools
import json
from datetime import datetime

import pytest
from botocore.session import Session
from moto.core.parse import BaseJSONParser, JSONParser
from moto.dynamodb import responses
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from ddb_datapipeline.acceptance.items import REFERENCE_NOW, generate_items
from local_deploy import moto_fixes
from tests.dynamodb_json import encoded

# moto runs in this process: moto_library puts the module on the worker that imports moto (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("moto_library")

ITEMS = generate_items(200, partition_key=("pk", "S"), sort_key=None, now=REFERENCE_NOW)
KINDS = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}


def values(attrs: dict) -> list[DynamoType]:
    """Every attribute value of an item, nested ones too."""
    found = []
    for value in attrs.values():
        found.append(value)
        if value.type == "M":
            found += values(value.value)
        elif value.type == "L":
            found += values(dict(enumerate(value.value)))
    return found


def test_the_items_hold_every_type():
    assert KINDS <= {kind for item in ITEMS for value in values({k: DynamoType(v) for k, v in item.items()}) for kind in [value.type]}


def test_sizes_are_the_same_with_fix_15(monkeypatch: pytest.MonkeyPatch):
    built = [Item(DynamoType(attrs["pk"]), None, attrs) for attrs in ITEMS]
    measured = [value.size() for item in built for value in values(item.attrs)]
    totals = [item.size() for item in built]
    with_bytes = DynamoType({"BS": [b"\x00\xff", b"ab"]})  # binary as bytes, as a projection leaves it
    plain_map = DynamoType({"M": {}})
    plain_map.value = {"raw": {"SS": ["a", "bc"]}}  # a map value that is not a DynamoType
    odd = [with_bytes.size(), plain_map.size()]
    monkeypatch.setattr(DynamoType, "size", DynamoType.size)
    moto_fixes.fix_attribute_sizes()
    assert [value.size() for item in built for value in values(item.attrs)] == measured
    assert [item.size() for item in built] == totals
    assert [with_bytes.size(), plain_map.size()] == odd


WIRE = {"pk": {"S": "wire"}, "b": {"B": "AAE="}, "bs": {"BS": ["AAE=", "/w=="]}}  # binary still in base64, as moto may hold it


def scan_answer() -> dict:
    items = [Item(DynamoType(attrs["pk"]), None, attrs) for attrs in [*ITEMS, WIRE]]
    return {"Count": len(items), "ScannedCount": len(items), "Items": [item.attrs for item in items],
            "LastEvaluatedKey": {"pk": DynamoType({"S": "p"})}, "CreationDateTime": datetime(2026, 1, 2, 3, 4, 5),
            "Table": {"Tags": [{"Key": "k", "Value": "v"}], "Size": 1.5}}


def test_answers_are_the_same_with_fix_16(monkeypatch: pytest.MonkeyPatch):
    generic = responses.dynamo_to_dict
    walked = generic(scan_answer())
    monkeypatch.setattr(responses, "dynamo_to_dict", generic)
    moto_fixes.fix_item_results()
    assert responses.dynamo_to_dict is not generic  # the fix replaced it
    fast = responses.dynamo_to_dict(scan_answer())
    assert fast == walked
    assert [type(v) for item in fast["Items"] for v in item.values()] == [type(v) for item in walked["Items"] for v in item.values()]


@functools.cache
def service_model(name: str):  # one load of the model (a new Session reads its JSON again)
    return Session().get_service_model(name)


def parse(body: dict, operation: str = "BatchWriteItem") -> dict:
    model = service_model("dynamodb").operation_model(operation)
    return JSONParser(model).parse({"method": "POST", "values": {}, "headers": {}, "body": json.dumps(body).encode(),
                                    "url_path": "/", "url_params": {}})


MALFORMED = [{"S": "a", "N": "1"}, {"M": {"x": None}}, {"L": [{"Q": "?"}]}, {"SS": "not a list"}, {"S": None}, {}]


def test_requests_are_read_the_same_with_fix_17(monkeypatch: pytest.MonkeyPatch):
    batches = [{"RequestItems": {"t": [{"PutRequest": {"Item": {k: encoded(v) for k, v in item.items()}}} for item in ITEMS[s:s + 25]]}}
               for s in range(0, len(ITEMS), 25)]
    odd = [{"TableName": "t", "Item": {"pk": {"S": "p"}, "odd": value}} for value in MALFORMED]
    walked = [parse(body) for body in batches] + [parse(body, "PutItem") for body in odd]
    monkeypatch.setattr(BaseJSONParser, "_parse_structure", BaseJSONParser._parse_structure)
    moto_fixes.fix_attribute_requests()
    assert [parse(body) for body in batches] + [parse(body, "PutItem") for body in odd] == walked
    assert walked[0]["RequestItems"]["t"][0]["PutRequest"]["Item"] == ITEMS[0]  # binary decoded, as the client sent it


def snapshot(item: Item) -> tuple:
    """What a copy must reproduce: the attributes, their types at every depth, the keys."""
    def typed(value: DynamoType) -> tuple:
        inner = value.value
        if value.type == "M":
            inner = tuple((k, typed(v)) for k, v in inner.items())
        elif value.type == "L":
            inner = tuple(typed(v) for v in inner)
        elif isinstance(inner, list):
            inner = ("list", *inner)
        return (type(value).__name__, value.type, inner)
    return (item.hash_key.to_json(), item.range_key, type(item.attrs).__name__, tuple((k, typed(v)) for k, v in item.attrs.items()))


def assert_apart(original: DynamoType, duplicate: DynamoType) -> None:
    """No attribute value, list or map of the copy, at any depth, is the original's."""
    assert duplicate is not original
    if isinstance(original.value, list | dict):
        assert duplicate.value is not original.value
    if original.type == "M":
        for key, member in original.value.items():
            assert_apart(member, duplicate.value[key])
    elif original.type == "L":
        for member, copied in zip(original.value, duplicate.value, strict=True):
            assert_apart(member, copied)


def test_copies_are_the_same_with_fix_18(monkeypatch: pytest.MonkeyPatch):
    import copy

    built = [Item(DynamoType(attrs["pk"]), None, attrs) for attrs in [*ITEMS, WIRE]]
    before = [snapshot(copy.deepcopy(item)) for item in built]
    monkeypatch.setattr(DynamoType, "__deepcopy__", DynamoType.__deepcopy__)
    monkeypatch.setattr(Item, "__deepcopy__", Item.__deepcopy__)
    moto_fixes.fix_item_copies()
    copies = [copy.deepcopy(item) for item in built]
    assert [snapshot(c) for c in copies] == before == [snapshot(item) for item in built]
    for original, duplicate in zip(built, copies, strict=True):  # nothing shared that a projection or update could change
        for name, value in duplicate.attrs.items():
            assert_apart(original.attrs[name], value)
        duplicate.attrs.clear()
    assert [snapshot(item) for item in built] == before
