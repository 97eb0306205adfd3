"""The HiveCopyActivity rules (``hive_rules.py``): a DynamoDB-to-DynamoDB copy with a filter on a
declared column is clean, and each rule is broken on purpose in a copy of it."""
from __future__ import annotations

import pytest

from ddb_datapipeline.definition.emr import HIVE_CONFIGURATION_ID, hive_configuration
from ddb_datapipeline.definition.model import Parameter, PipelineDefinition, PipelineObject, Ref
from ddb_datapipeline.definition.validator import Violation, validate

from .test_validator import add, edit

# The guide's example filter ("DynamoDBExportDataFormat" page): a declared column against a run-time expression.
GUIDE_FILTER = "`timeStamp` > unix_timestamp(\"#{@scheduledStartTime}\", \"yyyy-MM-dd'T'HH:mm:ss\")"


def hive_copy_definition(filter_sql: str | None = GUIDE_FILTER) -> PipelineDefinition:
    """The guide's HiveCopyActivity example: copy one DynamoDB table into another, keeping the items
    newer than the run's scheduled start."""
    return PipelineDefinition(
        objects=(
            PipelineObject.build(
                "Default",
                type="Default",
                scheduleType="cron",
                schedule=Ref("DailySchedule"),
                failureAndRerunMode="CASCADE",
                role="DataPipelineRole",
                resourceRole="DataPipelineResourceRole",
                pipelineLogUri="s3://logs-bucket/datapipeline/",
            ),
            PipelineObject.build("DailySchedule", type="Schedule", period="1 day", startAt="FIRST_ACTIVATION_DATE_TIME"),
            PipelineObject.build("SourceFormat", type="DynamoDBExportDataFormat", column=["timeStamp BIGINT", "status STRING"]),
            PipelineObject.build("TargetFormat", type="DynamoDBExportDataFormat"),
            PipelineObject.build("SourceTable", type="DynamoDBDataNode", tableName="#{mySourceTable}", dataFormat=Ref("SourceFormat")),
            PipelineObject.build("TargetTable", type="DynamoDBDataNode", tableName="#{myTargetTable}", dataFormat=Ref("TargetFormat")),
            PipelineObject.build("CopyCluster", type="EmrCluster", releaseLabel="emr-6.15.0", masterInstanceType="m5.xlarge",
                                 coreInstanceType="m5.xlarge", coreInstanceCount="1", terminateAfter="6 hours",
                                 configuration=Ref(HIVE_CONFIGURATION_ID)),
            *hive_configuration(),  # Hive on MapReduce, no pushdown into an index (test_attempt_rules)
            PipelineObject.build("CopyActivity", type="HiveCopyActivity", input=Ref("SourceTable"), output=Ref("TargetTable"),
                                 runsOn=Ref("CopyCluster"), filterSql=filter_sql),
        ),
        parameters=(
            Parameter.build("mySourceTable", description="Table to copy from"),
            Parameter.build("myTargetTable", description="Table to copy into"),
        ),
        values=(("mySourceTable", "orders"), ("myTargetTable", "orders-copy")),
    )


def hive_findings(definition: PipelineDefinition) -> list[Violation]:
    return [v for v in validate(definition) if v.check == "hive_copy"]


def assert_hive(definition: PipelineDefinition, object_id: str, field: str, fragment: str, severity: str = "error") -> Violation:
    found = hive_findings(definition)
    matches = [v for v in found if v.object_id == object_id and v.field == field and fragment in v.rule]
    listing = "\n".join(map(str, found)) or "(none)"
    assert matches, f"expected {object_id}.{field} ~ {fragment!r}; got:\n{listing}"
    assert matches[0].severity == severity, str(matches[0])
    return matches[0]


def with_filter(filter_sql: str) -> PipelineDefinition:
    return edit(hive_copy_definition(), "CopyActivity", filterSql=filter_sql)


def s3_node(node_id: str = "Staging") -> PipelineObject:
    return PipelineObject.build(node_id, type="S3DataNode", directoryPath="s3://bucket/staging/", dataFormat=Ref("TargetFormat"))


# --- the valid copy -----------------------------------------------------------------------------
def test_the_guide_copy_with_a_filter_on_a_declared_column_is_clean():
    assert hive_findings(hive_copy_definition()) == []


def test_the_guide_copy_has_no_error_from_any_rule():
    assert [str(v) for v in validate(hive_copy_definition()) if v.is_error] == []


@pytest.mark.parametrize("filter_sql", [
    "`timeStamp` > #{format(@scheduledStartTime, 'YYYY')}",  # an apostrophe pair inside an expression
    # escaped apostrophes inside the expression's string: scanned as Hive text they would leave a string open
    "`timeStamp` > unix_timestamp('#{format(@scheduledStartTime, 'YYYY-MM-dd\\'T\\'HH:mm:ss')}', \"yyyy-MM-dd'T'HH:mm:ss\")",
    "`#{myColumn}` = 1",  # a column named by an expression is known at run time only
    "`status` = '#{format(@scheduledStartTime, 'YYYY-MM-dd')}' AND `timeStamp` > 0",  # expressions inside a string
    "`status` = 'it''s (open' OR `status` = \"say \\\"hi\\\" (\"",  # apostrophes, parentheses and escapes in strings
    "`status` = 'it\\'s'",  # an escaped apostrophe does not end the string
    "`STATUS` = 'open' AND (`TimeStamp` > 0)",  # columns compared case-insensitively, as Hive does
    "timeStamp > 0 AND wherever_it_is IS NULL",  # 'where' only counts as a leading keyword
])
def test_filters_that_balance_outside_expressions_are_clean(filter_sql):
    assert hive_findings(with_filter(filter_sql)) == []


# --- 1. input and output types ------------------------------------------------------------------
def test_input_of_another_data_node_type():
    sql_node = PipelineObject.build("Orders", type="SqlDataNode", table="orders", selectQuery="select * from orders")
    definition = edit(add(hive_copy_definition(), sql_node), "CopyActivity", input=Ref("Orders"))
    assert_hive(definition, "CopyActivity", "input", "refers to 'Orders' of type SqlDataNode; a HiveCopyActivity copies between S3DataNode and DynamoDBDataNode")


def test_an_s3_input_needs_a_dynamodb_output():
    definition = edit(add(hive_copy_definition(), s3_node("Staging"), s3_node("Archive")), "CopyActivity",
                      input=Ref("Staging"), output=Ref("Archive"), filterSql=None)
    assert_hive(definition, "CopyActivity", "output", "with an S3DataNode input the output must be a DynamoDBDataNode")


def test_an_s3_input_into_dynamodb_is_fine():
    definition = edit(add(hive_copy_definition(), s3_node()), "CopyActivity", input=Ref("Staging"), filterSql=None)
    assert hive_findings(definition) == []


# --- 2. DynamoDB nodes need an export format ----------------------------------------------------
def test_a_dynamodb_node_without_data_format():
    definition = edit(hive_copy_definition(), "TargetTable", dataFormat=None)
    assert_hive(definition, "TargetTable", "dataFormat", "is the output of HiveCopyActivity 'CopyActivity' but has no dataFormat")


def test_a_dynamodb_node_with_another_data_format():
    other = PipelineObject.build("PlainFormat", type="DynamoDBDataFormat", column="timeStamp BIGINT")
    definition = edit(add(hive_copy_definition(), other), "SourceTable", dataFormat=Ref("PlainFormat"))
    assert_hive(definition, "SourceTable", "dataFormat", "refers to 'PlainFormat' of type DynamoDBDataFormat; as the input")


# --- 3-5. filterSql -----------------------------------------------------------------------------
@pytest.mark.parametrize("filter_sql", ["WHERE `timeStamp` > 0", "  where `timeStamp` > 0", "\nWhere(`timeStamp` > 0)"])
def test_filter_beginning_with_where(filter_sql):
    assert_hive(with_filter(filter_sql), "CopyActivity", "filterSql", "begins with WHERE; give only the predicates")


@pytest.mark.parametrize(("filter_sql", "fragment"), [
    ("`status` = 'open", "the single quote (') at character 12 is never closed"),
    ("`status` = \"open", 'the double quote (") at character 12 is never closed'),
    ("`status = 'open'", "the backquote (`) at character 1 is never closed"),
    ("`status` = 'it\\'s", "the single quote (') at character 12 is never closed"),
    ("(`timeStamp` > 0 AND (`status` = 'open')", "1 '(' is never closed (the first at character 1)"),
    ("`timeStamp` > 0)", "the ')' at character 16 closes no '('"),
])
def test_unbalanced_quotes_and_parentheses(filter_sql, fragment):
    found = assert_hive(with_filter(filter_sql), "CopyActivity", "filterSql", fragment)
    assert "balance outside #{...} expressions" in found.rule


def test_a_filter_from_a_parameter_is_checked_as_its_value():
    definition = add(with_filter("#{myFilter}"), parameters=[Parameter.build("myFilter", default="WHERE `timeStamp` > 0")])
    assert_hive(definition, "CopyActivity", "filterSql", "'#{myFilter}' (resolves to 'WHERE `timeStamp` > 0') begins with WHERE")


def test_a_backquoted_column_the_input_format_does_not_declare():
    found = assert_hive(with_filter("`timeStamp` > 0 AND `region` = 'eu'"), "CopyActivity", "filterSql", "names column `region`")
    assert "'SourceFormat' of input 'SourceTable' does not declare (it declares timeStamp, status)" in found.rule
    assert "unknown column" in found.rule


def test_a_column_inside_a_string_is_no_column():
    assert hive_findings(with_filter("`status` = '`region`'")) == []


def test_a_filter_on_an_s3_input_is_not_checked_against_columns():
    definition = edit(add(hive_copy_definition(), s3_node()), "CopyActivity", input=Ref("Staging"), filterSql="`region` = 'eu'")
    assert hive_findings(definition) == []


# --- 6. DynamoDBExportDataFormat columns --------------------------------------------------------
@pytest.mark.parametrize(("column", "fragment"), [
    ("timeStamp", "column 'timeStamp' is not '<name> <TYPE>'"),
    ("timeStamp BIGINT NOT NULL", "is not '<name> <TYPE>'"),
    ("1stSeen BIGINT", "names '1stSeen'; a column name is a letter or '_'"),
    ("order-id STRING", "names 'order-id'"),
    ("timeStamp LONG", "has type 'LONG'; a column is '<name> <TYPE>'"),
    ("timeStamp INT(10)", "has type 'INT(10)'"),
])
def test_malformed_columns(column, fragment):
    definition = edit(hive_copy_definition(), "SourceFormat", column=["status STRING", column])
    found = assert_hive(definition, "SourceFormat", "column", fragment)
    assert "STRING, BIGINT" in found.rule or "column name" in found.rule


@pytest.mark.parametrize("column", ["price decimal", "price DECIMAL(10, 2)", "seen timestamp", "raw Binary"])
def test_well_formed_columns_in_any_case(column):
    assert hive_findings(edit(hive_copy_definition(), "SourceFormat", column=["timeStamp BIGINT", column])) == []


def test_a_column_declared_twice_case_insensitively():
    definition = edit(hive_copy_definition(), "SourceFormat", column=["timeStamp BIGINT", "TIMESTAMP string"])
    assert_hive(definition, "SourceFormat", "column", "declares 'TIMESTAMP' again, after 'timeStamp BIGINT'")


def test_a_boolean_column_is_a_warning_not_an_error():
    definition = edit(hive_copy_definition(), "SourceFormat", column=["timeStamp BIGINT", "active BOOLEAN"])
    found = assert_hive(definition, "SourceFormat", "column", "DynamoDB Boolean attributes are not mapped to Hive BOOLEAN", "warning")
    assert str(found).startswith("SourceFormat.column: warning: column 'active BOOLEAN'")
    assert [v for v in hive_findings(definition) if v.is_error] == []
