"""The copy definition: one table into another, in this region, another region or another account.

Modelled on AWS's cross-region sample: an export on a cluster in the source region writes a
run-specific staging folder, an import on a cluster in the target region waits for it, and a cleanup
removes the folder only after the import succeeded, so a failed import keeps its input for a retry or
a manual restore. Tables, regions, ratios and the staging folder are literals in the objects, not
parameters: the cleanup's shell ``command`` and the steps expand them, and a value given at activation must
never reach code (why in ``guard``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from . import common
from .emr import EXPORT_CLASS, IMPORT_CLASS, ClusterSpec, connector_step
from .export import GZIP_OUTPUT_OPTIONS, RUN_FOLDER
from .model import PipelineDefinition, PipelineObject, Ref


@dataclass(frozen=True)
class CopySpec:
    source_table_name: str
    target_table: str  # a name, or the table's ARN when it lives in another account
    target_region: str
    staging_uri: str
    read_ratio: float
    write_ratio: float
    cluster: ClusterSpec
    schedule: common.ScheduleSpec | None = None
    cross_account: bool = False


def build_copy_definition(spec: CopySpec, settings: common.PipelineSettings) -> PipelineDefinition:
    # No canned ACL for another account's bucket: it enforces bucket-owner ownership, so the target
    # account owns every object already, and an ACL would need s3:PutObjectAcl on both sides.
    export_options = list(GZIP_OUTPUT_OPTIONS)
    export_step = connector_step(
        settings.region,
        EXPORT_CLASS,
        [*export_options, "#{output.directoryPath}", "#{input.tableName}", "#{input.readThroughputPercent}"],
    )
    import_step = connector_step(
        settings.region,  # the jar of the pipeline's region, also for a cluster elsewhere: why in emr
        IMPORT_CLASS,
        ["#{input.directoryPath}", "#{output.tableName}", "#{output.writeThroughputPercent}"],
    )
    target_cluster = spec.cluster if spec.target_region == settings.region else replace(spec.cluster, subnet_id=None)
    objects = [
        *common.scheduling_objects(settings, spec.schedule),
        common.table_node(
            "SourceTable",
            table=spec.source_table_name,
            ratio_field="readThroughputPercent",
            ratio=str(spec.read_ratio),
            region=settings.region,
        ),
        common.s3_folder("StagingFolder", directory=f"{spec.staging_uri}/{RUN_FOLDER}"),
        common.table_node(
            "TargetTable",
            table=spec.target_table,
            ratio_field="writeThroughputPercent",
            ratio=str(spec.write_ratio),
            region=spec.target_region,
        ),
        spec.cluster.to_object("SourceRegionCluster", region=settings.region),
        # A subnet belongs to one region: the target region's cluster runs in its default VPC.
        target_cluster.to_object("TargetRegionCluster", region=spec.target_region),
        common.connector_activity(
            "ExportActivity", input="SourceTable", output="StagingFolder", runs_on="SourceRegionCluster", step=export_step,
            removes_output=True,
        ),
        common.connector_activity(
            "ImportActivity",
            input="StagingFolder",
            output="TargetTable",
            runs_on="TargetRegionCluster",
            depends_on="ExportActivity",
            step=import_step,
            late_after=spec.schedule.late_after if spec.schedule else None,
        ),
        PipelineObject.build(
            "CleanupActivity",
            type="ShellCommandActivity",
            input=Ref("StagingFolder"),
            stage="false",
            runsOn=Ref("TargetRegionCluster"),
            dependsOn=Ref("ImportActivity"),
            command="aws s3 rm --recursive --only-show-errors #{input.directoryPath}",
            maximumRetries=common.MAXIMUM_RETRIES,
            onFail=Ref(common.FAILURE_ALARM_ID),
        ),
        *common.alarms(
            settings, spec.schedule, what=f"Copy of DynamoDB table {spec.source_table_name} to {spec.target_table} ({spec.target_region})"
        ),
    ]
    return PipelineDefinition(objects=tuple(objects))
