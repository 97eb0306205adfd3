"""Which stack of its environment each table lives in.

A CloudFormation stack holds at most 500 resources and a 1 MB template, about 20-30 tables in this
project's shape, so a large environment spreads its tables over ``table_stacks`` stacks. A table's
stack depends on the table alone (a hash of its name, or the ``stack_group`` it states), never on the
other tables: adding or removing a table moves no other table, which would replace (or, retained, orphan)
its resources. Changing ``table_stacks`` does move tables; docs/configuration.md says how to do that safely.
"""
from __future__ import annotations

import hashlib

MAIN_GROUP = "main"  # the environment's own stack, which also holds the bucket, topic and roles
GROUP_NAME = r"[a-z][a-z0-9-]{0,11}"
GROUP_NAME_RULE = "1-12 characters of a-z 0-9 -, starting with a letter"
MAX_TABLE_STACKS = 99


def automatic_group(table: str, table_stacks: int) -> str:
    """The group of a table that states none: the environment's stack while it has one table stack,
    else one of ``tables-01`` .. ``tables-NN`` by a hash of the table's name (stable across Python runs
    and machines, unlike ``hash()``)."""
    if table_stacks == 1:
        return MAIN_GROUP
    index = int.from_bytes(hashlib.sha256(table.encode()).digest()[:8], "big") % table_stacks
    return f"tables-{index + 1:02d}"


def group_stack_name(environment_stack: str, group: str) -> str:
    return environment_stack if group == MAIN_GROUP else f"{environment_stack}-{group}"


def table_stacks_needed(tables: list[str], fits: int, now: int) -> int | None:
    """The fewest table stacks, more than ``now``, whose hashed groups each hold at most ``fits`` of
    ``tables`` (those that state no stack_group); None if even the most allowed do not."""
    for count in range(max(now + 1, 2), MAX_TABLE_STACKS + 1):
        groups: dict[str, int] = {}
        for table in tables:
            group = automatic_group(table, count)
            groups[group] = groups.get(group, 0) + 1
        if max(groups.values(), default=0) <= fits:
            return count
    return None
