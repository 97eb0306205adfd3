"""Export and restore definitions: the objects the service needs, wired as AWS's templates wire them."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ddb_datapipeline.definition.common import PipelineSettings, ScheduleSpec
from ddb_datapipeline.definition.emr import ClusterSpec
from ddb_datapipeline.definition.export import ExportSpec, build_export_definition
from ddb_datapipeline.definition.model import PipelineDefinition, PipelineObject, Ref
from ddb_datapipeline.definition.render import from_definition_file, to_cloudformation, to_definition_file
from ddb_datapipeline.definition.restore import RestoreSpec, build_restore_definition
from ddb_datapipeline.definition.validator import validate

SETTINGS = PipelineSettings(
    region="eu-west-1",
    role="PipelineRole",
    resource_role="ResourceRole",
    log_uri="s3://bucket/logs/orders-export/",
    alarm_topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts",
)
CLUSTER = ClusterSpec(core_instance_count=2, terminate_after="4 hours")
EXPORT = ExportSpec(
    table_name="orders",
    output_uri="s3://bucket/exports/orders",
    read_ratio=0.3,
    cluster=CLUSTER,
    schedule=ScheduleSpec(period="1 day"),
    compress=True,
)
RESTORE = RestoreSpec(
    source_table_name="orders",
    target_table_name="orders-restore",
    exports_uri="s3://bucket/exports/orders",
    write_ratio=0.4,
    cluster=CLUSTER,
)


@pytest.fixture(scope="module")
def export() -> PipelineDefinition:
    return build_export_definition(EXPORT, SETTINGS)


@pytest.fixture(scope="module")
def restore() -> PipelineDefinition:
    return build_restore_definition(RESTORE, SETTINGS)


def test_built_definitions_pass_the_validator(export, restore):
    assert validate(export) == ()
    assert validate(restore) == ()
    on_demand = build_export_definition(replace(EXPORT, schedule=None, compress=False), SETTINGS)
    assert validate(on_demand) == ()


def test_export_wires_table_to_timestamped_folder_on_a_guarded_cluster(export):
    activity = export.object("TableBackupActivity")
    assert activity.type == "EmrActivity"
    refs = {f.key: f.value for f in activity.refs()}
    assert refs == {"input": "DDBSourceTable", "output": "S3BackupLocation", "runsOn": "EmrClusterForBackup", "onFail": "FailureAlarm"}
    assert activity.value("maximumRetries") == "2"
    assert activity.value("resizeClusterBeforeRunning") is None
    # No encryption header: the bucket's default (the project's KMS key) applies to every export file.
    assert export.object("S3BackupLocation").value("s3EncryptionType") == "NONE"
    folder = export.object("S3BackupLocation").value("directoryPath")
    assert folder.startswith("s3://bucket/exports/orders/") and "@scheduledStartTime" in folder
    cluster = export.object("EmrClusterForBackup")
    assert cluster.value("terminateAfter") == "4 hours"
    assert cluster.value("coreInstanceCount") == "2"
    assert cluster.value("releaseLabel") == CLUSTER.release_label
    assert "m3." not in cluster.value("coreInstanceType")


def test_export_step_uses_the_tools_jar_of_the_region_and_compresses(export):
    removal, export_step = export.object("TableBackupActivity").values("step")
    # First the output folder is removed, so a retry or rerun of the run does not meet its own files (emr.py).
    assert removal.split(",") == ["command-runner.jar", "hadoop", "fs", "-rm", "-r", "-f",
                                  "-skipTrash", "#{output.directoryPath}"]
    step = export_step.split(",")
    assert step[0].startswith("s3://dynamodb-dpl-eu-west-1/") and "emr-dynamodb-tools" in step[0]
    assert step[1] == "org.apache.hadoop.dynamodb.tools.DynamoDBExport"
    assert step[2] == "-Dmapreduce.output.fileoutputformat.compress=true"
    assert step[-3:] == ["#{output.directoryPath}", "#{input.tableName}", "#{input.readThroughputPercent}"]
    plain = build_export_definition(replace(EXPORT, compress=False), SETTINGS)
    assert not any(part.startswith("-D") for part in plain.object("TableBackupActivity").values("step")[-1].split(","))


def test_house_rules_are_on_default_and_the_alarm(export):
    default = export.object("Default")
    assert default.value("failureAndRerunMode") == "CASCADE"
    assert default.value("scheduleType") == "cron"
    assert (default.value("role"), default.value("resourceRole")) == ("PipelineRole", "ResourceRole")
    assert default.value("pipelineLogUri") == SETTINGS.log_uri
    alarm = export.object("FailureAlarm")
    assert alarm.type == "SnsAlarm" and alarm.value("topicArn") == SETTINGS.alarm_topic_arn
    assert alarm.value("role") == "PipelineRole" and "orders" in alarm.value("subject")
    schedule = export.object("DefaultSchedule")
    assert (schedule.value("period"), schedule.value("startAt")) == ("1 day", "FIRST_ACTIVATION_DATE_TIME")


def test_export_objects_carry_the_table_bucket_ratio_and_region_as_literals(export):
    """No parameters: a value given at activation would reach the step (definition/guard.py)."""
    assert (export.parameters, export.values) == ((), ())
    source = export.object("DDBSourceTable")
    assert (source.value("tableName"), source.value("readThroughputPercent"), source.value("region")) == ("orders", "0.3", "eu-west-1")
    assert export.object("EmrClusterForBackup").value("region") == "eu-west-1"


def test_a_fixed_start_time_is_written_as_start_date_time():
    definition = build_export_definition(replace(EXPORT, schedule=ScheduleSpec("12 hours", "2027-01-01T02:00:00")), SETTINGS)
    schedule = definition.object("DefaultSchedule")
    assert schedule.value("startDateTime") == "2027-01-01T02:00:00" and schedule.value("startAt") is None


def test_restore_is_on_demand_and_waits_for_the_chosen_exports_manifest(restore):
    assert restore.object("Default").value("scheduleType") == "ondemand"
    assert restore.objects_of_type("Schedule") == []
    assert restore.object("ExportManifestExists").value("s3Key") == "#{myInputS3Loc}/manifest"
    source = restore.object("S3InputDataNode")
    assert source.value("directoryPath") == "#{myInputS3Loc}"
    assert {f.key: f.value for f in source.refs()} == {"precondition": "ExportManifestExists"}
    step = restore.object("TableLoadActivity").value("step").split(",")
    assert step[1] == "org.apache.hadoop.dynamodb.tools.DynamoDBImport"
    assert step[2:] == ["#{input.directoryPath}", "#{output.tableName}", "#{output.writeThroughputPercent}"]
    target = restore.object("DDBDestinationTable")
    assert (target.value("tableName"), target.value("writeThroughputPercent"), target.value("region")) == ("orders-restore", "0.4", "eu-west-1")
    # The folder is the one parameter; without a chosen export it points at a folder that cannot exist.
    assert [p.id for p in restore.parameters] == ["myInputS3Loc"]
    assert dict(restore.values) == {"myInputS3Loc": "s3://bucket/exports/orders/choose-an-export-folder-at-activation"}
    # The step runs only after the guard admitted the folder, which it receives as its argument alone.
    assert restore.object("TableLoadActivity").value("dependsOn") == "ExportFolderCheck"
    guard = restore.object("ExportFolderCheck")
    assert (guard.type, guard.values("scriptArgument"), guard.value("runsOn")) == ("ShellCommandActivity", ["#{myInputS3Loc}"], "EmrClusterForLoad")
    assert "#{" not in guard.value("command") and "'s3://bucket/exports/orders/'" in guard.value("command")


def test_fingerprint_changes_only_with_what_the_service_refuses_to_update(export):
    same_structure = build_export_definition(replace(EXPORT, read_ratio=0.9, cluster=replace(CLUSTER, core_instance_count=5)), SETTINGS)
    assert same_structure.fingerprint() == export.fingerprint()
    other_period = build_export_definition(replace(EXPORT, schedule=ScheduleSpec("2 days")), SETTINGS)
    assert other_period.fingerprint() != export.fingerprint()
    removed = replace(export, objects=tuple(o for o in export.objects if o.id != "FailureAlarm"))
    assert removed.fingerprint() != export.fingerprint()
    rewired = replace(
        export,
        objects=tuple(
            PipelineObject(o.id, o.name, tuple(f for f in o.fields if f.key != "onFail")) if o.id == "TableBackupActivity" else o
            for o in export.objects
        ),
    )
    assert rewired.fingerprint() != export.fingerprint()


def test_cloudformation_rendering_keeps_refs_repeats_and_strings(export):
    rendered = to_cloudformation(export)
    activity = next(o for o in rendered["PipelineObjects"] if o["Id"] == "TableBackupActivity")
    assert {"Key": "runsOn", "RefValue": "EmrClusterForBackup"} in activity["Fields"]
    assert all(set(f) in ({"Key", "StringValue"}, {"Key", "RefValue"}) for o in rendered["PipelineObjects"] for f in o["Fields"])
    assert all(isinstance(f.get("StringValue", ""), str) for o in rendered["PipelineObjects"] for f in o["Fields"])
    assert (rendered["ParameterObjects"], rendered["ParameterValues"]) == ([], [])


def test_definition_file_round_trips(export, restore):
    for definition in (export, restore):
        as_file = json.loads(json.dumps(to_definition_file(definition)))
        assert from_definition_file(as_file) == definition
    repeated = PipelineDefinition(objects=(PipelineObject.build("A", type="EmrActivity", step=["x", "y"], runsOn=Ref("B")),))
    assert to_definition_file(repeated)["objects"][0] == {"id": "A", "name": "A", "type": "EmrActivity", "step": ["x", "y"], "runsOn": {"ref": "B"}}


def test_a_late_run_raises_its_own_alarm_only_when_asked(export):
    assert "LateAlarm" not in {o.id for o in export.objects}
    assert export.object("TableBackupActivity").value("lateAfterTimeout") is None
    late = build_export_definition(replace(EXPORT, schedule=ScheduleSpec("1 day", late_after="6 hours")), SETTINGS)
    assert validate(late) == ()
    activity = late.object("TableBackupActivity")
    assert activity.value("lateAfterTimeout") == "6 hours"
    assert {f.key: f.value for f in activity.refs()}["onLateAction"] == "LateAlarm"
    alarm = late.object("LateAlarm")
    assert alarm.type == "SnsAlarm" and alarm.value("subject").startswith("LATE: ")
    assert late.fingerprint() != export.fingerprint()  # a new reference: the pipeline is replaced, not edited


def hive_copy(**selection) -> PipelineDefinition:
    from ddb_datapipeline.definition.filters import parse_filter
    from ddb_datapipeline.definition.hive_copy import CopySelection, HiveCopySpec, IncrementalWindow, build_hive_copy_definition

    chosen = CopySelection(row_filter=parse_filter(selection["filter"]) if "filter" in selection else None,
                           incremental=IncrementalWindow("updatedAt", "iso8601", 15) if selection.get("incremental") else None)
    spec = HiveCopySpec(source_table_name="orders", target_table="orders-open", target_region="us-west-2", read_ratio=0.3, write_ratio=0.6,
                        cluster=CLUSTER, selection=chosen, schedule=ScheduleSpec(period="1 hour", late_after="2 hours"))
    return build_hive_copy_definition(spec, SETTINGS)


def test_a_filtered_or_incremental_copy_is_one_hive_copy_between_two_formatted_tables_and_passes_the_validator():
    for definition in (hive_copy(filter="status in ('OPEN', 'it''s') and total >= 100"), hive_copy(incremental=True),
                       hive_copy(incremental=True, filter="total < 0.5")):
        assert validate(definition) == ()
        (activity,) = [o for o in definition.objects if o.type == "HiveCopyActivity"]
        assert (activity.value("input"), activity.value("output"), activity.value("runsOn")) == ("SourceTable", "TargetTable", "CopyCluster")
        assert [o.type for o in definition.objects if o.type in ("EmrActivity", "S3DataNode", "ShellCommandActivity")] == []
        assert definition.object("TargetTable").value("region") == "us-west-2"
        assert (definition.parameters, definition.values) == ((), ())
    filtered = hive_copy(filter="status in ('OPEN', 'it''s') and total >= 100")
    assert filtered.object("SourceFormat").values("column") == ["status STRING", "total DOUBLE"]
    assert filtered.object("CopyActivity").value("filterSql") == "`status` IN ('OPEN', 'it\\'s') AND `total` >= 100"


def test_the_validator_refuses_a_hive_copy_whose_filter_names_an_undeclared_column():
    definition = hive_copy(filter="status = 'OPEN'")
    tampered = PipelineDefinition(
        objects=tuple(replace(o, fields=tuple(f if f.key != "column" else replace(f, value="state STRING") for f in o.fields))
                      for o in definition.objects),
        parameters=definition.parameters, values=definition.values)
    assert [(v.object_id, v.field) for v in validate(tampered) if v.severity == "error"] == [("CopyActivity", "filterSql")]
