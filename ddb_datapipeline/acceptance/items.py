"""Test items for seeding a table in a local run, and checksums that say whether two tables hold the same data.

The items cover every DynamoDB type (S, N, B, BOOL, NULL, M, L, SS, NS, BS; maps and lists nested or empty, odd
strings and bytes, negative, decimal and 23-digit numbers) so an export, import or copy that loses or
mangles one shows up; some are sparse so an export is not rectangular. ``status``, ``total`` and
``updated_at`` (epoch seconds over the 48 hours before ``now``) are always present, for filtered and
incremental copies. Items are in boto3's low-level shape (``{"name": {"S": "..."}}``, binary as bytes).

A checksum ignores what DynamoDB ignores: attribute order, set member order and number formatting
("1.50" and "1.5" are one number).
"""
from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any

KEY_TYPES = ("S", "N", "B")
STATUSES = ("OPEN", "PENDING", "CLOSED")
WINDOW_SECONDS = 48 * 3600
REFERENCE_NOW = 1_800_000_000

ALWAYS = ("status", "total", "updated_at")
# every attribute below is left out of a sparse item now and then; item 0 always has them all
OPTIONAL = ("title", "quantity", "price", "delta", "big", "blob", "active", "nothing", "details", "tags", "labels", "scores", "digests")

_TITLES = ("plain", "café au lait", 'a "quoted" word', "tab\tand\nnewline", "日本語のテキスト", "line\u2028separator", "back\\slash", "<b>&amp;</b> = '")
_LABELS = ("red", "green", "blue", "amber", "ünïcödé", "with space", "x" * 40)
_NUMBER_CONTEXT = Context(prec=100)  # DynamoDB keeps 38 significant digits; the default 28 would merge numbers


def _key_value(kind: str, index: int, prefix: str) -> dict[str, Any]:
    if kind == "S":
        return {"S": f"{prefix}-{index:06d}"}
    if kind == "N":
        return {"N": str(index)}
    return {"B": f"{prefix}:".encode() + index.to_bytes(4, "big")}


def _distinct_bytes(rng: random.Random, count: int) -> list[bytes]:
    found: list[bytes] = []
    while len(found) < count:
        candidate = rng.randbytes(rng.randint(1, 12))
        if candidate not in found:
            found.append(candidate)
    return found


def _attributes(rng: random.Random) -> dict[str, Any]:
    """Every optional attribute, one of each type and then some."""
    return {
        "title": {"S": rng.choice(_TITLES)},
        "quantity": {"N": str(rng.randint(0, 1000))},
        "price": {"N": f"{rng.randint(1, 99_999) / 100:.2f}"},  # "12.50": DynamoDB gives back "12.5"
        "delta": {"N": str(-rng.randint(1, 10**6))},
        "big": {"N": f"{rng.randint(10**19, 10**20 - 1)}.{rng.randint(0, 999):03d}"},
        "blob": {"B": b"\x00" + rng.randbytes(rng.randint(0, 24)) + b"\xff"},
        "active": {"BOOL": rng.random() < 0.5},
        "nothing": {"NULL": True},
        "details": {
            "M": {
                "owner": {"S": rng.choice(_LABELS)},
                "rank": {"N": str(rng.randint(-5, 5))},
                "history": {"L": [{"N": str(rng.randint(0, 99))}, {"S": rng.choice(_TITLES)}, {"BOOL": False}]},
                "limits": {"M": {"max": {"N": "1E+3"}, "note": {"NULL": True}}},
                "pending": {"L": []},  # empty lists and maps, nested too: connector 4.11.0 exports and restores them
                "extras": {"M": {"empty": {"M": {}}, "none": {"L": [{"L": []}]}}},
            }
        },
        "tags": {
            "L": [
                {"S": rng.choice(_LABELS)},
                {"N": f"{rng.uniform(-1000, 1000):.3f}"},
                {"BOOL": True},
                {"NULL": True},
                {"B": rng.randbytes(4)},
                {"SS": rng.sample(_LABELS, 2)},
                {"M": {"depth": {"N": "2"}}},
            ]
        },
        "labels": {"SS": rng.sample(_LABELS, rng.randint(1, 4))},
        # distinct integers over 4 stay distinct numbers: "2.25", "-3", "0.5"
        "scores": {"NS": [str(Decimal(n) / 4) for n in rng.sample(range(-40, 400), rng.randint(1, 5))]},
        "digests": {"BS": _distinct_bytes(rng, rng.randint(1, 3))},
    }


def generate_items(
    count: int,
    *,
    partition_key: tuple[str, str],
    sort_key: tuple[str, str] | None,
    seed: int = 7,
    now: int = REFERENCE_NOW,
) -> list[dict[str, Any]]:
    """``count`` items with unique keys; the same items for the same arguments.

    With a sort key, four items share each partition key value. Every fifth item (from the fourth on) lacks
    three optional attributes. ``updated_at`` is spread evenly over ``[now - 48 h, now)``, in key order.
    """
    keys = [partition_key] + ([sort_key] if sort_key else [])
    for name, kind in keys:
        if kind not in KEY_TYPES:
            raise ValueError(f"key {name!r}: type must be one of {', '.join(KEY_TYPES)}, got {kind!r}")
        if name in ALWAYS or name in OPTIONAL:
            raise ValueError(f"key {name!r}: the generated items use that name for another attribute")
    if sort_key and sort_key[0] == partition_key[0]:
        raise ValueError(f"the partition and sort key have the same name {sort_key[0]!r}")
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    for index in range(count):
        item: dict[str, Any] = {}
        if sort_key:
            item[partition_key[0]] = _key_value(partition_key[1], index // 4, "p")
            item[sort_key[0]] = _key_value(sort_key[1], index % 4, "s")
        else:
            item[partition_key[0]] = _key_value(partition_key[1], index, "p")
        offset = int((index + rng.random()) * WINDOW_SECONDS / count)
        item["status"] = {"S": rng.choice(STATUSES)}
        item["total"] = {"N": f"{rng.randint(0, 1_000_000) / 100:.2f}"}
        item["updated_at"] = {"N": str(now - 1 - offset)}
        attributes = _attributes(rng)
        if index % 5 == 3:
            for name in rng.sample(OPTIONAL, 3):
                del attributes[name]
        item.update(attributes)
        items.append(item)
    return items


def _number(text: str) -> str:
    try:
        value = _NUMBER_CONTEXT.normalize(Decimal(text))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    return "0" if value.is_zero() else str(value)


def _canonical(value: Mapping[str, Any], where: str) -> Any:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValueError(f"{where}: an attribute value has exactly one type key, got {value!r}")
    ((kind, raw),) = value.items()
    if kind == "S":
        return ["S", raw]
    if kind == "N":
        return ["N", _number(raw)]
    if kind == "B":
        return ["B", bytes(raw).hex()]
    if kind in ("BOOL", "NULL"):
        return [kind, bool(raw)]
    if kind == "SS":
        return ["SS", sorted(set(raw))]
    if kind == "NS":
        return ["NS", sorted({_number(member) for member in raw})]
    if kind == "BS":
        return ["BS", sorted({bytes(member).hex() for member in raw})]
    if kind == "M":
        return ["M", {name: _canonical(member, f"{where}.{name}") for name, member in raw.items()}]
    if kind == "L":
        return ["L", [_canonical(member, f"{where}[{index}]") for index, member in enumerate(raw)]]
    raise ValueError(f"{where}: unknown type key {kind!r}")


def item_checksum(item: Mapping[str, Any]) -> str:
    """sha256 (hex) of the item as canonical JSON: names sorted, sets sorted, numbers normalised."""
    canonical = {name: _canonical(value, name) for name, value in item.items()}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def table_checksum(items: Iterable[Mapping[str, Any]]) -> str:
    """sha256 (hex) of the sorted item checksums: the same for the same items in any order."""
    return hashlib.sha256("\n".join(sorted(item_checksum(item) for item in items)).encode("ascii")).hexdigest()
