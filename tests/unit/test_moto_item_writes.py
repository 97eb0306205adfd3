"""Fix 13 of the emulator (local_deploy/moto_fixes.py): moto builds the same items, and refuses the same
oversized one at the same byte, with the item's size summed once instead of once per attribute."""
from __future__ import annotations

import pytest
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from ddb_datapipeline.acceptance.items import generate_items
from local_deploy import moto_fixes

# moto runs in this process: moto_library puts the module on the worker that imports moto (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("moto_library")


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Item, "__init__", Item.__init__)  # restored after the test, whatever the fix replaced
    moto_fixes.fix_item_writes()


def build(attrs: dict) -> Item:
    return Item(DynamoType(attrs["pk"]), None, attrs)


def at_size(total: int) -> dict:
    """An item whose size, as moto counts it (attribute names and values in UTF-8 bytes), is ``total``."""
    return {"pk": {"S": "a"}, "big": {"S": "x" * (total - len("pk") - 1 - len("big"))}}


def outcome(total: int) -> str:
    try:
        return f"kept {build(at_size(total)).size()}"
    except ItemSizeTooLarge:
        return "refused"


def test_the_same_items_are_built(monkeypatch: pytest.MonkeyPatch):
    items = generate_items(300, partition_key=("pk", "S"), sort_key=None)
    before = [build(attrs) for attrs in items]
    monkeypatch.setattr(Item, "__init__", Item.__init__)
    moto_fixes.fix_item_writes()
    after = [build(attrs) for attrs in items]
    assert after == before
    assert [a.to_json() for a in after] == [b.to_json() for b in before]
    assert [list(a.attrs) for a in after] == [list(b.attrs) for b in before]  # attribute order kept
    assert all(type(a.attrs) is LimitedSizeDict for a in after)


def test_the_limit_is_at_the_same_byte(monkeypatch: pytest.MonkeyPatch):
    limit = moto_fixes.MOTO_ITEM_SIZE_LIMIT
    before = [outcome(limit), outcome(limit + 1)]
    assert before == [f"kept {limit}", "refused"]  # what moto 5.2.5 itself does
    monkeypatch.setattr(Item, "__init__", Item.__init__)
    moto_fixes.fix_item_writes()
    assert [outcome(limit), outcome(limit + 1)] == before


def test_an_update_past_the_limit_is_still_refused(fixed: None):
    item = build(at_size(moto_fixes.MOTO_ITEM_SIZE_LIMIT - 10))
    with pytest.raises(ItemSizeTooLarge):
        item.attrs["more"] = DynamoType({"S": "y" * 20})
