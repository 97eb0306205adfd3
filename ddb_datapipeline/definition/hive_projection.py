"""A copy that moves only some attributes of each item (``attributes``): one ``HiveActivity`` whose script
reads each item whole and writes a new item of the chosen attributes, unchanged.

Why not HiveCopyActivity: its DynamoDBExportDataFormat copies every attribute of an item (AWS Data Pipeline
Developer Guide, "DynamoDBExportDataFormat"). Why not typed Hive columns: the connector reads a number into
BIGINT or DOUBLE (a DOUBLE keeps 15 to 17 digits, DynamoDB 38) and lists, maps and sets into Hive types,
so a projection through them would change the data it copies.

What the script relies on, each read in a source:
- the connector's item column (emr-dynamodb-connector README, "Hive type map<string,string>: item"; its
  ``HiveDynamoDBItemType``): a ``map<string,string>`` column needs no mapping, holds every attribute of
  the item as the JSON of its AttributeValue, and on write turns each entry back into that AttributeValue
  (``parseDynamoDBData``), whatever its type: nothing is converted on the way;
- a missing attribute is a NULL map value, which that write cannot take (it deserializes the NULL and
  puts it into the item), so a missing attribute must leave no entry: Hive's ``concat`` is NULL when an
  argument is (``UDFConcat``), ``concat_ws`` skips NULL arguments (``GenericUDFConcatWS``), and
  ``str_to_map`` splits the text on two delimiters (``GenericUDFStringToMap``, a pattern each). The
  delimiters are the control characters U+0002 and U+0003, written ``chr(2)`` and ``chr(3)`` (Hive's ``chr``,
  HIVE-13063, in Hive 2.1.0, the Hive of emr-5.0.0, the oldest release offered); the connector's JSON escapes
  every control character, and attribute names here are letters, digits and ``_``, so neither delimiter occurs
  in a name or a value. Not Hive's octal escapes ``'\\002'``: Data Pipeline removes one backslash from a
  ``step`` before use (the guide's EmrActivity page) and may do the same to a ``hiveScript``; ``'002'`` would
  then split each item on the text "002" and write wrong attributes without any error (inferred), so no
  script of this project holds a backslash;
- the key attributes are always copied, so no item is empty;
- the columns the filter compares are declared beside the item column with a ``dynamodb.column.mapping``
  from the Hive name (lower case, as Hive keeps it) to the attribute; the connector fills both from the
  same item (``DynamoDBObjectInspector``).

``stage`` is false: the script declares its own tables, with the table, region and throughput share of the
activity's input and output nodes (``#{input.tableName}`` and so on), and Data Pipeline creates none.

``read_script`` reads a script back, accepting only what ``ProjectionScript.render`` writes; the validator,
the review and the local runner use it, so none of them guesses at Hive. The tables are declared as in
``hive_tables``, which the count after a copy (``hive_verify``) shares.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .hive_tables import (
    ATTRIBUTE,
    ITEM_COLUMN,
    SOURCE_TABLE,
    TARGET_TABLE,
    UnreadableScript,
    check_names,
    read_names,
    read_tables,
    render_script,
)

PAIRS, KEY_VALUE = "chr(2)", "chr(3)"  # U+0002 and U+0003 without a backslash: why above
SOURCE_PROPERTIES = {"dynamodb.table.name": "#{input.tableName}", "dynamodb.region": "#{input.region}",
                     "dynamodb.throughput.read.percent": "#{input.readThroughputPercent}"}
TARGET_PROPERTIES = {"dynamodb.table.name": "#{output.tableName}", "dynamodb.region": "#{output.region}",
                     "dynamodb.throughput.write.percent": "#{output.writeThroughputPercent}"}
__all__ = ["ProjectionScript", "UnreadableScript", "read_script"]


@dataclass(frozen=True)
class ProjectionScript:
    attributes: tuple[str, ...]  # copied, key attributes first
    columns: tuple[tuple[str, str], ...] = ()  # (attribute, Hive type) the WHERE compares
    where: str = ""  # the filter in Hive, as HiveCopyActivity's filterSql; "" copies every item
    source_properties: tuple[tuple[str, str], ...] = tuple(SOURCE_PROPERTIES.items())
    target_properties: tuple[tuple[str, str], ...] = tuple(TARGET_PROPERTIES.items())

    def __post_init__(self) -> None:
        check_names(self.attributes, self.columns)

    def render(self) -> str:
        pieces = ", ".join(f"concat('{name}', {KEY_VALUE}, {ITEM_COLUMN}['{name}'])" for name in self.attributes)
        insert = (f"INSERT OVERWRITE TABLE {TARGET_TABLE} SELECT str_to_map(concat_ws({PAIRS}, {pieces}), {PAIRS}, {KEY_VALUE}) "
                  f"FROM {SOURCE_TABLE}" + (f" WHERE {self.where}" if self.where else ""))
        return render_script(self.columns, dict(self.source_properties), dict(self.target_properties), insert)


_PIECE = re.compile(rf"concat\('(?P<name>{ATTRIBUTE})', {re.escape(KEY_VALUE)}, {ITEM_COLUMN}\['(?P=name)'\]\)")
_INSERT = re.compile(rf"INSERT OVERWRITE TABLE {TARGET_TABLE} SELECT str_to_map\(concat_ws\({re.escape(PAIRS)}, (?P<pieces>.*?)\), "
                     rf"{re.escape(PAIRS)}, {re.escape(KEY_VALUE)}\) FROM {SOURCE_TABLE}(?: WHERE (?P<where>.+))?", re.DOTALL)


def read_script(script: str) -> ProjectionScript:
    """The projection a HiveActivity's ``hiveScript`` makes, or ``UnreadableScript`` naming what differs."""
    last, columns, source_properties, target_properties = read_tables(script, "an INSERT")
    insert = _INSERT.fullmatch(last)
    if insert is None:
        raise UnreadableScript(f"expected INSERT OVERWRITE TABLE {TARGET_TABLE} SELECT str_to_map(concat_ws(...)) FROM {SOURCE_TABLE}, "
                               f"found: {last[:80]}")
    attributes = read_names(re.split(r",\s*(?=concat\()", insert["pieces"]), _PIECE,
                            f"concat('<name>', {KEY_VALUE}, {ITEM_COLUMN}['<name>'])")
    try:
        return ProjectionScript(attributes=attributes, columns=columns, where=(insert["where"] or "").strip(),
                                source_properties=tuple(source_properties.items()), target_properties=tuple(target_properties.items()))
    except ValueError as error:
        raise UnreadableScript(str(error)) from None
