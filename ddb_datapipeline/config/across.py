"""Rules across environments: one environment per table in any account and region.

Each environment is checked on its own while it is parsed. Two environments can still reach the same
physical table: both declare it (the second deployment fails, or one stack's deletion takes the other's
table), one writes into a table the other declares (deploying or destroying one environment changes the
other's data), or both write into it (two pipelines overwrite each other's items). Reading is free: any
environment may export a table another one declares.

An environment without an account deploys wherever the credentials point, so it shares a place with every
environment of its region. The rules read the configuration as written: a local deploy (``-c local=true``)
moves every stack into one account, which can only add collisions between environments of one region.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .model import EnvironmentConfig
from .names import node_role_prefix
from .reader import ConfigError, refuse


@dataclass(frozen=True)
class Place:
    """Where an environment's tables and names live: its account and region. Two things meet when they are in one region
    and their accounts could be the same (an environment without an account shares every account of its region)."""

    environment: str
    account: str | None  # None: whichever account the credentials point at
    region: str

    def same_account_and_region(self, other: Place) -> bool:
        same_account = self.account is None or other.account is None or self.account == other.account
        return same_account and self.region == other.region

    def where_met(self, later: Place) -> str:
        """Where this and ``later`` meet, for a message, saying why when an environment names no account."""
        for place in (self, later):
            if place.account is None:
                return f"in {place.region} ({place.environment} names no account, so it shares every account there)"
        return f"in {later.region}, account {later.account}"


@dataclass(frozen=True)
class Claim(Place):
    """An environment's hold on a table: it declares it (``owner``), writes into it (``writer``), or both."""

    table: str
    owner: bool
    writer: bool
    path: str  # where the configuration names the table
    verb: str  # what the environment does to it, for the message

    def shares_place_with(self, other: Claim) -> bool:
        return self.same_account_and_region(other) and self.table == other.table


def claims(env: EnvironmentConfig) -> list[Claim]:
    """Every table the environment declares or writes, with the place it lives in."""
    found = []
    for table in env.tables:
        where = f"environments.{env.name}.tables[{table.name}]"
        if table.owned is not None:
            found.append(Claim(env.name, env.account, env.region, table.name, True, False, f"{where}.name", "declares"))
        restore = table.restore
        created = restore.create_target
        if table.native:
            continue  # no restore or copy on the native engine yet: it writes into no table
        found.append(
            Claim(
                env.name, env.account, env.region, restore.target_table, created, True,
                f"{where}.restore.target_table", "declares and restores into" if created else "restores into",
            )
        )
        for index, copy in enumerate(table.copies):
            found.append(
                Claim(
                    env.name, copy.account or env.account, copy.region, copy.target_table, copy.owned, True,
                    f"{where}.copies[{index}].target_table", "declares and copies into" if copy.owned else "copies into",
                )
            )
    return found


def _conflict(earlier: Claim, later: Claim) -> ConfigError:
    if earlier.owner and later.owner:
        rule = "each table declared by one environment only"
    elif earlier.writer and later.writer:
        rule = "one writer per table across environments"
    else:
        rule = "a table no other environment declares (another environment may only read it)"
    return refuse(later.path, later.table, f"{rule}: {earlier.path} already {earlier.verb} it {earlier.where_met(later)}")


def check_across_environments(environments: Mapping[str, EnvironmentConfig]) -> None:
    """The first table two environments both hold, as a ConfigError naming both places."""
    seen: dict[tuple[str, str], list[Claim]] = {}
    for env in environments.values():
        mine = claims(env)
        for claim in mine:
            for earlier in seen.get((claim.region, claim.table), []):
                if earlier.environment != claim.environment and earlier.shares_place_with(claim):
                    raise _conflict(earlier, claim)
        for claim in mine:
            seen.setdefault((claim.region, claim.table), []).append(claim)


def check_node_role_prefixes(environments: Mapping[str, EnvironmentConfig]) -> None:
    """Each environment's pipeline role passes the node roles of its own name prefix; in one account (IAM
    names are global to it) no prefix may start another's, or one environment could pass the other's roles."""
    seen: list[EnvironmentConfig] = []
    for env in environments.values():
        mine = node_role_prefix(env.name, env.region)
        for other in seen:
            theirs = node_role_prefix(other.name, other.region)
            same_account = env.account is None or other.account is None or env.account == other.account
            if same_account and (mine.startswith(theirs) or theirs.startswith(mine)):
                raise refuse(
                    f"environments.{env.name}", env.name,
                    f"an environment name whose node roles ({mine}*) are apart from environments.{other.name}'s ({theirs}*) in one account",
                )
        seen.append(env)
