"""All stacks of one environment: the environment stack, its table stacks, and the stacks that receive
their copies.

The same function builds them at the top of the app (workstation deploys) and inside a delivery
pipeline's stage, so both deploy exactly the same thing.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from ..config import EnvironmentConfig
from ..config.stack_groups import MAIN_GROUP, group_stack_name
from . import naming
from .backup_stack import BackupStack, TableStack
from .copy_target_stack import CopyTarget, CopyTargetStack, SourceIdentity

# env (and any synthesizer) for a stack of the given account and region.
Deployment = Callable[[str | None, str], dict[str, Any]]


def plain_deployment(account: str | None, region: str) -> dict[str, Any]:
    return {"env": cdk.Environment(account=account, region=region)}


def build_environment(scope: Construct, config: EnvironmentConfig, deployment: Deployment = plain_deployment) -> BackupStack:
    stack = BackupStack(
        scope,
        config.stack_name,
        config=config,
        stack_name=config.stack_name,
        description=f"DynamoDB exports, restores and copies with AWS Data Pipeline ({config.name})",
        **deployment(config.account, config.region),
    )
    for group in config.groups():
        holder: BackupStack | TableStack = stack
        if group != MAIN_GROUP:
            name = group_stack_name(config.stack_name, group)
            holder = TableStack(
                scope, name, environment=stack, group=group, stack_name=name,
                description=f"DynamoDB exports, restores and copies with AWS Data Pipeline ({config.name}, tables of {group})",
                **deployment(config.account, config.region),
            )
            stack.add_table_stack(holder)
        for target_stack in _copy_target_stacks(scope, config, group, deployment):
            holder.add_stack_dependency(target_stack, "copy targets exist before the first copy runs")
    return stack


def _copy_target_stacks(scope: Construct, config: EnvironmentConfig, group: str, deployment: Deployment) -> list[CopyTargetStack]:
    """One stack per other account or region that receives copies of one stack group's tables."""
    groups: dict[str, list[CopyTarget]] = defaultdict(list)
    for table in config.groups()[group]:
        for copy in table.copies:
            if naming.needs_target_stack(config, copy):
                native = naming.native_copy_role_names(config, table.name, copy) if copy.target_prefix is not None else None
                nodes = naming.copy_nodes_role_name(config, table.name, copy) if copy.cross_account and not native else None
                forward = naming.forward_rule_name(config, table.name, copy) if native and copy.region != config.region else None
                groups[naming.target_stack_name(config, copy, group)].append(CopyTarget(table.name, table.owned, copy, nodes, native, forward))
    built = []
    for stack_name, targets in sorted(groups.items()):
        first = targets[0].copy
        # A staging bucket where another account or a native import in another region reads the exports.
        staged = first.cross_account or any(target.forward_rule for target in targets)
        built.append(
            CopyTargetStack(
                scope,
                stack_name,
                stack_name=stack_name,
                environment=config.name,
                targets=targets,
                retain=config.retain_data,
                log_retention_days=config.bucket.log_retention_days,
                source=SourceIdentity(config.account, config.region) if staged and config.account else None,
                staging_bucket_name=naming.staging_bucket_name(config, first, group) if staged else None,
                copies_bus_name=naming.copy_bus_name(config, group),
                alert_emails=config.alerts.emails,
                description=f"Targets of DynamoDB copies from {config.stack_name}",
                **deployment(first.account or config.account, first.region),
            )
        )
    return built
