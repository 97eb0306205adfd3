"""The restore definition: import one export folder into a table, only when someone activates it.

The folder is a parameter chosen at activation (``--parameter-values myInputS3Loc=s3://...``). Its
stored value points at a folder that never exists, and a precondition waits for that folder's
``manifest``: an activation without a chosen export fails on the precondition and alarms instead of
importing something nobody picked.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import common
from .emr import IMPORT_CLASS, ClusterSpec, connector_step
from .model import Parameter, PipelineDefinition, PipelineObject, Ref, values_from

UNSET_INPUT_FOLDER = "choose-an-export-folder-at-activation"


@dataclass(frozen=True)
class RestoreSpec:
    source_table_name: str
    target_table_name: str
    exports_uri: str
    write_ratio: float
    cluster: ClusterSpec
    precondition_timeout: str = "1 hour"


def build_restore_definition(spec: RestoreSpec, settings: common.PipelineSettings) -> PipelineDefinition:
    step = connector_step(
        settings.region,
        IMPORT_CLASS,
        ["#{input.directoryPath}", "#{output.tableName}", "#{output.writeThroughputPercent}"],
    )
    objects = [
        *common.scheduling_objects(settings, None),
        PipelineObject.build(
            "ExportManifestExists",
            type="S3KeyExists",
            s3Key="#{myInputS3Loc}/manifest",
            role=settings.role,
            preconditionTimeout=spec.precondition_timeout,
        ),
        common.s3_folder("S3InputDataNode", directory="#{myInputS3Loc}", precondition=Ref("ExportManifestExists")),
        common.table_node(
            "DDBDestinationTable",
            table="#{myDDBTableName}",
            ratio_field="writeThroughputPercent",
            ratio="#{myDDBWriteThroughputRatio}",
            region="#{myDDBRegion}",
        ),
        spec.cluster.to_object("EmrClusterForLoad", region="#{myDDBRegion}"),
        common.connector_activity(
            "TableLoadActivity", input="S3InputDataNode", output="DDBDestinationTable", runs_on="EmrClusterForLoad", step=step
        ),
        common.failure_alarm(
            settings,
            what=f"Restore of DynamoDB table {spec.source_table_name} into {spec.target_table_name}",
        ),
    ]
    parameters = (
        Parameter.build(
            "myInputS3Loc",
            type="AWS::S3::ObjectKey",
            description="One export folder (the one holding 'manifest'), no trailing slash",
            watermark=f"{spec.exports_uri}/YYYY-MM-dd-HH-mm-ss",
        ),
        Parameter.build("myDDBTableName", description="Table to restore into"),
        common.ratio_parameter("myDDBWriteThroughputRatio", default="0.5", what="Share of the target table's write capacity the restore may use"),
        Parameter.build("myDDBRegion", description="Region of the table and of the EMR cluster"),
    )
    values = values_from(
        {
            "myInputS3Loc": f"{spec.exports_uri}/{UNSET_INPUT_FOLDER}",
            "myDDBTableName": spec.target_table_name,
            "myDDBWriteThroughputRatio": str(spec.write_ratio),
            "myDDBRegion": settings.region,
        }
    )
    return PipelineDefinition(objects=tuple(objects), parameters=parameters, values=values)
