"""Builds the CDK app from context: environments -> stacks, cdk-nag on every synth.

Kept apart from ``app.py`` so tests build exactly what the CLI builds.
"""
from __future__ import annotations

from typing import Any, Mapping

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from .config import EnvironmentConfig, load_environments, select_environments
from .stacks.backup_stack import BackupStack


def plan(context: Mapping[str, Any]) -> list[EnvironmentConfig]:
    """The validated environments to synthesize; raises ConfigError before anything is built."""
    return select_environments(load_environments(context), context.get("env"))


def build(app: cdk.App, environments: list[EnvironmentConfig]) -> dict[str, BackupStack]:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stacks = {}
    for config in environments:
        stacks[config.name] = BackupStack(
            app,
            config.stack_name,
            config=config,
            env=cdk.Environment(account=config.account, region=config.region),
            description=f"DynamoDB exports and restores with AWS Data Pipeline ({config.name})",
        )
    return stacks
