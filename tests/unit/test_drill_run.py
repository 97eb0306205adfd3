"""The local runner's reading of a connector step's Hadoop options: gzip as the project's export writes it,
the older property name, no compression, and a codec the runner cannot write refused."""
from __future__ import annotations

import gzip
import json

import pytest

from ddb_datapipeline.definition.export import GZIP_OUTPUT_OPTIONS
from local_deploy.drill_run import gzip_output

# Part of this module runs moto in this process: moto_library puts it on the worker that imports moto (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("moto_library")


def test_the_projects_export_options_mean_gzip():
    assert gzip_output(list(GZIP_OUTPUT_OPTIONS)) is True
    assert gzip_output(["-Dmapred.output.compress=true", "-Dmapred.output.compression.codec=org.apache.hadoop.io.compress.GzipCodec"])
    assert gzip_output([]) is False and gzip_output(["-Dmapreduce.output.fileoutputformat.compress=false"]) is False


@pytest.mark.parametrize("codec", [None, "org.apache.hadoop.io.compress.BZip2Codec"])
def test_another_codec_is_refused_rather_than_written_as_gzip(codec):
    options = ["-Dmapreduce.output.fileoutputformat.compress=true", *([f"-Dmapreduce.output.fileoutputformat.compress.codec={codec}"] if codec else [])]
    with pytest.raises(ValueError, match="is not one this runner writes"):
        gzip_output(options)


def test_a_cluster_runs_the_copy_its_count_and_a_retry_of_each_because_every_script_drops_first():
    """Hive keeps a cluster's tables for the cluster's life (the runner's hive_catalogue models it): the
    projection, then the count, then both again (a retry) on one cluster work only because each script
    drops ddb_source and ddb_target first; the same scripts without the drops fail on the second CREATE."""
    import dataclasses

    from ddb_datapipeline.definition.hive_tables import PREAMBLE
    from local_deploy.drill_access import RunFailed
    from local_deploy.drill_run import hive_catalogue
    from tests.unit.test_hive_projection import SELECTION, definition

    built = definition(dataclasses.replace(SELECTION, verify_keys=("pk", "sk")))
    scripts = [built.object(activity).value("hiveScript") or "" for activity in ("CopyActivity", "VerifyActivity")]
    tables: set[str] = set()
    for script in scripts * 2:
        tables = hive_catalogue(tables, script, "CopyActivity")
    assert tables == {"ddb_source", "ddb_target"}
    without_drops = [script.replace(f"{PREAMBLE[1]};\n", "").replace(f"{PREAMBLE[2]};\n", "") for script in scripts]
    tables = hive_catalogue(set(), without_drops[0], "CopyActivity")
    with pytest.raises(RunFailed, match="VerifyActivity: Hive has a table ddb_source on this cluster already"):
        hive_catalogue(tables, without_drops[1], "VerifyActivity")


# ---------------------------------------------------------------- the connector's steps, run on moto in process

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

from ddb_datapipeline.acceptance.connector_format import line_to_item  # noqa: E402
from local_deploy.drill_access import RunFailed  # noqa: E402
from local_deploy.drill_run import PipelineRun, hadoop_arguments  # noqa: E402

BUCKET, REGION = "backups", "eu-west-1"
JAR = "s3://dynamodb-dpl-eu-west-1/emr-ddb-storage-handler/4.11.0/emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar"
GZIP = "-Dmapreduce.output.fileoutputformat.compress=true,-Dmapreduce.output.fileoutputformat.compress.codec=org.apache.hadoop.io.compress.GzipCodec"


def test_options_count_only_before_the_first_argument_as_generic_options_parser_reads_them():
    assert hadoop_arguments(["-Da=1", "-D", "b=2", "s3://x", "t", "0.5"]) == (["-Da=1", "-Db=2"], ["s3://x", "t", "0.5"])
    # after an argument, GnuParser's flatten still cuts -Dk=v in two, and the tool gets both as arguments
    assert hadoop_arguments(["s3://x", "t", "0.5", "-Da=1"]) == ([], ["s3://x", "t", "0.5", "-D", "a=1"])
    assert hadoop_arguments(["-Da=1", "-x", "-Db=2"]) == (["-Da=1"], ["-x", "-Db=2"])  # an unknown option ends the options


class AllowAll:
    """The runner's Access with every call allowed: these tests are about the connector, not the policies."""

    def __getattr__(self, name: str) -> Any:
        return (lambda *args, **kwargs: f"arn:aws:iam::123456789012:role/{args[0]}") if name.endswith("role_arn") else (
            lambda *args, **kwargs: args[0] if name == "model_name" else None)


def stored(step: str, *, retries: int = 2, activity: str = "TableBackupActivity", folder: str = "run") -> dict[str, Any]:
    """A stored definition in GetPipelineDefinition's shape: one connector step on one cluster."""
    def obj(object_id: str, **fields: str) -> dict[str, Any]:
        return {"id": object_id, "name": object_id, "fields": [
            {"key": key, "refValue": value[1:]} if value.startswith("@") else {"key": key, "stringValue": value} for key, value in fields.items()]}
    return {"pipelineObjects": [
        obj("Default", resourceRole="NodeProfile", role="PipelineRole"),
        obj("Source", type="DynamoDBDataNode", tableName="orders", readThroughputPercent="0.25", writeThroughputPercent="0.5"),
        obj("Folder", type="S3DataNode", directoryPath=f"s3://{BUCKET}/{folder}/2027-01-15-00-00-00"),
        obj("Cluster", type="EmrCluster", region=REGION, coreInstanceCount="1"),
        obj(activity, type="EmrActivity", input="@Source", output="@Folder", runsOn="@Cluster", step=step, maximumRetries=str(retries)),
    ]}


EXPORT = f"{JAR},org.apache.hadoop.dynamodb.tools.DynamoDBExport,{GZIP},#{{output.directoryPath}},#{{input.tableName}},#{{input.readThroughputPercent}}"


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    """One in-process moto for the module (each test writes its own folder): a table of 40 items."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        clients = {service: boto3.client(service, region_name=REGION) for service in ("dynamodb", "s3", "sns")}
        clients["sns"].create_topic(Name="alerts")
        clients["s3"].create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        clients["dynamodb"].create_table(TableName="orders", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        items = [{"PutRequest": {"Item": {"pk": {"S": f"k{index:02d}"}, "none": {"NULL": True}, "l": {"L": []}}}} for index in range(40)]
        for start in (0, 20):
            clients["dynamodb"].batch_write_item(RequestItems={"orders": items[start:start + 20]})
        yield clients


def run(aws: Any, definition: dict[str, Any], **options: Any) -> PipelineRun:
    from datetime import datetime

    return PipelineRun("p", definition, clients=lambda service, region: aws[service], access=AllowAll(), region=REGION,  # type: ignore[arg-type]
                       scheduled_start=datetime(2027, 1, 15), **options)


def keys(aws: Any, folder: str) -> list[str]:
    return sorted(o["Key"].rsplit("/", 1)[1] for o in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"{folder}/").get("Contents", []))


def test_an_export_writes_a_file_per_map_task_its_manifest_and_success(aws):
    result = run(aws, stored(EXPORT, folder="whole")).run()
    names = keys(aws, "whole")
    assert result.files == 5 and result.items == 40  # 40 keys reach each of the 5 map tasks of a one-node cluster
    data = [name for name in names if name not in ("_SUCCESS", "manifest")]
    assert len(names) == 7 and len(data) == 5 and all(name.endswith(".gz") for name in data)
    body = aws["s3"].get_object(Bucket=BUCKET, Key=f"whole/2027-01-15-00-00-00/{data[0]}")["Body"].read()
    assert '"none":{"nULLValue":true}' in gzip.decompress(body).decode().splitlines()[0]


def test_a_retry_into_the_folder_a_failed_attempt_wrote_fails_as_hadoop_does(aws):
    """The first attempt's map tasks wrote their files, then it failed; Data Pipeline retries the activity
    with the same scheduled start, so into the same folder, and FileOutputFormat.checkOutputSpecs refuses it."""
    pipeline = run(aws, stored(EXPORT, retries=2, folder="retried"), fail_attempts={"TableBackupActivity": 1})
    with pytest.raises(RunFailed) as failed:
        pipeline.run()
    exists = ("p TableBackupActivity: org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory "
              f"s3://{BUCKET}/retried/2027-01-15-00-00-00 already exists")
    assert str(failed.value) == exists
    first, *retries = pipeline.result.attempts["TableBackupActivity"]
    assert "attempt 1 failed after its map tasks wrote 5 files" in first and retries == [exists, exists]
    assert len(keys(aws, "retried")) == 5 and "manifest" not in keys(aws, "retried")  # the failed attempt's files, no manifest


def test_a_retry_succeeds_when_the_failed_attempt_left_nothing(aws):
    pipeline = run(aws, stored(EXPORT, retries=0, folder="cleared"), fail_attempts={"TableBackupActivity": 1})
    with pytest.raises(RunFailed, match="attempt 1 failed after its map tasks wrote 5 files"):
        pipeline.run()  # no retry stated: the first failure is the run's
    aws["s3"].delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": f"cleared/2027-01-15-00-00-00/{name}"} for name in keys(aws, "cleared")]})
    assert run(aws, stored(EXPORT, retries=0, folder="cleared")).run().files == 5


def test_an_option_after_the_first_argument_fails_the_export_as_the_real_tool_does(aws):
    late = f"{JAR},org.apache.hadoop.dynamodb.tools.DynamoDBExport,#{{output.directoryPath}},#{{input.tableName}},#{{input.readThroughputPercent}},{GZIP}"
    with pytest.raises(RunFailed) as failed:
        run(aws, stored(late, retries=0, folder="late")).run()
    assert str(failed.value).endswith("DynamoDBExport exits with -1: Error: Could not parse segment count (value: -D)")
    assert keys(aws, "late") == []


def test_an_import_takes_empty_lists_and_nulls_and_ignores_a_late_option(aws):
    run(aws, stored(EXPORT, folder="imported")).run()
    folder = f"s3://{BUCKET}/imported/2027-01-15-00-00-00"
    aws["dynamodb"].create_table(TableName="restored", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    definition = stored(f"{JAR},org.apache.hadoop.dynamodb.tools.DynamoDBImport,{folder},restored,0.5,-Dignored=true", activity="TableLoadActivity")
    assert run(aws, definition).run().items == 40
    item = aws["dynamodb"].get_item(TableName="restored", Key={"pk": {"S": "k07"}})["Item"]
    assert item == {"pk": {"S": "k07"}, "none": {"NULL": True}, "l": {"L": []}}


def test_an_import_of_an_old_nULL_file_fails_at_the_batch_dynamodb_refuses(aws):
    folder = "exports/orders/old"
    lines = [f'{{"pk":{{"s":"k{index:02d}"}}}}' for index in range(30)] + ['{"pk":{"s":"k30"},"none":{"nULL":true}}']
    aws["s3"].put_object(Bucket=BUCKET, Key=f"{folder}/data", Body="\n".join(lines).encode())
    aws["s3"].put_object(Bucket=BUCKET, Key=f"{folder}/manifest", Body=json.dumps(
        {"name": "DynamoDB-export", "version": 3, "entries": [{"url": f"s3://{BUCKET}/{folder}/data", "mandatory": True}]}).encode())
    assert line_to_item(lines[-1])["none"] == {}
    definition = stored(f"{JAR},org.apache.hadoop.dynamodb.tools.DynamoDBImport,s3://{BUCKET}/{folder},orders,0.5", retries=0, activity="TableLoadActivity")
    with pytest.raises(RunFailed) as failed:
        run(aws, definition).run()
    assert str(failed.value).endswith("DynamoDB refuses item 31 of 31 (ValidationException, none: Supplied AttributeValue is empty, "
                                      "must contain exactly one of the supported datatypes), so BatchWriteItem and the job fail")


def test_the_tools_numbers_are_parsed_as_java_parses_them():
    from local_deploy.drill_run import java_double, java_int

    assert [java_double(text) for text in ("0.25", " .5 ", "1e-1", "0.5d", "1F")] == [0.25, 0.5, 0.1, 0.5, 1.0]
    assert [java_double(text) for text in ("-D", "", "1_0", "0x1p3", "nan")] == [None] * 5  # "nan": Java spells it NaN
    assert [java_int(text) for text in ("3", "+3", "-D", "3.0", "2147483648")] == [3, 3, None, None, None]


def test_a_ratio_the_tool_cannot_parse_fails_the_step_in_one_line(aws):
    bad = f"{JAR},org.apache.hadoop.dynamodb.tools.DynamoDBExport,#{{output.directoryPath}},#{{input.tableName}},a quarter"
    with pytest.raises(RunFailed) as failed:
        run(aws, stored(bad, retries=0, folder="unparsed")).run()
    assert str(failed.value) == "p TableBackupActivity: DynamoDBExport exits with -1: Error: Could not parse read ratio (value: a quarter)"
    assert run(aws, stored(bad.replace("a quarter", "0.25d"), retries=0, folder="parsed")).run().files == 5


# ---------------------------------------------------------------- issue 25: a value given at activation never runs
TOPIC = f"arn:aws:sns:{REGION}:123456789012:alerts"


def as_stored(definition: Any) -> dict[str, Any]:
    """A project definition in GetPipelineDefinition's shape, with its parameters and stored values."""
    return {
        "pipelineObjects": [{"id": o.id, "name": o.name, "fields": [{"key": f.key, "refValue" if f.is_ref else "stringValue": f.value}
                                                                   for f in o.fields]} for o in definition.objects],
        "parameterObjects": [{"id": p.id, "attributes": [{"key": k, "stringValue": v} for k, v in p.attributes]} for p in definition.parameters],
        "parameterValues": [{"id": k, "stringValue": v} for k, v in definition.values],
    }


def project_restore(target: str) -> Any:
    from ddb_datapipeline.definition.common import PipelineSettings
    from ddb_datapipeline.definition.emr import ClusterSpec
    from ddb_datapipeline.definition.restore import RestoreSpec, build_restore_definition

    settings = PipelineSettings(region=REGION, role="PipelineRole", resource_role="NodeProfile", log_uri=f"s3://{BUCKET}/logs",
                                alarm_topic_arn=TOPIC)
    return build_restore_definition(RestoreSpec("orders", target, f"s3://{BUCKET}/exports/orders", 0.5, ClusterSpec()), settings)


def project_export_folder(aws: Any) -> str:
    """The folder the project's own export definition writes, run here once."""
    from ddb_datapipeline.definition.common import PipelineSettings
    from ddb_datapipeline.definition.emr import ClusterSpec
    from ddb_datapipeline.definition.export import ExportSpec, build_export_definition

    settings = PipelineSettings(region=REGION, role="PipelineRole", resource_role="NodeProfile", log_uri=f"s3://{BUCKET}/logs",
                                alarm_topic_arn=TOPIC)
    spec = ExportSpec("orders", f"s3://{BUCKET}/exports/orders", 0.25, ClusterSpec(), compress=True)
    (folder,) = run(aws, as_stored(build_export_definition(spec, settings))).run().exports
    return folder


def empty_table(aws: Any, name: str) -> None:
    aws["dynamodb"].create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                 AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])


def test_a_restore_activated_with_its_exports_folder_imports_it_after_the_guard_admitted_it(aws):
    folder = project_export_folder(aws)
    assert folder == f"s3://{BUCKET}/exports/orders/2027-01-15-00-00-00"
    empty_table(aws, "orders-restore")
    result = run(aws, as_stored(project_restore("orders-restore")), overrides={"myInputS3Loc": folder}).run()
    assert result.items == 40 and result.attempts == {}
    assert aws["dynamodb"].scan(TableName="orders-restore", Select="COUNT")["Count"] == 40


@pytest.mark.parametrize("hostile", [
    "s3://backups/x; touch {marker} #",
    "s3://backups/exports/orders/2027-01-15-00-00-00; touch {marker}",
    "s3://backups/exports/orders/2027-01-15-00-00-00$(touch {marker})",
    "s3://backups/exports/orders/2027-01-15-00-00-00,orders-hostile,1.0",  # extra step arguments: another folder, table, ratio
    "s3://backups/exports/orders/2027-01-15-00-00-00\\,x",
    "s3://backups/exports/other/2027-01-15-00-00-00",  # another table's export
])
def test_a_restore_activated_with_a_hostile_folder_fails_at_the_guard_and_runs_nothing(aws, hostile, tmp_path):
    """The hostile value reaches only the guard's argument: the guard exits 1, the run fails there with the
    failure alarm, the import never starts (nothing written to the target) and no command of the value ran."""
    marker = tmp_path / "ran"
    value = hostile.replace("{marker}", str(marker))
    target = f"hostile-{tmp_path.name}"
    empty_table(aws, target)
    pipeline = run(aws, as_stored(project_restore(target)), overrides={"myInputS3Loc": value})
    with pytest.raises(RunFailed, match="p ExportFolderCheck: the guard exits with 1 for "):
        pipeline.run()
    assert list(pipeline.result.attempts) == ["ExportFolderCheck"]  # no retry, and TableLoadActivity never started
    assert aws["dynamodb"].scan(TableName=target, Select="COUNT")["Count"] == 0
    assert not marker.exists()


def test_a_stored_definition_whose_step_does_not_wait_for_the_guard_is_refused_before_any_activity(aws):
    stored = as_stored(project_restore("orders-unguarded"))
    stored["pipelineObjects"] = [o for o in stored["pipelineObjects"] if o["id"] != "ExportFolderCheck"]  # no guard at all
    for obj in stored["pipelineObjects"]:
        if obj["id"] == "TableLoadActivity":
            obj["fields"] = [f for f in obj["fields"] if f["key"] != "dependsOn"]
    pipeline = run(aws, stored, overrides={"myInputS3Loc": "s3://backups/x,orders,1.0"})
    with pytest.raises(RunFailed, match=r"^p: refused before any activity: TableLoadActivity.step: warning: step expands parameter myInputS3Loc "
                                        r"\(through #\{input.directoryPath\} -> S3InputDataNode.directoryPath\)"):
        pipeline.run()
    assert pipeline.result.attempts == {}
