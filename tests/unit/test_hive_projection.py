"""A copy of some attributes (definition/hive_projection.py): the HiveActivity script it writes, read back
as the validator, the review and the local runner read it; names that cannot be written safely refused;
and the validator's rules for such an activity, each broken on purpose."""
from __future__ import annotations

import dataclasses

import pytest

from ddb_datapipeline.definition.common import PipelineSettings, ScheduleSpec
from ddb_datapipeline.definition.emr import ClusterSpec
from ddb_datapipeline.definition.filters import parse_filter
from ddb_datapipeline.definition.hive_copy import CopySelection, HiveCopySpec, IncrementalWindow, build_hive_copy_definition
from ddb_datapipeline.definition.hive_projection import ProjectionScript, UnreadableScript, read_script
from ddb_datapipeline.definition.hive_verify import read_verify_script
from ddb_datapipeline.definition.model import PipelineDefinition, PipelineObject
from ddb_datapipeline.definition.validator import validate

SETTINGS = PipelineSettings(region="eu-west-1", role="PipelineRole", resource_role="ResourceRole",
                            log_uri="s3://bucket/logs/orders-copy/", alarm_topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts")
SELECTION = CopySelection(row_filter=parse_filter("status in ('OPEN', 'PENDING') and totalAmount >= 100"),
                          incremental=IncrementalWindow("updated_at", "epoch_seconds", 15),
                          attributes=("pk", "sk", "status", "totalAmount"))


def definition(selection: CopySelection = SELECTION) -> PipelineDefinition:
    spec = HiveCopySpec(source_table_name="orders", target_table="orders-open", target_region="eu-west-1", read_ratio=0.25,
                        write_ratio=0.5, cluster=ClusterSpec(), selection=selection, schedule=ScheduleSpec(period="1 hour"))
    return build_hive_copy_definition(spec, SETTINGS)


def script_of(built: PipelineDefinition) -> str:
    return built.object("CopyActivity").value("hiveScript") or ""


def test_the_script_reads_back_as_the_projection_it_writes():
    built = definition()
    activity = built.object("CopyActivity")
    assert activity.type == "HiveActivity" and activity.value("stage") == "false" and activity.value("filterSql") is None
    read = read_script(script_of(built))
    assert read.attributes == ("pk", "sk", "status", "totalAmount")
    assert read.columns == (("status", "string"), ("totalAmount", "double"), ("updated_at", "double"))
    assert read.where == SELECTION.filter_sql("1 hour")
    assert dict(read.source_properties)["dynamodb.table.name"] == "#{input.tableName}"
    assert dict(read.target_properties)["dynamodb.throughput.write.percent"] == "#{output.writeThroughputPercent}"
    # The nodes carry no format: the script declares its own tables.
    assert built.object("SourceTable").value("dataFormat") is None
    assert not [o for o in built.objects if o.type == "DynamoDBExportDataFormat"]


def test_the_script_is_hive_the_connector_reads():
    script = script_of(definition())
    assert "ddb_item map<string,string>, `status` string, `totalamount` double" in script  # Hive keeps names in lower case
    assert '"dynamodb.column.mapping" = "status:status,totalamount:totalAmount,updated_at:updated_at"' in script
    # The pair and key-value delimiters are U+0002 and U+0003 made by Hive's chr, not the characters, and not
    # octal escapes: Data Pipeline may remove a backslash from the script ('\\002' would become '002').
    assert "concat_ws(chr(2), concat('pk', chr(3), ddb_item['pk'])," in script and "\x02" not in script
    assert "\\" not in script
    assert "${" not in script and script.count(";\n") == 5 and script.endswith(";")
    # Hive keeps a cluster's tables, and the count and a retry run on the same cluster: both names are dropped first.
    assert script.startswith("SET hive.auto.convert.join=false;\nDROP TABLE IF EXISTS ddb_source;\nDROP TABLE IF EXISTS ddb_target;\n"
                             "CREATE EXTERNAL TABLE ddb_source (")


def test_a_projection_without_a_filter_keeps_every_row():
    script = ProjectionScript(attributes=("pk", "status"))
    assert " WHERE " not in script.render() and read_script(script.render()) == script


@pytest.mark.parametrize("attributes, columns, fragment", [
    (("pk", "a'b"), (), "attribute 'a'b': letters, digits and _ only"),
    (("pk", "x) FROM y; DROP TABLE z; --"), (), "letters, digits and _ only"),
    ((), (), "at least one, each once"),
    (("pk", "pk"), (), "at least one, each once"),
    (("pk",), (("Total", "double"), ("total", "double")), "no two may differ only in case"),
    (("pk",), (("ddb_item", "string"),), "none may be ddb_item"),
    (("pk",), (("total", "bigint"),), "one of string, double"),
])
def test_names_that_cannot_be_written_safely_are_refused(attributes, columns, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        ProjectionScript(attributes=attributes, columns=columns)


@pytest.mark.parametrize("old, new, fragment", [
    ("CREATE EXTERNAL TABLE ddb_target", "CREATE EXTERNAL TABLE other", "expected CREATE EXTERNAL TABLE ddb_target"),
    ("ddb_item['sk']", "ddb_item['pk']", "is not concat('<name>', chr(3), ddb_item['<name>'])"),
    ("'org.apache.hadoop.hive.dynamodb.DynamoDBStorageHandler' TBLPROPERTIES (\"dynamodb.table.name\" = \"#{output",
     "'org.example.Other' TBLPROPERTIES (\"dynamodb.table.name\" = \"#{output", "STORED BY"),
    (",totalamount:totalAmount", "", "must map each typed column, and only those"),
    ("status:status,", "status:status,price:price,", "must map each typed column, and only those"),
    ("status:status,", "status,", "must map each typed column, and only those"),
    ('"dynamodb.region" = "#{input.region}", ', "", "TBLPROPERTIES are dynamodb.table.name, dynamodb.region and one of"),
    ("DROP TABLE IF EXISTS ddb_target;\n", "", "expected 6 statements"),
    ("DROP TABLE IF EXISTS ddb_target;", "DROP TABLE IF EXISTS other;", "expected the script to begin with SET hive.auto.convert.join"),
    ("INSERT OVERWRITE TABLE ddb_target SELECT", "INSERT INTO TABLE ddb_target SELECT", "expected INSERT OVERWRITE TABLE"),
    ("ddb_source WHERE", "ddb_source;\nSELECT 1 FROM ddb_source WHERE", "expected 6 statements"),
])
def test_a_script_this_project_does_not_write_is_not_read(old, new, fragment):
    script = script_of(definition())
    assert old in script
    with pytest.raises(UnreadableScript, match=None) as caught:
        read_script(script.replace(old, new, 1))
    assert fragment in str(caught.value)


# --- The validator's rules for the activity -----------------------------------------------------
def findings(built: PipelineDefinition) -> list[str]:
    return [f"{v.object_id}.{v.field}: {v.rule}" for v in validate(built) if v.check == "hive_scripts"]


def changed(built: PipelineDefinition, object_id: str, **fields: str) -> PipelineDefinition:
    objects = []
    for obj in built.objects:
        if obj.id == object_id:
            kept = {f.key: f for f in obj.fields}
            obj = PipelineObject(obj.id, obj.name, tuple(f for key, f in kept.items() if key not in fields) +
                                 PipelineObject.build(obj.id, **fields).fields)
        objects.append(obj)
    return dataclasses.replace(built, objects=tuple(objects))


def test_the_built_copy_is_clean():
    built = definition()
    assert findings(built) == []
    assert not [v for v in validate(built) if v.severity == "error"]


@pytest.mark.parametrize("fields, fragment", [
    ({"stage": "true"}, "CopyActivity.stage: stage is true; the script declares its own tables, so stage must be false"),
    ({"hiveScript": "REPLACE"}, "CopyActivity.hiveScript: hiveScript is not a script this project writes: not a projection (expected 6"),
    ({"hiveScript": "VARIABLE"}, "CopyActivity.hiveScript: hiveScript holds '${'"),
    ({"hiveScript": "UNKNOWN COLUMN"}, "CopyActivity.hiveScript: the script's WHERE names column `price`, which its table does not "
                                      "declare (status, totalamount, updated_at)"),
    ({"hiveScript": "OPEN QUOTE"}, "CopyActivity.hiveScript: the script's WHERE: the single quote (') at character"),
])
def test_each_rule_is_broken_on_purpose(fields, fragment):
    built = definition()
    script = script_of(built)
    replacement = {
        "REPLACE": script.replace(";\nINSERT", ";\nSELECT 1;\nINSERT"),
        "VARIABLE": script.replace("#{input.tableName}", "${hiveconf:table}"),
        "UNKNOWN COLUMN": script.replace("`totalAmount` >= 100", "`price` >= 100"),
        "OPEN QUOTE": script.replace("'PENDING')", "'PENDING)"),
    }
    fields = {key: replacement.get(value, value) for key, value in fields.items()}
    found = findings(changed(built, "CopyActivity", **fields))
    assert any(f.startswith(fragment) for f in found), found


def test_a_node_that_is_not_a_table_is_an_error():
    built = definition()
    built = dataclasses.replace(built, objects=tuple(
        PipelineObject.build("SourceTable", type="S3DataNode", directoryPath="s3://bucket/in") if o.id == "SourceTable" else o
        for o in built.objects))
    assert "CopyActivity.input: input refers to 'SourceTable' of type S3DataNode; the script reads and writes DynamoDBDataNode " \
           "nodes only" in findings(built)


def test_another_projects_hive_activity_is_left_to_the_generic_rules():
    built = changed(definition(), "CopyActivity", hiveScript="INSERT OVERWRITE TABLE ${output1} SELECT * FROM ${input1};",
                    stage="true")
    assert findings(built) == []


# --- The count after a copy (definition/hive_verify.py) -----------------------------------------
def counted(selection: CopySelection = SELECTION) -> PipelineDefinition:
    return definition(dataclasses.replace(selection, verify_keys=("pk", "sk")))


def test_the_count_reads_back_and_runs_after_the_copy_on_its_cluster():
    built = counted()
    verify = built.object("VerifyActivity")
    assert verify.type == "HiveActivity" and verify.value("stage") == "false"
    assert verify.values("input") == ["SourceTable", "TargetTable"] and verify.value("output") is None
    assert verify.value("dependsOn") == "CopyActivity" and verify.value("runsOn") == "CopyCluster"
    assert verify.value("onFail") == "FailureAlarm"
    script = verify.value("hiveScript") or ""
    read = read_verify_script(script)
    assert read.keys == ("pk", "sk") and read.where == SELECTION.filter_sql("1 hour")
    assert read.columns == read_script(script_of(built)).columns
    assert ("SELECT assert_true(count(*) = count(t.ddb_item['pk'])) FROM ddb_source s LEFT OUTER JOIN ddb_target t ON "
            "s.ddb_item['pk'] = t.ddb_item['pk'] AND s.ddb_item['sk'] = t.ddb_item['sk'] WHERE ") in script
    # Literals: the count reads two inputs, and no parameter may reach a script (definition/guard.py).
    assert dict(read.target_properties) == {"dynamodb.table.name": "orders-open", "dynamodb.region": "eu-west-1",
                                            "dynamodb.throughput.read.percent": "0.25"}
    assert findings(built) == []
    assert "VerifyActivity" not in [o.id for o in definition().objects]  # no count unless asked


@pytest.mark.parametrize("old, new, fragment", [
    ("s.ddb_item['sk'] = t.ddb_item['sk']", "s.ddb_item['sk'] = t.ddb_item['pk']", "is not s.ddb_item['<key>'] = t.ddb_item['<key>']"),
    ("count(*) = count(t.ddb_item['pk'])", "count(*) >= 0", "expected SELECT assert_true(count(*) = count(t.ddb_item['<partition key>']))"),
    ("count(t.ddb_item['pk'])", "count(t.ddb_item['sk'])", "not the partition key 'pk' the join starts with"),
])
def test_a_count_this_project_does_not_write_is_not_read(old, new, fragment):
    script = counted().object("VerifyActivity").value("hiveScript") or ""
    assert old in script
    with pytest.raises(UnreadableScript) as caught:
        read_verify_script(script.replace(old, new, 1))
    assert fragment in str(caught.value)


def test_a_count_with_one_input_is_an_error():
    built = counted()
    verify = built.object("VerifyActivity")
    fields = tuple(f for f in verify.fields if not (f.key == "input" and f.value == "TargetTable"))
    built = dataclasses.replace(built, objects=tuple(PipelineObject(o.id, o.name, fields) if o.id == "VerifyActivity" else o
                                                     for o in built.objects))
    assert ("VerifyActivity.input: this HiveActivity's script needs 2 input DynamoDBDataNode node(s) (source and target table), "
            "found 1") in findings(built)
