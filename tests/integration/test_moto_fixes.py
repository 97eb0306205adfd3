"""The emulator's fixes 6, 7, 11, 12 and 14 (local_deploy/moto_fixes.py): Fn::GetStackOutput reads another stack's
output, as CloudFormation does, and a missing output fails the stack instead of passing the object through;
a table export is named and laid out as DynamoDB's; a rule on a bus of its own stack is created on that bus; an import reads every item of its file; item reads written without moto's shape walk are
the same JSON."""
from __future__ import annotations

import json

import boto3
import pytest

from ddb_datapipeline.acceptance.items import REFERENCE_NOW, generate_items
from local_deploy import emulator, moto_fixes
from tests.dynamodb_json import encoded


def cloudformation(server: emulator.Emulator):
    return boto3.client("cloudformation", region_name="us-east-1", endpoint_url=server.endpoint,
                        aws_access_key_id="test", aws_secret_access_key="test")


PRODUCER = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "fix6-producer"}}},
            "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}}


def consumer(output: str) -> str:
    reference = {"Fn::GetStackOutput": {"StackName": "Fix6Producer", "Region": "us-east-1", "OutputName": output}}
    return json.dumps({
        "Resources": {"Parameter": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"/fix6/{output}", "Type": "String",
                                                                                 "Value": reference}}},
        "Outputs": {"Read": {"Value": reference}},
    })


@pytest.fixture(scope="module")
def producer(moto_server):
    client = cloudformation(moto_server)
    client.create_stack(StackName="Fix6Producer", TemplateBody=json.dumps(PRODUCER))
    outputs = client.describe_stacks(StackName="Fix6Producer")["Stacks"][0]["Outputs"]
    return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "TopicArn")


def test_a_stack_output_is_read_from_the_producing_stack(moto_server, producer):
    client = cloudformation(moto_server)
    client.create_stack(StackName="Fix6Consumer", TemplateBody=consumer("TopicArn"))
    stack = client.describe_stacks(StackName="Fix6Consumer")["Stacks"][0]
    assert producer.endswith(":fix6-producer")
    assert [o["OutputValue"] for o in stack["Outputs"]] == [producer]
    ssm = boto3.client("ssm", region_name="us-east-1", endpoint_url=moto_server.endpoint, aws_access_key_id="test",
                       aws_secret_access_key="test")
    assert ssm.get_parameter(Name="/fix6/TopicArn")["Parameter"]["Value"] == producer


def test_a_missing_output_fails_the_stack(moto_server, producer):
    client = cloudformation(moto_server)
    try:
        client.create_stack(StackName="Fix6Missing", TemplateBody=consumer("NoSuchOutput"))
    except client.exceptions.ClientError:
        return  # refused outright
    status = client.describe_stacks(StackName="Fix6Missing")["Stacks"][0]["StackStatus"]
    assert status in ("CREATE_FAILED", "ROLLBACK_COMPLETE"), status


def test_an_export_is_named_and_laid_out_as_dynamodbs(moto_server):
    def client(service: str):
        return boto3.client(service, region_name="eu-west-1", endpoint_url=moto_server.endpoint,
                            aws_access_key_id="test", aws_secret_access_key="test")

    dynamodb, s3 = client("dynamodb"), client("s3")
    table = dynamodb.create_table(TableName="fix7", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                  BillingMode="PAY_PER_REQUEST")["TableDescription"]["TableArn"]
    dynamodb.update_continuous_backups(TableName="fix7", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    dynamodb.put_item(TableName="fix7", Item={"pk": {"S": "one"}})
    s3.create_bucket(Bucket="fix7-exports", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    arn = dynamodb.export_table_to_point_in_time(TableArn=table, S3Bucket="fix7-exports", S3Prefix="exports/fix7")["ExportDescription"]["ExportArn"]
    assert arn.startswith(f"{table}/export/")
    export_id = arn.rsplit("/", 1)[1]
    for _ in range(500):  # moto exports on a thread of its own: follow it as a client would, with DescribeExport
        if dynamodb.describe_export(ExportArn=arn)["ExportDescription"]["ExportStatus"] != "IN_PROGRESS":
            break
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="fix7-exports").get("Contents", [])]
    folder = f"exports/fix7/AWSDynamoDB/{export_id}"
    assert sorted(k.removeprefix(folder + "/").split("/")[0] for k in keys) == ["data", "manifest-files.json", "manifest-summary.json"]
    summary = json.loads(s3.get_object(Bucket="fix7-exports", Key=f"{folder}/manifest-summary.json")["Body"].read())
    assert summary["exportArn"] == arn and summary["itemCount"] == 1


BUS_AND_RULE = {"Resources": {
    "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "fix11-bus"}},
    "Rule": {"Type": "AWS::Events::Rule", "Properties": {"Name": "fix11-rule", "EventBusName": {"Ref": "Bus"},
                                                         "EventPattern": {"source": ["fix11"]}}},
}}


def test_a_rule_on_a_bus_of_its_own_stack_is_created_on_that_bus(moto_server):
    client = cloudformation(moto_server)
    client.create_stack(StackName="Fix11", TemplateBody=json.dumps(BUS_AND_RULE))
    assert client.describe_stacks(StackName="Fix11")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    events = boto3.client("events", region_name="us-east-1", endpoint_url=moto_server.endpoint,
                          aws_access_key_id="test", aws_secret_access_key="test")
    assert [r["Name"] for r in events.list_rules(EventBusName="fix11-bus")["Rules"]] == ["fix11-rule"]


def _raw_bodies(client) -> list[dict]:
    """Every item read's answer as the JSON on the wire, before boto3 parses it."""
    bodies: list[dict] = []
    for operation in moto_fixes.ITEM_READS:
        client.meta.events.register(f"after-call.dynamodb.{operation}",
                                    lambda http_response, **_: bodies.append(json.loads(http_response.content)))
    table = "fix12-items"
    client.scan(TableName=table)
    client.scan(TableName=table, Select="COUNT", ReturnConsumedCapacity="TOTAL")
    client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p-000003"}})
    client.get_item(TableName=table, Key={"pk": {"S": "p-000001"}})
    client.get_item(TableName=table, Key={"pk": {"S": "no-such-item"}})
    client.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": f"p-{i:06d}"}} for i in range(5)]}})
    return bodies


def test_item_reads_are_the_same_json_with_fix_12_as_without():
    from moto import mock_aws
    from moto.dynamodb.responses import DynamoResult

    shape_walk = DynamoResult.execute_result
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        client.create_table(TableName="fix12-items", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
        for item in generate_items(40, partition_key=("pk", "S"), sort_key=None, now=REFERENCE_NOW):
            client.put_item(TableName="fix12-items", Item=item)
        walked = _raw_bodies(client)
        moto_fixes.fix_item_responses()
        try:
            dumped = _raw_bodies(boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="test",
                                              aws_secret_access_key="test"))
        finally:
            DynamoResult.execute_result = shape_walk
    assert len(walked) == 6 and sum(len(body.get("Items", [])) for body in walked) == 41
    assert {"B", "BS", "BOOL", "NULL", "M", "L", "SS", "NS", "N"} <= {kind for body in walked for item in body.get("Items", [])
                                                                       for value in item.values() for kind in value}
    assert dumped == walked


def test_an_import_reads_every_item_of_its_file_with_fix_14():
    """Two of the drill's items, one DynamoDB JSON line each, gzip: moto's own reader finds none of them and calls the
    import COMPLETED; with the fix the new table holds both, compared by the drill's checksum."""
    import gzip

    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table_import import TableImport

    from ddb_datapipeline.acceptance.items import table_checksum

    items = generate_items(2, partition_key=("id", "S"), sort_key=("at", "N"), now=REFERENCE_NOW)
    body = gzip.compress("".join(json.dumps({"Item": {k: encoded(v) for k, v in item.items()}}) + "\n" for item in items).encode())
    moto_reader = TableImport.__dict__["_process_s3_files"]
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        s3.create_bucket(Bucket="fix14-exports")
        s3.put_object(Bucket="fix14-exports", Key="exports/events/AWSDynamoDB/1-a/data/part.json.gz", Body=body)
        client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        moto_fixes.fix_table_imports()
        try:
            started = client.import_table(
                S3BucketSource={"S3Bucket": "fix14-exports", "S3KeyPrefix": "exports/events/AWSDynamoDB/1-a/data/"},
                InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
                TableCreationParameters={"TableName": "fix14-restore", "BillingMode": "PAY_PER_REQUEST",
                                         "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                                                                  {"AttributeName": "at", "AttributeType": "N"}],
                                         "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}]})
            arn = started["ImportTableDescription"]["ImportArn"]
            dynamodb_backends["123456789012"]["us-east-1"].table_imports[arn].join()  # moto imports on a thread of its own
        finally:
            TableImport._process_s3_files = moto_reader
        described = client.describe_import(ImportArn=arn)["ImportTableDescription"]
        restored = client.scan(TableName="fix14-restore")["Items"]
    assert (described["ImportStatus"], described["ImportedItemCount"], described["ErrorCount"]) == ("COMPLETED", 2, 0)
    assert len(restored) == 2 and table_checksum(restored) == table_checksum(items)
