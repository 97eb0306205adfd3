"""What a Data Pipeline copy moves, when it should not move the whole table: ``incremental`` (the items
changed since the previous run, by a timestamp attribute), ``filter`` (a predicate on attributes) and
``attribute_types`` (the DynamoDB type of an attribute the filter cannot infer) and ``attributes`` (copy
only these attributes of each item; the source's key attributes always) and ``verify`` (count the kept
items in the target after each run: ``definition/hive_verify.py``; on by default for an incremental copy
of an owned table, the one case where the count cannot miss by a race). Each mistake is refused in one
line here, before anything is synthesized.

``attributes`` needs the source's key schema (an owned table's), since the key attributes are always
copied; a copy with attributes runs a HiveActivity (``definition/hive_projection.py``), one without runs
HiveCopyActivity.
"""
from __future__ import annotations

import functools
import re

from ..definition.common import PipelineSettings, ScheduleSpec
from ..definition.emr import ClusterSpec
from ..definition.filters import BoolOp, Comparison, FilterError, InList, IsNull, Predicate, parse_filter
from ..definition.hive_copy import TIME_FORMAT_TYPES, TIME_FORMATS, CopySelection, HiveCopySpec, IncrementalWindow, build_hive_copy_definition
from ..definition.hive_rules import HIVE_RESERVED
from ..definition.hive_tables import ITEM_COLUMN
from ..definition.patterns import period_minutes_as_written as period_minutes
from ..definition.rules import MAX_FIELD_VALUE_BYTES, MAX_OBJECT_BYTES
from .reader import Section, printable, refuse

ATTRIBUTE_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,254}"
ATTRIBUTE_RULE = "an attribute name of letters, digits and _ (not starting with a digit), as Hive names columns"
ATTRIBUTES_RULE = "a list of one or more attribute names, such as [\"status\", \"total\"]"
SELECTING = ("incremental", "filter", "attribute_types", "attributes")
DEFAULT_OVERLAP = "15 minutes"


def copy_selection(section: Section, *, schedule: ScheduleSpec | None, cross_account: bool,
                   keys: tuple[str, ...] | None, key_types: tuple[tuple[str, str], ...] = ()) -> CopySelection | None:
    """The copy's selection, or None when it copies whole tables (the export/import pair). ``keys``: the
    source's key attributes, None for a table only referenced; ``key_types``: their DynamoDB types (S, N, B)."""
    if not any(section.has(key) for key in SELECTING):
        if section.has("verify") and section.raw["verify"] is not False:
            raise section.fail("verify", section.raw["verify"], "false or absent on a copy without incremental, filter or attributes "
                               "(a whole-table copy is not counted after its run)")
        section.allow(*SELECTING, "verify")
        return None
    if cross_account:
        key = next(key for key in SELECTING if section.has(key))
        raise section.fail(key, section.raw[key], f"no {key} on a copy into another account for now (the filtered copy's Hive "
                           "job writes the target by name, in the cluster's own account)")
    incremental = _incremental(section, schedule)
    declared = _attribute_types(section)
    text = section.string("filter", None, allowed="a filter such as \"status = 'active' and total > 0\"")
    unnamed = _unnamed_keys(keys)
    attributes = _attributes(section, keys, unnamed)
    verify = section.boolean("verify", incremental is not None and unnamed is None)
    if verify and unnamed is not None:
        raise section.fail("verify", True, f"false on a copy of {unnamed}: the count looks each item up in the target by key")
    try:
        row_filter = parse_filter(text) if text is not None else None
    except FilterError as error:
        raise section.fail("filter", text, str(error)) from None
    known = _agreed_types(section, row_filter, incremental, declared, dict(key_types))
    try:
        selection = CopySelection(row_filter=row_filter, incremental=incremental,
                                  attribute_types=known, attributes=attributes, verify_keys=keys if verify and keys and unnamed is None else ())
        selection.columns()  # the types every compared attribute needs, or the reason there are none
    except FilterError as error:
        raise section.fail("filter", text, str(error)) from None
    _check_field_sizes(section, selection, schedule)
    if not selection.attributes:  # a HiveCopyActivity: its generated table declares each compared attribute unquoted
        for name in selection.columns():
            if name.upper() in HIVE_RESERVED:
                window = incremental is not None and name == incremental.attribute
                raise section.fail("incremental" if window else "filter", section.raw["incremental"] if window else text,
                                   f"no attribute named '{name}', a Hive reserved keyword, on a copy of whole items: HiveCopyActivity "
                                   "declares it unquoted in the table it generates and Hive fails to parse that; give attributes "
                                   "(a script that quotes names) to copy with it")
    return selection


def _incremental(section: Section, schedule: ScheduleSpec | None) -> IncrementalWindow | None:
    if not section.has("incremental"):
        section.allow("incremental")
        return None
    if schedule is None:
        raise section.fail("incremental", section.raw["incremental"],
                           "a copy with a schedule: each run copies what changed since the previous scheduled run")
    part = section.section("incremental")
    attribute = part.string("attribute", pattern=ATTRIBUTE_NAME, allowed=ATTRIBUTE_RULE)
    time_format = part.string("format", choices=TIME_FORMATS)
    overlap = part.string("overlap", DEFAULT_OVERLAP)
    minutes, period = period_minutes(overlap), period_minutes(schedule.period) or 0
    if minutes is None or minutes >= period:
        raise part.fail("overlap", overlap, f"a period shorter than the schedule's {schedule.period}, in minutes, hours or days")
    part.finish()
    return IncrementalWindow(attribute=attribute, time_format=time_format, overlap_minutes=minutes)


def _unnamed_keys(keys: tuple[str, ...] | None) -> str | None:
    """Why the Hive scripts cannot name the source's key attributes (None when they can): a referenced table's
    key is not known here, and a Hive script holds only names of letters, digits and _."""
    if keys is None:
        return "a referenced table (its key schema is not known here)"
    odd = [key for key in keys if not _is_attribute(key)]
    return f"a table keyed '{printable(odd[0])}' (a Hive script names attributes of letters, digits and _ only)" if odd else None


def _attributes(section: Section, keys: tuple[str, ...] | None, unnamed: str | None) -> tuple[str, ...]:
    """The attributes to copy, the key attributes first (added when not listed)."""
    if not section.has("attributes"):
        section.allow("attributes")
        return ()
    names = section.raw["attributes"]
    if not isinstance(names, list) or not names:
        raise section.fail("attributes", names, ATTRIBUTES_RULE)
    for index, name in enumerate(names):
        if not isinstance(name, str) or not _is_attribute(name):
            raise section.fail(f"attributes[{index}]", name, ATTRIBUTE_RULE)
        if name in names[:index]:
            raise section.fail(f"attributes[{index}]", name, f"each attribute once (attributes[{names.index(name)}] is the same)")
    if keys is None or unnamed is not None:
        raise section.fail("attributes", names, f"no attributes on a copy of {unnamed}: the key attributes are always copied")
    section.allow("attributes")
    return (*keys, *(name for name in names if name not in keys))


def _attribute_types(section: Section) -> tuple[tuple[str, str], ...]:
    if not section.has("attribute_types"):
        section.allow("attribute_types")
        return ()
    part = section.section("attribute_types")
    found = tuple((name, part.string(name, choices=("S", "N"))) for name in part.raw)
    for name, _ in found:
        if not _is_attribute(name):
            raise part.fail(name, name, ATTRIBUTE_RULE)
    part.finish()
    return found


def _is_attribute(name: str) -> bool:
    return re.fullmatch(ATTRIBUTE_NAME, name) is not None


TYPE_NAMES = {"S": "a string", "N": "a number", "B": "binary"}


def _compared(predicate: Predicate) -> dict[str, list[str | object]]:
    """Each attribute the filter names -> the values it is compared with (none for IS NULL)."""
    found: dict[str, list[str | object]] = {}
    if isinstance(predicate, BoolOp):
        for part in predicate.parts:
            for name, values in _compared(part).items():
                found.setdefault(name, []).extend(values)
    elif isinstance(predicate, Comparison):
        found.setdefault(predicate.attribute, []).append(predicate.value)
    elif isinstance(predicate, InList):
        found.setdefault(predicate.attribute, []).extend(predicate.values)
    elif isinstance(predicate, IsNull):
        found.setdefault(predicate.attribute, [])
    return found


def _agreed_types(section: Section, row_filter: Predicate | None, incremental: IncrementalWindow | None,
                  declared: tuple[tuple[str, str], ...], key_types: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The types the filter's columns take, after refusing every pair of facts that cannot both hold: a key's type
    (the table's key schema) against a declared type, a value the filter compares it with, or the incremental
    window's format; a declared type against the window's format; and a declared type nothing uses. Returns the
    declared types with the types of the keys the filter names (a key tested only with IS NULL needs no declaration)."""
    compared = _compared(row_filter) if row_filter is not None else {}
    where = section.where("filter")
    for name in [*compared, *([incremental.attribute] if incremental else [])]:
        if name.lower() == ITEM_COLUMN:
            field = "incremental" if incremental is not None and name == incremental.attribute and name not in compared else "filter"
            raise refuse(section.where(field), section.raw[field], f"no attribute named '{name}': the copy's Hive scripts name the "
                         f"whole item {ITEM_COLUMN}")
    declared_map = dict(declared)
    for name, key_type in key_types.items():
        if name in declared_map and declared_map[name] != key_type:
            raise refuse(f"{section.where('attribute_types')}.{printable(name)}", declared_map[name],
                         f"{key_type}, the type of the table's key '{printable(name)}' (owned.*_key.type), or no declaration")
        if name in compared:
            if key_type == "B":
                raise refuse(where, section.raw["filter"], f"a filter that does not name the binary key '{printable(name)}' (a filter "
                             "compares strings and numbers only)")
            for value in compared[name]:
                found = "S" if isinstance(value, str) else "N"
                if found != key_type:
                    raise refuse(where, section.raw["filter"], f"'{printable(name)}', a key of type {key_type} ({TYPE_NAMES[key_type]}), "
                                 f"compared with {TYPE_NAMES[key_type]} only (the filter compares it with {TYPE_NAMES[found]})")
        if incremental is not None and incremental.attribute == name:
            wanted = TIME_FORMAT_TYPES[incremental.time_format]
            if key_type != wanted:
                raise refuse(f"{section.where('incremental')}.format", incremental.time_format,
                             f"a format whose type is the key's: '{printable(name)}' is a key of type {key_type} ({TYPE_NAMES[key_type]}), "
                             f"while {incremental.time_format} reads {TYPE_NAMES[wanted]} "
                             + ("(iso8601 reads a string)" if key_type == "S" else "(epoch_seconds reads a number)" if key_type == "N"
                                else "(a binary attribute holds no time)"))
    if incremental is not None and incremental.attribute in declared_map:
        wanted = TIME_FORMAT_TYPES[incremental.time_format]
        if declared_map[incremental.attribute] != wanted:
            raise refuse(f"{section.where('attribute_types')}.{printable(incremental.attribute)}", declared_map[incremental.attribute],
                         f"{wanted}, the type incremental.format {incremental.time_format} reads, or no declaration")
    for name in declared_map:
        if name not in compared and (incremental is None or name != incremental.attribute):
            raise refuse(f"{section.where('attribute_types')}.{printable(name)}", declared_map[name],
                         "a type for an attribute the filter names (nothing reads this declaration: is the name mistyped?)")
    for name, key_type in key_types.items():
        if name in compared and name not in declared_map:
            declared_map[name] = key_type
    return tuple(declared_map.items())


# Stand-ins for what the stack fills in: only the fields the selection writes (filterSql, the Hive script) grow with it.
_SIZING_SETTINGS = PipelineSettings("us-east-1", "role", "profile", "s3://bucket/logs/", "arn:aws:sns:us-east-1:111111111111:alerts")


def _check_field_sizes(section: Section, selection: CopySelection, schedule: ScheduleSpec | None) -> None:
    """The copy's definition as the stack builds it, measured against Data Pipeline's limits on a field value and on
    an object (definition/rules.py), so that a long filter is refused at ``filter`` in one line instead of by the
    definition validator at synth, in the words of a pipeline object's field."""
    field = "filter" if section.has("filter") else "incremental" if section.has("incremental") else "attributes"
    # repr in the key: equal selections can render differently (Decimal("1.0") == Decimal("1"), but the Hive SQL
    # writes 1.0 and 1), so only a selection written the same way shares a measurement.
    excess = _excess(repr((selection, schedule)), selection, schedule)
    if excess is None:
        return
    object_id, key, size = excess
    if key is not None:
        raise section.fail(field, section.raw[field], f"a {field} that fits Data Pipeline's {MAX_FIELD_VALUE_BYTES:,} bytes per "
                           f"field value (the copy's {object_id}.{key} would hold {size:,} bytes); split the copy or shorten it")
    raise section.fail(field, section.raw[field], f"a {field} that fits Data Pipeline's {MAX_OBJECT_BYTES:,} bytes per object "
                       f"(the copy's {object_id} would hold {size:,} bytes); split the copy or shorten it")


@functools.lru_cache(maxsize=1024)
def _excess(written: str, selection: CopySelection, schedule: ScheduleSpec | None) -> tuple[str, str | None, int] | None:
    """The first field value (object id, key, bytes) or object (object id, None, bytes) of the copy's definition
    over Data Pipeline's limits, or None. Cached: building the definition is most of the cost of reading a copy
    with a selection, and a configuration (and every check that reads it again: plan, estimate, the CLI's check,
    the app) names the same selections over and over. ``written`` is the selection's repr, the exact cache key."""
    del written  # only part of the cache key
    spec = HiveCopySpec(source_table_name="source", target_table="target", target_region="us-east-1", read_ratio=0.25,
                        write_ratio=0.5, cluster=ClusterSpec(), selection=selection, schedule=schedule)
    for obj in build_hive_copy_definition(spec, _SIZING_SETTINGS).objects:
        total = 0
        for item in obj.fields:
            size = len(item.value.encode())
            total += size + len(item.key.encode())
            if size > MAX_FIELD_VALUE_BYTES:
                return obj.id, item.key, size
        if total > MAX_OBJECT_BYTES:
            return obj.id, None, total
    return None
