"""The export, restore and copy pipelines of one table, wired to the shared bucket, roles and topic."""
from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..definition.common import PipelineSettings, ScheduleSpec
from ..definition.copy import CopySpec, build_copy_definition
from ..definition.emr import ClusterSpec
from ..definition.export import ExportSpec, build_export_definition
from ..definition.model import PipelineDefinition
from ..definition.restore import RestoreSpec, build_restore_definition
from .data_pipeline import DataPipeline
from .export_bucket import COPIES_PREFIX, ExportBucket
from .pipeline_roles import BATCH_WRITE, EXPORT_WRITES, LOG_WRITES, READS, SCAN, NodeRole, PipelineRoles, PrefixAccess, TableRef

PIPELINE_NAME_PREFIX = "ddb"


def copy_staging_prefix(table_name: str, label: str) -> str:
    """The folder of a copy's staging runs, in this stack's bucket or the target account's."""
    return f"{COPIES_PREFIX}/{table_name}-to-{label}"
SERVICE_LOG_ACCESS = ("s3:GetObject", "s3:PutObject")


class _TablePipeline(Construct):
    """What the three kinds share: a log prefix, settings, tags, and waiting for the permissions."""

    kind = ""

    def __init__(self, scope: Construct, id: str, *, table_name: str, environment: str, bucket: ExportBucket, roles: PipelineRoles, alert_topic: sns.ITopic, log_name: str, nodes_role_name: str | None = None) -> None:
        super().__init__(scope, id)
        self.table_name = table_name
        self.environment = environment
        self.bucket = bucket
        self.roles = roles
        self.log_prefix = bucket.logs_prefix(log_name)
        # This pipeline's own cluster identity: nothing another pipeline's nodes may use.
        self.nodes: NodeRole = roles.add_node_role(
            f"{id}NodeRole", description=f"EMR nodes of the {self.kind} pipeline {log_name}", role_name=nodes_role_name
        )
        self.settings = PipelineSettings(
            region=Stack.of(self).region,
            role=roles.pipeline_role.role_name,
            resource_role=self.nodes.instance_profile.instance_profile_name,
            log_uri=bucket.uri(self.log_prefix) + "/",
            alarm_topic_arn=alert_topic.topic_arn,
        )
        self.name_prefix = f"{PIPELINE_NAME_PREFIX}-{environment}-{log_name}"

    def _declare(self, *, description: str, definition: PipelineDefinition, activate: bool, granted: list[iam.Policy]) -> None:
        self.pipeline = DataPipeline(
            self,
            "Pipeline",
            name_prefix=self.name_prefix,
            description=description,
            definition=definition,
            activate=activate,
            # dynamodbdatapipeline=true is the tag AWS's restricted-access setup keys its conditions on.
            tags={
                "dynamodbdatapipeline": "true",
                "ddb-datapipeline:kind": self.kind,
                "ddb-datapipeline:table": self.table_name,
                "ddb-datapipeline:environment": self.environment,
            },
        )
        # Activation uses the roles at once, so their policies must exist first.
        for policy in [*self.roles.shared_policies, *granted]:
            self.pipeline.node.add_dependency(policy)

    def _logs(self) -> tuple[PrefixAccess, PrefixAccess]:
        """Node-side and service-side access to this pipeline's log prefix."""
        return self.roles.bucket_prefix(self.log_prefix, LOG_WRITES), self.roles.bucket_prefix(self.log_prefix, SERVICE_LOG_ACCESS)


class ExportPipeline(_TablePipeline):
    """Exports ``table`` into ``exports/<table>/<run time>/`` on a schedule, or on each activation.
    Activated on deploy: a scheduled export starts at its first period; an on-demand one runs once."""

    kind = "export"

    def __init__(self, scope: Construct, id: str, *, table: TableRef, table_name: str, environment: str, bucket: ExportBucket, roles: PipelineRoles, alert_topic: sns.ITopic, cluster: ClusterSpec, schedule: ScheduleSpec | None, read_ratio: float, compress: bool) -> None:
        super().__init__(scope, id, table_name=table_name, environment=environment, bucket=bucket, roles=roles, alert_topic=alert_topic, log_name=f"{table_name}-export")
        prefix = bucket.exports_prefix(table_name)
        node_logs, service_logs = self._logs()
        granted = roles.grant_pipeline(
            id,
            nodes=self.nodes,
            tables=[(table, SCAN)],
            node_prefixes=[roles.bucket_prefix(prefix, EXPORT_WRITES, emrfs_writes=True), node_logs],
            service_prefixes=[service_logs],
        )
        spec = ExportSpec(table_name=table_name, output_uri=bucket.uri(prefix), read_ratio=read_ratio, cluster=cluster, schedule=schedule, compress=compress)
        when = f"every {schedule.period}" if schedule else "on demand"
        self._declare(
            description=f"Exports DynamoDB table {table_name} to S3 {when}",
            definition=build_export_definition(spec, self.settings),
            activate=True,
            granted=granted,
        )


class RestorePipeline(_TablePipeline):
    """Imports one export folder of ``table_name`` into ``target``; never activated on deploy."""

    kind = "restore"

    def __init__(self, scope: Construct, id: str, *, target: TableRef, table_name: str, target_table_name: str, environment: str, bucket: ExportBucket, roles: PipelineRoles, alert_topic: sns.ITopic, cluster: ClusterSpec, write_ratio: float) -> None:
        super().__init__(scope, id, table_name=table_name, environment=environment, bucket=bucket, roles=roles, alert_topic=alert_topic, log_name=f"{table_name}-restore")
        prefix = bucket.exports_prefix(table_name)
        node_logs, service_logs = self._logs()
        granted = roles.grant_pipeline(
            id,
            nodes=self.nodes,
            tables=[(target, BATCH_WRITE)],
            node_prefixes=[roles.bucket_prefix(prefix, READS, emrfs=True), node_logs],
            # The manifest precondition is evaluated by the service, as the pipeline role.
            service_prefixes=[service_logs, roles.bucket_prefix(prefix, READS)],
        )
        spec = RestoreSpec(source_table_name=table_name, target_table_name=target_table_name, exports_uri=bucket.uri(prefix), write_ratio=write_ratio, cluster=cluster)
        self._declare(
            description=f"Restores an export of DynamoDB table {table_name} into {target_table_name}",
            definition=build_restore_definition(spec, self.settings),
            activate=False,
            granted=granted,
        )


class CopyPipeline(_TablePipeline):
    """Copies ``table`` into a target table through a staging folder; activated on deploy like an
    export (a scheduled copy starts at its first period, an on-demand one runs once).

    ``staging_bucket`` is this stack's bucket, or the target account's staging bucket for a copy to
    another account (encrypted with S3-managed keys there, so no key policy has to cross accounts)."""

    kind = "copy"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: TableRef,
        table_name: str,
        target: TableRef,
        target_table: str,
        target_region: str,
        cross_account: bool,
        staging_bucket: s3.IBucket | None,
        environment: str,
        bucket: ExportBucket,
        roles: PipelineRoles,
        alert_topic: sns.ITopic,
        cluster: ClusterSpec,
        schedule: ScheduleSpec | None,
        read_ratio: float,
        write_ratio: float,
        label: str,
        nodes_role_name: str | None = None,
    ) -> None:
        super().__init__(scope, id, table_name=table_name, environment=environment, bucket=bucket, roles=roles, alert_topic=alert_topic, log_name=f"{table_name}-copy-{label}", nodes_role_name=nodes_role_name)
        prefix = copy_staging_prefix(table_name, label)
        if staging_bucket is None:
            staging = roles.bucket_prefix(prefix, EXPORT_WRITES, emrfs_writes=True)
            staging_uri = bucket.uri(prefix)
        else:
            # Another account's bucket, addressed by name: every statement pins that account.
            staging = PrefixAccess(staging_bucket, None, prefix, EXPORT_WRITES, emrfs=True, emrfs_writes=True, owner_account=target.account)
            staging_uri = f"s3://{staging_bucket.bucket_name}/{prefix}"
        node_logs, service_logs = self._logs()
        granted = roles.grant_pipeline(
            id,
            nodes=self.nodes,
            tables=[(table, SCAN), (target, BATCH_WRITE)],
            node_prefixes=[staging, node_logs],
            service_prefixes=[service_logs],
        )
        spec = CopySpec(
            source_table_name=table_name,
            target_table=target.table_arn if cross_account else target_table,
            target_region=target_region,
            staging_uri=staging_uri,
            read_ratio=read_ratio,
            write_ratio=write_ratio,
            cluster=cluster,
            schedule=schedule,
            cross_account=cross_account,
        )
        when = f"every {schedule.period}" if schedule else "on demand"
        self._declare(
            description=f"Copies DynamoDB table {table_name} into {target_table} in {target_region} {when}",
            definition=build_copy_definition(spec, self.settings),
            activate=True,
            granted=granted,
        )
