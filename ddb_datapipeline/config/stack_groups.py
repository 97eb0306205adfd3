"""Which stack of its environment each table lives in.

A CloudFormation stack holds at most 500 resources and a 1 MB template, about 20-30 tables in this
project's shape, so a large environment spreads its tables over ``table_stacks`` stacks. A table's
stack depends on the table alone (a hash of its name, or the ``stack_group`` it states), never on the
other tables: adding or removing a table moves no other table, which would replace (or, retained, orphan)
its resources.

Changing ``table_stacks`` moves tables too, and how many depends on ``stack_assignment``:

- ``rendezvous`` (highest random weight): each table goes to the group among ``tables-01`` ..
  ``tables-NN`` whose weight, a SHA-256 of the table and the group, is highest. Raising N to N+1 moves
  only the tables whose weight for the new group beats their old winner, about 1 in N+1 and all of them
  into the new stack; lowering it moves only the removed stack's tables. For new environments.
- ``modulo``: the SHA-256 of the name modulo N, the only assignment before ``stack_assignment`` existed;
  a change of N moves most tables. Kept so that deployed environments keep their stacks.

An environment with more than one table stack must state which (``read_assignment``): a default could not
tell a deployed environment, which ``rendezvous`` would reshuffle, from a new one.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from .reader import ConfigError, Section

MAIN_GROUP = "main"  # the environment's own stack, which also holds the bucket, topic and roles
GROUP_NAME = r"[a-z][a-z0-9-]{0,11}"
GROUP_NAME_RULE = "1-12 characters of a-z 0-9 -, starting with a letter"
MAX_TABLE_STACKS = 99

RENDEZVOUS = "rendezvous"
MODULO = "modulo"
ASSIGNMENTS = (RENDEZVOUS, MODULO)


def table_group(index: int) -> str:
    """The group of the ``index``-th table stack, counted from 1: ``tables-01``."""
    return f"tables-{index:02d}"


def _digest(text: str) -> int:
    """The first 8 bytes of the SHA-256 of ``text``, big-endian: the same on every machine and Python run
    (unlike ``hash()``, which is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def rendezvous_weight(table: str, index: int) -> int:
    """The weight of table stack ``index`` for ``table``; the highest weight wins. A table name holds no
    ``/`` (DynamoDB allows a-z A-Z 0-9 _ - . only), so ``<table>/<group>`` names one pair only."""
    return _digest(f"{table}/{table_group(index)}")


def automatic_group(table: str, table_stacks: int, *, assignment: str | None) -> str:
    """The group of a table that states none: the environment's stack while it has one table stack (whatever
    the assignment), else one of ``tables-01`` .. ``tables-NN`` by ``assignment``."""
    if table_stacks == 1:
        return MAIN_GROUP
    if assignment == MODULO:
        return table_group(_digest(table) % table_stacks + 1)
    if assignment == RENDEZVOUS:
        # max() keeps the first of equal weights: the lower index wins a tie (as likely as a 64-bit collision)
        return table_group(max(range(1, table_stacks + 1), key=lambda index: rendezvous_weight(table, index)))
    raise ValueError(f"table_stacks {table_stacks} needs a stack_assignment of {', '.join(ASSIGNMENTS)}; got {assignment!r}")


def read_assignment(env: Section, table_stacks: int) -> str | None:
    """The environment's ``stack_assignment``, required once it has more than one table stack: without it an
    upgrade would have to guess between keeping a deployed environment's stacks (``modulo``) and the
    assignment that moves fewest tables later (``rendezvous``), and a wrong guess moves tables silently."""
    assignment: str | None = env.string("stack_assignment", None, choices=ASSIGNMENTS)
    if assignment is None and table_stacks > 1:
        raise ConfigError(
            f"{env.where('stack_assignment')}: missing with table_stacks {table_stacks} is not allowed; expected "
            f'"{MODULO}" (keeps every table in the stack it is deployed in today) or "{RENDEZVOUS}" (for a new '
            "environment: a later change of table_stacks moves only the tables it must)"
        )
    return assignment


def group_stack_name(environment_stack: str, group: str) -> str:
    return environment_stack if group == MAIN_GROUP else f"{environment_stack}-{group}"


def _fullest(groups: Iterable[str]) -> int:
    return max(Counter(groups).values(), default=0)


def table_stacks_needed(tables: list[str], fits: int, now: int, *, assignment: str) -> int | None:
    """The fewest table stacks, more than ``now``, whose hashed groups each hold at most ``fits`` of
    ``tables`` (those that state no stack_group); None if even the most allowed do not."""
    if assignment != RENDEZVOUS:
        for count in range(max(now + 1, 2), MAX_TABLE_STACKS + 1):
            if _fullest(automatic_group(table, count, assignment=assignment) for table in tables) <= fits:
                return count
        return None
    # Rendezvous, one count after the other: a table's winner among N+1 groups is its winner among N unless
    # group N+1 weighs more, so each count costs one hash a table instead of N+1.
    best = {table: (rendezvous_weight(table, 1), 1) for table in tables}
    for count in range(2, MAX_TABLE_STACKS + 1):
        for table in tables:
            weight = rendezvous_weight(table, count)
            if weight > best[table][0]:
                best[table] = (weight, count)
        if count > now and _fullest(str(index) for _weight, index in best.values()) <= fits:
            return count
    return None
