"""Generated test items (ddb_datapipeline/acceptance/items.py): every type, unique keys, deterministic; checksums that ignore
what DynamoDB ignores and see everything else."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from ddb_datapipeline.acceptance.connector_format import item_to_line, line_to_item
from ddb_datapipeline.acceptance.items import ALWAYS, OPTIONAL, STATUSES, WINDOW_SECONDS, generate_items, item_checksum, table_checksum

ALL_TYPES = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}
NOW = 1_800_000_000


def type_keys(value: dict[str, Any]) -> Iterator[str]:
    ((kind, raw),) = value.items()
    yield kind
    if kind == "M":
        for member in raw.values():
            yield from type_keys(member)
    if kind == "L":
        for member in raw:
            yield from type_keys(member)


def generated(count: int = 50, **overrides: Any) -> list[dict[str, Any]]:
    arguments: dict[str, Any] = {"partition_key": ("pk", "S"), "sort_key": ("sk", "N"), **overrides}
    return generate_items(count, **arguments)


def test_every_type_is_present_at_the_top_level_and_nested() -> None:
    items = generated()
    top = {next(iter(value)) for item in items for value in item.values()}
    nested = {kind for item in items for name in ("details", "tags") if name in item for kind in list(type_keys(item[name]))[1:]}
    assert top == ALL_TYPES
    assert ALL_TYPES - {"NS", "BS"} <= nested  # maps hold a list, lists hold every kind but NS and BS
    assert set(OPTIONAL) | set(ALWAYS) | {"pk", "sk"} == set(items[0])


@pytest.mark.parametrize(
    "partition_key, sort_key",
    [(("pk", "S"), None), (("pk", "N"), None), (("pk", "B"), None), (("pk", "S"), ("sk", "S")), (("id", "N"), ("at", "B")), (("h", "B"), ("r", "N"))],
)
def test_keys_are_unique_and_typed(partition_key: tuple[str, str], sort_key: tuple[str, str] | None) -> None:
    items = generate_items(60, partition_key=partition_key, sort_key=sort_key)
    names = [partition_key[0]] + ([sort_key[0]] if sort_key else [])
    keys = {tuple(repr(item[name]) for name in names) for item in items}
    assert len(keys) == 60
    assert all(set(item[name]) == {kind} for item in items for name, kind in [partition_key, *([sort_key] if sort_key else [])])


def test_the_same_seed_gives_the_same_items_and_another_seed_other_items() -> None:
    assert generated(seed=3) == generated(seed=3)
    assert generated(seed=3) != generated(seed=4)


def test_some_items_are_sparse_but_status_total_and_updated_at_are_always_there() -> None:
    items = generated()
    assert any(not set(OPTIONAL) <= set(item) for item in items)
    assert all(set(ALWAYS) <= set(item) for item in items)
    assert {item["status"]["S"] for item in items} == set(STATUSES)


def test_updated_at_spreads_over_the_48_hours_before_now() -> None:
    times = [int(item["updated_at"]["N"]) for item in generated(now=NOW)]
    assert all(NOW - WINDOW_SECONDS <= t < NOW for t in times)
    assert min(times) < NOW - 46 * 3600 and max(times) > NOW - 2 * 3600
    assert sum(t >= NOW - 24 * 3600 for t in times) == 25  # half of 50 in the last day: a window selects part


def test_sets_are_non_empty_with_distinct_members() -> None:
    for item in generated():
        for value in item.values():
            ((kind, raw),) = value.items()
            if kind in ("SS", "BS"):
                assert raw and len(set(raw)) == len(raw)
            if kind == "NS":
                assert raw and len({Decimal(n) for n in raw}) == len(raw)


def test_numbers_include_negative_decimal_and_large() -> None:
    numbers = [Decimal(value["N"]) for item in generated() for value in item.values() if "N" in value]
    assert min(numbers) < 0 and any(n != n.to_integral_value() for n in numbers) and max(numbers) > 10**19


def test_every_generated_item_survives_the_export_line() -> None:
    for item in generated():
        back = line_to_item(item_to_line(item))
        assert back == item and item_checksum(back) == item_checksum(item)


def test_unknown_key_types_and_clashing_names_are_refused() -> None:
    with pytest.raises(ValueError, match="type must be one of S, N, B"):
        generate_items(1, partition_key=("pk", "BOOL"), sort_key=None)
    with pytest.raises(ValueError, match="use that name for another attribute"):
        generate_items(1, partition_key=("status", "S"), sort_key=None)


# ---------------------------------------------------------------- checksums


def test_the_checksum_ignores_attribute_order_set_order_and_number_formatting() -> None:
    item = {
        "a": {"S": "x"},
        "n": {"N": "1.50"},
        "e": {"N": "1E+3"},
        "ns": {"NS": ["1", "2.0"]},
        "ss": {"SS": ["p", "q"]},
        "bs": {"BS": [b"\x01", b"\x02"]},
        "m": {"M": {"k": {"N": "-0"}, "j": {"L": [{"N": "007"}]}}},
    }
    same = {
        "m": {"M": {"j": {"L": [{"N": "7"}]}, "k": {"N": "0"}}},
        "bs": {"BS": [b"\x02", b"\x01"]},
        "ss": {"SS": ["q", "p"]},
        "ns": {"NS": ["2", "1.000"]},
        "e": {"N": "1000"},
        "n": {"N": "1.5"},
        "a": {"S": "x"},
    }
    assert item_checksum(item) == item_checksum(same)
    assert len(item_checksum(item)) == 64


@pytest.mark.parametrize(
    "other",
    [
        {"a": {"S": "1"}},  # a string is not a number
        {"a": {"N": "1.0000000000000000000000000000000001"}},  # 35 significant digits stay distinct
        {"a": {"L": [{"N": "1"}]}},  # nor a one-element list
        {"a": {"NS": ["1"]}},
        {"a": {"N": "1"}, "b": {"NULL": True}},
    ],
)
def test_the_checksum_sees_types_digits_and_attributes(other: dict[str, Any]) -> None:
    assert item_checksum({"a": {"N": "1"}}) != item_checksum(other)


def test_list_order_matters() -> None:
    assert item_checksum({"l": {"L": [{"N": "1"}, {"N": "2"}]}}) != item_checksum({"l": {"L": [{"N": "2"}, {"N": "1"}]}})


def test_the_table_checksum_ignores_order_but_sees_a_changed_or_missing_item() -> None:
    items = generated(20)
    checksum = table_checksum(items)
    assert table_checksum(reversed(items)) == checksum

    changed = [dict(item) for item in items]
    changed[7]["total"] = {"N": str(Decimal(changed[7]["total"]["N"]) + Decimal("0.01"))}
    assert table_checksum(changed) != checksum
    assert table_checksum(items[:7] + items[8:]) != checksum
    assert table_checksum(items + [items[0]]) != checksum  # a duplicate counts
