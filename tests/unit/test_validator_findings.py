"""Issue 13: errors versus warnings, templates linted without values, the inputs AWS documents that
were false alarms (each a test first), and the new rules: dependsOn cycles, connector step arguments
and previous-generation instance types, also on the project's own definitions when mutated."""
from __future__ import annotations

import dataclasses

import pytest

from ddb_datapipeline.definition import validator
from ddb_datapipeline.definition.common import PipelineSettings, ScheduleSpec
from ddb_datapipeline.definition.copy import CopySpec, build_copy_definition
from ddb_datapipeline.definition.emr import ClusterSpec
from ddb_datapipeline.definition.export import ExportSpec, build_export_definition
from ddb_datapipeline.definition.model import Parameter, PipelineObject, Ref
from ddb_datapipeline.definition.render import DefinitionFormatError, from_definition_file, to_definition_file
from ddb_datapipeline.definition.restore import RestoreSpec, build_restore_definition
from ddb_datapipeline.definition.validator import DefinitionError, ensure_valid, errors, validate

from .test_validator import (
    EXPORT_CLASS,
    IMPORT_CLASS,
    REMOVE_OUTPUT,
    TOOLS_JAR,
    add,
    assert_no_violation,
    assert_violation,
    edit,
    export_definition,
    import_definition,
)


@pytest.fixture(autouse=True)
def _steps_may_take_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    """The definitions here follow AWS's console templates, whose steps take their table and folder from
    parameters; ``parameter_code`` refuses exactly that (tests/unit/test_injection.py), so the other rules are
    tested here without it."""
    monkeypatch.setattr(validator, "RULES", tuple(rule for rule in validator.RULES if rule.__name__ != "parameter_code"))
CLUSTER = ClusterSpec()


SETTINGS = PipelineSettings(
    region="eu-west-1", role="PipelineRole", resource_role="ResourceRole", log_uri="s3://bucket/logs/x/",
    alarm_topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts",
)



def project_export():
    return build_export_definition(ExportSpec("orders", "s3://b/exports/orders", 0.3, CLUSTER, ScheduleSpec("1 day"), True), SETTINGS)


def project_restore():
    return build_restore_definition(RestoreSpec("orders", "orders-restore", "s3://b/exports/orders", 0.4, CLUSTER), SETTINGS)


def project_copy():
    spec = CopySpec("orders", "orders-dr", "us-west-2", "s3://b/copies/orders", 0.25, 0.6, CLUSTER, ScheduleSpec("1 day"))
    return build_copy_definition(spec, SETTINGS)


def severities(definition, object_id):
    return {v.severity for v in validate(definition) if v.object_id == object_id}


# --- 1. errors and warnings ---------------------------------------------------------------------
def test_an_unused_parameter_is_a_warning_and_says_so():
    definition = add(export_definition(), parameters=[Parameter.build("myUnused", default="x")])
    found = assert_violation(definition, "myUnused", "", "is declared but never used")
    assert found.severity == "warning" and str(found).startswith("myUnused: warning: parameter")
    assert errors(validate(definition)) == ()


def test_ensure_valid_still_refuses_warnings_and_missing_values():
    """The synth-time path is not weakened: the project's own definitions must be lint-clean."""
    with pytest.raises(DefinitionError):
        ensure_valid(add(export_definition(), parameters=[Parameter.build("myUnused", default="x")]))
    with pytest.raises(DefinitionError, match="neither a default nor a value"):
        ensure_valid(dataclasses.replace(export_definition(), values=(("myOutputS3Loc", "s3://b/o"),)))


def test_every_finding_names_its_rule_family():
    definition = edit(export_definition(), "TableBackupActivity", maximumRetries="9")
    assert [v.check for v in validate(definition)] == ["value_ranges"]


# --- 2. inputs: templates, masked parameters, metadata ------------------------------------------
def test_a_template_without_values_is_fine_when_values_are_not_required():
    template = dataclasses.replace(export_definition(), values=())
    assert validate(template, require_values=False) == ()
    assert_violation(template, "myDDBTableName", "", "has neither a default nor a value")  # default: required


def test_masked_parameters_are_accepted():
    """Issue 13 false alarm: '*myPassword', read as #{*myPassword} (and as #{myPassword} in AWS's samples)."""
    definition = add(
        edit(export_definition(), "TableBackupActivity", myToken="#{*myPassword}", myOther="#{mySecret}"),
        parameters=[Parameter.build("*myPassword", default="x"), Parameter.build("*mySecret", default="y")],
    )
    assert validate(definition) == ()


def test_a_masked_parameter_still_needs_the_my_prefix():
    definition = add(edit(export_definition(), "TableBackupActivity", myToken="#{*password}"),
                     parameters=[Parameter.build("*password", default="x")])
    assert_violation(definition, "*password", "", "must start with 'my'")


def test_user_defined_parameter_attributes_such_as_my_comment_are_accepted():
    """Issue 13 false alarm: AWS's templates put myComment on parameters."""
    definition = add(
        edit(export_definition(), "TableBackupActivity", myTeam="#{myTeamName}"),
        parameters=[Parameter("myTeamName", (("type", "String"), ("default", "data"), ("myComment", "who owns it")))],
    )
    assert validate(definition) == ()


def test_a_top_level_metadata_key_is_ignored_as_by_the_aws_cli():
    data = {"metadata": {"templateName": "Export DynamoDB table to S3"}, **to_definition_file(export_definition())}
    assert from_definition_file(data) == export_definition()
    with pytest.raises(DefinitionFormatError, match="unknown top-level keys"):
        from_definition_file({**data, "pipelineId": "df-1"})


# --- 3. object types and fields -----------------------------------------------------------------
def ebs_objects():
    return (
        PipelineObject.build("CoreEbs", type="EbsConfiguration", ebsOptimized="true", ebsBlockDeviceConfig=Ref("CoreDisks")),
        PipelineObject.build("CoreDisks", type="EbsBlockDeviceConfig", volumesPerInstance="2", volumeSpecification=Ref("Gp2")),
        PipelineObject.build("Gp2", type="VolumeSpecification", volumeType="gp2", sizeInGB="100", iops="300"),
    )


def test_ebs_configuration_objects_and_emr_log_uri_are_known():
    """Issue 13 false alarms: the EmrCluster page documents these objects and emrLogUri."""
    definition = add(
        edit(export_definition(), "EmrClusterForBackup", coreEbsConfiguration=Ref("CoreEbs"), emrLogUri="s3://logs/emr/"),
        *ebs_objects(),
    )
    assert validate(definition) == ()


def test_ebs_references_and_sizes_are_checked():
    definition = add(edit(export_definition(), "EmrClusterForBackup", coreEbsConfiguration=Ref("Gp2")), *ebs_objects())
    definition = edit(definition, "Gp2", sizeInGB="big")
    assert_violation(definition, "EmrClusterForBackup", "coreEbsConfiguration", "it must refer to one of EbsConfiguration")
    assert_violation(definition, "Gp2", "sizeInGB", "sizeInGB 'big' is not a whole number")


# --- 4a. dependsOn cycles -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "links, first, chain",
    [
        ({"A": "A"}, "A", "A -> A"),
        ({"A": "B", "B": "A"}, "A", "A -> B -> A"),
        ({"A": "B", "B": "C", "C": "A"}, "A", "A -> B -> C -> A"),
    ],
)
def test_depends_on_cycles_of_any_length_name_their_objects(links, first, chain):
    shells = [
        PipelineObject.build(name, type="ShellCommandActivity", command="true", runsOn=Ref("EmrClusterForBackup"),
                             dependsOn=Ref(target))
        for name, target in links.items()
    ]
    found = [v for v in validate(add(export_definition(), *shells)) if v.check == "depends_on_cycles"]
    assert [(v.object_id, v.field) for v in found] == [(first, "dependsOn")]
    assert f"dependsOn chain {chain} is a cycle" in found[0].rule and found[0].is_error


def test_a_depends_on_chain_without_loop_is_fine():
    assert_no_violation(project_copy(), "ExportActivity")
    assert validate(project_copy()) == ()


def test_the_copy_pipeline_mutated_into_a_loop_is_caught():
    looped = edit(project_copy(), "ExportActivity", dependsOn=Ref("CleanupActivity"))
    assert_violation(looped, "ExportActivity", "dependsOn",
                     "dependsOn chain ExportActivity -> CleanupActivity -> ImportActivity -> ExportActivity is a cycle")


# --- 4b. connector step arguments ---------------------------------------------------------------
def step_of(definition, object_id):
    """The connector's step (an export's first step removes its output folder)."""
    return definition.object(object_id).values("step")[-1]


def swap(step, first, second):
    return step.replace(first, "\0").replace(second, first).replace("\0", second)


def test_the_projects_own_steps_with_generic_options_pass():
    for definition in (project_export(), project_restore(), project_copy()):
        assert [v for v in validate(definition) if v.check == "connector_arguments"] == []
    assert "-Dmapreduce.output.fileoutputformat.compress=true" in step_of(project_export(), "TableBackupActivity")


def test_the_projects_export_with_table_and_directory_swapped_names_the_activity():
    export = project_export()
    step = swap(step_of(export, "TableBackupActivity"), "#{output.directoryPath}", "#{input.tableName}")
    found = assert_violation(edit(export, "TableBackupActivity", step=[REMOVE_OUTPUT, step]), "TableBackupActivity", "step",
                             "argument 1 '#{input.tableName}' of TableBackupActivity is the table name, where DynamoDBExport "
                             "expects the S3 directory")
    assert found.rule.endswith("DynamoDBExport takes S3 directory, table name, [throughput ratio], [segment count]")
    assert (found.code, found.severity) == ("DP304", "error")


def test_the_projects_restore_with_swapped_arguments_is_caught():
    restore = project_restore()
    activity = next(o.id for o in restore.objects if o.value("step"))
    step = swap(step_of(restore, activity), "#{input.directoryPath}", "#{output.tableName}")
    assert_violation(edit(restore, activity, step=step), activity, "step", "where DynamoDBImport expects the S3 directory")


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        ("#{output.directoryPath}", "TableBackupActivity passes 1 argument to DynamoDBExport, which takes"),
        ("#{output.directoryPath},#{input.readThroughputPercent},#{input.tableName}",
         "argument 2 '#{input.readThroughputPercent}' of TableBackupActivity is the throughput ratio, where DynamoDBExport "
         "expects the table name"),
        ("#{output.directoryPath},#{input.tableName},0.5,4,extra", "TableBackupActivity passes 5 arguments"),
        ("s3://bucket/x,#{input.tableName},s3://bucket/y", "argument 3 's3://bucket/y' of TableBackupActivity is the S3 directory"),
        ("orders,s3://bucket/x,0.5", "argument 1 'orders' of TableBackupActivity is the table name"),
    ],
)
def test_export_arguments_against_the_tools_signature(arguments, fragment):
    definition = edit(export_definition(), "TableBackupActivity", step=f"{TOOLS_JAR},{EXPORT_CLASS},{arguments}")
    assert_violation(definition, "TableBackupActivity", "step", fragment)


@pytest.mark.parametrize(
    "arguments",
    [
        "#{output.directoryPath},#{input.tableName},#{input.readThroughputPercent},8",
        "-D,mapreduce.job.queuename=etl,-Dfs.s3.canned.acl=BucketOwnerFullControl,#{output.directoryPath},#{input.tableName},0.25",
        "#{myOutputS3Loc},#{myDDBTableName},#{myDDBReadThroughputRatio}",
        "s3://bucket/x,2024,0.5",  # a numeric table name is not a ratio
        "#{output.directoryPath},#{input.tableName}",  # 4.11.0: the ratio is optional (args.length >= 3)
    ],
)
def test_export_arguments_that_fit(arguments):
    definition = edit(export_definition(), "TableBackupActivity", step=[REMOVE_OUTPUT, f"{TOOLS_JAR},{EXPORT_CLASS},{arguments}"])
    assert_no_violation(definition, "TableBackupActivity")


def test_import_reads_three_arguments_and_ignores_more():
    """4.11.0's DynamoDBImport reads args[0..2] only: a fourth is lint (DP303), not a refusal."""
    step = f"{TOOLS_JAR},{IMPORT_CLASS},#{{input.directoryPath}},#{{output.tableName}},#{{output.writeThroughputPercent}},4"
    found = assert_violation(edit(import_definition(), "TableLoadActivity", step=step), "TableLoadActivity", "step",
                             "TableLoadActivity passes 4 arguments to DynamoDBImport, which takes S3 directory, table name, "
                             "[throughput ratio]; it ignores the rest")
    assert (found.code, found.severity) == ("DP303", "warning")


# --- 4c. previous-generation instance types -----------------------------------------------------
@pytest.mark.parametrize(
    "key, value, suggestion",
    [("masterInstanceType", "m3.xlarge", "m5.xlarge"), ("coreInstanceType", "m1.medium", "m5.large"),
     ("taskInstanceType", "c3.2xlarge", "c5.2xlarge"), ("coreInstanceType", "r3.xlarge", "r5.xlarge")],
)
def test_previous_generation_instance_types_are_warnings_with_a_replacement(key, value, suggestion):
    found = assert_violation(edit(export_definition(), "EmrClusterForBackup", **{key: value}), "EmrClusterForBackup",
                             key, f"'{value}' is a previous-generation instance type")
    assert found.severity == "warning" and found.rule.endswith(f"use {suggestion}, its current counterpart")


def test_current_instance_types_and_unresolved_ones_are_fine():
    for value in ("m5.xlarge", "m4.large", "#{myType}", "${Token[TOKEN.1]}"):
        definition = edit(export_definition(), "EmrClusterForBackup", coreInstanceType=value)
        assert "instance_generations" not in {v.check for v in validate(definition)}


def test_the_terminate_action_has_the_type_name_its_guide_page_uses():
    """The "Terminate" page's example spells the type Terminate (it was listed as TerminateAction)."""
    definition = add(
        edit(export_definition(), "TableBackupActivity", onLateAction=Ref("Cancel"), lateAfterTimeout="2 hours"),
        PipelineObject.build("Cancel", type="Terminate"),
    )
    assert validate(definition) == ()


def test_every_known_type_names_its_developer_guide_page():
    from ddb_datapipeline.definition import rules as R

    assert set(R.OBJECT_PAGES) == set(R.KNOWN_TYPES)
    assert R.OBJECT_PAGES["Terminate"].endswith("/DeveloperGuide/dp-object-terminate.html")
    assert R.OBJECT_PAGES["VolumeSpecification"].endswith("/dp-object-emrcluster.html")
