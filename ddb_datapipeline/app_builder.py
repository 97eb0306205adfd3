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

# Deploy to a local emulator (``-c local=true``, set only by ``make deploy-local``): every stack targets
# moto's one account and is synthesized without the bootstrap-version rule, whose SSM lookup breaks
# stack updates in moto. Never set by ``make synth``, so nothing of it reaches a real deployment.
LOCAL_CONTEXT_KEY = "local"
LOCAL_ACCOUNT = "123456789012"


def plan(context: Mapping[str, Any]) -> list[EnvironmentConfig]:
    """The validated environments to synthesize; raises ConfigError before anything is built."""
    return select_environments(load_environments(context), context.get("env"))


def is_local(app: cdk.App) -> bool:
    """``-c local=true`` arrives as the string "true"; a test may pass a real boolean."""
    value = app.node.try_get_context(LOCAL_CONTEXT_KEY)
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"))


def _deployment(app: cdk.App, account: str | None, region: str) -> dict[str, Any]:
    """``env`` (and, for a local deploy, ``synthesizer``) of a stack."""
    if not is_local(app):
        return {"env": cdk.Environment(account=account, region=region)}
    return {
        "env": cdk.Environment(account=LOCAL_ACCOUNT, region=region),
        "synthesizer": cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
    }


def build(app: cdk.App, environments: list[EnvironmentConfig]) -> dict[str, BackupStack]:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stacks = {}
    for config in environments:
        stack = BackupStack(
            app,
            config.stack_name,
            config=config,
            **_deployment(app, config.account, config.region),
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
                **_deployment(app, first.account or config.account, first.region),
                description=f"Targets of DynamoDB copies from {config.stack_name}",
            )
        )
    return built
