"""The two DynamoDB tables a Hive script of this project declares (``hive_projection``, ``hive_verify``):
``ddb_source``, the item column (``map<string,string>``: every attribute as the JSON of its value, the
connector's ``HiveDynamoDBItemType``) and the typed columns a WHERE compares, each mapped to its attribute
by ``dynamodb.column.mapping`` from its Hive name (lower case, as Hive keeps names); ``ddb_target``, the
item column alone. Both are external tables of the connector's storage handler, whose TBLPROPERTIES name
the table, its region and the share of its capacity the job may use (``DynamoDBStorageHandler``).

Each script begins the same way (``PREAMBLE``): Hive keeps a table it created for the cluster's life (its
metastore is on the master node), and a cluster runs the copy, then the count, and each again on a retry,
so every script drops both names first; a DROP of an external table leaves the DynamoDB table alone (the
storage handler's drop hooks do nothing). It also turns off the automatic map join, which would load a
whole table into memory when Hive, having no size for a storage handler's table, guesses it small.

The readers accept only what the writers here write, so a script read back is one this project made.
"""
from __future__ import annotations

import re

STORAGE_HANDLER = "org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler"
ITEM_COLUMN = "ddb_item"
ITEM_TYPE = "map<string,string>"
SOURCE_TABLE, TARGET_TABLE = "ddb_source", "ddb_target"
ATTRIBUTE = r"[A-Za-z_][A-Za-z0-9_]*"
HIVE_TYPES = ("string", "double")
PREAMBLE = ("SET hive.auto.convert.join=false", f"DROP TABLE IF EXISTS {SOURCE_TABLE}", f"DROP TABLE IF EXISTS {TARGET_TABLE}")
THROUGHPUT_KEYS = ("dynamodb.throughput.read.percent", "dynamodb.throughput.write.percent")

_CREATE = re.compile(r"CREATE EXTERNAL TABLE (?P<table>\w+) \((?P<columns>[^()]*)\) STORED BY '(?P<handler>[^']*)' "
                     r"TBLPROPERTIES \((?P<properties>.*)\)", re.DOTALL)
_PROPERTY = re.compile(r'"([^"]+)" = "([^"]*)"')
_COLUMN = re.compile(r"`(?P<name>[a-z_][a-z0-9_]*)` (?P<type>\w+)")


class UnreadableScript(ValueError):
    """A HiveActivity script that is not one this project writes."""


def check_names(attributes: tuple[str, ...], columns: tuple[tuple[str, str], ...]) -> None:
    """Names a script can hold as they are (letters, digits, _), each once; column names distinct in lower case."""
    for name in (*attributes, *(column for column, _ in columns)):
        if not re.fullmatch(ATTRIBUTE, name):
            raise ValueError(f"attribute '{name}': letters, digits and _ only, not starting with a digit")
    if not attributes or len(set(attributes)) != len(attributes):
        raise ValueError(f"attributes {list(attributes)}: at least one, each once")
    lower = [column.lower() for column, _ in columns]
    if ITEM_COLUMN in lower or len(set(lower)) != len(lower):
        raise ValueError(f"filter columns {[c for c, _ in columns]}: Hive folds names to lower case, so no two may "
                         f"differ only in case, and none may be {ITEM_COLUMN}")
    if any(hive_type not in HIVE_TYPES for _, hive_type in columns):
        raise ValueError(f"filter column types {[t for _, t in columns]}: one of {', '.join(HIVE_TYPES)}")


def _create(table: str, columns: str, properties: dict[str, str]) -> str:
    listed = ", ".join(f'"{key}" = "{value}"' for key, value in properties.items())
    return f"CREATE EXTERNAL TABLE {table} ({columns}) STORED BY '{STORAGE_HANDLER}' TBLPROPERTIES ({listed})"


def source_table(columns: tuple[tuple[str, str], ...], properties: dict[str, str]) -> str:
    typed = ", ".join([f"{ITEM_COLUMN} {ITEM_TYPE}", *(f"`{name.lower()}` {kind}" for name, kind in columns)])
    if columns:
        properties = {**properties, "dynamodb.column.mapping": ",".join(f"{name.lower()}:{name}" for name, _ in columns)}
    return _create(SOURCE_TABLE, typed, properties)


def target_table(properties: dict[str, str]) -> str:
    return _create(TARGET_TABLE, f"{ITEM_COLUMN} {ITEM_TYPE}", properties)


def statements_of(script: str) -> list[str]:
    """The statements of a script as the writers here separate them: one per line, each ended by ';'."""
    return [s.strip() for s in script.strip().removesuffix(";").split(";\n")]


def _read(statement: str, name: str) -> tuple[list[str], dict[str, str]]:
    match = _CREATE.fullmatch(statement)
    if match is None or match["table"] != name or match["handler"] != STORAGE_HANDLER:
        raise UnreadableScript(f"expected CREATE EXTERNAL TABLE {name} (...) STORED BY '{STORAGE_HANDLER}' TBLPROPERTIES (...), "
                               f"found: {statement[:80]}")
    properties = dict(_PROPERTY.findall(match["properties"]))
    if _PROPERTY.sub("", match["properties"]).replace(",", "").strip():
        raise UnreadableScript(f"{name}: TBLPROPERTIES must be \"key\" = \"value\" pairs")
    named = {key for key in properties if key != "dynamodb.column.mapping"}
    throughput = [key for key in THROUGHPUT_KEYS if key in named]
    if len(throughput) != 1 or named != {"dynamodb.table.name", "dynamodb.region", *throughput} or not all(properties.values()):
        raise UnreadableScript(f"{name}: TBLPROPERTIES are dynamodb.table.name, dynamodb.region and one of {', '.join(THROUGHPUT_KEYS)} "
                               f"(and the column mapping), none empty; found {', '.join(sorted(properties)) or 'none'}")
    columns = [c.strip() for c in match["columns"].split(", ")]
    if columns[0] != f"{ITEM_COLUMN} {ITEM_TYPE}":
        raise UnreadableScript(f"{name} starts with the item column {ITEM_COLUMN} {ITEM_TYPE}")
    return columns[1:], properties


def read_source(statement: str) -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """(the typed columns as (attribute, Hive type), the other TBLPROPERTIES) of ``ddb_source``."""
    typed, properties = _read(statement, SOURCE_TABLE)
    mapping = properties.pop("dynamodb.column.mapping", "")
    pairs = [pair.split(":", 1) for pair in mapping.split(",")] if mapping else []
    attribute_of = {pair[0]: pair[1] for pair in pairs if len(pair) == 2}
    named = [column.split("`")[1] if column.count("`") == 2 else column for column in typed]
    if len(attribute_of) != len(pairs) or sorted(attribute_of) != sorted(named):
        raise UnreadableScript(f"{SOURCE_TABLE}: dynamodb.column.mapping {mapping!r} must map each typed column, and only those, "
                               "as <column>:<attribute>")
    columns = []
    for column in typed:
        found = _COLUMN.fullmatch(column)
        if found is None or found["name"] not in attribute_of or attribute_of[found["name"]].lower() != found["name"]:
            raise UnreadableScript(f"column {column!r} is not `<name>` <type> with a dynamodb.column.mapping to its attribute")
        columns.append((attribute_of[found["name"]], found["type"]))
    return tuple(columns), properties


def read_target(statement: str) -> dict[str, str]:
    """The TBLPROPERTIES of ``ddb_target`` (the item column only)."""
    typed, properties = _read(statement, TARGET_TABLE)
    if typed:
        raise UnreadableScript(f"{TARGET_TABLE} has the item column only, not {', '.join(typed)}")
    return properties


def render_script(columns: tuple[tuple[str, str], ...], source: dict[str, str], target: dict[str, str], statement: str) -> str:
    """The preamble, the two tables, then ``statement``: one per line, each ended by ';'."""
    return ";\n".join([*PREAMBLE, source_table(columns, source), target_table(target), statement]) + ";"


def read_tables(script: str, what: str) -> tuple[str, tuple[tuple[str, str], ...], dict[str, str], dict[str, str]]:
    """(the last statement, the source's typed columns, the source's and the target's TBLPROPERTIES)."""
    statements = statements_of(script)
    if len(statements) != len(PREAMBLE) + 3:
        raise UnreadableScript(f"expected {len(PREAMBLE) + 3} statements (the preamble, two tables and {what}), found {len(statements)}")
    if tuple(statements[:len(PREAMBLE)]) != PREAMBLE:
        raise UnreadableScript(f"expected the script to begin with {'; '.join(PREAMBLE)}")
    source, target, last = statements[len(PREAMBLE):]
    columns, source_properties = read_source(source)
    return last, columns, source_properties, read_target(target)


def read_names(parts: list[str], pattern: re.Pattern[str], shape: str) -> tuple[str, ...]:
    """The ``name`` group of each part, which must match ``pattern`` whole (``shape`` says how, for the error)."""
    names = []
    for part in (p.strip() for p in parts):
        found = pattern.fullmatch(part)
        if found is None:
            raise UnreadableScript(f"{part!r} is not {shape}")
        names.append(found["name"])
    return tuple(names)
