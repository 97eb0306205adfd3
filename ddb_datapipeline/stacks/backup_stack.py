"""One environment: its bucket, topic, roles, tables, and per table its export, restore and copy pipelines."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..config import CopyConfig, EnvironmentConfig, OwnedTable, TableConfig
from ..config.patterns import output_key
from ..constructs.alert_topic import AlertTopic
from ..constructs.data_table import DataTable
from ..constructs.export_bucket import ExportBucket
from ..constructs.pipeline_roles import PipelineRoles, TableRef
from ..constructs.table_pipelines import CopyPipeline, ExportPipeline, RestorePipeline
from . import naming


class BackupStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        Tags.of(self).add("project", "ddb-datapipeline")
        Tags.of(self).add("environment", config.name)

        bucket = config.bucket
        self.bucket = ExportBucket(
            self,
            "ExportBucket",
            retain=config.retain_data,
            export_retention_days=bucket.export_retention_days,
            transition_after_days=bucket.transition_after_days,
            transition_storage_class=bucket.transition_storage_class,
            log_retention_days=bucket.log_retention_days,
            existing_bucket=s3.Bucket.from_bucket_name(self, "ExistingBucket", bucket.existing_bucket_name) if bucket.existing_bucket_name else None,
            existing_key=kms.Key.from_key_arn(self, "ExistingBucketKey", bucket.existing_key_arn) if bucket.existing_key_arn else None,
        )
        alerts = config.alerts
        self.alerts = AlertTopic(
            self,
            "Alerts",
            emails=alerts.emails,
            existing_topic=sns.Topic.from_topic_arn(self, "ExistingAlerts", alerts.existing_topic_arn) if alerts.existing_topic_arn else None,
            existing_key=kms.Key.from_key_arn(self, "ExistingAlertsKey", alerts.existing_key_arn) if alerts.existing_key_arn else None,
        )
        self.roles = PipelineRoles(
            self,
            "Roles",
            bucket=self.bucket,
            alert_topic=self.alerts.topic,
            alert_key=self.alerts.key,
            cluster_regions=[copy.region for table in config.tables for copy in table.copies],
            role_name_prefix=naming.role_name_prefix(config),
        )
        CfnOutput(self, "ExportBucketName", value=self.bucket.bucket.bucket_name)
        CfnOutput(self, "AlertTopicArn", value=self.alerts.topic.topic_arn)

        self.tables: dict[str, dynamodb.ITable] = {}
        self.pipelines: dict[str, ExportPipeline | RestorePipeline | CopyPipeline] = {}
        for table in config.tables:
            self._add_table(table)
        self.roles.finalize()

    def _declare(self, id: str, name: str, owned: OwnedTable | None) -> TableRef:
        if owned is None:
            referenced = dynamodb.Table.from_table_name(self, id, name)
            self.tables[name] = referenced
            # Its encryption is unknown here: it may use a customer managed key.
            return TableRef(referenced.table_arn, name, self.region, Aws.ACCOUNT_ID, key_elsewhere=True)
        declared = DataTable(
            self,
            id,
            table_name=name,
            partition_key=(owned.partition_key.name, owned.partition_key.type),
            sort_key=(owned.sort_key.name, owned.sort_key.type) if owned.sort_key else None,
            billing_mode=owned.billing_mode,
            read_capacity=owned.read_capacity,
            write_capacity=owned.write_capacity,
            point_in_time_recovery=owned.point_in_time_recovery,
            encryption=owned.encryption,
            stream=owned.stream,
            retain=self.config.retain_data,
        )
        self.tables[name] = declared.table
        return TableRef(declared.table.table_arn, name, self.region, Aws.ACCOUNT_ID, key=declared.key)

    def _add_table(self, table: TableConfig) -> None:
        source = self._declare(f"Table-{table.name}", table.name, table.owned)
        restore = table.restore
        if restore.target_table == table.name:
            target = source
        elif restore.create_target and table.owned is not None:
            # Same key schema as the source: the import requires it.
            target = self._declare(f"RestoreTarget-{table.name}", restore.target_table, _on_demand(table.owned))
        else:
            target = self._declare(f"RestoreTarget-{table.name}", restore.target_table, None)

        shared = dict(environment=self.config.name, bucket=self.bucket, roles=self.roles, alert_topic=self.alerts.topic, cluster=self.config.emr)
        export = ExportPipeline(
            self,
            f"Export-{table.name}",
            table=source,
            table_name=table.name,
            schedule=table.export.schedule,
            read_ratio=table.export.read_ratio,
            compress=table.export.compress,
            **shared,
        )
        restore_pipeline = RestorePipeline(
            self,
            f"Restore-{table.name}",
            target=target,
            table_name=table.name,
            target_table_name=restore.target_table,
            write_ratio=restore.write_ratio,
            **shared,
        )
        self.pipelines[f"{table.name}-export"] = export
        self.pipelines[f"{table.name}-restore"] = restore_pipeline
        output_id = output_key(table.name)
        CfnOutput(self, f"{output_id}ExportPipelineId", value=export.pipeline.pipeline_id, description=f"Export pipeline of {table.name}")
        CfnOutput(self, f"{output_id}RestorePipelineId", value=restore_pipeline.pipeline.pipeline_id, description=f"Restore pipeline of {table.name} (activate with myInputS3Loc)")
        CfnOutput(self, f"{output_id}RestoreTargetTable", value=restore.target_table)
        for copy in table.copies:
            self._add_copy(table, source, copy, shared)

    def _add_copy(self, table: TableConfig, source: TableRef, copy: CopyConfig, shared: dict[str, Any]) -> None:
        account = copy.account or Aws.ACCOUNT_ID
        if copy.owned and not naming.needs_target_stack(self.config, copy):
            assert table.owned is not None  # config guarantees an owned source for an owned target
            target = self._declare(f"CopyTarget-{copy.target_table}", copy.target_table, _on_demand(table.owned))
        else:
            # Declared by a copy-target stack, or not by this project: its key cannot be named here.
            # The cross-account target uses the AWS-owned key (copy_target_stack), so it needs no key grant.
            target = TableRef(
                f"arn:{Aws.PARTITION}:dynamodb:{copy.region}:{account}:table/{copy.target_table}",
                copy.target_table,
                copy.region,
                account,
                key_elsewhere=not copy.cross_account,
            )
        staging = None
        if copy.cross_account:
            staging = s3.Bucket.from_bucket_name(self, f"Staging-{copy.label}", naming.staging_bucket_name(self.config, copy))
        pipeline = CopyPipeline(
            self,
            f"Copy-{table.name}-{copy.label}",
            table=source,
            table_name=table.name,
            target=target,
            target_table=copy.target_table,
            target_region=copy.region,
            cross_account=copy.cross_account,
            staging_bucket=staging,
            schedule=copy.schedule,
            read_ratio=copy.read_ratio,
            write_ratio=copy.write_ratio,
            label=copy.label,
            nodes_role_name=naming.copy_nodes_role_name(self.config, table.name, copy) if copy.cross_account else None,
            **shared,
        )
        self.pipelines[f"{table.name}-copy-{copy.label}"] = pipeline
        output_id = output_key(f"{table.name} copy {copy.label}")
        CfnOutput(self, f"{output_id}PipelineId", value=pipeline.pipeline.pipeline_id, description=f"Copy of {table.name} into {copy.target_table} ({copy.region})")


def _on_demand(shape: OwnedTable) -> OwnedTable:
    """A table with the source's key schema, billed per request so it costs nothing while idle."""
    return replace(shape, billing_mode="PAY_PER_REQUEST", read_capacity=None, write_capacity=None, stream=None)
