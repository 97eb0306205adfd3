"""One environment: its bucket, topic, roles, tables, and per table its export, restore and copy pipelines."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..config import CopyConfig, EnvironmentConfig, OwnedTable, TableConfig
from ..config.estimates import estimate_environment
from ..config.patterns import output_key
from ..constructs.alert_topic import AlertTopic
from ..constructs.data_table import DataTable
from ..constructs.export_bucket import ExportBucket
from ..constructs.pipeline_roles import PipelineRoles
from ..constructs.table_pipelines import CopyDestination, CopyPipeline, ExportPipeline, RestorePipeline
from ..estimate_report import ESTIMATE_METADATA, as_record
from . import naming
from .table_shapes import table_props


class BackupStack(Stack):
    """One environment, composed of the public constructs: the same ones a team uses in its own app."""

    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        Tags.of(self).add("project", "ddb-datapipeline")
        Tags.of(self).add("environment", config.name)

        bucket = config.bucket
        if bucket.existing_bucket_name:
            existing_key = kms.Key.from_key_arn(self, "ExistingBucketKey", bucket.existing_key_arn) if bucket.existing_key_arn else None
            self.bucket: s3.IBucket = s3.Bucket.from_bucket_attributes(
                self, "ExistingBucket", bucket_name=bucket.existing_bucket_name, encryption_key=existing_key
            )
        else:
            self.bucket = ExportBucket(
                self,
                "ExportBucket",
                retain=config.retain_data,
                export_retention_days=bucket.export_retention_days,
                transition_after_days=bucket.transition_after_days,
                transition_storage_class=bucket.transition_storage_class,
                log_retention_days=bucket.log_retention_days,
            ).bucket
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
            regions=[copy.region for table in config.tables for copy in table.copies],
            role_name=naming.pipeline_role_name(config),
            node_role_prefix=naming.nodes_prefix(config),
        )
        CfnOutput(self, "ExportBucketName", value=self.bucket.bucket_name)
        CfnOutput(self, "AlertTopicArn", value=self.alerts.topic.topic_arn)

        self.tables: dict[str, dynamodb.ITable] = {}
        self.pipelines: dict[str, ExportPipeline | RestorePipeline | CopyPipeline] = {}
        for table in config.tables:
            self._add_table(table)
        self._write_estimates()

    def _write_estimates(self) -> None:
        """Each pipeline's estimate, for tables that state size_gib, as metadata of its resource: the
        review report reads only the cloud assembly, and shows it from there."""
        for found in estimate_environment(self.config):
            estimate = found.estimate
            key = f"{estimate.table}-{estimate.pipeline.replace('copy:', 'copy-', 1)}"  # as self.pipelines names them
            self.pipelines[key].pipeline.resource.add_metadata(ESTIMATE_METADATA, as_record(self.config, found))

    def _declare(self, id: str, name: str, owned: OwnedTable | None) -> dynamodb.ITable:
        if owned is None:
            declared: dynamodb.ITable = dynamodb.Table.from_table_name(self, id, name)
        else:
            declared = DataTable(self, id, table_name=name, retain=self.config.retain_data, **table_props(owned)).table
        self.tables[name] = declared
        return declared

    def _shared(self) -> dict[str, Any]:
        return dict(
            environment=self.config.name,
            bucket=self.bucket,
            roles=self.roles,
            alert_topic=self.alerts.topic,
            alert_key=self.alerts.key,
            cluster=self.config.emr,
        )

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

        export = ExportPipeline(
            self,
            f"Export-{table.name}",
            table=source,
            schedule=table.export.schedule,
            read_ratio=table.export.read_ratio,
            compress=table.export.compress,
            **self._shared(),
        )
        restore_pipeline = RestorePipeline(
            self, f"Restore-{table.name}", source=source, target=target, write_ratio=restore.write_ratio, **self._shared()
        )
        self.pipelines[f"{table.name}-export"] = export
        self.pipelines[f"{table.name}-restore"] = restore_pipeline
        output_id = output_key(table.name)
        CfnOutput(self, f"{output_id}ExportPipelineId", value=export.pipeline_id, description=f"Export pipeline of {table.name}")
        CfnOutput(self, f"{output_id}RestorePipelineId", value=restore_pipeline.pipeline_id,
                  description=f"Restore pipeline of {table.name} (activate with myInputS3Loc)")
        CfnOutput(self, f"{output_id}RestoreTargetTable", value=restore.target_table)
        for copy in table.copies:
            self._add_copy(table, source, copy)

    def _add_copy(self, table: TableConfig, source: dynamodb.ITable, copy: CopyConfig) -> None:
        if copy.owned and not naming.needs_target_stack(self.config, copy):
            if table.owned is None:  # the configuration refuses an owned target of a referenced source
                raise ValueError(f"{table.name}: an owned copy target needs an owned source")
            destination = CopyDestination(table=self._declare(f"CopyTarget-{copy.target_table}", copy.target_table, _on_demand(table.owned)))
        else:
            destination = CopyDestination(
                table_name=copy.target_table,
                region=copy.region,
                account=copy.account,
                staging_bucket=(
                    s3.Bucket.from_bucket_name(self, f"Staging-{copy.label}", naming.staging_bucket_name(self.config, copy))
                    if copy.cross_account else None
                ),
                nodes_role_name=naming.copy_nodes_role_name(self.config, table.name, copy) if copy.cross_account else None,
            )
        pipeline = CopyPipeline(
            self,
            f"Copy-{table.name}-{copy.label}",
            source=source,
            destination=destination,
            schedule=copy.schedule,
            read_ratio=copy.read_ratio,
            write_ratio=copy.write_ratio,
            **self._shared(),
        )
        self.pipelines[f"{table.name}-copy-{copy.label}"] = pipeline
        output_id = output_key(f"{table.name} copy {copy.label}")
        CfnOutput(self, f"{output_id}PipelineId", value=pipeline.pipeline_id, description=f"Copy of {table.name} into {copy.target_table} ({copy.region})")


def _on_demand(shape: OwnedTable) -> OwnedTable:
    """A table with the source's key schema, billed per request so it costs nothing while idle."""
    return replace(shape, billing_mode="PAY_PER_REQUEST", read_capacity=None, write_capacity=None, stream=None)
