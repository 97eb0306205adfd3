"""The restore definition: import one export folder into a table, only when someone activates it.

The folder is a parameter chosen at activation (``--parameter-values myInputS3Loc=s3://...``). Its
stored value points at a folder that never exists, and a precondition waits for that folder's
``manifest``: an activation without a chosen export fails on the precondition and alarms instead of
importing something nobody picked.

The folder is the one value an operator types, and the import's step reads it (``#{input.directoryPath}``), so
the step ``dependsOn`` a guard (``guard.FolderGuard``): a ShellCommandActivity that receives the value only
as its argument and fails unless it is one run folder of this table's exports. Everything else (the target
table, its region, the write ratio) is a literal in the objects, not a parameter.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import common
from .emr import IMPORT_CLASS, ClusterSpec, connector_step
from .guard import FolderGuard
from .model import Parameter, PipelineDefinition, PipelineObject, Ref, values_from

UNSET_INPUT_FOLDER = "choose-an-export-folder-at-activation"
INPUT_PARAMETER = "myInputS3Loc"
GUARD_ID = "ExportFolderCheck"


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
            s3Key=f"#{{{INPUT_PARAMETER}}}/manifest",
            role=settings.role,
            preconditionTimeout=spec.precondition_timeout,
        ),
        common.s3_folder("S3InputDataNode", directory=f"#{{{INPUT_PARAMETER}}}", precondition=Ref("ExportManifestExists")),
        common.table_node(
            "DDBDestinationTable",
            table=spec.target_table_name,
            ratio_field="writeThroughputPercent",
            ratio=str(spec.write_ratio),
            region=settings.region,
        ),
        spec.cluster.to_object("EmrClusterForLoad", region=settings.region),
        # No retries: a value the guard refuses is refused again.
        PipelineObject.build(
            GUARD_ID,
            type="ShellCommandActivity",
            command=FolderGuard(spec.exports_uri).command(),
            scriptArgument=f"#{{{INPUT_PARAMETER}}}",
            stage="false",
            runsOn=Ref("EmrClusterForLoad"),
            maximumRetries="0",
            onFail=Ref(common.FAILURE_ALARM_ID),
        ),
        common.connector_activity(
            "TableLoadActivity", input="S3InputDataNode", output="DDBDestinationTable", runs_on="EmrClusterForLoad", step=step,
            depends_on=GUARD_ID,
        ),
        common.failure_alarm(
            settings,
            what=f"Restore of DynamoDB table {spec.source_table_name} into {spec.target_table_name}",
        ),
    ]
    parameters = (
        Parameter.build(
            INPUT_PARAMETER,
            type="AWS::S3::ObjectKey",
            description="One export folder (the one holding 'manifest'), no trailing slash",
            watermark=f"{spec.exports_uri}/YYYY-MM-dd-HH-mm-ss",
        ),
    )
    values = values_from({INPUT_PARAMETER: f"{spec.exports_uri}/{UNSET_INPUT_FOLDER}"})
    return PipelineDefinition(objects=tuple(objects), parameters=parameters, values=values)
