"""The export definition: scan one table into a new timestamped folder of S3 on every run.

Modelled on AWS's "Export DynamoDB table to S3" template, with a current EMR release, no
``resizeClusterBeforeRunning`` and the house rules of ``common``. Unlike the template, it declares no
parameters: the table, region, ratio and folder are literals in the objects, so no value given at activation
reaches the step (why in ``guard``).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import common
from .emr import EXPORT_CLASS, ClusterSpec, connector_step
from .model import PipelineDefinition

RUN_FOLDER = "#{format(@scheduledStartTime, 'YYYY-MM-dd-HH-mm-ss')}"

# Hadoop output compression, read back by the import through the codec of each file's extension.
GZIP_OUTPUT_OPTIONS = (
    "-Dmapreduce.output.fileoutputformat.compress=true",
    "-Dmapreduce.output.fileoutputformat.compress.codec=org.apache.hadoop.io.compress.GzipCodec",
)


@dataclass(frozen=True)
class ExportSpec:
    table_name: str
    output_uri: str
    read_ratio: float
    cluster: ClusterSpec
    schedule: common.ScheduleSpec | None = None
    compress: bool = False


def build_export_definition(spec: ExportSpec, settings: common.PipelineSettings) -> PipelineDefinition:
    options = GZIP_OUTPUT_OPTIONS if spec.compress else ()
    step = connector_step(
        settings.region,
        EXPORT_CLASS,
        [*options, "#{output.directoryPath}", "#{input.tableName}", "#{input.readThroughputPercent}"],
    )
    objects = [
        *common.scheduling_objects(settings, spec.schedule),
        common.table_node(
            "DDBSourceTable",
            table=spec.table_name,
            ratio_field="readThroughputPercent",
            ratio=str(spec.read_ratio),
            region=settings.region,
        ),
        common.s3_folder("S3BackupLocation", directory=f"{spec.output_uri}/{RUN_FOLDER}"),
        spec.cluster.to_object("EmrClusterForBackup", region=settings.region),
        common.connector_activity(
            "TableBackupActivity",
            input="DDBSourceTable",
            output="S3BackupLocation",
            runs_on="EmrClusterForBackup",
            step=step,
            removes_output=True,
            late_after=spec.schedule.late_after if spec.schedule else None,
        ),
        *common.alarms(settings, spec.schedule, what=f"Export of DynamoDB table {spec.table_name}"),
    ]
    return PipelineDefinition(objects=tuple(objects))
