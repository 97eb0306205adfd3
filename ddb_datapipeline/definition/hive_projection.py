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
  delimiters are the control characters U+0002 and U+0003, written as Hive's octal escapes
  (``BaseSemanticAnalyzer.unescapeSQLString``); the connector's JSON escapes every control character, and
  attribute names here are letters, digits and ``_``, so neither delimiter occurs in a name or a value;
- the key attributes are always copied, so no item is empty;
- the columns the filter compares are declared beside the item column with a ``dynamodb.column.mapping``
  from the Hive name (lower case, as Hive keeps it) to the attribute; the connector fills both from the
  same item (``DynamoDBObjectInspector``).

``stage`` is false: the script declares its own tables, with the table, region and throughput share of the
activity's input and output nodes (``#{input.tableName}`` and so on), and Data Pipeline creates none.

``read_script`` reads a script back, accepting only what ``ProjectionScript.render`` writes; the validator,
the review and the local runner use it, so none of them guesses at Hive.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

STORAGE_HANDLER = "org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler"
ITEM_COLUMN = "ddb_item"
SOURCE_TABLE, TARGET_TABLE = "ddb_source", "ddb_target"
PAIRS, KEY_VALUE = r"'\002'", r"'\003'"  # Hive string literals of U+0002 and U+0003
ATTRIBUTE = r"[A-Za-z_][A-Za-z0-9_]*"
HIVE_TYPES = ("string", "double")
SOURCE_PROPERTIES = {"dynamodb.table.name": "#{input.tableName}", "dynamodb.region": "#{input.region}",
                     "dynamodb.throughput.read.percent": "#{input.readThroughputPercent}"}
TARGET_PROPERTIES = {"dynamodb.table.name": "#{output.tableName}", "dynamodb.region": "#{output.region}",
                     "dynamodb.throughput.write.percent": "#{output.writeThroughputPercent}"}


class UnreadableScript(ValueError):
    """A HiveActivity script that is not one ``ProjectionScript.render`` writes."""


@dataclass(frozen=True)
class ProjectionScript:
    attributes: tuple[str, ...]  # copied, key attributes first
    columns: tuple[tuple[str, str], ...] = ()  # (attribute, Hive type) the WHERE compares
    where: str = ""  # the filter in Hive, as HiveCopyActivity's filterSql; "" copies every item
    source_properties: tuple[tuple[str, str], ...] = tuple(SOURCE_PROPERTIES.items())
    target_properties: tuple[tuple[str, str], ...] = tuple(TARGET_PROPERTIES.items())

    def __post_init__(self) -> None:
        for name in (*self.attributes, *(column for column, _ in self.columns)):
            if not re.fullmatch(ATTRIBUTE, name):
                raise ValueError(f"attribute '{name}': letters, digits and _ only, not starting with a digit")
        if not self.attributes or len(set(self.attributes)) != len(self.attributes):
            raise ValueError(f"attributes {list(self.attributes)}: at least one, each once")
        lower = [column.lower() for column, _ in self.columns]
        if ITEM_COLUMN in lower or len(set(lower)) != len(lower):
            raise ValueError(f"filter columns {[c for c, _ in self.columns]}: Hive folds names to lower case, so no two may "
                             f"differ only in case, and none may be {ITEM_COLUMN}")
        if any(hive_type not in HIVE_TYPES for _, hive_type in self.columns):
            raise ValueError(f"filter column types {[t for _, t in self.columns]}: one of {', '.join(HIVE_TYPES)}")

    def render(self) -> str:
        source_columns = ", ".join([f"{ITEM_COLUMN} map<string,string>", *(f"`{name.lower()}` {kind}" for name, kind in self.columns)])
        source_properties = dict(self.source_properties)
        if self.columns:
            source_properties["dynamodb.column.mapping"] = ",".join(f"{name.lower()}:{name}" for name, _ in self.columns)
        pieces = ", ".join(f"concat('{name}', {KEY_VALUE}, {ITEM_COLUMN}['{name}'])" for name in self.attributes)
        statements = [
            _create(SOURCE_TABLE, source_columns, source_properties),
            _create(TARGET_TABLE, f"{ITEM_COLUMN} map<string,string>", dict(self.target_properties)),
            f"INSERT OVERWRITE TABLE {TARGET_TABLE} SELECT str_to_map(concat_ws({PAIRS}, {pieces}), {PAIRS}, {KEY_VALUE}) "
            f"FROM {SOURCE_TABLE}" + (f" WHERE {self.where}" if self.where else ""),
        ]
        return ";\n".join(statements) + ";"


def _create(table: str, columns: str, properties: dict[str, str]) -> str:
    listed = ", ".join(f'"{key}" = "{value}"' for key, value in properties.items())
    return f"CREATE EXTERNAL TABLE {table} ({columns}) STORED BY '{STORAGE_HANDLER}' TBLPROPERTIES ({listed})"


_CREATE = re.compile(r"CREATE EXTERNAL TABLE (?P<table>\w+) \((?P<columns>[^()]*)\) STORED BY '(?P<handler>[^']*)' "
                     r"TBLPROPERTIES \((?P<properties>.*)\)", re.DOTALL)
_PROPERTY = re.compile(r'"([^"]+)" = "([^"]*)"')
_COLUMN = re.compile(r"`(?P<name>[a-z_][a-z0-9_]*)` (?P<type>\w+)")
_PIECE = re.compile(rf"concat\('(?P<name>{ATTRIBUTE})', {re.escape(KEY_VALUE)}, {ITEM_COLUMN}\['(?P=name)'\]\)")
_INSERT = re.compile(rf"INSERT OVERWRITE TABLE {TARGET_TABLE} SELECT str_to_map\(concat_ws\({re.escape(PAIRS)}, (?P<pieces>.*?)\), "
                     rf"{re.escape(PAIRS)}, {re.escape(KEY_VALUE)}\) FROM {SOURCE_TABLE}(?: WHERE (?P<where>.+))?", re.DOTALL)


def _table(statement: str, name: str) -> tuple[list[str], dict[str, str]]:
    match = _CREATE.fullmatch(statement)
    if match is None or match["table"] != name or match["handler"] != STORAGE_HANDLER:
        raise UnreadableScript(f"expected CREATE EXTERNAL TABLE {name} (...) STORED BY '{STORAGE_HANDLER}' TBLPROPERTIES (...), "
                               f"found: {statement[:80]}")
    properties = dict(_PROPERTY.findall(match["properties"]))
    if _PROPERTY.sub("", match["properties"]).replace(",", "").strip():
        raise UnreadableScript(f"{name}: TBLPROPERTIES must be \"key\" = \"value\" pairs")
    return [c.strip() for c in match["columns"].split(", ")], properties


def read_script(script: str) -> ProjectionScript:
    """The projection a HiveActivity's ``hiveScript`` makes, or ``UnreadableScript`` naming what differs."""
    statements = [s.strip() for s in script.strip().removesuffix(";").split(";\n")]
    if len(statements) != 3:
        raise UnreadableScript(f"expected three statements (two tables and an INSERT), found {len(statements)}")
    source_columns, source_properties = _table(statements[0], SOURCE_TABLE)
    target_columns, target_properties = _table(statements[1], TARGET_TABLE)
    if source_columns[0] != f"{ITEM_COLUMN} map<string,string>" or target_columns != [f"{ITEM_COLUMN} map<string,string>"]:
        raise UnreadableScript(f"both tables start with the item column {ITEM_COLUMN} map<string,string>; the target has no other")
    mapping = source_properties.pop("dynamodb.column.mapping", "")
    attribute_of = dict(pair.split(":", 1) for pair in mapping.split(",")) if mapping else {}
    columns = []
    for column in source_columns[1:]:
        found = _COLUMN.fullmatch(column)
        if found is None or found["name"] not in attribute_of or attribute_of[found["name"]].lower() != found["name"]:
            raise UnreadableScript(f"column {column!r} is not `<name>` <type> with a dynamodb.column.mapping to its attribute")
        columns.append((attribute_of[found["name"]], found["type"]))
    insert = _INSERT.fullmatch(statements[2])
    if insert is None:
        raise UnreadableScript(f"expected INSERT OVERWRITE TABLE {TARGET_TABLE} SELECT str_to_map(concat_ws(...)) FROM {SOURCE_TABLE}, "
                               f"found: {statements[2][:80]}")
    pieces = [p.strip() for p in re.split(r",\s*(?=concat\()", insert["pieces"])]
    attributes = []
    for piece in pieces:
        found = _PIECE.fullmatch(piece)
        if found is None:
            raise UnreadableScript(f"{piece!r} is not concat('<name>', {KEY_VALUE}, {ITEM_COLUMN}['<name>'])")
        attributes.append(found["name"])
    try:
        return ProjectionScript(attributes=tuple(attributes), columns=tuple(columns), where=(insert["where"] or "").strip(),
                                source_properties=tuple(source_properties.items()), target_properties=tuple(target_properties.items()))
    except ValueError as error:
        raise UnreadableScript(str(error)) from None
