"""Parsing of an environment's tables: ownership, export, restore and copies, and the rules
that span tables (one writer per table)."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime

from ..definition.common import ScheduleSpec
from ..definition.emr_catalog import region_release_rule
from ..definition.generated_names import NATIVE_GIVE_UP_MINUTES
from ..definition.patterns import (
    ACCOUNT,
    MAX_TABLES_PER_ENVIRONMENT,
    MIN_LATE_AFTER_MINUTES,
    TABLE_NAME,
    TABLE_NAME_RULE,
    date_time_as_written,
    output_key,
)
from ..definition.patterns import period_minutes_as_written as period_minutes
from ..definition.periods import (
    INCREMENTAL_MAX_MINUTES,
    INCREMENTAL_MIN_MINUTES,
    MINIMUM_SCHEDULE_MINUTES,
    PERIOD_UNITS,
    START_AT_FIRST_ACTIVATION,
    is_monthly,
)
from .model import DATAPIPELINE, ENGINES, NATIVE, CopyConfig, ExportConfig, KeyAttribute, OwnedTable, RestoreConfig, TableConfig
from .reader import ConfigError, Section, printable, refuse
from .regions import region_rule
from .selection import copy_selection
from .stack_groups import GROUP_NAME, GROUP_NAME_RULE, automatic_group

GIB = 1024**3
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit
MAX_SIZE_GIB = 1_000_000.0  # a petabyte-scale table: beyond that a number is a typo, not a table
MAX_ITEM_COUNT = 10**15
START_RULE = f"{START_AT_FIRST_ACTIVATION} or a UTC time YYYY-MM-DDTHH:MM:SS on a date of the calendar"


def _key(section: Section, key: str, *, required: bool) -> KeyAttribute | None:
    if not required and not section.has(key):
        section.allow(key)
        return None
    attribute = section.section(key)
    name = attribute.string("name", allowed="an attribute name of 1-255 bytes")
    if not 1 <= len(name.encode("utf-8")) <= 255:  # DynamoDB counts a key attribute's name in UTF-8 bytes
        raise attribute.fail("name", name, "an attribute name of 1-255 bytes")
    result = KeyAttribute(name=name, type=attribute.string("type", choices=("S", "N", "B")))
    attribute.finish()
    return result


def _owned(section: Section) -> OwnedTable:
    billing = section.string("billing_mode", "PAY_PER_REQUEST", choices=("PAY_PER_REQUEST", "PROVISIONED"))
    provisioned = billing == "PROVISIONED"
    capacities = []
    for key in ("read_capacity", "write_capacity"):
        if provisioned:
            capacities.append(section.integer(key, minimum=1, maximum=40000))
        elif section.has(key):
            raise section.fail(key, section.raw[key], "no capacity with billing_mode PAY_PER_REQUEST")
        else:
            section.allow(key)
            capacities.append(None)
    partition_key = _key(section, "partition_key", required=True)
    sort_key = _key(section, "sort_key", required=False)
    if partition_key is not None and sort_key is not None and sort_key.name == partition_key.name:
        raise refuse(f"{section.where('sort_key')}.name", sort_key.name, "a name other than the partition key's")
    owned = OwnedTable(
        partition_key=partition_key,  # type: ignore[arg-type]
        sort_key=sort_key,
        billing_mode=billing,
        read_capacity=capacities[0],
        write_capacity=capacities[1],
        point_in_time_recovery=section.boolean("point_in_time_recovery", True),
        encryption=section.string(
            "encryption", "CUSTOMER_MANAGED", choices=("CUSTOMER_MANAGED", "AWS_MANAGED", "AWS_OWNED")
        ),
        stream=section.string(
            "stream", None, choices=("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
        ),
    )
    section.finish()
    return owned


def _schedule(section: Section, default: str, *, native: bool = False) -> ScheduleSpec | None:
    """``ondemand`` (None) or a recurring schedule with its start. ``native``: an export's state machine, which
    gives up waiting after NATIVE_GIVE_UP_MINUTES, so a late_after as long never alarms."""
    period = section.string("schedule", default)
    if period == "ondemand":
        for key in ("start", "late_after"):
            if section.has(key):
                raise section.fail(key, section.raw[key], f"no {key} with schedule 'ondemand'")
        section.allow("start", "late_after")
        return None
    if (period_minutes(period) or 0) < MINIMUM_SCHEDULE_MINUTES:
        raise section.fail("schedule", period, f"'ondemand' or a period of at least {MINIMUM_SCHEDULE_MINUTES} minutes in {PERIOD_UNITS}")
    start = section.string("start", START_AT_FIRST_ACTIVATION, allowed=START_RULE)
    if start != START_AT_FIRST_ACTIVATION and not (date_time_as_written(start) and _in_calendar(start)):
        raise section.fail("start", start, START_RULE)
    late_rule = f"a period of at least {MIN_LATE_AFTER_MINUTES} minutes in {PERIOD_UNITS}, or null"
    late_after = section.string("late_after", None, allowed=late_rule)
    if late_after is not None and (period_minutes(late_after) or 0) < MIN_LATE_AFTER_MINUTES:
        raise section.fail("late_after", late_after, late_rule)
    if late_after is not None and native and (period_minutes(late_after) or 0) >= NATIVE_GIVE_UP_MINUTES:
        raise section.fail("late_after", late_after, (
            f"a period shorter than {NATIVE_GIVE_UP_MINUTES // 60} hours on the native engine (its state machine gives up "
            f"waiting after {NATIVE_GIVE_UP_MINUTES // 60} hours and alarms then; a later late alarm would never come)"))
    return ScheduleSpec(period=period, start=start, late_after=late_after)


def _in_calendar(start: str) -> bool:
    """February 30 matches the pattern; the service would refuse the definition at activation. Whether
    the start is too far in the past is left to the service: synthesis reads no clock."""
    try:
        datetime.strptime(start, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def _ratio(section: Section, key: str, default: float) -> float:
    return section.number(key, default, minimum=0.1, maximum=1.0)


NATIVE_SCHEDULE_RULE = "a period in minutes, hours, days or weeks on the native engine (EventBridge Scheduler's rate())"
INCREMENTAL_RULE = "a period from 15 minutes to 24 hours (DynamoDB's incremental export window), or null"


def _export(section: Section, engine: str) -> ExportConfig:
    config = ExportConfig(
        schedule=_schedule(section, "1 day", native=engine == NATIVE),
        read_ratio=_ratio(section, "read_ratio", 0.25),
        compress=section.boolean("compress", True),
        incremental=_incremental(section, engine),
    )
    section.finish()
    return config


def _incremental(section: Section, engine: str) -> str | None:
    period = section.string("incremental", None, allowed=INCREMENTAL_RULE)
    if period is None:
        return None
    if engine != NATIVE:
        raise section.fail("incremental", period, "no incremental on the datapipeline engine (DynamoDB's incremental "
                                                  "export is the native engine's; set engine: native on the table)")
    minutes = period_minutes(period)
    if minutes is None or not INCREMENTAL_MIN_MINUTES <= minutes <= INCREMENTAL_MAX_MINUTES:
        raise section.fail("incremental", period, INCREMENTAL_RULE)
    return str(period)


def _restore(section: Section, *, source: str, owned: bool) -> RestoreConfig:
    if section.has("drill"):
        raise section.fail("drill", section.raw["drill"], "engine: native for a restore drill (a Data Pipeline definition cannot "
                           "find the latest export folder without a script on the cluster)")
    target = section.string("target_table", f"{source}-restore", pattern=TABLE_NAME, allowed=TABLE_NAME_RULE)
    if not re.fullmatch(TABLE_NAME, target):  # the default for a source name near the length limit
        raise section.fail("target_table", target, f"{TABLE_NAME_RULE}; name the restore target explicitly")
    allow = section.boolean("allow_into_source", False)
    if target == source and not allow:
        raise section.fail(
            "target_table", target, "a table other than the source (set allow_into_source: true to restore into it)"
        )
    create = section.boolean("create_target", owned and target != source)
    if create and not owned:
        raise section.fail("create_target", True, "false for a table this stack does not own (its key schema is unknown)")
    if create and target == source:
        raise section.fail("create_target", True, "false when restoring into the source table")
    config = RestoreConfig(
        target_table=target,
        write_ratio=_ratio(section, "write_ratio", 0.5),
        allow_into_source=allow,
        create_target=create,
    )
    section.finish()
    return config


def _key_names(owned: OwnedTable | None) -> tuple[str, ...] | None:
    if owned is None:
        return None
    return (owned.partition_key.name, *([owned.sort_key.name] if owned.sort_key else []))


def _copy_account(section: Section, account: str | None) -> tuple[str | None, bool]:
    """A copy's target account, and whether it is another than the environment's."""
    target_account = section.string("account", None, pattern=ACCOUNT, allowed="a 12-digit AWS account id")
    cross_account = target_account is not None and target_account != account
    if cross_account and account is None:
        raise section.fail("account", target_account, "no account for a copy from an environment without an account (set environments.<env>.account)")
    return target_account, cross_account


def _key_types(owned: OwnedTable | None) -> tuple[tuple[str, str], ...]:
    """The source's key attributes with their DynamoDB types (S, N or B); none for a referenced table."""
    if owned is None:
        return ()
    return tuple((key.name, key.type) for key in (owned.partition_key, owned.sort_key) if key is not None)


def _copy(section: Section, *, source: str, keys: tuple[str, ...] | None, account: str | None, region: str, release: str,
          key_types: tuple[tuple[str, str], ...] = ()) -> CopyConfig:
    owned = keys is not None
    target = section.string("target_table", pattern=TABLE_NAME, allowed=TABLE_NAME_RULE)
    target_region = section.string("region", region, allowed="an AWS region such as eu-west-1")
    # The import runs on a cluster in the target's region, so that region must offer the release too.
    if rule := region_rule(target_region, pipelines=False) or region_release_rule(target_region, release):
        raise section.fail("region", target_region, rule)
    target_account, cross_account = _copy_account(section, account)
    if target == source and target_region == region and not cross_account:
        raise section.fail("target_table", target, "a table other than its own source (a different name, region or account)")
    target_owned = section.boolean("owned", False)
    if target_owned and not owned:
        raise section.fail("owned", True, "false when the source table is not owned (its key schema is unknown)")
    if cross_account and not target_owned:
        raise section.fail(
            "owned", False, "true for a cross-account copy: the target's resource policy must admit this environment's role"
        )
    schedule = _schedule(section, "ondemand")
    copy = CopyConfig(
        target_table=target,
        region=target_region,
        account=target_account if cross_account else None,
        schedule=schedule,
        read_ratio=_ratio(section, "read_ratio", 0.25),
        write_ratio=_ratio(section, "write_ratio", 0.5),
        owned=target_owned,
        cross_account=cross_account,
        selection=copy_selection(section, schedule=schedule, cross_account=cross_account, keys=keys, key_types=key_types),
    )
    section.finish()
    return copy


def _table(section: Section, *, account: str | None, region: str, release: str, table_stacks: int, stack_assignment: str | None,
           engine: str = DATAPIPELINE) -> TableConfig:
    name = section.string("name", pattern=TABLE_NAME, allowed=TABLE_NAME_RULE)
    engine = section.string("engine", engine, choices=ENGINES)
    if engine == NATIVE:
        _check_native(section)
    group = section.string("stack_group", None, pattern=GROUP_NAME, allowed=GROUP_NAME_RULE) or automatic_group(
        name, table_stacks, assignment=stack_assignment)
    owned = _owned(section.section("owned")) if section.has("owned") else None
    section.allow("owned")
    table = TableConfig(
        name=name,
        owned=owned,
        export=_export(section.section("export"), engine),
        # A native table has no restore pipeline yet, so it creates no restore target either.
        restore=(_native_restore(section.section("restore"), source=name, owned=owned is not None) if engine == NATIVE
                 else _restore(section.section("restore"), source=name, owned=owned is not None)),
        copies=tuple(
            _native_copy(Section(raw, f"{section.where('copies')}[{index}]"), source=name, owned=owned is not None, region=region,
                         account=account)
            if engine == NATIVE else
            _copy(
                Section(raw, f"{section.where('copies')}[{index}]"),
                source=name, keys=_key_names(owned), account=account, region=region, release=release, key_types=_key_types(owned),
            )
            for index, raw in enumerate(section.items("copies", []))
        ),
        size_gib=_size_gib(section),
        item_count=section.integer("item_count", None, minimum=1, maximum=MAX_ITEM_COUNT),
        stack_group=group,
        engine=engine,
    )
    if table.size_gib is not None and table.item_count is not None:
        # DynamoDB's item limit is 400 KB: more bytes per item means one of the two facts is wrong.
        if table.size_gib * GIB / table.item_count > MAX_ITEM_BYTES:
            raise section.fail(
                "item_count", table.item_count, f"at least {math.ceil(table.size_gib * GIB / MAX_ITEM_BYTES)} items for "
                f"size_gib {table.size_gib:g} (DynamoDB items are at most 400 KB)"
            )
    section.finish()
    return table


NATIVE_RESTORE_RULE = ("only target_prefix and drill on the native engine: a native restore always creates a new table, "
                       "named <target_prefix><suffix> when it is started")
DRILL_RULE = "a period of at least 1 hour in minutes, hours, days or weeks (how often the latest export is restored and counted)"


def _native_restore(section: Section, *, source: str, owned: bool) -> RestoreConfig:
    """A native restore is started by hand into a new table: only the prefix of its name is configured,
    and optionally a restore drill's period."""
    for key in ("target_table", "write_ratio", "allow_into_source", "create_target"):
        if section.has(key):
            raise section.fail(key, section.raw[key], NATIVE_RESTORE_RULE)
    prefix = section.string("target_prefix", f"{source}-restore", pattern=TABLE_NAME, allowed=TABLE_NAME_RULE)
    if prefix == source or source.startswith(prefix):
        raise section.fail("target_prefix", prefix, f"a prefix that no name of the source table '{source}' starts with")
    drill = section.string("drill", None, allowed=DRILL_RULE)
    if drill is not None:
        if not owned:
            raise section.fail("drill", drill, "an owned table (the drill's scratch table repeats the source's key schema)")
        if (period_minutes(drill) or 0) < 60 or is_monthly(drill):
            raise section.fail("drill", drill, DRILL_RULE)
        if prefix.startswith(f"{source}-drill-"):
            raise section.fail("target_prefix", prefix, f"a prefix apart from the drill's scratch tables {source}-drill-*")
    section.finish()
    return RestoreConfig(target_table=prefix, write_ratio=0.5, allow_into_source=False, create_target=False, target_prefix=prefix,
                         drill=drill)


NATIVE_COPY_RULE = "target_prefix on the native engine: each copy run creates a new table <target_prefix>-<export id>"
NATIVE_COPY_NOT_HERE = {
    "target_table": NATIVE_COPY_RULE,
    "owned": NATIVE_COPY_RULE + ", created by the import, not declared by a stack",
    "read_ratio": "no read_ratio on the native engine (an export from point-in-time recovery reads no capacity)",
    "write_ratio": "no write_ratio on the native engine (an import writes a new table at the service's own pace)",
    **{key: f"no {key} on the native engine (each run imports a whole export; a filtered or incremental copy runs on engine: "
            "datapipeline)" for key in ("incremental", "filter", "attribute_types", "attributes", "verify")},
}


def _native_copy(section: Section, *, source: str, owned: bool, region: str, account: str | None) -> CopyConfig:
    """A native copy exports and imports into a new table on each run, in the source's account or another
    one (the import then runs as a role there), in the source's region or another one (the import then runs
    in a state machine of that region, started by an event: Step Functions calls DynamoDB in its own region
    only, without a Lambda function)."""
    for key, rule in NATIVE_COPY_NOT_HERE.items():
        if section.has(key):
            raise section.fail(key, section.raw[key], rule)
    if not owned:
        raise section.fail("target_prefix", section.raw.get("target_prefix"),
                           "a copy of an owned table on the native engine (the import repeats the source's key schema, "
                           "which this project knows for the tables it declares)")
    prefix = section.string("target_prefix", pattern=TABLE_NAME, allowed=TABLE_NAME_RULE)
    if source.startswith(prefix):
        raise section.fail("target_prefix", prefix, f"a prefix that the source table's name '{source}' does not start with")
    target_region = section.string("region", region, allowed="an AWS region such as eu-west-1")
    if unknown := region_rule(target_region, pipelines=False):
        raise section.fail("region", target_region, unknown)
    if target_region != region and account is None:
        # The import runs in the target region, started by an event that names resources there.
        raise section.fail("region", target_region, f"the source's region {region} for a copy from an environment without an "
                           "account (set environments.<env>.account to copy into another region)")
    target_account, cross_account = _copy_account(section, account)
    if section.has("late_after"):
        # The copy's machine passes no late alarm to its export (constructs/native_copy.py): the value would do nothing.
        raise section.fail("late_after", section.raw["late_after"], f"no late_after on a native copy (its state machine alarms when "
                           f"the copy fails, or when it gives up waiting after {NATIVE_GIVE_UP_MINUTES // 60} hours)")
    schedule = _schedule(section, "ondemand", native=True)
    if schedule is not None and is_monthly(schedule.period):
        raise section.fail("schedule", schedule.period, NATIVE_SCHEDULE_RULE)
    copy = CopyConfig(target_table=prefix, region=target_region, account=target_account if cross_account else None, schedule=schedule,
                      read_ratio=0.25, write_ratio=0.5, owned=False, cross_account=cross_account, target_prefix=prefix)
    section.finish()
    return copy


def _check_native(section: Section) -> None:
    """Before the table's sections are read: what the native engine cannot do yet, or what means nothing
    to it, each refused in one line."""
    raw_export = section.raw.get("export")
    export: Mapping[str, object] = raw_export if isinstance(raw_export, Mapping) else {}
    where = section.where("export")
    if "read_ratio" in export:
        raise refuse(f"{where}.read_ratio", export["read_ratio"],
                     "no read_ratio on the native engine (an export from point-in-time recovery reads no capacity)")
    if export.get("compress") is False:
        raise refuse(f"{where}.compress", False, "true on the native engine (DynamoDB's export always writes gzip)")
    schedule = export.get("schedule")
    if isinstance(schedule, str) and is_monthly(schedule):
        raise refuse(f"{where}.schedule", schedule, NATIVE_SCHEDULE_RULE)
    raw_owned = section.raw.get("owned")
    owned: Mapping[str, object] = raw_owned if isinstance(raw_owned, Mapping) else {}
    if owned.get("point_in_time_recovery") is False:
        raise refuse(f"{section.where('owned')}.point_in_time_recovery", False, "true on the native engine (it exports from point-in-time recovery)")


def _size_gib(section: Section) -> float | None:
    """The table's size in GiB as DescribeTable reports it (TableSizeBytes / 2**30); optional."""
    if not section.has("size_gib"):
        section.allow("size_gib")
        return None
    size = section.raw["size_gib"]
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= MAX_SIZE_GIB:
        raise section.fail("size_gib", size, f"a number of GiB above 0 and at most {MAX_SIZE_GIB:,.0f}")
    section.allow("size_gib")
    return float(size)


def parse_tables(env: Section, *, account: str | None, region: str, release: str, table_stacks: int = 1,
                 stack_assignment: str | None = None, engine: str = DATAPIPELINE) -> tuple[TableConfig, ...]:
    """The environment's tables; ``release`` is the EMR release its clusters run (copy targets' regions must offer it)."""
    raw_tables = env.items("tables")
    if not 1 <= len(raw_tables) <= MAX_TABLES_PER_ENVIRONMENT:
        raise ConfigError(
            f"{env.where('tables')}: {len(raw_tables)} tables is not allowed; expected 1 to {MAX_TABLES_PER_ENVIRONMENT} tables"
        )
    tables = []
    for index, raw in enumerate(raw_tables):
        label = printable(raw["name"]) if isinstance(raw, Mapping) and isinstance(raw.get("name"), str) else index
        tables.append(_table(Section(raw, f"{env.where('tables')}[{label}]"), account=account, region=region, release=release,
                             table_stacks=table_stacks, stack_assignment=stack_assignment, engine=engine))
    claimed: dict[str, str] = {}
    for table in tables:
        names = [(table.name, "table")]
        if table.restore.create_target:
            names.append((table.restore.target_table, "restore target"))
        for name, role in names:
            if name in claimed:
                raise ConfigError(
                    f"{env.where('tables')}[{table.name}]: {role} name '{name}' is already used as the "
                    f"{claimed[name]}; expected each table and created restore target to be unique"
                )
            claimed[name] = f"{role} of '{table.name}'" if role != "table" else "name of a table"
    keys: dict[str, str] = {}
    for table in tables:
        key = output_key(table.name)
        if key in keys:
            raise ConfigError(
                f"{env.where('tables')}[{table.name}].name: '{table.name}' is not allowed; expected a name that differs "
                f"from '{keys[key]}' in more than case and punctuation (both would name stack outputs '{key}...')"
            )
        keys[key] = table.name
    _check_copy_targets(env, tables, region)
    return tuple(tables)


def _check_copy_targets(env: Section, tables: list[TableConfig], region: str) -> None:
    """Two writers of one table would overwrite each other's items; a copy may not land on a table this
    environment creates for another purpose either (it may land on a table that is itself exported)."""
    created_here = {
        (None, region, name)
        for table in tables
        for name in ([table.name] if table.owned else []) + ([table.restore.target_table] if table.restore.create_target else [])
    }
    writers: dict[tuple[str | None, str, str], str] = {}
    copy_keys: dict[str, str] = {}
    for table in tables:
        # A native copy's machine and roles are named after its prefix, in any region it copies into.
        prefixes = [copy.target_prefix for copy in table.copies]
        for index, copy in enumerate(table.copies):
            field = "target_prefix" if copy.target_prefix is not None else "target_table"
            where = f"{env.where('tables')}[{table.name}].copies[{index}].{field}"
            target = (copy.account, copy.region, copy.target_table)
            if copy.target_prefix is not None and (target in writers or copy.target_prefix in prefixes[:index]
                                                   or copy.target_prefix == table.restore.target_prefix):
                raise ConfigError(
                    f"{where}: '{copy.target_prefix}' is not allowed; expected a prefix that no other copy or the restore "
                    f"of '{table.name}' names new tables with"
                )
            if target in writers:
                raise ConfigError(
                    f"{where}: '{copy.target_table}' in {copy.region} is already the target of {writers[target]}; "
                    "expected one writer per table"
                )
            if copy.owned and target in created_here:
                raise ConfigError(
                    f"{where}: '{copy.target_table}' is already declared in this environment; expected owned: false to copy into it"
                )
            writers[target] = f"a copy of '{table.name}'"
            key = output_key(f"{table.name} copy {copy.label}")
            if key in copy_keys:
                raise ConfigError(
                    f"{where}: '{copy.target_table}' is not allowed; expected a target that differs from "
                    f"'{copy_keys[key]}' in more than case and punctuation (both would name stack outputs '{key}...')"
                )
            copy_keys[key] = copy.target_table
    for table in tables:
        restore_target = (None, region, table.restore.target_table)
        if restore_target in writers:
            raise ConfigError(
                f"{env.where('tables')}[{table.name}].restore.target_table: '{table.restore.target_table}' is already "
                f"the target of {writers[restore_target]}; expected one writer per table"
            )
