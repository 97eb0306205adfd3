"""The count after a filtered, incremental or partial copy (``verify``): a second ``HiveActivity`` on the
copy's cluster that fails, and so raises the copy's failure alarm, unless every source item the copy's
WHERE keeps is now in the target under the same key.

The script reads the source again through the same WHERE (so a window is the run's own window) and joins
it to the target on the key attributes, compared as the connector's JSON of each key value (the item
column, ``hive_tables``): ``count(*)`` of the left outer join is the kept items, ``count`` of the target's
partition key those the target holds, and Hive's ``assert_true`` fails the job when they differ (Hive Language
Manual, "Misc. Functions"). It counts presence, not content: a target item updated since by someone else
still counts.

When the count is right: for an incremental copy on a timestamp its writers keep current, an item inside
a past window at count time was unchanged since before the window closed, so the copy read it, and a miss
is a real loss. For a filter on attributes that change, or a copy of every row, an item that starts to
match between the copy and the count is missing from the target without any loss, so the count is on by
default for incremental copies of owned tables only (config ``verify``; a referenced table's key is not known). It costs a second read of the source and a read
of the target, at the copy's read ratio of each.

``read_verify_script`` reads a script back, accepting only what ``VerifyScript.render`` writes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .hive_tables import (
    ITEM_COLUMN,
    SOURCE_TABLE,
    TARGET_TABLE,
    UnreadableScript,
    check_names,
    read_names,
    read_tables,
    render_script,
)


def table_properties(table: str, region: str, read_ratio: str) -> tuple[tuple[str, str], ...]:
    """The TBLPROPERTIES of one of the count's tables, as literals: the count reads two inputs, so
    ``#{input.tableName}`` would not say which, and a parameter would let a value given at activation into
    the script (why in ``guard``)."""
    return (("dynamodb.table.name", table), ("dynamodb.region", region), ("dynamodb.throughput.read.percent", read_ratio))


@dataclass(frozen=True)
class VerifyScript:
    keys: tuple[str, ...]  # the source's key attributes
    columns: tuple[tuple[str, str], ...] = ()  # (attribute, Hive type) the WHERE compares
    where: str = ""  # the copy's WHERE; "" counts every item
    source_properties: tuple[tuple[str, str], ...] = ()  # table_properties of the source
    target_properties: tuple[tuple[str, str], ...] = ()  # table_properties of the target

    def __post_init__(self) -> None:
        check_names(self.keys, self.columns)
        if len(self.keys) > 2:
            raise ValueError(f"keys {list(self.keys)}: a partition key and at most a sort key")

    def render(self) -> str:
        on = " AND ".join(f"s.{ITEM_COLUMN}['{key}'] = t.{ITEM_COLUMN}['{key}']" for key in self.keys)
        found = f"t.{ITEM_COLUMN}['{self.keys[0]}']"  # the partition key: NULL exactly when the target lacks the item
        count = (f"SELECT assert_true(count(*) = count({found})) FROM {SOURCE_TABLE} s LEFT OUTER JOIN {TARGET_TABLE} t ON {on}"
                 + (f" WHERE {self.where}" if self.where else ""))
        return render_script(self.columns, dict(self.source_properties), dict(self.target_properties), count)


_KEY = re.compile(rf"s\.{ITEM_COLUMN}\['(?P<name>[A-Za-z_][A-Za-z0-9_]*)'\] = t\.{ITEM_COLUMN}\['(?P=name)'\]")
_COUNT = re.compile(rf"SELECT assert_true\(count\(\*\) = count\(t\.{ITEM_COLUMN}\['(?P<found>[A-Za-z_][A-Za-z0-9_]*)'\]\)\) FROM "
                    rf"{SOURCE_TABLE} s LEFT OUTER JOIN {TARGET_TABLE} t ON (?P<on>.+?)(?: WHERE (?P<where>.+))?", re.DOTALL)


def read_verify_script(script: str) -> VerifyScript:
    """The count a HiveActivity's ``hiveScript`` makes, or ``UnreadableScript`` naming what differs."""
    last, columns, source_properties, target_properties = read_tables(script, "the count")
    count = _COUNT.fullmatch(last)
    if count is None:
        raise UnreadableScript(f"expected SELECT assert_true(count(*) = count(t.{ITEM_COLUMN}['<partition key>'])) FROM {SOURCE_TABLE} s "
                               f"LEFT OUTER JOIN {TARGET_TABLE} t ON ..., found: {last[:80]}")
    keys = read_names(count["on"].split(" AND "), _KEY, f"s.{ITEM_COLUMN}['<key>'] = t.{ITEM_COLUMN}['<key>']")
    if count["found"] != keys[0]:
        raise UnreadableScript(f"the count tests t.{ITEM_COLUMN}['{count['found']}'], not the partition key '{keys[0]}' the join starts with")
    try:
        return VerifyScript(keys=keys, columns=columns, where=(count["where"] or "").strip(),
                            source_properties=tuple(source_properties.items()), target_properties=tuple(target_properties.items()))
    except ValueError as error:
        raise UnreadableScript(str(error)) from None
