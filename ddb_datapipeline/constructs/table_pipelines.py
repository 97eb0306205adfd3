"""The export and the restore pipeline of one table, wired to the shared bucket, roles and topic."""
from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..definition.common import PipelineSettings, ScheduleSpec
from ..definition.emr import ClusterSpec
from ..definition.export import ExportSpec, build_export_definition
from ..definition.restore import RestoreSpec, build_restore_definition
from .data_pipeline import DataPipeline
from .export_bucket import ExportBucket
from .pipeline_roles import PipelineRoles

PIPELINE_NAME_PREFIX = "ddb"


def _settings(scope: Construct, *, roles: PipelineRoles, bucket: ExportBucket, topic: sns.ITopic, log_prefix: str) -> PipelineSettings:
    return PipelineSettings(
        region=Stack.of(scope).region,
        role=roles.pipeline_role.role_name,
        resource_role=roles.instance_profile.instance_profile_name,
        log_uri=bucket.uri(log_prefix) + "/",
        alarm_topic_arn=topic.topic_arn,
    )


def _tags(kind: str, table_name: str, environment: str) -> dict[str, str]:
    # dynamodbdatapipeline=true is the tag AWS's restricted-access setup keys its conditions on.
    return {"dynamodbdatapipeline": "true", "ddb-datapipeline:kind": kind, "ddb-datapipeline:table": table_name, "ddb-datapipeline:environment": environment}


def _wait_for_permissions(pipeline: DataPipeline, roles: PipelineRoles, own: list[iam.Policy]) -> None:
    """Activation uses the roles at once, so their policies must exist first (the roles themselves are
    already referenced by the definition)."""
    for policy in [*roles.shared_policies, *own]:
        pipeline.node.add_dependency(policy)
    for role in (roles.pipeline_role, roles.resource_role):
        default_policy = role.node.try_find_child("DefaultPolicy")
        if default_policy is not None:
            pipeline.node.add_dependency(default_policy)


class ExportPipeline(Construct):
    """Exports ``table`` into ``exports/<table>/<run time>/`` on a schedule, or on each activation.
    Activated on deploy: a scheduled export starts at its first period; an on-demand one runs once."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.ITable,
        table_name: str,
        environment: str,
        bucket: ExportBucket,
        roles: PipelineRoles,
        alert_topic: sns.ITopic,
        cluster: ClusterSpec,
        schedule: ScheduleSpec | None,
        read_ratio: float,
        compress: bool,
    ) -> None:
        super().__init__(scope, id)
        name = f"{PIPELINE_NAME_PREFIX}-{environment}-{table_name}-export"
        prefix = bucket.exports_prefix(table_name)
        log_prefix = bucket.logs_prefix(f"{table_name}-export")
        granted = roles.grant_export(id=id, table=table, prefix=prefix, log_prefix=log_prefix)
        spec = ExportSpec(
            table_name=table_name,
            output_uri=bucket.uri(prefix),
            read_ratio=read_ratio,
            cluster=cluster,
            schedule=schedule,
            compress=compress,
        )
        settings = _settings(self, roles=roles, bucket=bucket, topic=alert_topic, log_prefix=log_prefix)
        when = f"every {schedule.period}" if schedule else "on demand"
        self.pipeline = DataPipeline(
            self,
            "Pipeline",
            name_prefix=name,
            description=f"Exports DynamoDB table {table_name} to S3 {when}",
            definition=build_export_definition(spec, settings),
            activate=True,
            tags=_tags("export", table_name, environment),
        )
        _wait_for_permissions(self.pipeline, roles, granted)


class RestorePipeline(Construct):
    """Imports one export folder of ``source_table_name`` into ``target``; never activated on deploy."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        target: dynamodb.ITable,
        source_table_name: str,
        target_table_name: str,
        environment: str,
        bucket: ExportBucket,
        roles: PipelineRoles,
        alert_topic: sns.ITopic,
        cluster: ClusterSpec,
        write_ratio: float,
    ) -> None:
        super().__init__(scope, id)
        name = f"{PIPELINE_NAME_PREFIX}-{environment}-{source_table_name}-restore"
        prefix = bucket.exports_prefix(source_table_name)
        log_prefix = bucket.logs_prefix(f"{source_table_name}-restore")
        granted = roles.grant_restore(id=id, table=target, prefix=prefix, log_prefix=log_prefix)
        spec = RestoreSpec(
            source_table_name=source_table_name,
            target_table_name=target_table_name,
            exports_uri=bucket.uri(prefix),
            write_ratio=write_ratio,
            cluster=cluster,
        )
        settings = _settings(self, roles=roles, bucket=bucket, topic=alert_topic, log_prefix=log_prefix)
        self.pipeline = DataPipeline(
            self,
            "Pipeline",
            name_prefix=name,
            description=f"Restores an export of DynamoDB table {source_table_name} into {target_table_name}",
            definition=build_restore_definition(spec, settings),
            activate=False,
            tags=_tags("restore", source_table_name, environment),
        )
        _wait_for_permissions(self.pipeline, roles, granted)
