"""Tests of the definition validator: one realistic export and one on-demand import definition are
valid, and each rule is broken on purpose in a copy of them."""
from __future__ import annotations

import dataclasses

import pytest

from ddb_datapipeline.definition import validator
from ddb_datapipeline.definition.emr import remove_output_step
from ddb_datapipeline.definition.expressions import scan_expressions
from ddb_datapipeline.definition.model import Parameter, PipelineDefinition, PipelineObject, Ref
from ddb_datapipeline.definition.validator import DefinitionError, Violation, ensure_valid, validate

TOOLS_JAR = (
    "s3://dynamodb-dpl-#{myDDBRegion}/emr-ddb-storage-handler/4.11.0/"
    "emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar"
)

LEGACY_JAR = "s3://dynamodb-emr-us-east-1/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar"
EXPORT_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBExport"
REMOVE_OUTPUT = remove_output_step()
IMPORT_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBImport"
TOPIC_ARN = "arn:${Token[AWS.Partition.4]}:sns:us-east-1:123456789012:ddb-alerts"


@pytest.fixture(autouse=True)
def _steps_may_take_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    """The definitions here follow AWS's console templates, whose steps take their table and folder from
    parameters; ``parameter_code`` refuses exactly that (tests/unit/test_injection.py), so the other rules are
    tested here without it."""
    monkeypatch.setattr(validator, "RULES", tuple(rule for rule in validator.RULES if rule.__name__ != "parameter_code"))



def failure_alarm() -> PipelineObject:
    return PipelineObject.build(
        "FailureAlarm",
        type="SnsAlarm",
        topicArn=TOPIC_ARN,
        role="DataPipelineRole",
        subject="FAILED: #{node.name}",
        message=(
            "Pipeline #{node.@pipelineId}, object #{node.name}, scheduled "
            "#{format(node.@scheduledStartTime, 'YYYY-MM-dd HH:mm')}, error: #{node.errorMessage}"
        ),
    )


def export_definition() -> PipelineDefinition:
    """The console template "Export DynamoDB table to S3", scheduled daily, with the step this project puts
    before the export (each attempt first removes its output folder: test_attempt_rules)."""
    return PipelineDefinition(
        objects=(
            PipelineObject.build(
                "Default",
                type="Default",
                scheduleType="cron",
                schedule=Ref("DefaultSchedule"),
                failureAndRerunMode="CASCADE",
                role="DataPipelineRole",
                resourceRole="DataPipelineResourceRole",
                pipelineLogUri="s3://logs-bucket/datapipeline/",
            ),
            PipelineObject.build(
                "DefaultSchedule", type="Schedule", period="1 day", startAt="FIRST_ACTIVATION_DATE_TIME"
            ),
            PipelineObject.build(
                "DDBSourceTable",
                type="DynamoDBDataNode",
                tableName="#{myDDBTableName}",
                readThroughputPercent="#{myDDBReadThroughputRatio}",
                region="#{myDDBRegion}",
            ),
            PipelineObject.build(
                "S3BackupLocation",
                type="S3DataNode",
                directoryPath="#{myOutputS3Loc}/#{format(@scheduledStartTime, 'YYYY-MM-dd-HH-mm-ss')}",
            ),
            PipelineObject.build(
                "EmrClusterForBackup",
                type="EmrCluster",
                releaseLabel="emr-6.15.0",
                masterInstanceType="m5.xlarge",
                coreInstanceType="m5.xlarge",
                coreInstanceCount="1",
                terminateAfter="6 hours",
                region="#{myDDBRegion}",
            ),
            PipelineObject.build(
                "TableBackupActivity",
                type="EmrActivity",
                input=Ref("DDBSourceTable"),
                output=Ref("S3BackupLocation"),
                runsOn=Ref("EmrClusterForBackup"),
                maximumRetries="2",
                onFail=Ref("FailureAlarm"),
                step=[
                    REMOVE_OUTPUT,
                    f"{TOOLS_JAR},{EXPORT_CLASS},#{{output.directoryPath}},#{{input.tableName}},#{{input.readThroughputPercent}}",
                ],
            ),
            failure_alarm(),
        ),
        parameters=(
            Parameter.build("myOutputS3Loc", type="AWS::S3::ObjectKey", description="Export folder"),
            Parameter.build("myDDBTableName", description="Table to export"),
            Parameter.build("myDDBReadThroughputRatio", type="Double", default="0.25"),
            Parameter.build("myDDBRegion", default="us-east-1"),
        ),
        values=(("myDDBTableName", "Orders"), ("myOutputS3Loc", "s3://backup-bucket/orders")),
    )


def import_definition() -> PipelineDefinition:
    """An on-demand restore of one export directory into an existing table."""
    return PipelineDefinition(
        objects=(
            PipelineObject.build(
                "Default",
                scheduleType="ONDEMAND",
                failureAndRerunMode="cascade",
                role="DataPipelineRole",
                resourceRole="DataPipelineResourceRole",
                pipelineLogUri="s3://logs-bucket/datapipeline/",
            ),
            PipelineObject.build(
                "S3InputDataNode",
                type="S3DataNode",
                directoryPath="#{myInputS3Loc}",
                precondition=Ref("InputReady"),
            ),
            PipelineObject.build(
                "InputReady", type="S3PrefixNotEmpty", s3Prefix="#{node.directoryPath}", preconditionTimeout="1 hour"
            ),
            PipelineObject.build(
                "DDBDestinationTable",
                type="DynamoDBDataNode",
                tableName="#{myDDBTableName}",
                writeThroughputPercent="#{myDDBWriteThroughputRatio}",
            ),
            PipelineObject.build(
                "EmrClusterForLoad",
                type="EmrCluster",
                releaseLabel="emr-6.15.0",
                masterInstanceType="m5.xlarge",
                coreInstanceType="m5.xlarge",
                coreInstanceCount="${Token[TOKEN.123]}",
                terminateAfter="12 hours",
                subnetId="${Token[TOKEN.456]}",
            ),
            PipelineObject.build(
                "TableLoadActivity",
                type="EmrActivity",
                input=Ref("S3InputDataNode"),
                output=Ref("DDBDestinationTable"),
                runsOn=Ref("EmrClusterForLoad"),
                maximumRetries="2",
                retryDelay="10 minutes",
                onFail=Ref("FailureAlarm"),
                myOwner="data-platform",
                step=(
                    f"{TOOLS_JAR},{IMPORT_CLASS},#{{input.directoryPath}},#{{output.tableName}},"
                    "#{output.writeThroughputPercent}"
                ),
            ),
            failure_alarm(),
        ),
        parameters=(
            Parameter.build("myInputS3Loc", type="AWS::S3::ObjectKey", default="s3://backup-bucket/orders/2026-01-01"),
            Parameter.build("myDDBTableName", default="Orders"),
            Parameter.build("myDDBWriteThroughputRatio", type="Double", default="0.5"),
            Parameter.build("myDDBRegion", default="us-east-1", optional=True, allowed_values=["us-east-1", "eu-west-1"]),
        ),
    )


# --- helpers ------------------------------------------------------------------------------------
def edit(definition: PipelineDefinition, object_id: str, **fields) -> PipelineDefinition:
    """A copy where the named fields of one object are replaced; a value of None removes the field."""
    objects = []
    for obj in definition.objects:
        if obj.id == object_id:
            kept = tuple(f for f in obj.fields if f.key not in fields)
            added = PipelineObject.build(obj.id, **fields).fields
            obj = PipelineObject(obj.id, obj.name, kept + added)
        objects.append(obj)
    return dataclasses.replace(definition, objects=tuple(objects))


def add(definition: PipelineDefinition, *objects: PipelineObject, parameters=(), values=()) -> PipelineDefinition:
    return dataclasses.replace(
        definition,
        objects=definition.objects + tuple(objects),
        parameters=definition.parameters + tuple(parameters),
        values=definition.values + tuple(values),
    )


def without_parameter(definition: PipelineDefinition, parameter_id: str) -> PipelineDefinition:
    return dataclasses.replace(definition, parameters=tuple(p for p in definition.parameters if p.id != parameter_id))


def assert_violation(definition: PipelineDefinition, object_id: str, field: str, fragment: str) -> Violation:
    violations = validate(definition)
    matches = [v for v in violations if v.object_id == object_id and v.field == field and fragment in v.rule]
    listing = "\n".join(map(str, violations)) or "(none)"
    assert matches, f"expected {object_id}.{field} ~ {fragment!r}; got:\n{listing}"
    return matches[0]


def assert_no_violation(definition: PipelineDefinition, object_id: str, field: str | None = None) -> None:
    found = [v for v in validate(definition) if v.object_id == object_id and (field is None or v.field == field)]
    assert not found, "\n".join(map(str, found))


# --- valid definitions --------------------------------------------------------------------------
def test_realistic_export_definition_is_valid():
    assert validate(export_definition()) == ()


def test_on_demand_import_definition_is_valid():
    assert validate(import_definition()) == ()


def test_ensure_valid_returns_a_valid_definition_unchanged():
    definition = export_definition()
    assert ensure_valid(definition) is definition


# --- 1. ids and names ---------------------------------------------------------------------------
def test_object_id_longer_than_1024_characters():
    long_id = "A" * 1025
    definition = add(export_definition(), PipelineObject.build(long_id, type="CSV"))
    assert_violation(definition, long_id, "", "is 1025 characters; object ids must be 1-1024")


def test_object_name_must_be_1_to_1024_characters():
    definition = add(
        export_definition(),
        PipelineObject("Csv1", "", PipelineObject.build("Csv1", type="CSV").fields),
        PipelineObject.build("Csv2", name="n" * 1025, type="CSV"),
    )
    assert_violation(definition, "Csv1", "", "name '' is 0 characters")
    assert_violation(definition, "Csv2", "", "is 1025 characters; names must be 1-1024")


def test_field_key_longer_than_256_utf8_bytes():
    key = "my" + "é" * 128  # 258 bytes, 130 characters
    definition = edit(export_definition(), "DDBSourceTable", **{key: "x"})
    assert_violation(definition, "DDBSourceTable", key, "is 258 UTF-8 bytes; keys must be 1-256 bytes")


def test_duplicate_object_ids():
    definition = add(export_definition(), PipelineObject.build("DDBSourceTable", type="DynamoDBDataNode", tableName="t"))
    assert_violation(definition, "DDBSourceTable", "", "is used by 2 objects; ids must be unique")


def test_duplicate_parameter_ids():
    definition = add(export_definition(), parameters=[Parameter.build("myDDBRegion", default="eu-west-1")])
    assert_violation(definition, "myDDBRegion", "", "is declared 2 times; ids must be unique")


def test_empty_field_value():
    definition = edit(export_definition(), "EmrClusterForBackup", keyPair="")
    assert_violation(definition, "EmrClusterForBackup", "keyPair", "value '' is empty")


# --- 2. references ------------------------------------------------------------------------------
def test_reference_to_a_missing_object():
    definition = edit(export_definition(), "TableBackupActivity", runsOn=Ref("EmrCluster"))
    assert_violation(definition, "TableBackupActivity", "runsOn", "reference to 'EmrCluster' names no object")


@pytest.mark.parametrize(
    "object_id, key, value",
    [
        ("TableBackupActivity", "runsOn", "EmrClusterForBackup"),
        ("TableBackupActivity", "input", "DDBSourceTable"),
        ("TableBackupActivity", "onFail", "FailureAlarm"),
        ("Default", "schedule", "DefaultSchedule"),
        ("S3BackupLocation", "parent", "Default"),
    ],
)
def test_reference_fields_given_as_plain_strings(object_id, key, value):
    definition = edit(export_definition(), object_id, **{key: value})
    violation = assert_violation(definition, object_id, key, f"{key} '{value}' is a plain string")
    assert f"use Ref('{value}')" in violation.rule


def test_reference_to_an_object_of_the_wrong_type():
    definition = edit(export_definition(), "TableBackupActivity", runsOn=Ref("DDBSourceTable"))
    assert_violation(
        definition, "TableBackupActivity", "runsOn", "refers to 'DDBSourceTable' of type DynamoDBDataNode; it must refer to one of Ec2Resource, EmrCluster"
    )


def test_parent_cycle():
    definition = add(
        export_definition(),
        PipelineObject.build("BaseA", parent=Ref("BaseB")),
        PipelineObject.build("BaseB", parent=Ref("BaseA")),
    )
    assert_violation(definition, "BaseA", "parent", "parent chain BaseA -> BaseB -> BaseA is a cycle")


# --- 3. expressions -----------------------------------------------------------------------------
def test_expression_without_closing_brace():
    definition = edit(export_definition(), "DDBSourceTable", tableName="#{myDDBTableName")
    assert_violation(definition, "DDBSourceTable", "tableName", "expression '#{myDDBTableName' has no closing '}'")


def test_nested_expression_and_empty_expression():
    definition = edit(export_definition(), "S3BackupLocation", directoryPath="s3://b/#{format(#{@id})}/#{}")
    assert_violation(definition, "S3BackupLocation", "directoryPath", "nests '#{' inside an expression")
    assert_violation(definition, "S3BackupLocation", "directoryPath", "expression '#{}' is empty")


def test_brace_inside_a_quoted_literal_does_not_close_the_expression():
    definition = edit(
        export_definition(), "S3BackupLocation", directoryPath="#{myOutputS3Loc}/#{format(@scheduledStartTime, 'YYYY}')}"
    )
    assert_no_violation(definition, "S3BackupLocation")


def test_undeclared_parameter():
    definition = edit(export_definition(), "S3BackupLocation", directoryPath="#{myOutputBucket}/backups")
    assert_violation(definition, "S3BackupLocation", "directoryPath", "parameter myOutputBucket is used but not declared")


def test_unknown_identifier_names_it():
    definition = edit(export_definition(), "S3BackupLocation", directoryPath="#{myOutputS3Loc}/#{scheduledStartTime}")
    assert_violation(definition, "S3BackupLocation", "directoryPath", "unknown identifier 'scheduledStartTime'")


def test_unknown_runtime_field():
    definition = edit(export_definition(), "S3BackupLocation", directoryPath="#{myOutputS3Loc}/#{@scheduledStarTime}")
    assert_violation(definition, "S3BackupLocation", "directoryPath", "runtime field '@scheduledStarTime'")


def test_unknown_function_and_function_arguments_are_checked():
    definition = edit(
        export_definition(),
        "S3BackupLocation",
        directoryPath="#{myOutputS3Loc}/#{fmt(@scheduledStartTime, 'YYYY')}/#{format(minusDays(@startTime, 1), 'dd')}",
    )
    assert_violation(definition, "S3BackupLocation", "directoryPath", "function 'fmt' in")
    assert_violation(definition, "S3BackupLocation", "directoryPath", "runtime field '@startTime'")


def test_nested_functions_literals_numbers_and_own_fields_are_fine():
    definition = edit(
        export_definition(),
        "S3BackupLocation",
        myPrefix="exports",
        directoryPath=(
            "#{myOutputS3Loc}/#{myPrefix}/#{id}/"
            "#{format(minusDays(@scheduledStartTime, 1), 'YYYY-MM-dd')}-#{\"v\" + 2}/${Token[TOKEN.9]}"
        ),
    )
    assert_no_violation(definition, "S3BackupLocation")


def test_input_expression_needs_an_input_reference():
    definition = edit(export_definition(), "TableBackupActivity", input=None)
    assert_violation(definition, "TableBackupActivity", "step", "reads input, but TableBackupActivity has no input reference")


def test_input_expression_field_must_exist_on_the_referenced_object():
    step = f"{TOOLS_JAR},{EXPORT_CLASS},#{{output.directoryPath}},#{{input.tableNam}}"
    definition = edit(export_definition(), "TableBackupActivity", step=step)
    assert_violation(definition, "TableBackupActivity", "step", "reads input.tableNam, but input object DDBSourceTable has no field tableNam")


def test_node_is_only_available_in_alarms_and_preconditions():
    definition = edit(export_definition(), "S3BackupLocation", directoryPath="#{myOutputS3Loc}/#{node.@scheduledStartTime}")
    assert_violation(definition, "S3BackupLocation", "directoryPath", "uses node, which exists only in")


def test_cdk_tokens_are_opaque():
    found, problems = scan_expressions("arn:${Token[AWS.Partition.4]}:sns:${Token[AWS.Region.9]}:1:t")
    assert (found, problems) == ([], [])
    found, _ = scan_expressions("#{format(@scheduledStartTime,'YYYY')} ${Token[X.1]} #{myX}")
    assert [e.names for e in found] == [(("format", True), ("@scheduledStartTime", False)), (("myX", False),)]


# --- 4. parameters ------------------------------------------------------------------------------
def test_declared_but_unused_parameter():
    definition = add(export_definition(), parameters=[Parameter.build("myUnused", default="x")])
    assert_violation(definition, "myUnused", "", "parameter myUnused is declared but never used")


def test_parameter_used_only_by_another_parameter_counts_as_used():
    definition = add(
        edit(export_definition(), "S3BackupLocation", directoryPath="#{myPath}"),
        parameters=[Parameter.build("myBucket", default="s3://b"), Parameter.build("myPath", default="#{myBucket}/x")],
    )
    definition = without_parameter(definition, "myOutputS3Loc")
    definition = dataclasses.replace(definition, values=(("myDDBTableName", "Orders"),))
    assert validate(definition) == ()


def test_parameter_id_must_start_with_my():
    definition = add(
        edit(export_definition(), "DDBSourceTable", tableName="#{tableName2}"),
        parameters=[Parameter.build("tableName2", default="Orders")],
    )
    definition = without_parameter(definition, "myDDBTableName")
    definition = dataclasses.replace(definition, values=(("myOutputS3Loc", "s3://b/o"),))
    assert_violation(definition, "tableName2", "", "parameter id 'tableName2' must start with 'my'")


def test_parameter_type_must_be_known():
    definition = add(
        edit(export_definition(), "TableBackupActivity", myDryRun="#{myDryRunFlag}"),
        parameters=[Parameter.build("myDryRunFlag", type="Boolean", default="true")],
    )
    assert_violation(definition, "myDryRunFlag", "type", "type 'Boolean' is not a parameter type; allowed: String, Integer, Double")


def test_unknown_parameter_attribute():
    definition = add(
        edit(export_definition(), "TableBackupActivity", myTeam="#{myTeamName}"),
        parameters=[Parameter("myTeamName", (("type", "String"), ("default", "data"), ("secret", "true")))],
    )
    assert_violation(definition, "myTeamName", "secret", "attribute 'secret' is not a parameter attribute; allowed: type")


def test_value_for_an_undeclared_parameter():
    definition = add(export_definition(), values=[("myDDBTable", "Orders")])
    assert_violation(definition, "myDDBTable", "", "values sets myDDBTable = 'Orders' but no parameter myDDBTable is declared")


def test_values_for_undeclared_parameters_are_reported_once_each_in_order():
    definition = add(export_definition(), values=[("myZeta", "1"), ("myAlpha", "2"), ("myZeta", "3")])
    undeclared = [v for v in validate(definition) if v.object_id in ("myZeta", "myAlpha")]
    assert [str(v) for v in undeclared] == [
        "myZeta: warning: values sets myZeta = '1' but no parameter myZeta is declared",
        "myAlpha: warning: values sets myAlpha = '2' but no parameter myAlpha is declared",
    ]


def test_required_parameter_without_default_or_value():
    definition = dataclasses.replace(export_definition(), values=(("myOutputS3Loc", "s3://b/o"),))
    assert_violation(definition, "myDDBTableName", "", "is not optional and has neither a default nor a value")


def test_optional_parameter_without_default_is_fine():
    definition = add(
        edit(export_definition(), "TableBackupActivity", myTicket="#{myTicketId}"),
        parameters=[Parameter.build("myTicketId", optional=True)],
    )
    assert validate(definition) == ()


def test_numeric_parameters_must_parse():
    definition = add(
        edit(export_definition(), "EmrClusterForBackup", myNodes="#{myNodeCount}"),
        parameters=[Parameter.build("myNodeCount", type="Integer", default="two")],
        values=[("myDDBReadThroughputRatio", "a quarter")],
    )
    assert_violation(definition, "myNodeCount", "default", "default 'two' is not a valid Integer")
    assert_violation(definition, "myDDBReadThroughputRatio", "value", "value 'a quarter' is not a valid Double")


def test_parameter_value_outside_allowed_values():
    definition = add(import_definition(), values=[("myDDBRegion", "ap-south-1")])
    definition = edit(definition, "DDBDestinationTable", region="#{myDDBRegion}")
    assert_violation(definition, "myDDBRegion", "value", "value 'ap-south-1' is not one of the allowedValues us-east-1, eu-west-1")


# --- 5. types and required fields ---------------------------------------------------------------
def test_dynamodb_data_node_needs_table_name():
    definition = edit(export_definition(), "DDBSourceTable", tableName=None)
    assert_violation(definition, "DDBSourceTable", "tableName", "DynamoDBDataNode requires tableName")


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"directoryPath": None}, "S3DataNode needs exactly one of directoryPath, filePath; none is set"),
        ({"filePath": "s3://b/file.json"}, "S3DataNode sets directoryPath and filePath; set exactly one"),
    ],
)
def test_s3_data_node_needs_exactly_one_path(fields, fragment):
    definition = edit(export_definition(), "S3BackupLocation", **fields)
    assert_violation(definition, "S3BackupLocation", "", fragment)


def test_emr_cluster_must_not_have_runs_on():
    definition = edit(export_definition(), "EmrClusterForBackup", runsOn=Ref("EmrClusterForBackup"))
    assert_violation(definition, "EmrClusterForBackup", "runsOn", "runsOn 'EmrClusterForBackup' is not allowed on EmrCluster")


def test_emr_cluster_release_label_and_ami_version_exclude_each_other():
    definition = edit(export_definition(), "EmrClusterForBackup", amiVersion="3.11.0")
    assert_violation(definition, "EmrClusterForBackup", "", "EmrCluster sets releaseLabel and amiVersion; set at most one")


def test_emr_cluster_without_release_label_or_ami_version_is_fine():
    """Issue 13 false alarm: the EmrCluster page documents both as optional (the service's default AMI)."""
    assert_no_violation(edit(export_definition(), "EmrClusterForBackup", releaseLabel=None), "EmrClusterForBackup")


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"runsOn": None}, "EmrActivity needs exactly one of runsOn, workerGroup; none is set"),
    ],
)
def test_emr_activity_runs_on_xor_worker_group(fields, fragment):
    definition = edit(export_definition(), "TableBackupActivity", **fields)
    assert_violation(definition, "TableBackupActivity", "", fragment)


def test_runs_on_and_worker_group_together_is_a_warning():
    """Issue 28: every activity page says 'If you provide a runsOn value and workerGroup exists, workerGroup is
    ignored.', so the service accepts both: lint (DP136), not an error."""
    definition = edit(export_definition(), "TableBackupActivity", workerGroup="wg-1")
    found = assert_violation(definition, "TableBackupActivity", "workerGroup", "the service ignores workerGroup when runsOn is set")
    assert (found.code, found.severity) == ("DP136", "warning")


def test_emr_activity_without_a_step_is_lint():
    """Issue 28: the EmrActivity page lists step under 'Optional Fields', so the service accepts it (DP138)."""
    definition = edit(export_definition(), "TableBackupActivity", step=None)
    found = assert_violation(definition, "TableBackupActivity", "step", "EmrActivity has no step")
    assert (found.code, found.severity) == ("DP138", "warning")


def test_shell_command_activity_command_xor_script_and_runs_on():
    definition = add(
        export_definition(),
        PipelineObject.build("Cleanup", type="ShellCommandActivity", command="aws s3 rm --recursive s3://tmp/x", scriptUri="s3://b/cleanup.sh"),
    )
    assert_violation(definition, "Cleanup", "", "ShellCommandActivity sets command and scriptUri; set exactly one")
    assert_violation(definition, "Cleanup", "", "ShellCommandActivity needs exactly one of runsOn, workerGroup; none is set")


@pytest.mark.parametrize("key", ["topicArn", "subject", "message"])
def test_sns_alarm_required_fields(key):
    definition = edit(export_definition(), "FailureAlarm", **{key: None})
    assert_violation(definition, "FailureAlarm", key, f"SnsAlarm requires {key}")


def test_sns_alarm_role_may_be_inherited_from_default_but_not_missing_everywhere():
    inherited = edit(export_definition(), "FailureAlarm", role=None)
    assert_no_violation(inherited, "FailureAlarm")
    missing = edit(inherited, "Default", role=None)
    assert_violation(missing, "FailureAlarm", "role", "SnsAlarm requires role")


def test_s3_prefix_not_empty_needs_prefix_and_role():
    definition = edit(import_definition(), "InputReady", s3Prefix=None)
    definition = edit(definition, "Default", role=None)
    assert_violation(definition, "InputReady", "s3Prefix", "S3PrefixNotEmpty requires s3Prefix")
    assert_violation(definition, "InputReady", "role", "S3PrefixNotEmpty requires role")


def test_schedule_needs_period():
    definition = edit(export_definition(), "DefaultSchedule", period=None)
    assert_violation(definition, "DefaultSchedule", "period", "Schedule requires period")


def test_object_without_type():
    definition = edit(export_definition(), "S3BackupLocation", type=None)
    assert_violation(definition, "S3BackupLocation", "type", "type is missing")


def test_default_and_parent_templates_may_omit_type():
    definition = add(
        edit(export_definition(), "S3BackupLocation", parent=Ref("BackupSettings")),
        PipelineObject.build("BackupSettings", s3EncryptionType="SERVER_SIDE_ENCRYPTION"),
    )
    assert validate(edit(definition, "Default", type=None)) == ()


def test_unknown_type():
    definition = edit(export_definition(), "DDBSourceTable", type="DynamoDbDataNode")
    assert_violation(definition, "DDBSourceTable", "type", "type 'DynamoDbDataNode' is not a Data Pipeline object type")


# --- 6. scheduling ------------------------------------------------------------------------------
def test_unknown_schedule_type():
    definition = edit(export_definition(), "Default", scheduleType="weekly")
    assert_violation(definition, "Default", "scheduleType", "scheduleType 'weekly' is not one of cron, timeseries, ondemand")


def test_ondemand_must_be_set_on_default_only():
    definition = edit(import_definition(), "TableLoadActivity", scheduleType="ondemand")
    assert_violation(definition, "TableLoadActivity", "scheduleType", "ondemand must be set on Default only")
    definition = edit(import_definition(), "TableLoadActivity", scheduleType="cron")
    assert_violation(definition, "TableLoadActivity", "scheduleType", "conflicts with Default's 'ondemand'")


def test_ondemand_forbids_schedules_and_late_after_timeout():
    definition = add(
        edit(import_definition(), "TableLoadActivity", schedule=Ref("Daily"), lateAfterTimeout="2 hours"),
        PipelineObject.build("Daily", type="Schedule", period="1 day", startAt="FIRST_ACTIVATION_DATE_TIME"),
    )
    assert_violation(definition, "Daily", "", "Schedule objects are not allowed when Default's scheduleType is 'ondemand'")
    assert_violation(definition, "TableLoadActivity", "schedule", "schedule 'Daily' is not allowed")
    late = assert_violation(definition, "TableLoadActivity", "lateAfterTimeout", "lateAfterTimeout '2 hours' has no effect")
    assert late.severity == "warning"  # the guide: 'triggered only when the schedule type is not set to ondemand'
    assert {v.severity for v in validate(definition) if v.code == "DP223"} == {"error"}


def test_scheduled_pipeline_objects_need_a_schedule():
    definition = edit(export_definition(), "Default", schedule=None)
    assert_violation(definition, "TableBackupActivity", "schedule", "EmrActivity has no schedule")
    assert_violation(definition, "EmrClusterForBackup", "schedule", "EmrCluster has no schedule")
    assert_no_violation(definition, "FailureAlarm")


def test_schedule_inherited_through_a_parent_chain():
    definition = edit(export_definition(), "Default", schedule=None)
    definition = add(definition, PipelineObject.build("Scheduled", schedule=Ref("DefaultSchedule")))
    for object_id in ("DDBSourceTable", "S3BackupLocation", "EmrClusterForBackup", "TableBackupActivity"):
        definition = edit(definition, object_id, parent=Ref("Scheduled"))
    assert validate(definition) == ()


def test_missing_schedule_type_means_timeseries_and_needs_a_schedule():
    definition = edit(export_definition(), "Default", scheduleType=None, schedule=None)
    assert_violation(definition, "DDBSourceTable", "schedule", "scheduleType 'timeseries' (the service default) needs one")


@pytest.mark.parametrize(
    "period, fragment",
    [
        ("daily", "period 'daily' is not a period '<whole number> <unit>'"),
        ("10 minutes", "period '10 minutes' is shorter than the minimum of 15 minutes"),
        ("2 years", "period '2 years' is not a period"),
    ],
)
def test_schedule_period(period, fragment):
    definition = edit(export_definition(), "DefaultSchedule", period=period)
    assert_violation(definition, "DefaultSchedule", "period", fragment)


def test_schedule_period_units_are_case_insensitive():
    assert validate(edit(export_definition(), "DefaultSchedule", period="15 Minutes")) == ()


def test_schedule_start_fields():
    both = edit(export_definition(), "DefaultSchedule", startDateTime="2026-01-01T00:00:00")
    assert_violation(both, "DefaultSchedule", "", "Schedule sets startAt and startDateTime; set exactly one")
    neither = edit(export_definition(), "DefaultSchedule", startAt=None)
    assert_violation(neither, "DefaultSchedule", "", "Schedule needs exactly one of startAt, startDateTime")
    wrong_value = edit(export_definition(), "DefaultSchedule", startAt="NOW")
    assert_violation(wrong_value, "DefaultSchedule", "startAt", "startAt 'NOW' is not allowed; the only value is FIRST_ACTIVATION_DATE_TIME")
    bad_format = edit(export_definition(), "DefaultSchedule", startAt=None, startDateTime="2026-01-01 00:00")
    assert_violation(bad_format, "DefaultSchedule", "startDateTime", "'2026-01-01 00:00' is not allowed; the format is YYYY-MM-DDTHH:MM:SS")


def test_schedule_end_and_occurrences():
    definition = edit(export_definition(), "DefaultSchedule", endDateTime="2027-01-01T00:00:00", occurrences="0")
    assert_violation(definition, "DefaultSchedule", "", "Schedule sets both endDateTime and occurrences")
    assert_violation(definition, "DefaultSchedule", "occurrences", "occurrences '0' is not allowed; it must be a positive whole number")


def test_failure_and_rerun_mode():
    definition = edit(export_definition(), "Default", failureAndRerunMode="retry")
    assert_violation(definition, "Default", "failureAndRerunMode", "failureAndRerunMode 'retry' is not one of none, cascade")


# --- 7. values in range -------------------------------------------------------------------------
def test_read_throughput_literal_out_of_range():
    definition = edit(export_definition(), "DDBSourceTable", readThroughputPercent="1.5")
    violation = assert_violation(definition, "DDBSourceTable", "readThroughputPercent", "")
    assert violation.rule == "readThroughputPercent '1.5' is outside 0.1-1.0"


def test_throughput_resolved_through_parameter_default_and_value():
    by_default = edit(
        without_parameter(export_definition(), "myDDBReadThroughputRatio"), "DDBSourceTable", readThroughputPercent="#{myRatio}"
    )
    by_default = add(by_default, parameters=[Parameter.build("myRatio", type="Double", default="0.05")])
    assert_violation(by_default, "DDBSourceTable", "readThroughputPercent", "'#{myRatio}' (resolves to '0.05') is outside 0.1-1.0")
    by_value = add(import_definition(), values=[("myDDBWriteThroughputRatio", "2")])
    assert_violation(by_value, "DDBDestinationTable", "writeThroughputPercent", "(resolves to '2') is outside 0.1-1.0")


def test_throughput_checks_skip_unresolvable_values_and_tokens():
    unresolved = add(
        edit(export_definition(), "DDBSourceTable", readThroughputPercent="#{myRatio}"),
        parameters=[Parameter.build("myRatio", type="Double", optional=True)],
    )
    unresolved = without_parameter(unresolved, "myDDBReadThroughputRatio")
    assert_no_violation(unresolved, "DDBSourceTable")
    token = edit(export_definition(), "DDBSourceTable", readThroughputPercent="${Token[TOKEN.77]}")
    assert_no_violation(token, "DDBSourceTable")


@pytest.mark.parametrize(
    "object_id, key, value, fragment",
    [
        ("TableBackupActivity", "maximumRetries", "6", "maximumRetries '6' is not a whole number between 0 and 5"),
        ("TableBackupActivity", "maximumRetries", "two", "maximumRetries 'two' is not a whole number between 0 and 5"),
        ("TableBackupActivity", "retryDelay", "1 minute", "retryDelay '1 minute' is shorter than the minimum of 2 minutes"),
        ("TableBackupActivity", "retryDelay", "90 seconds", "retryDelay '90 seconds' is not a period"),
        ("EmrClusterForBackup", "coreInstanceCount", "-1", "coreInstanceCount '-1' is not a whole number of 0 or more"),
        ("EmrClusterForBackup", "taskInstanceCount", "1.5", "taskInstanceCount '1.5' is not a whole number of 0 or more"),
        ("EmrClusterForBackup", "terminateAfter", "6h", "terminateAfter '6h' is not a period '<whole number> <unit>'"),
        ("TableBackupActivity", "attemptTimeout", "forever", "attemptTimeout 'forever' is not a period"),
        ("S3BackupLocation", "s3EncryptionType", "AES256", "s3EncryptionType 'AES256' is not one of SERVER_SIDE_ENCRYPTION, NONE"),
        ("DDBSourceTable", "readThroughputPercent", "high", "readThroughputPercent 'high' is not a number; allowed 0.1-1.0"),
    ],
)
def test_values_in_range(object_id, key, value, fragment):
    definition = edit(export_definition(), object_id, **{key: value})
    assert_violation(definition, object_id, key, fragment)


def test_precondition_timeout_must_be_a_period():
    definition = edit(import_definition(), "InputReady", preconditionTimeout="1h")
    assert_violation(definition, "InputReady", "preconditionTimeout", "preconditionTimeout '1h' is not a period")


# --- 8. jar and class pairing -------------------------------------------------------------------
def test_tools_jar_with_legacy_class_spelling():
    step = f"{TOOLS_JAR},org.apache.hadoop.dynamodb.tools.DynamoDbExport,#{{output.directoryPath}},#{{input.tableName}}"
    definition = edit(export_definition(), "TableBackupActivity", step=step)
    assert_violation(
        definition,
        "TableBackupActivity",
        "step",
        "step jar 'emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar' is run with class "
        "'org.apache.hadoop.dynamodb.tools.DynamoDbExport'; the emr-dynamodb-tools jar needs "
        "org.apache.hadoop.dynamodb.tools.DynamoDBExport",
    )


def test_legacy_jar_with_tools_class_spelling():
    step = f"{LEGACY_JAR},{IMPORT_CLASS},#{{input.directoryPath}},#{{output.tableName}}"
    definition = edit(import_definition(), "TableLoadActivity", step=step)
    assert_violation(
        definition, "TableLoadActivity", "step", "the legacy emr-ddb-2.1.0.jar needs org.apache.hadoop.dynamodb.tools.DynamoDbImport"
    )


def test_tools_jar_with_another_class_lists_both_choices():
    definition = edit(export_definition(), "TableBackupActivity", step=f"{TOOLS_JAR},com.example.Main,a")
    assert_violation(definition, "TableBackupActivity", "step", f"needs {EXPORT_CLASS} or {IMPORT_CLASS}")


def test_escaped_commas_and_other_jars_are_fine():
    steps = [
        REMOVE_OUTPUT,
        f"{TOOLS_JAR},{EXPORT_CLASS},-Dfs.s3.canned.acl=BucketOwnerFullControl,#{{output.directoryPath}},#{{input.tableName}},a\\,b",
        "command-runner.jar,spark-submit,x",
    ]
    assert_no_violation(edit(export_definition(), "TableBackupActivity", step=steps), "TableBackupActivity")


# --- 9. user-defined fields ---------------------------------------------------------------------
@pytest.mark.parametrize("key", ["owner", "myowner", "My_Owner", "tablename"])
def test_unknown_field(key):
    definition = edit(export_definition(), "DDBSourceTable", **{key: "x"})
    assert_violation(definition, "DDBSourceTable", key, f"unknown field '{key}'")


@pytest.mark.parametrize("key", ["myOwner", "my_owner", "*myPassword"])
def test_user_defined_and_secure_fields_are_fine(key):
    assert_no_violation(edit(export_definition(), "DDBSourceTable", **{key: "x"}), "DDBSourceTable")


def test_a_masked_field_is_the_field_its_type_documents():
    """*password is JdbcDatabase's (Developer Guide); on a DynamoDBDataNode it is no field of that type."""
    database = PipelineObject.build("Db", type="JdbcDatabase", connectionString="jdbc:mysql://h/db", jdbcDriverClass="com.mysql.Driver",
                                    username="u", **{"*password": "x"})
    assert_no_violation(add(export_definition(), database), "Db")
    definition = edit(export_definition(), "DDBSourceTable", **{"*password": "x"})
    assert_violation(definition, "DDBSourceTable", "*password", "*password is not listed for DynamoDBDataNode in the Developer Guide")


# --- 10. limits ---------------------------------------------------------------------------------
def test_at_most_100_objects():
    extra = [PipelineObject.build(f"Csv{i}", type="CSV") for i in range(94)]
    definition = add(export_definition(), *extra)
    assert_violation(definition, "<definition>", "", "101 objects exceed the default limit of 100 per pipeline")


def test_at_most_50_fields_per_object():
    definition = edit(export_definition(), "DDBSourceTable", **{f"myField{i}": "x" for i in range(47)})
    assert_violation(definition, "DDBSourceTable", "", "51 fields exceed the limit of 50 per object")


def test_field_value_and_object_size_limits():
    definition = edit(export_definition(), "EmrClusterForBackup", myBig="x" * 10_241)
    assert_violation(definition, "EmrClusterForBackup", "myBig", "value of 10241 UTF-8 bytes exceeds the limit of 10240")
    definition = edit(export_definition(), "EmrClusterForBackup", myA="é" * 4000, myB="é" * 4000)
    violation = assert_violation(definition, "EmrClusterForBackup", "", "over the limit of 15360 bytes per object")
    assert "fields total" in violation.rule


def test_at_most_50_parameters():
    extra = [Parameter.build(f"myP{i}", default="x") for i in range(47)]
    used = {f"myUses{i}": f"#{{myP{i}}}" for i in range(47)}
    definition = add(edit(export_definition(), "TableBackupActivity", **used), parameters=extra)
    assert_violation(definition, "<definition>", "", "51 parameters exceed the usual limit of 50 per definition")


# --- reporting ----------------------------------------------------------------------------------
def test_violation_str():
    assert str(Violation("A", "b", "rule")) == "A.b: rule"
    assert str(Violation("A", "", "rule")) == "A: rule"


def test_ensure_valid_lists_every_violation():
    definition = edit(export_definition(), "EmrClusterForBackup", coreInstanceCount="-1")
    definition = edit(definition, "TableBackupActivity", maximumRetries="9", runsOn=Ref("Nowhere"))
    with pytest.raises(DefinitionError) as raised:
        ensure_valid(definition, label="export pipeline OrdersBackup")
    error = raised.value
    assert isinstance(error, ValueError)
    lines = str(error).splitlines()
    assert lines[0] == "export pipeline OrdersBackup is invalid: 3 violations"
    assert lines[1:] == [v.coded() for v in error.violations]
    assert lines[1].startswith("EmrClusterForBackup.coreInstanceCount: DP233 coreInstanceCount")
    assert [(v.object_id, v.field) for v in error.violations] == [
        ("EmrClusterForBackup", "coreInstanceCount"),
        ("TableBackupActivity", "maximumRetries"),  # edit() re-appends fields in keyword order
        ("TableBackupActivity", "runsOn"),
    ]
    assert lines[3] == "TableBackupActivity.runsOn: DP120 reference to 'Nowhere' names no object of this definition"


def test_validate_order_is_deterministic_and_follows_the_definition():
    broken = edit(export_definition(), "DDBSourceTable", writeThroughputPercent="0", owner="x")
    broken = edit(broken, "EmrClusterForBackup", coreInstanceCount="-2", terminateAfter="soon")
    broken = add(broken, parameters=[Parameter.build("myUnused", default="x")])
    first = validate(broken)
    assert first == validate(broken)
    assert [(v.object_id, v.field) for v in first] == [
        ("DDBSourceTable", "writeThroughputPercent"),
        ("DDBSourceTable", "owner"),
        ("EmrClusterForBackup", "coreInstanceCount"),
        ("EmrClusterForBackup", "terminateAfter"),
        ("myUnused", ""),
    ]
    reordered = dataclasses.replace(broken, objects=tuple(reversed(broken.objects)))
    assert [v.object_id for v in validate(reordered)][:2] == ["EmrClusterForBackup", "EmrClusterForBackup"]


# --- issue 13 item 3: the Developer Guide's per-type field tables ---------------------------------
def test_every_documented_type_has_its_page_and_fields():
    from ddb_datapipeline.definition import rules as R
    from ddb_datapipeline.definition.guide_rules import DOCUMENTED

    assert set(DOCUMENTED) == R.KNOWN_TYPES - {"Default"}
    assert all(t.page.endswith(".html") and t.all() for t in DOCUMENTED.values())
    assert DOCUMENTED["S3KeyExists"].required == {"role": "String", "s3Key": "String"}
    assert ("runsOn", "workerGroup") in DOCUMENTED["ShellCommandActivity"].groups


def test_a_field_the_guide_requires_is_an_error_when_nothing_sets_it():
    proxy = PipelineObject.build("Proxy", type="HttpProxy", hostname="proxy.example.com")
    assert_violation(add(export_definition(), proxy), "Proxy", "port", "HttpProxy requires port (https://docs.aws.amazon.com/datapipeline/")
    complete = PipelineObject.build("Proxy", type="HttpProxy", hostname="proxy.example.com", port="3128")
    assert_no_violation(add(export_definition(), complete), "Proxy")


def test_a_required_group_of_the_guide_needs_one_of_its_fields():
    hive = PipelineObject.build("Hive", type="HiveActivity", runsOn=Ref("EmrClusterForBackup"))
    assert_violation(add(export_definition(), hive), "Hive", "", "HiveActivity needs one of hiveScript, scriptUri (https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/dp-object-hiveactivity.html); none is set")


def test_deprecated_fields_and_types_are_warnings():
    ec2 = PipelineObject.build("Ec2", type="Ec2Resource", role="r", resourceRole="rr", instanceCount="2")
    assert not assert_violation(add(export_definition(), ec2), "Ec2", "instanceCount", "instanceCount is deprecated on Ec2Resource").is_error
    mysql = PipelineObject.build("Mysql", type="MySqlDataNode", table="t", connectionString="jdbc:mysql://h/db", username="u",
                                 **{"*password": "p"})
    assert not assert_violation(add(export_definition(), mysql), "Mysql", "type", "MySqlDataNode is deprecated").is_error


def test_ebs_objects_are_checked_against_the_guides_example():
    volume = PipelineObject.build("Volume", type="VolumeSpecification", sizeInGB="500", volumeType="io1", iops="1000")
    assert_no_violation(add(export_definition(), volume), "Volume")
    wrong = PipelineObject.build("Volume", type="VolumeSpecification", sizeInGB="500", volumesPerInstance="2")
    assert_violation(add(export_definition(), wrong), "Volume", "volumesPerInstance", "is not listed for VolumeSpecification")


def test_guide_slot_types_references_and_booleans():
    cluster = "EmrClusterForBackup"
    definition = edit(export_definition(), cluster, coreGroupConfiguration="CoreGroup", resizeClusterBeforeRunning="yes")
    assert_violation(definition, cluster, "coreGroupConfiguration", "coreGroupConfiguration must be a reference to an object id")
    activity = edit(export_definition(), "TableBackupActivity", resizeClusterBeforeRunning="maybe")
    assert_violation(activity, "TableBackupActivity", "resizeClusterBeforeRunning", "resizeClusterBeforeRunning 'maybe' is not true or false")
    assert_no_violation(edit(export_definition(), "TableBackupActivity", resizeClusterBeforeRunning="False"), "TableBackupActivity")


# --- DP236: a DynamoDB table's name, and a CDK token read as the name it stands for ---------------------------
TOKEN = "${Token[TOKEN.123]}"


@pytest.mark.parametrize("name", ["ab", "orders/2024", "a" * 256, "arn:aws:dynamodb:eu-west-1:1111:table/orders"])
def test_a_dynamodb_table_name_outside_the_naming_rules_is_refused(name):
    definition = edit(export_definition(), "DDBSourceTable", tableName=name)
    assert assert_violation(definition, "DDBSourceTable", "tableName", "is neither a table name").code == "DP236"


@pytest.mark.parametrize("name", ["orders", "Team-Orders.v2_1", "arn:aws:dynamodb:eu-west-1:222222222222:table/orders-analytics"])
def test_a_table_name_or_a_tables_arn_is_accepted(name):
    assert [v for v in validate(edit(export_definition(), "DDBSourceTable", tableName=name)) if v.code == "DP236"] == []


def test_a_token_is_read_as_its_stand_in_everywhere_but_in_refs():
    definition = add(edit(export_definition(), "DDBSourceTable", tableName=TOKEN),
                     PipelineObject.build("Other", type="DynamoDBDataNode", tableName=f"{TOKEN}-copy", parent=Ref("DDBSourceTable")),
                     parameters=(Parameter.build("myToken", description=f"for {TOKEN}"),), values=(("myToken", TOKEN),))
    assert [v for v in validate(definition) if v.code == "DP236"] == []  # opaque: the validator cannot read a token itself
    assert assert_violation(definition.with_stand_ins({TOKEN: "ab"}), "DDBSourceTable", "tableName", "'ab' is neither").code == "DP236"
    read = definition.with_stand_ins({TOKEN: "Team-Orders"})
    assert read.object("DDBSourceTable").value("tableName") == "Team-Orders"
    assert read.object("Other").value("tableName") == "Team-Orders-copy"
    assert read.object("Other").refs() == definition.object("Other").refs()
    assert read.parameters[-1].attribute("description") == "for Team-Orders" and read.value_of("myToken") == "Team-Orders"
    assert TOKEN not in repr(read)
    assert definition.with_stand_ins({}) is definition
