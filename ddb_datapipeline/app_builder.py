"""Builds the CDK app from context: environments -> stacks, cdk-nag on every synth.

Kept apart from ``app.py`` so tests build exactly what the CLI builds.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from .config import EnvironmentConfig, load_environments, select_environments
from .stacks import naming
from .stacks.backup_stack import BackupStack
from .stacks.copy_target_stack import CopyTarget, CopyTargetStack, SourceIdentity


def plan(context: Mapping[str, Any]) -> list[EnvironmentConfig]:
    """The validated environments to synthesize; raises ConfigError before anything is built."""
    return select_environments(load_environments(context), context.get("env"))


def build(app: cdk.App, environments: list[EnvironmentConfig]) -> dict[str, BackupStack]:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stacks = {}
    for config in environments:
        stack = BackupStack(
            app,
            config.stack_name,
            config=config,
            env=cdk.Environment(account=config.account, region=config.region),
            description=f"DynamoDB exports and restores with AWS Data Pipeline ({config.name})",
        )
        for target_stack in _copy_target_stacks(app, config):
            stack.add_dependency(target_stack, "copy targets exist before the first copy runs")
        stacks[config.name] = stack
    return stacks


def _copy_target_stacks(app: cdk.App, config: EnvironmentConfig) -> list[CopyTargetStack]:
    """One stack per other account or region that receives copies of this environment's tables."""
    groups: dict[str, list[CopyTarget]] = defaultdict(list)
    for table in config.tables:
        for copy in table.copies:
            if naming.needs_target_stack(config, copy):
                groups[naming.target_stack_name(config, copy)].append(CopyTarget(table.name, table.owned, copy))
    built = []
    for stack_name, targets in sorted(groups.items()):
        first = targets[0].copy
        cross_account = first.cross_account
        built.append(
            CopyTargetStack(
                app,
                stack_name,
                environment=config.name,
                targets=targets,
                retain=config.retain_data,
                log_retention_days=config.bucket.log_retention_days,
                source=SourceIdentity(config.account, naming.nodes_role_arn(config)) if cross_account and config.account else None,
                staging_bucket_name=naming.staging_bucket_name(config, first) if cross_account else None,
                env=cdk.Environment(account=first.account or config.account, region=first.region),
                description=f"Targets of DynamoDB copies from {config.stack_name}",
            )
        )
    return built
