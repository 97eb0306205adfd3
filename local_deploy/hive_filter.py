"""Which items a HiveCopyActivity's ``filterSql`` keeps, read from the stored definition as Hive would
read it over the input's typed columns: a STRING column holds a DynamoDB string (anything else reads as
NULL), a DOUBLE column a number, a comparison with NULL keeps nothing, ``unix_timestamp('...')`` is the
UTC epoch of the time (EMR's clock). Only the forms ``ddb_datapipeline.definition.filters`` renders are
understood (they are parsed back with its grammar); anything else is refused, never guessed.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from ddb_datapipeline.definition.filters import BoolOp, FilterError, InList, IsNull, Predicate, parse_filter

_UNIX_TIMESTAMP = re.compile(r"unix_timestamp\('(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})'\)")
_BACKQUOTED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")
_STRING = re.compile(r"'((?:\\.|[^'\\])*)'")


class UnreadableFilter(ValueError):
    pass


def _as_filter_text(sql: str) -> str:
    """The rendered Hive back in the filter language: epochs for the window's bounds, bare names, ''."""
    text = _UNIX_TIMESTAMP.sub(lambda m: str(int(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())), sql)
    text = _BACKQUOTED.sub(lambda m: m.group(1), text)
    return _STRING.sub(lambda m: "'" + m.group(1).replace("\\'", "''") + "'", text)


def _value(item: dict[str, Any], attribute: str, want: type) -> str | Decimal | None:
    found = item.get(attribute)
    if found is None:
        return None
    if want is str:
        return found.get("S")
    try:
        return Decimal(found["N"]) if "N" in found else None
    except InvalidOperation:
        return None


def holds(predicate: Predicate, item: dict[str, Any]) -> bool:
    """Whether ``predicate`` keeps ``item``, as Hive reads the typed columns."""
    if isinstance(predicate, BoolOp):
        results = [holds(part, item) for part in predicate.parts]
        return all(results) if predicate.operator == "and" else any(results)
    if isinstance(predicate, IsNull):
        return (item.get(predicate.attribute) is None) != predicate.negated
    if isinstance(predicate, InList):
        return any(_compare(item, predicate.attribute, "=", value) for value in predicate.values)
    return _compare(item, predicate.attribute, predicate.operator, predicate.value)


def _compare(item: dict[str, Any], attribute: str, operator: str, literal: str | Decimal) -> bool:
    value = _value(item, attribute, str if isinstance(literal, str) else Decimal)
    if value is None:
        return False
    left, right = (value, literal)
    return {"=": left == right, "<>": left != right, "<": left < right, "<=": left <= right,  # type: ignore[operator]
            ">": left > right, ">=": left >= right}[operator]  # type: ignore[operator]


@lru_cache(maxsize=64)
def _predicate(sql: str) -> Predicate:
    try:
        return parse_filter(_as_filter_text(sql))
    except FilterError as error:
        raise UnreadableFilter(f"filterSql {sql!r} is not one this project renders: {error}") from None


def keeps(sql: str, item: dict[str, Any]) -> bool:
    return holds(_predicate(sql), item)
