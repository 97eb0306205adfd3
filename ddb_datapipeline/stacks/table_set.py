"""The tables of one stack group and their pipelines, declared into a given stack.

The environment's stack (group ``main``) and each table stack compose the same way; what they share
(bucket, alert topic, roles) comes from the environment stack, by reference when they are apart.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from ..config import CopyConfig, EnvironmentConfig, OwnedTable, TableConfig
from ..config.estimates import estimate_environment
from ..constructs.data_table import DataTable
from ..constructs.native_copy import NativeCopy, OtherAccount, OtherRegion
from ..constructs.native_drill import NativeRestoreDrill
from ..constructs.native_export import NativeExport
from ..constructs.native_incremental import NativeIncrementalExport
from ..constructs.native_restore import NativeRestore
from ..constructs.native_steps import log_retention
from ..constructs.pipeline_roles import PipelineRoles
from ..constructs.table_pipelines import CopyDestination, CopyPipeline, ExportPipeline, RestorePipeline, copy_staging_prefix
from ..definition.common import ScheduleSpec
from ..definition.patterns import output_key
from ..estimate_report import ESTIMATE_METADATA, as_record
from . import naming
from .table_shapes import table_props


@dataclass(frozen=True)
class Shared:
    """What every pipeline of an environment uses, declared once in the environment's stack."""

    bucket: s3.IBucket
    alert_topic: sns.ITopic
    alert_key: kms.IKey | None
    roles: PipelineRoles | None  # None when no table of the environment uses Data Pipeline


class TableSet:
    """Declares ``tables`` and their export, restore and copy pipelines into ``stack``."""

    def __init__(self, stack: Stack, *, config: EnvironmentConfig, group: str, tables: tuple[TableConfig, ...], shared: Shared) -> None:
        self.stack = stack
        self.config = config
        self.group = group
        self.shared = shared
        self.tables: dict[str, dynamodb.ITable] = {}
        self.pipelines: dict[str, ExportPipeline | RestorePipeline | CopyPipeline] = {}
        self.native_exports: dict[str, NativeExport] = {}
        for table in tables:
            self._add_table(table)
        self._write_estimates({table.name for table in tables})

    def _write_estimates(self, names: set[str]) -> None:
        """Each pipeline's estimate, for tables that state size_gib, as metadata of its resource: the
        review report reads only the cloud assembly, and shows it from there."""
        for found in estimate_environment(self.config):
            estimate = found.estimate
            if estimate.table not in names:
                continue
            key = f"{estimate.table}-{estimate.pipeline.replace('copy:', 'copy-', 1)}"  # as self.pipelines names them
            self.pipelines[key].pipeline.resource.add_metadata(ESTIMATE_METADATA, as_record(self.config, found))

    def _declare(self, id: str, name: str, owned: OwnedTable | None) -> dynamodb.ITable:
        if owned is None:
            declared: dynamodb.ITable = dynamodb.Table.from_table_name(self.stack, id, name)
        else:
            declared = DataTable(self.stack, id, table_name=name, retain=self.config.retain_data, **table_props(owned)).table
        self.tables[name] = declared
        return declared

    def _common(self) -> dict[str, Any]:
        """What every construct of either engine takes from the environment."""
        return dict(environment=self.config.name, bucket=self.shared.bucket, alert_topic=self.shared.alert_topic,
                    alert_key=self.shared.alert_key)

    def _native(self) -> dict[str, Any]:
        """And what a native construct takes besides: its state machine logs' retention, the configured
        log_retention_days (constructs/native_steps.py log_retention)."""
        return dict(**self._common(), log_retention=log_retention(self.config.bucket.log_retention_days))

    def _shared(self) -> dict[str, Any]:
        """And what a Data Pipeline construct takes besides: the roles and the cluster."""
        return dict(**self._common(), roles=self.shared.roles, cluster=self.config.emr)

    def _add_table(self, table: TableConfig) -> None:
        source = self._declare(f"Table-{table.name}", table.name, table.owned)
        if table.native:
            self._add_native(table, source)
            return
        restore = table.restore
        if restore.target_table == table.name:
            target = source
        elif restore.create_target and table.owned is not None:
            # Same key schema as the source: the import requires it.
            target = self._declare(f"RestoreTarget-{table.name}", restore.target_table, on_demand(table.owned))
        else:
            target = self._declare(f"RestoreTarget-{table.name}", restore.target_table, None)

        export = ExportPipeline(
            self.stack,
            f"Export-{table.name}",
            table=source,
            schedule=table.export.schedule,
            read_ratio=table.export.read_ratio,
            compress=table.export.compress,
            **self._shared(),
        )
        restore_pipeline = RestorePipeline(
            self.stack, f"Restore-{table.name}", source=source, target=target, write_ratio=restore.write_ratio, **self._shared()
        )
        self.pipelines[f"{table.name}-export"] = export
        self.pipelines[f"{table.name}-restore"] = restore_pipeline
        output_id = output_key(table.name)
        CfnOutput(self.stack, f"{output_id}ExportPipelineId", value=export.pipeline_id, description=f"Export pipeline of {table.name}")
        CfnOutput(self.stack, f"{output_id}RestorePipelineId", value=restore_pipeline.pipeline_id,
                  description=f"Restore pipeline of {table.name} (activate with myInputS3Loc)")
        CfnOutput(self.stack, f"{output_id}RestoreTargetTable", value=restore.target_table)
        for copy in table.copies:
            self._add_copy(table, source, copy)

    def _add_native(self, table: TableConfig, source: dynamodb.ITable) -> None:
        """DynamoDB's own export, run by Step Functions on an EventBridge Scheduler schedule."""
        export = NativeExport(
            self.stack,
            f"NativeExport-{table.name}",
            table=source,
            schedule=table.export.schedule,
            **self._native(),
        )
        self.native_exports[table.name] = export
        CfnOutput(self.stack, f"{output_key(table.name)}ExportStateMachineArn", value=export.state_machine.state_machine_arn,
                  description=f"Native export of {table.name} (start an execution to export now)")
        if table.export.incremental is not None:
            incremental = NativeIncrementalExport(self.stack, f"NativeIncremental-{table.name}", table=source,
                                                  period=table.export.incremental, **self._native())
            CfnOutput(self.stack, f"{output_key(table.name)}IncrementalStateMachineArn", value=incremental.state_machine.state_machine_arn,
                      description=f"Incremental exports of {table.name}, every {table.export.incremental}")
        if table.owned is None:
            return  # a referenced table's key schema is unknown, and an import must repeat it (README)
        restore = NativeRestore(
            self.stack,
            f"NativeRestore-{table.name}",
            source=source,
            target_prefix=table.restore.target_prefix,
            table_key=source.encryption_key,
            **self._native(),
        )
        CfnOutput(self.stack, f"{output_key(table.name)}RestoreStateMachineArn", value=restore.state_machine.state_machine_arn,
                  description=f"Native restore of {table.name} (start with an export folder and a new table name)")
        if table.restore.drill is not None:
            drill = NativeRestoreDrill(self.stack, f"NativeDrill-{table.name}", source=source, schedule=ScheduleSpec(table.restore.drill),
                                       **self._native())
            CfnOutput(self.stack, f"{output_key(table.name)}RestoreDrillStateMachineArn", value=drill.state_machine.state_machine_arn,
                      description=f"Restore drill of {table.name}, every {table.restore.drill} (start an execution to drill now)")
        for copy in table.copies:
            assert copy.target_prefix is not None  # the configuration gives every native copy its prefix
            native_copy = NativeCopy(
                self.stack,
                f"NativeCopy-{table.name}-{copy.target_prefix}",
                source=source,
                target_prefix=copy.target_prefix,
                table_key=source.encryption_key,
                schedule=copy.schedule,
                other_account=self._other_account(table, copy),
                other_region=self._other_region(table, copy),
                **self._native(),
            )
            CfnOutput(self.stack, f"{output_key(f'{table.name} copy {copy.target_prefix}')}StateMachineArn",
                      value=native_copy.state_machine.state_machine_arn,
                      description=f"Native copy of {table.name} into a new table {copy.target_prefix}-... (start an execution to copy now)")

    def _other_region(self, table: TableConfig, copy: CopyConfig) -> OtherRegion | None:
        """Where a native copy into another region stages and imports: its copy-target stack's staging
        bucket and copies' bus, named (the two stacks live in two regions)."""
        if copy.region == self.config.region:
            return None
        machine_role, _ = naming.native_copy_role_names(self.config, table.name, copy)
        return OtherRegion(
            region=copy.region,
            account=copy.account if copy.cross_account else None,
            bucket=s3.Bucket.from_bucket_name(self.stack, f"Staging-{copy.label}", naming.staging_bucket_name(self.config, copy, self.group)),
            prefix=copy_staging_prefix(table.name, copy.label),
            bus_arn=naming.copy_bus_arn(self.config, copy, self.group, self.stack.partition),
            copy=naming.copy_event_id(table.name, copy),
            machine_role_name=machine_role,
            forward_rule_name=naming.forward_rule_name(self.config, table.name, copy),
        )

    def _other_account(self, table: TableConfig, copy: CopyConfig) -> OtherAccount | None:
        """Where a native copy into another account stages and imports: its copy-target stack's staging
        bucket and import role, both named (the two stacks live in two accounts)."""
        if not copy.cross_account or copy.account is None or copy.region != self.config.region:
            return None
        machine_role, import_role = naming.native_copy_role_names(self.config, table.name, copy)
        return OtherAccount(
            account=copy.account,
            bucket=s3.Bucket.from_bucket_name(self.stack, f"Staging-{copy.label}", naming.staging_bucket_name(self.config, copy, self.group)),
            prefix=copy_staging_prefix(table.name, copy.label),
            import_role_arn=f"arn:{self.stack.partition}:iam::{copy.account}:role/{import_role}",
            machine_role_name=machine_role,
            # A source on a customer managed key: the copies are on one of the target account's (its copy-target stack's).
            table_key_arn=(f"arn:{self.stack.partition}:kms:{copy.region}:{copy.account}:{naming.copy_key_alias(import_role)}"
                           if table.owned is not None and table.owned.encryption == "CUSTOMER_MANAGED" else None),
        )

    def _add_copy(self, table: TableConfig, source: dynamodb.ITable, copy: CopyConfig) -> None:
        if copy.owned and not naming.needs_target_stack(self.config, copy):
            if table.owned is None:  # the configuration refuses an owned target of a referenced source
                raise ValueError(f"{table.name}: an owned copy target needs an owned source")
            destination = CopyDestination(table=self._declare(f"CopyTarget-{copy.target_table}", copy.target_table, on_demand(table.owned)))
        else:
            destination = CopyDestination(
                table_name=copy.target_table,
                region=copy.region,
                account=copy.account,
                staging_bucket=(
                    s3.Bucket.from_bucket_name(self.stack, f"Staging-{copy.label}", naming.staging_bucket_name(self.config, copy, self.group))
                    if copy.cross_account else None
                ),
                nodes_role_name=naming.copy_nodes_role_name(self.config, table.name, copy) if copy.cross_account else None,
            )
        pipeline = CopyPipeline(
            self.stack,
            f"Copy-{table.name}-{copy.label}",
            source=source,
            destination=destination,
            schedule=copy.schedule,
            read_ratio=copy.read_ratio,
            write_ratio=copy.write_ratio,
            selection=copy.selection,
            **self._shared(),
        )
        self.pipelines[f"{table.name}-copy-{copy.label}"] = pipeline
        output_id = output_key(f"{table.name} copy {copy.label}")
        CfnOutput(self.stack, f"{output_id}PipelineId", value=pipeline.pipeline_id,
                  description=f"Copy of {table.name} into {copy.target_table} ({copy.region})")


def on_demand(shape: OwnedTable) -> OwnedTable:
    """A table with the source's key schema, billed per request so it costs nothing while idle."""
    return replace(shape, billing_mode="PAY_PER_REQUEST", read_capacity=None, write_capacity=None, stream=None)
