"""Issue 28: the rule registry (ids, severities, sources, --select/--ignore semantics), the connector's tools
checked in any definition (HadoopActivity, the legacy classes, every expression style), "did you mean", and
severities that moved to warning because the Developer Guide says the service accepts the definition."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ddb_datapipeline.definition import rule_registry as registry
from ddb_datapipeline.definition import validator
from ddb_datapipeline.definition.model import Parameter, PipelineObject, Ref
from ddb_datapipeline.definition.validator import DefinitionError, chosen, ensure_valid, validate

from .test_validator import (
    EXPORT_CLASS,
    REMOVE_OUTPUT,
    TOOLS_JAR,
    add,
    assert_no_violation,
    assert_violation,
    edit,
    export_definition,
    import_definition,
)

DEFINITION_PACKAGE = Path(validator.__file__).parent


# --- the registry -------------------------------------------------------------------------------
def test_every_rule_has_a_unique_id_a_severity_a_title_a_source_and_a_family_the_validator_runs():
    ids = [rule.id for rule in registry.RULES]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    families = {rule.__name__ for rule in validator.RULES}
    for rule in registry.RULES:
        assert re.fullmatch(r"DP[1-6]\d\d", rule.id), rule.id
        assert rule.severity in (registry.ERROR, registry.WARNING), rule.id
        assert rule.title and rule.source and "\n" not in rule.title, rule.id
        assert rule.check in families, rule.id


def test_every_violation_the_rule_modules_build_names_a_registered_id():
    """Read from the source: each Violation(...) call passes its rule id as a string literal that the registry
    knows (a finding without an id would have no severity of its own)."""
    calls = 0
    for module in sorted(DEFINITION_PACKAGE.glob("*_rules.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Violation":
                calls += 1
                assert len(node.args) == 4, f"{module.name}:{node.lineno}: Violation without a rule id"
                code = node.args[3]
                literals = [code] if isinstance(code, ast.Constant) else [n for n in ast.walk(code) if isinstance(n, ast.Constant)]
                ids = [c.value for c in literals if isinstance(c.value, str) and c.value.startswith("DP")]
                known = [i for i in ids if i in registry.BY_ID]
                assert known or isinstance(code, (ast.Subscript, ast.Name)), f"{module.name}:{node.lineno}: {ids}"
    assert calls > 60


@pytest.mark.parametrize(
    "select, ignore, kept",
    [
        ((), (), {"DP101", "DP213", "DP304", "DP610"}),
        (("DP3",), (), {"DP304"}),
        (("DP304", "dp1"), (), {"DP101", "DP304"}),
        ((), ("DP1",), {"DP213", "DP304", "DP610"}),
        ((), ("DP610", "DP21"), {"DP101", "DP304"}),
        (("DP304",), ("DP3",), {"DP304"}),  # the longer match wins
        (("DP3",), ("DP304",), set()),
    ],
)
def test_select_and_ignore_take_ids_and_prefixes(select, ignore, kept):
    found = {rule_id for rule_id in ("DP101", "DP213", "DP304", "DP610")
             if registry.is_selected(rule_id, select=select, ignore=ignore)}
    assert found == kept


@pytest.mark.parametrize("value", ["DP9", "XY1", "", "DP3041"])
def test_a_selector_that_names_no_rule_is_one_line_naming_the_option_and_the_value(value):
    with pytest.raises(registry.SelectorError) as raised:
        registry.check_selectors("--ignore", ("DP1", value))
    message = str(raised.value)
    assert message.startswith(f"--ignore: '{value}' is not allowed; expected a rule id or a prefix of one")
    assert "\n" not in message


def test_chosen_drops_the_ignored_findings_of_a_definition():
    definition = edit(export_definition(), "TableBackupActivity", maximumRetries="9", workerGroup="wg")
    codes = [v.code for v in validate(definition)]
    assert {"DP231", "DP136"} <= set(codes)
    assert "DP231" not in [v.code for v in chosen(validate(definition), ignore=("DP23",))]
    assert [v.code for v in chosen(validate(definition), select=("DP136",))] == ["DP136"]


# --- item 2: the guide's word decides the severity ---------------------------------------------
def test_a_parameter_used_only_by_another_parameters_value_counts_as_used():
    base = add(export_definition(), parameters=[Parameter.build("myBucket", default="b"), Parameter.build("myFolder")],
               values=[("myFolder", "s3://#{myBucket}/exports")])
    used = edit(base, "TableBackupActivity", myTarget="#{myFolder}")
    assert_no_violation(used, "myBucket")
    unused = add(export_definition(), parameters=[Parameter.build("myBucket", default="b")])
    found = assert_violation(unused, "myBucket", "", "parameter myBucket is declared but never used")
    assert (found.code, found.severity) == ("DP213", "warning")


@pytest.mark.parametrize(
    "definition, code",
    [
        (lambda: edit(export_definition(), "TableBackupActivity", workerGroup="wg-1"), "DP136"),
        (lambda: edit(import_definition(), "TableLoadActivity", lateAfterTimeout="2 hours"), "DP224"),
        (lambda: edit(export_definition(), "DDBSourceTable", myNote=""), "DP113"),
    ],
)
def test_what_the_guide_accepts_is_a_warning_on_the_command_line_and_still_fails_the_synth(definition, code):
    built = definition()
    found = [v for v in validate(built) if v.code == code]
    assert found and {v.severity for v in found} == {"warning"}
    with pytest.raises(DefinitionError):  # the synth path: every rule, warnings count
        ensure_valid(built)


# --- item 3: the connector's tools in any definition --------------------------------------------
LEGACY_JAR = "s3://dynamodb-emr-us-east-1/emr-ddb-storage-handler/2.1.0/emr-ddb-2.1.0.jar"


def _export_step(arguments: str, main_class: str = EXPORT_CLASS, jar: str = TOOLS_JAR) -> list[str]:
    return [REMOVE_OUTPUT, f"{jar},{main_class},{arguments}"]


@pytest.mark.parametrize(
    "arguments, jar, main_class, fragment",
    [
        ("#{input.tableName},#{output.directoryPath},0.25", LEGACY_JAR, "org.apache.hadoop.dynamodb.tools.DynamoDbExport",
         "argument 1 '#{input.tableName}' of TableBackupActivity is the table name"),
        ("#{myDDBTableName},#{myOutputS3Loc},#{myDDBReadThroughputRatio}", TOOLS_JAR, EXPORT_CLASS,
         "argument 1 '#{myDDBTableName}' of TableBackupActivity is the table name"),
        ("orders,s3://b/x,0.25", "s3://anywhere/my-copy-of-the-tools.jar", EXPORT_CLASS,
         "argument 1 'orders' of TableBackupActivity is the table name"),
        ("#{output.directoryPath},#{input.tableName},#{myTarget}", TOOLS_JAR, EXPORT_CLASS,
         "argument 3 '#{myTarget}' of TableBackupActivity is the S3 directory"),
        ("#{myOutputS3Loc}/#{format(@scheduledStartTime\\,'YYYY')},0.25,#{input.tableName}", TOOLS_JAR, EXPORT_CLASS,
         "argument 2 '0.25' of TableBackupActivity is the throughput ratio"),
    ],
)
def test_a_swapped_export_is_an_error_whatever_the_jar_and_the_expression_style(arguments, jar, main_class, fragment):
    definition = edit(export_definition(), "TableBackupActivity", step=_export_step(arguments, main_class, jar),
                      myTarget="#{output.directoryPath}")
    found = assert_violation(definition, "TableBackupActivity", "step", fragment)
    assert (found.code, found.severity) == ("DP304", "error")


def test_a_parameter_without_value_is_told_by_its_type():
    """A template's #{myStaging} has no value until activation; its type AWS::S3::ObjectKey says it is a folder."""
    definition = add(edit(export_definition(), "TableBackupActivity",
                          step=_export_step("#{output.directoryPath},#{myStaging},#{myRatio}")),
                     parameters=[Parameter.build("myStaging", type="AWS::S3::ObjectKey"), Parameter.build("myRatio", type="Double")])
    found = assert_violation(definition, "TableBackupActivity", "step",
                             "argument 2 '#{myStaging}' of TableBackupActivity is the S3 directory, where DynamoDBExport "
                             "expects the table name")
    assert found.is_error


def test_a_hadoop_activity_running_the_import_with_swapped_arguments_is_an_error():
    activity = PipelineObject.build(
        "HadoopLoad", type="HadoopActivity", jarUri=TOOLS_JAR, mainClass="org.apache.hadoop.dynamodb.tools.DynamoDBImport",
        argument=["#{output.tableName}", "#{input.directoryPath}"], input=Ref("S3InputDataNode"),
        output=Ref("DDBDestinationTable"), runsOn=Ref("EmrClusterForLoad"),
    )
    found = assert_violation(add(import_definition(), activity), "HadoopLoad", "argument",
                             "argument 1 '#{output.tableName}' of HadoopLoad is the table name, where DynamoDBImport "
                             "expects the S3 directory")
    assert found.is_error
    fixed = add(import_definition(), PipelineObject.build(
        "HadoopLoad", type="HadoopActivity", jarUri=TOOLS_JAR, mainClass="org.apache.hadoop.dynamodb.tools.DynamoDBImport",
        argument=["#{input.directoryPath}", "#{output.tableName}", "0.5"], input=Ref("S3InputDataNode"),
        output=Ref("DDBDestinationTable"), runsOn=Ref("EmrClusterForLoad")))
    assert [v for v in validate(fixed) if v.check == "connector_arguments"] == []


def test_the_export_reads_path_and_table_without_a_ratio_as_4_11_0_does():
    definition = edit(export_definition(), "TableBackupActivity", step=_export_step("#{output.directoryPath},#{input.tableName}"))
    assert [v for v in validate(definition) if v.check == "connector_arguments"] == []
    one = edit(export_definition(), "TableBackupActivity", step=_export_step("#{output.directoryPath}"))
    found = assert_violation(one, "TableBackupActivity", "step", "passes 1 argument to DynamoDBExport")
    assert (found.code, found.severity) == ("DP302", "error")


# --- item 4: did you mean -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "object_id, fields, field, fragment",
    [
        ("TableBackupActivity", {"type": "EmrActivty"}, "type",
         "type 'EmrActivty' is not a Data Pipeline object type; did you mean 'EmrActivity'?"),
        ("DDBSourceTable", {"tablename": "x"}, "tablename", "did you mean 'tableName'?"),
        ("DDBSourceTable", {"readThroughputPercnt": "0.5"}, "readThroughputPercnt", "did you mean 'readThroughputPercent'?"),
        ("S3BackupLocation", {"directoryPath": "s3://b/#{fromat(@scheduledStartTime, 'YYYY')}"}, "directoryPath",
         "function 'fromat' in '#{fromat(@scheduledStartTime, 'YYYY')}' is not a Data Pipeline function; did you mean "
         "'format'?"),
    ],
)
def test_an_unknown_type_or_field_names_the_closest_known_one(object_id, fields, field, fragment):
    found = assert_violation(edit(export_definition(), object_id, **fields), object_id, field, fragment)
    assert "did you mean '" in found.rule


def test_a_name_close_to_nothing_gets_no_suggestion():
    found = assert_violation(edit(export_definition(), "TableBackupActivity", type="Zzyzx"), "TableBackupActivity", "type",
                             "type 'Zzyzx' is not a Data Pipeline object type; known types: ")
    assert "did you mean" not in found.rule
