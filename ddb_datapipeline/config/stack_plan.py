"""What a change of ``table_stacks`` or ``stack_assignment`` would move, before anyone deploys it.

A table that moves is removed from one stack and declared in another. Its pipelines or state machines are
replaced (new ids, schedules start over), and a table it declares cannot be created by the new stack while
the old one still holds it (retained, it never lets go). The plan is computed by loading the configuration
twice, as written and with the planned fields, so it follows exactly the rules synth follows (stated
``stack_group``s included) and refuses a planned configuration the way synth would.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import load_environments
from .across import claims
from .model import EnvironmentConfig
from .reader import ConfigError
from .stack_groups import MAIN_GROUP, RENDEZVOUS, group_stack_name


@dataclass(frozen=True)
class Move:
    """One table that would change stacks, and the tables its stack declares for it."""

    table: str
    source: str  # its group now
    target: str  # its group planned
    declares: tuple[str, ...]  # the table, a created restore target, owned copy targets


@dataclass(frozen=True)
class StackPlan:
    now: EnvironmentConfig
    planned: EnvironmentConfig
    moves: tuple[Move, ...]

    @property
    def counts(self) -> tuple[tuple[str, int, int], ...]:
        """Each group of either configuration: its tables now and planned (main first, then by name)."""
        now = {group: len(tables) for group, tables in self.now.groups().items()}
        planned = {group: len(tables) for group, tables in self.planned.groups().items()}
        order = sorted(now.keys() | planned.keys(), key=lambda group: (group != MAIN_GROUP, group))
        return tuple((group, now.get(group, 0), planned.get(group, 0)) for group in order)

    def lines(self) -> list[str]:
        """The plan as a person reads it, with the lines to paste into cdk.json to keep every table where it is."""
        now, planned = self.now, self.planned
        path = f"environments.{now.name}"
        stack = now.stack_name
        change = (f"table_stacks {now.table_stacks} -> {planned.table_stacks}, stack_assignment "
                  f"{now.stack_assignment or '(none)'} -> {planned.stack_assignment or '(none)'}")
        changed = [f"{group} {a} -> {b}" for group, a, b in self.counts if a != b]
        fullest = max(self.counts, key=lambda count: count[2])  # the first of the fullest: limits bind on it
        out = [f"{now.name}: {change}",
               f"tables per stack, now -> planned: {', '.join(changed) or 'no change'}; "
               f"the fullest planned is {fullest[0]} with {fullest[2]}"]
        if not self.moves:
            return [*out, f"no table moves ({len(now.tables)} tables)", *self._settings(path)]
        out.append(f"{len(self.moves)} of {len(now.tables)} tables move (from-stack -> to-stack):")
        width = max(len(move.table) for move in self.moves)
        for move in self.moves:
            declared = f"  declares {', '.join(move.declares)}" if move.declares else ""
            out.append(f"  {move.table:<{width}}  {group_stack_name(stack, move.source)} -> "
                       f"{group_stack_name(stack, move.target)}{declared}")
        out.append(f"to keep them where they are, add each line to that table's object in {path}.tables:")
        out.extend(f'  {move.table:<{width}}  "stack_group": "{move.source}",' for move in self.moves)
        return [*out, *self._settings(path)]

    def _settings(self, path: str) -> list[str]:
        """The environment's fields to state for the plan, when they differ from what is stated."""
        now, planned = self.now, self.planned
        fields = []
        if planned.table_stacks != now.table_stacks:
            fields.append(f'"table_stacks": {planned.table_stacks},')
        if planned.stack_assignment != now.stack_assignment and planned.stack_assignment is not None:
            fields.append(f'"stack_assignment": "{planned.stack_assignment}",')
        return [f"and in {path}:", "  " + " ".join(fields)] if fields else []


def planned_context(context: Mapping[str, Any], environment: str, *, table_stacks: int,
                    assignment: str | None) -> dict[str, Any]:
    """``context`` with the environment's ``table_stacks`` (and ``stack_assignment``) replaced. Without an
    assignment, the one it states, else (once it has more than one table stack) rendezvous, the assignment a
    new split should take."""
    planned = copy.deepcopy(dict(context))
    raw = planned["environments"][environment]
    raw["table_stacks"] = table_stacks
    chosen = assignment or raw.get("stack_assignment") or (RENDEZVOUS if table_stacks > 1 else None)
    if chosen is not None:
        raw["stack_assignment"] = chosen
    return planned


def _declared(env: EnvironmentConfig) -> dict[str, tuple[str, ...]]:
    """The tables each source table's stacks declare (from the cross-environment claims, which name them)."""
    owned = [claim for claim in claims(env) if claim.owner]
    found: dict[str, tuple[str, ...]] = {}
    for table in env.tables:
        where = f"environments.{env.name}.tables[{table.name}]."
        found[table.name] = tuple(dict.fromkeys(claim.table for claim in owned if claim.path.startswith(where)))
    return found


def plan_stacks(context: Mapping[str, Any], environment: str, *, table_stacks: int, assignment: str | None) -> StackPlan:
    """The moves of one environment from its configuration to the planned one; a ConfigError when either is
    refused (the planned one names the planned field)."""
    environments = load_environments(context)
    if environment not in environments:
        raise ConfigError(f"--env: '{environment}' is not a configured environment; expected one of {', '.join(environments)}")
    now = environments[environment]
    planned = load_environments(planned_context(context, environment, table_stacks=table_stacks, assignment=assignment))[environment]
    groups = {table.name: table.stack_group for table in planned.tables}
    declared = _declared(now)
    moves = tuple(Move(table.name, table.stack_group, groups[table.name], declared[table.name])
                  for table in now.tables if groups[table.name] != table.stack_group)
    return StackPlan(now=now, planned=planned, moves=moves)
