"""The whole configuration's checks, without the CDK: what ``app_builder.plan`` runs before synth, and what
``python -m ddb_datapipeline check`` runs alone (in about a second: importing the CDK starts a Node process).

Stack names are computed here as ``stacks/naming.py`` computes them (that module imports the constructs, and so
the CDK); tests/unit/test_config_check.py keeps the two equal on every environment of ``cdk.json``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import EnvironmentConfig, load_environments, select_environments
from .delivery import DeliveryConfig, load_delivery
from .estimates import check_durations
from .model import CopyConfig
from .quotas import check_pipeline_quotas
from .reader import refuse
from .stack_groups import MAIN_GROUP, group_stack_name


@dataclass(frozen=True)
class Plan:
    environments: list[EnvironmentConfig]
    delivery: DeliveryConfig | None
    selected: bool  # one environment chosen with -c env=NAME


def plan(context: Mapping[str, Any]) -> Plan:
    """The validated configuration to synthesize; raises ConfigError before anything is built."""
    environments = load_environments(context)
    delivery = load_delivery(context, environments)
    check_stack_names(environments, delivery)
    check_durations(environments.values())
    check_pipeline_quotas(environments.values())
    return Plan(
        environments=select_environments(environments, context.get("env")),
        delivery=delivery,
        selected=context.get("env") is not None,
    )


def target_stack_name(config: EnvironmentConfig, copy: CopyConfig, group: str = MAIN_GROUP) -> str:
    """The copy targets follow their source table's stack group: a group's copies land in its own stacks."""
    suffix = f"{copy.account}-{copy.region}" if copy.cross_account else copy.region
    return f"{group_stack_name(config.stack_name, group)}-copy-targets-{suffix}"


def needs_target_stack(config: EnvironmentConfig, copy: CopyConfig) -> bool:
    """Owned targets outside the source stack's region, native copies into another region, and every
    cross-account target."""
    return copy.cross_account or ((copy.owned or copy.target_prefix is not None) and copy.region != config.region)


def check_stack_names(environments: Mapping[str, EnvironmentConfig], delivery: DeliveryConfig | None) -> None:
    """Every stack the app can build has a name of its own: CDK refuses a second construct of one name
    with a traceback, and CloudFormation would merge two stacks of one name in an account and region.
    Checked on the whole configuration, whichever environment ``-c env`` selects."""
    owners: dict[str, str] = {}  # stack name -> the configuration path that makes it
    if delivery is not None:
        owners[delivery.stack_name] = "delivery"
    for env in environments.values():
        path = f"environments.{env.name}"
        names = {group_stack_name(env.stack_name, table.stack_group) for table in env.tables} | {env.stack_name} | {
            target_stack_name(env, copy, table.stack_group)
            for table in env.tables for copy in table.copies if needs_target_stack(env, copy)
        }
        for name in sorted(names):
            if name in owners and owners[name] != path:
                raise refuse(
                    path, env.name, f"an environment name whose stacks are named apart from the app's other stacks ({owners[name]} makes the stack {name})"
                )
        owners.update((name, path) for name in names)
