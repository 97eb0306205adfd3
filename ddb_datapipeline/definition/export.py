"""The export definition: scan one table into a new timestamped folder of S3 on every run.

Modelled on AWS's "Export DynamoDB table to S3" template, with a current EMR release, no
``resizeClusterBeforeRunning`` and the house rules of ``common``.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import common
from .emr import EXPORT_CLASS, ClusterSpec, connector_step
from .model import Parameter, PipelineDefinition, values_from

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
            table="#{myDDBTableName}",
            ratio_field="readThroughputPercent",
            ratio="#{myDDBReadThroughputRatio}",
            region="#{myDDBRegion}",
        ),
        common.s3_folder("S3BackupLocation", directory=f"#{{myOutputS3Loc}}/{RUN_FOLDER}"),
        spec.cluster.to_object("EmrClusterForBackup", region="#{myDDBRegion}"),
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
    parameters = (
        Parameter.build("myDDBTableName", description="Table to export"),
        Parameter.build("myOutputS3Loc", type="AWS::S3::ObjectKey", description="S3 prefix of the exports"),
        common.ratio_parameter("myDDBReadThroughputRatio", default="0.25", what="Share of the table's read capacity the export may use"),
        Parameter.build("myDDBRegion", description="Region of the table and of the EMR cluster"),
    )
    values = values_from(
        {
            "myDDBTableName": spec.table_name,
            "myOutputS3Loc": spec.output_uri,
            "myDDBReadThroughputRatio": str(spec.read_ratio),
            "myDDBRegion": settings.region,
        }
    )
    return PipelineDefinition(objects=tuple(objects), parameters=parameters, values=values)
