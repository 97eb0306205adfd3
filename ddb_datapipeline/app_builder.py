"""Builds the CDK app from context: environments -> stacks, cdk-nag on every synth.

Kept apart from ``app.py`` so tests build exactly what the CLI builds.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api as cxapi
from cdk_nag import AwsSolutionsChecks

from . import limits
from .config import EnvironmentConfig
from .config.planning import Plan, plan
from .config.stack_groups import MAIN_GROUP, RENDEZVOUS, automatic_group, table_stacks_needed
from .stacks.backup_stack import BackupStack
from .stacks.delivery_stack import DeliveryStack
from .stacks.environment import build_environment
from .validation_plugin import DataPipelineChecks

__all__ = ["Plan", "build", "check_resource_counts", "check_synthesized", "plan", "stack_owners", "synthesize"]

# Deploy to a local emulator (``-c local=true``, set only by ``make deploy-local``): every stack targets
# moto's one account and is synthesized without the bootstrap-version rule, whose SSM lookup breaks
# stack updates in moto. Never set by ``make synth``, so nothing of it reaches a real deployment.
LOCAL_CONTEXT_KEY = "local"
LOCAL_ACCOUNT = "123456789012"


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


def advice(config: EnvironmentConfig, group: str | None) -> Callable[[int | None], str]:
    """What a team changes when a stack of the environment is over a limit: for a stack of hashed
    tables, the table_stacks that would fit them (computed from the table names)."""
    assignment = config.stack_assignment
    hashed = [table.name for table in config.tables
              if table.stack_group == automatic_group(table.name, config.table_stacks, assignment=assignment)]
    moving = f"now {config.table_stacks}; a change moves tables between stacks, see docs/configuration.md, \"Large environments\""

    def say(fits: int | None) -> str:
        if group is not None and group != MAIN_GROUP and not group.startswith("tables-"):
            return f"move tables out of stack_group {group}"
        # An environment of one table stack states no assignment yet; the count is the one of the assignment
        # docs/configuration.md recommends to a new one.
        needed = (table_stacks_needed(hashed, fits, config.table_stacks, assignment=assignment or RENDEZVOUS)
                  if fits is not None else None)
        if needed is not None:
            stated = "" if assignment else f' with stack_assignment "{RENDEZVOUS}"'
            return (f"set table_stacks to {needed} or more{stated} (now {config.table_stacks}; python -m ddb_datapipeline "
                    f"plan-stacks --env {config.name} --table-stacks {needed} lists the tables that would move) "
                    "or give tables a stack_group of their own")
        return f"raise table_stacks ({moving}) or give tables a stack_group of their own"

    return say


def stack_owners(stacks: dict[str, BackupStack]) -> dict[str, limits.StackOwner]:
    return {
        stack.stack_name: limits.StackOwner(name, tables, advice(backup.config, getattr(stack, "group", MAIN_GROUP)))
        for name, backup in stacks.items()
        for stack, tables in backup.stacks().items()
    }


def check_resource_counts(stacks: dict[str, BackupStack], limit: int | None = None) -> None:
    """Before the synth, on the construct tree: CDK itself stops a stack over 500 resources with a
    traceback while synthesizing it."""
    owners = stack_owners(stacks)
    for backup in stacks.values():
        for stack in backup.stacks():
            limits.check_resource_count(stack.stack_name, _own_resources(stack), owners[stack.stack_name], limit)


def _own_resources(stack: cdk.Stack) -> int:
    """The CloudFormation resources of ``stack`` itself, not those of a stack beneath it (a nested stack). Where no
    stack is beneath it, every resource found is its own: asking ``Stack.of`` for each (a round trip to the jsii Node
    process per resource, a few hundred per synth) would give the same count."""
    found = stack.node.find_all()
    resources = [c for c in found if isinstance(c, cdk.CfnResource)]
    if not any(isinstance(c, cdk.Stack) and c is not stack for c in found):
        return len(resources)
    return sum(1 for c in resources if cdk.Stack.of(c) is stack)


def check_synthesized(assembly: cxapi.CloudAssembly, stacks: dict[str, BackupStack]) -> None:
    """After the synth: template sizes and IAM policy sizes, which only the written templates show."""
    limits.check_stacks(Path(assembly.directory), stack_owners(stacks))


def build(app: cdk.App, plan: Plan, *, checks: DataPipelineChecks | bool = True) -> dict[str, BackupStack]:
    """The environment stacks (and their copy targets); the delivery stack too when it is configured,
    unless one environment is selected or the deploy is local (a pipeline is deployed to AWS only).

    cdk-nag and this project's own checks (``checks``: the runtime permission check, cluster isolation and the
    definition validator, run by CDK on the written templates) are the app's validation plugins: a denied runtime
    call fails the synth through CDK's validation report, as a cdk-nag finding does, with the same plugin a team
    adds to its own app. ``True`` (the default) registers one that prints no figures (``app.py`` passes one that does);
    the per-stack limits are left to ``check_resource_counts`` and ``check_synthesized``, whose messages name the
    configuration field. ``False`` registers none, for a caller that decides the calls itself: the 50-table scale
    test decides one table stack's, where the plugin on all 125 pipelines costs about 6 CPU-s (measured)."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    if checks is not False and not is_local(app):
        # A local deploy's assembly puts every stack in moto's one account (copies to another account land in the
        # same one), which is not what ships and which moto does not authorize anyway; the check judges the assembly
        # for AWS (make synth, the drill's AWS synth).
        plugin = checks if isinstance(checks, DataPipelineChecks) else DataPipelineChecks(summary=False, stack_limits=False)
        cdk.Validations.of(app).add_plugins(plugin)
    deployment = functools.partial(_deployment, app)
    stacks = {config.name: build_environment(app, config, deployment) for config in plan.environments}
    check_resource_counts(stacks)
    if plan.delivery is not None and not plan.selected and not is_local(app):
        DeliveryStack(
            app,
            plan.delivery.stack_name,
            delivery=plan.delivery,
            build_environment=build_environment,
            env=cdk.Environment(account=plan.delivery.account, region=plan.delivery.region),
            description="Delivery pipeline: tests, synthesizes and deploys the DynamoDB Data Pipeline environments",
        )
    return stacks


def in_process_app(*, context: Mapping[str, Any], outdir: str) -> cdk.App:
    """An App for a synth inside this process (the local deploy and drill, ``make scale``, the tests), without
    CDK's built-in CloudFormation template validation (aws-cdk-lib's ``builtinCloudFormationValidation``,
    the ``@aws/cloudformation-validate`` WASM engine): starting it costs about 3.4 CPU-s per process and it
    checks each template again, about 45% of such a synth, while its verdict only downgrades to warnings
    that these callers never read. The templates are the same byte for byte; ``make synth`` (the CDK CLI
    running ``app.py``) keeps the validation."""
    return cdk.App(context=dict(context), outdir=outdir, builtin_cloud_formation_validation=False)


def synthesize(app: cdk.App, context: Mapping[str, Any], *,
               checks: DataPipelineChecks | bool = True) -> tuple[cxapi.CloudAssembly, dict[str, BackupStack]]:
    """What ``app.py`` does under ``cdk synth``: plan, build, synthesize into the app's outdir, then the
    checks only written templates allow. Raises ConfigError (one line) on a configuration mistake."""
    stacks = build(app, plan(context), checks=checks)
    assembly = app.synth()
    check_synthesized(assembly, stacks)
    return assembly, stacks
