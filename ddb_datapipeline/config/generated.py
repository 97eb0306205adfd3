"""Names the app generates, computed at load time and checked against the services' limits and against each other.

The native engine creates tables at run time under a prefix (a restore ``<target_prefix><suffix>``, a copy
``<target_prefix>-<export id>``, a drill's scratch table ``<table>-drill-<export id>``) and may create and delete
every table of that prefix; it names its state machines ``ddb-<environment>-<table>-native-<kind>``. None of
these names is in ``cdk.json``, so none was checked: a long prefix made a table name DynamoDB refuses on the
first run, and a prefix that starts a declared table's name (or another prefix) gave a role the right to delete
that table. Every name is placed in its account and region (an environment without an account shares every
account of its region, as in ``across.py``) and checked across all environments.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..definition.generated_names import DRILL_SUFFIX, MAX_NODE_ROLE_PREFIX, machine_name
from .across import Place, claims
from .model import EnvironmentConfig
from .names import node_role_prefix
from .reader import ConfigError, refuse

MAX_TABLE_NAME = 255  # DynamoDB's table name limit (CreateTable, TableName: 3-255 characters)
# An export id as DynamoDB writes it in an export ARN (table/<table>/export/<export id>): 14 digits of the export's
# time in milliseconds, '-', 8 hex digits. Source: DynamoDB export ARNs as the service returns them (moto writes
# the same form, tests/integration/test_moto_fixes.py); permissions/native_expand.py SAMPLE_EXPORT has this length.
EXPORT_ID_LENGTH = len("01700000000000-a1b2c3d4")


@dataclass(frozen=True)
class Name(Place):
    """One generated or declared name in its place."""

    name: str  # the name, or the prefix of a family of tables
    kind: str  # "table", "tables" (a prefix of tables created at run time) or "state machine"
    path: str  # the configuration field that makes it
    what: str  # for messages
    value: object  # the value at ``path``, for the message

    def shown(self) -> str:
        return f"{self.name}*" if self.kind == "tables" else self.name


def _families(env: EnvironmentConfig) -> list[Name]:
    """The native engine's prefixes of tables created at run time, each checked for length here."""
    found = []
    for table in env.tables:
        if not table.native:
            continue
        where = f"environments.{env.name}.tables[{table.name}]"
        restore = table.restore
        if restore.target_prefix is not None:
            if len(restore.target_prefix) >= MAX_TABLE_NAME:
                raise refuse(f"{where}.restore.target_prefix", restore.target_prefix,
                             f"at most {MAX_TABLE_NAME - 1} characters (a restore names its table <target_prefix><suffix>, and "
                             f"DynamoDB table names have at most {MAX_TABLE_NAME})")
            found.append(Name(env.name, env.account, env.region, restore.target_prefix, "tables", f"{where}.restore.target_prefix",
                              "restore tables", restore.target_prefix))
        if restore.drill is not None:
            prefix = f"{table.name}{DRILL_SUFFIX}"
            if len(prefix) + EXPORT_ID_LENGTH > MAX_TABLE_NAME:
                raise refuse(f"{where}.restore.drill", restore.drill,
                             f"no drill on a table whose name has more than {MAX_TABLE_NAME - EXPORT_ID_LENGTH - len(DRILL_SUFFIX)} "
                             f"characters (this one has {len(table.name)}): the drill's scratch table <table>{DRILL_SUFFIX}<export id> "
                             f"has {len(prefix) + EXPORT_ID_LENGTH}, over DynamoDB's {MAX_TABLE_NAME}")
            found.append(Name(env.name, env.account, env.region, prefix, "tables", f"{where}.restore.drill", "drill scratch tables",
                              restore.drill))
        for index, copy in enumerate(table.copies):
            if copy.target_prefix is None:
                continue
            prefix = f"{copy.target_prefix}-"
            if len(prefix) + EXPORT_ID_LENGTH > MAX_TABLE_NAME:
                raise refuse(f"{where}.copies[{index}].target_prefix", copy.target_prefix,
                             f"at most {MAX_TABLE_NAME - EXPORT_ID_LENGTH - 1} characters (each run creates <target_prefix>-<export id>, "
                             f"{EXPORT_ID_LENGTH} characters more, and DynamoDB table names have at most {MAX_TABLE_NAME})")
            found.append(Name(env.name, copy.account or env.account, copy.region, prefix, "tables",
                              f"{where}.copies[{index}].target_prefix", "copy tables", copy.target_prefix))
    return found


def _machines(env: EnvironmentConfig) -> list[Name]:
    found = []
    for table in env.tables:
        if not table.native:
            continue
        where = f"environments.{env.name}.tables[{table.name}]"
        kinds: list[tuple[str, str, object]] = [("export", f"{where}.name", table.name), ("restore", f"{where}.name", table.name)]
        if table.export.incremental is not None:
            kinds.append(("incremental", f"{where}.export.incremental", table.export.incremental))
        if table.restore.drill is not None:
            kinds.append(("drill", f"{where}.restore.drill", table.restore.drill))
        for kind, path, value in kinds:
            found.append(Name(env.name, env.account, env.region, machine_name(env.name, table.name, kind), "state machine", path,
                              f"{kind} state machine", value))
        for index, copy in enumerate(table.copies):
            if copy.target_prefix is None:
                continue
            path = f"{where}.copies[{index}].target_prefix"
            found.append(Name(env.name, env.account, env.region, machine_name(env.name, table.name, f"copy-{copy.target_prefix}"),
                              "state machine", path, "copy state machine", copy.target_prefix))
            if copy.cross_account or copy.region != env.region:
                found.append(Name(env.name, copy.account or env.account, copy.region,
                                  machine_name(env.name, table.name, f"copy-{copy.target_prefix}-import"), "state machine", path,
                                  "copy import state machine", copy.target_prefix))
    return found


def _tables(env: EnvironmentConfig) -> list[Name]:
    """Every table the environment reads, declares or writes (across.claims), exactly named."""
    declared = {claim.path for claim in claims(env)}
    read = [Name(env.name, env.account, env.region, table.name, "table", f"environments.{env.name}.tables[{table.name}].name",
                 "table it exports", table.name)
            for table in env.tables if f"environments.{env.name}.tables[{table.name}].name" not in declared]
    return read + [Name(env.name, claim.account, claim.region, claim.table, "table", claim.path, f"table it {claim.verb}", claim.table)
                   for claim in claims(env)]


def _covers(family: Name, other: Name) -> bool:
    """The family's prefix takes in the other name: a prefix that starts with it, or a table a run could name (one
    longer than the prefix: a run always adds a suffix or an export id; a table named as the prefix itself, as the
    documented move from Data Pipeline has for ``<table>-restore``, is never created by a run)."""
    if family.kind != "tables" or not other.name.startswith(family.name):
        return False
    return other.kind == "tables" or (other.kind == "table" and other.name != family.name)


def _clash(earlier: Name, later: Name) -> ConfigError | None:
    """Why ``later`` cannot be beside ``earlier`` in one place (said at ``later``'s field), or None."""
    if earlier.path == later.path:
        return None
    if later.kind == "state machine" and earlier.kind == "state machine" and later.name == earlier.name:
        rule = f"a value whose state machine ({later.name}) is named apart from"
    elif _covers(later, earlier) or _covers(earlier, later):
        rule = f"a value whose {later.what} ({later.shown()}) and the right to create and delete them stay apart from" \
            if later.kind == "tables" else "a table outside the run-time tables of"
    else:
        return None
    return refuse(later.path, later.value, f"{rule} {earlier.path}'s {earlier.what} ({earlier.shown()}) {earlier.where_met(later)}")


def check_generated_names(environments: Mapping[str, EnvironmentConfig]) -> None:
    """Lengths within the services' limits (raised while collecting), then the first two names of one place that
    collide: two state machines of one name, or a prefix of run-time tables that covers a declared or written
    table or another prefix."""
    seen: list[Name] = []
    for env in environments.values():
        _check_node_role_prefix(env)
        for name in [*_tables(env), *_families(env), *_machines(env)]:
            for earlier in seen:
                if earlier.same_account_and_region(name) and (error := _clash(earlier, name)) is not None:
                    raise error
            seen.append(name)


def _check_node_role_prefix(env: EnvironmentConfig) -> None:
    """An environment with a Data Pipeline table names its node roles ddb-<environment>-<region>-nodes-...: a name of
    legal length (20) in a region of 14 characters (ap-northeast-1) passed the 44 characters the prefix may have."""
    prefix = node_role_prefix(env.name, env.region)
    if len(prefix) > MAX_NODE_ROLE_PREFIX and any(not table.native for table in env.tables):
        longest = MAX_NODE_ROLE_PREFIX - len(node_role_prefix("", env.region))
        raise refuse(f"environments.{env.name}", env.name,
                     f"an environment name of at most {longest} characters in {env.region} with Data Pipeline tables (its node roles "
                     f"are named {prefix}..., and IAM's 64 characters leave {MAX_NODE_ROLE_PREFIX} for that prefix)")
