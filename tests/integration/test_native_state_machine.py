"""The synthesized export state machine, run by moto's Step Functions interpreter against moto's DynamoDB,
S3 and SNS: the export's file lands under the table's prefix, and a table without point-in-time recovery
fails the run and raises the alarm.

The definition runs as synthesized, references resolved to the emulator's resources, except that its
5-minute wait is shortened to none. The test waits for the run by joining moto's execution thread.
moto's exports are named and laid out as DynamoDB's, its interpreter evaluates JSONata and passes AWS SDK
members in PascalCase and its EventBridge rules start state machines (moto fixes 7 to 10 of
``local_deploy/moto_fixes.py``, applied for this module only; fixes 21 to 23, 25 and 26 too, for speed: botocore's data read,
each definition validated once and parsed once, and each task's client made once, for the module instead of once per
test, per execution and per task).
"""
from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.config import default_user_config

from ddb_datapipeline.template_resolver import Resolver
from local_deploy.moto_fixes import (
    fix_definition_parsing,
    fix_definition_validation,
    fix_endpoint_data,
    fix_jsonata,
    fix_rule_machine_targets,
    fix_sdk_member_names,
    fix_service_models,
    fix_table_exports,
    fix_task_clients,
    task_client_modules,
)

REGION, ACCOUNT = "eu-west-1", "123456789012"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"


@pytest.fixture(scope="module", autouse=True)
def exports_as_dynamodb_writes_them():
    from moto.dynamodb.models.table_export import TableExport
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import StateTaskServiceAwsSdk
    from moto.stepfunctions.parser.asl.jsonata import jsonata

    saved = {name: TableExport.__dict__[name] for name in ("__init__", "_backup_to_s3_file")}
    sdk_task = StateTaskServiceAwsSdk.__dict__["_eval_service_task"]
    from moto.events.models import Rule

    send_to_targets = Rule.__dict__["send_to_targets"]
    from botocore.loaders import Loader

    loader = {name: Loader.__dict__[name] for name in ("load_data_with_path", "load_service_model")}
    fix_endpoint_data()  # speed only: every test's new boto3 session reads botocore's data once for the module
    fix_service_models()
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    validate = StepFunctionsParserBackend.__dict__["_validate_definition"]
    parse = AmazonStateLanguageParser.__dict__["parse"]
    fix_definition_validation()  # speed only: each test creates the same definitions again
    fix_definition_parsing()  # and runs them again
    with_clients = {module: module.boto_client_for for module in task_client_modules()}
    fix_task_clients()  # speed only: the tasks of every test's executions share their clients
    fix_table_exports()
    fix_jsonata()
    fix_sdk_member_names()
    fix_rule_machine_targets()
    yield
    for name, value in loader.items():
        setattr(Loader, name, value)
    for module, function in with_clients.items():
        module.boto_client_for = function
    StepFunctionsParserBackend._validate_definition = validate
    AmazonStateLanguageParser.parse = parse
    Rule.send_to_targets = send_to_targets
    for name, value in saved.items():
        setattr(TableExport, name, value)
    jsonata._eval_jsonata = None
    StateTaskServiceAwsSdk._eval_service_task = sdk_task
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk

    state_task_service_aws_sdk._SERVICE_ERROR_NAMES.pop("s3")


@pytest.fixture(scope="module")
def definitions(native_machines) -> dict[str, dict[str, Any]]:
    resources = {logical: resource for stack in ("Team", "TeamAway")
                 for logical, resource in json.loads((native_machines.outdir / f"{stack}.template.json").read_text())["Resources"].items()}
    types = {logical: r["Type"] for logical, r in resources.items()}
    physical = {logical: {"AWS::DynamoDB::Table": "orders", "AWS::S3::Bucket": "exports", "AWS::KMS::Key": "key-id",
                          "AWS::SNS::Topic": TOPIC}.get(kind, logical) for logical, kind in types.items()}
    found = {}
    for machine in (r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"):
        text = Resolver("Team", REGION, ACCOUNT, physical, types)(machine["Properties"]["DefinitionString"])
        resolved = json.loads(text.replace(":111111111111:", f":{ACCOUNT}:"))  # the stack's account is moto's one account
        for state in resolved["States"].values():
            if state["Type"] == "Wait":
                state["Seconds"] = 0
        found[machine["Properties"]["StateMachineName"].rsplit("-native-", 1)[1]] = resolved  # export, restore, copy-orders-copy
    return found


@pytest.fixture(scope="module")
def rules(native_machines) -> dict[str, dict[str, Any]]:
    """The stack's EventBridge rules by logical id, resolved as the definitions are (a machine's ARN is its logical id)."""
    resources = {logical: resource for stack in ("Team", "TeamAway")
                 for logical, resource in json.loads((native_machines.outdir / f"{stack}.template.json").read_text())["Resources"].items()}
    types = {logical: r["Type"] for logical, r in resources.items()}
    resolve = Resolver("Team", REGION, ACCOUNT, {logical: logical for logical in types}, types)
    return {logical: json.loads(json.dumps(resolve(r["Properties"])).replace(":111111111111:", f":{ACCOUNT}:"))
            for logical, r in resources.items() if r["Type"] == "AWS::Events::Rule"}


@pytest.fixture
def definition(definitions):
    return definitions["export"]


@contextmanager
def emulated(*, point_in_time_recovery: bool, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """moto with a table ``orders`` of 7 items, the bucket ``exports`` and the alert topic, whose messages
    land in a queue."""
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        if point_in_time_recovery:
            dynamodb.update_continuous_backups(TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for index in range(7):
            dynamodb.put_item(TableName="orders", Item={"pk": {"S": f"order-{index}"}, "total": {"N": str(index * 10)}})
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="exports", CreateBucketConfiguration={"LocationConstraint": REGION})
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        sns.create_topic(Name="alerts")
        queue = sqs.create_queue(QueueName="alarms")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=queue_arn)

        def files() -> dict[str, bytes]:
            return {o["Key"]: s3.get_object(Bucket="exports", Key=o["Key"])["Body"].read()
                    for o in s3.list_objects_v2(Bucket="exports").get("Contents", [])}

        def alarms() -> list[dict[str, Any]]:
            received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            for message in received:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            return [json.loads(m["Body"]) for m in received]

        yield SimpleNamespace(dynamodb=dynamodb, s3=s3, files=files, alarms=alarms)


def run(definition: dict[str, Any], *, point_in_time_recovery: bool, monkeypatch: pytest.MonkeyPatch,
        restore: dict[str, Any] | None = None, restore_inputs: tuple[Any, ...] = (), name: str = "export") -> dict[str, Any]:
    """Runs ``definition`` (named ``name``), then each restore input, and returns the executions, the
    bucket's files, the alarms published and every table's keys."""
    with emulated(point_in_time_recovery=point_in_time_recovery, monkeypatch=monkeypatch) as aws:
        described = execute(name, definition, {})
        files = aws.files()
        result = {"execution": described, "files": files, "alarms": aws.alarms()}
        if restore is not None:
            result["restores"] = [execute(f"restore-{i}", restore, request(files)) for i, request in enumerate(restore_inputs)]
        result["tables"] = {table: sorted(item["pk"]["S"] for item in aws.dynamodb.scan(TableName=table)["Items"])
                            for table in aws.dynamodb.list_tables()["TableNames"]}
        return result


def execute(name: str, definition: dict[str, Any], execution_input: dict[str, Any]) -> dict[str, Any]:
    """Runs one execution to its end: moto runs it on a thread of its own, which the test joins. The
    machine is created on the first run of ``name``."""
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    existing = [m["stateMachineArn"] for m in stepfunctions.list_state_machines()["stateMachines"] if m["name"] == name]
    machine = existing[0] if existing else stepfunctions.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}")["stateMachineArn"]
    # A name of its own, as AWS gives one when none is passed (moto would name every execution "None")
    execution = stepfunctions.start_execution(stateMachineArn=machine, name=uuid.uuid4().hex, input=json.dumps(execution_input))["executionArn"]
    join_runs()
    return dict(stepfunctions.describe_execution(executionArn=execution))


def join_runs() -> None:
    """Joins every execution thread, including those a run started (an event's rule starting a machine)."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    while running := [thread for thread in TMP_THREADS if thread.is_alive()]:
        for thread in running:
            thread.join(timeout=120)


def test_an_export_run_writes_the_tables_items_under_its_prefix(definition, monkeypatch):
    result = run(definition, point_in_time_recovery=True, monkeypatch=monkeypatch)
    assert result["execution"]["status"] == "SUCCEEDED", result["execution"]
    (key, body), = ((k, v) for k, v in result["files"].items() if "/data/" in k)
    assert key.startswith("exports/orders/AWSDynamoDB/") and key.endswith(".json.gz")
    lines = [json.loads(line) for line in gzip.decompress(body).decode().splitlines() if line.strip()]
    assert sorted(line["Item"]["pk"]["S"] for line in lines) == [f"order-{index}" for index in range(7)]
    assert result["alarms"] == []


def test_a_table_without_point_in_time_recovery_fails_the_run_and_raises_the_alarm(definition, monkeypatch):
    result = run(definition, point_in_time_recovery=False, monkeypatch=monkeypatch)
    assert result["execution"]["status"] == "FAILED" and result["execution"]["error"] == "ExportFailed"
    assert result["files"] == {}
    (alarm,) = result["alarms"]
    assert alarm["Subject"] == "FAILED: ddb-dev-orders-native-export"
    assert alarm["Message"].startswith("The export of orders failed: ")


def data_folder(files: dict[str, bytes]) -> str:
    (key,) = (k for k in files if "/data/" in k)
    return key.rsplit("/", 1)[0] + "/"


def test_a_restore_creates_a_new_table_with_every_exported_item(definitions, monkeypatch):
    """Export, then restore that export into a new table: the new table holds exactly the source's items.
    An export of another table or a target outside the restore prefix is refused before anything runs."""
    result = run(definitions["export"], point_in_time_recovery=True, monkeypatch=monkeypatch, restore=definitions["restore"],
                 restore_inputs=(lambda files: {"export": data_folder(files), "table": "orders-restore-1"},
                                 lambda files: {"export": data_folder(files), "table": "orders"},
                                 lambda files: {"export": "exports/invoices/AWSDynamoDB/x/data/", "table": "orders-restore-2"},
                                 lambda files: {"export": "exports/orders/AWSDynamoDB/", "table": "orders-restore-3"},
                                 lambda files: {"export": data_folder(files).split("/data/")[0][:-3], "table": "orders-restore-4"}))
    restored, into_source, other_export, every_export, cut_inside_an_id = result["restores"]
    assert restored["status"] == "SUCCEEDED", restored
    assert result["tables"]["orders-restore-1"] == result["tables"]["orders"] == [f"order-{index}" for index in range(7)]
    for refused in (into_source, other_export, every_export, cut_inside_an_id):
        assert refused["status"] == "FAILED" and refused["error"] == "InvalidInput"
    assert sorted(result["tables"]) == ["orders", "orders-restore-1"]


def test_a_copy_run_exports_then_imports_into_a_new_table_of_its_prefix(definitions, monkeypatch):
    result = run(definitions["copy-orders-copy"], point_in_time_recovery=True, monkeypatch=monkeypatch, name="copy")
    execution = result["execution"]
    assert execution["status"] == "SUCCEEDED", execution
    (copy,) = [name for name in result["tables"] if name != "orders"]
    (summary,) = [json.loads(body) for key, body in result["files"].items() if key.endswith("/manifest-summary.json")]
    export_id = summary["exportArn"].rsplit("/", 1)[1]
    assert copy == f"orders-copy-{export_id}"
    assert result["tables"][copy] == result["tables"]["orders"] == [f"order-{index}" for index in range(7)]
    assert [key for key in result["files"] if key.startswith("exports/orders/AWSDynamoDB/")]  # the export it imported
    assert result["alarms"] == []


def test_a_failed_copy_export_raises_the_alarm_and_creates_no_table(definitions, monkeypatch):
    result = run(definitions["copy-orders-copy"], point_in_time_recovery=False, monkeypatch=monkeypatch, name="copy")
    assert result["execution"]["status"] == "FAILED" and result["execution"]["error"] == "ExportFailed"
    assert list(result["tables"]) == ["orders"]
    (alarm,) = result["alarms"]
    assert alarm["Subject"] == "FAILED: ddb-dev-orders-native-copy-orders-copy"


def test_incremental_runs_start_without_a_watermark_then_continue_from_it(definitions, monkeypatch):
    """First run: no watermark, so one period back, said on the alert topic. Then a watermark two hours
    back: the next run exports from it and moves it. A run right after finds too short a window."""
    machine = definitions["incremental"]
    with emulated(point_in_time_recovery=True, monkeypatch=monkeypatch) as aws:
        first = execute("ddb-dev-orders-native-incremental", machine, {})
        assert first["status"] == "SUCCEEDED", first
        (started,) = aws.alarms()
        assert started["Subject"] == "STARTED: ddb-dev-orders-native-incremental"
        watermark = aws.s3.get_object(Bucket="exports", Key="exports/orders/incremental/watermark")["Body"].read().decode()
        latest = datetime.now(UTC) - timedelta(minutes=5)
        assert timedelta(0) <= latest - datetime.fromisoformat(watermark.replace("Z", "+00:00")) < timedelta(minutes=2)
        assert [k for k in aws.files() if k.startswith("exports/orders/incremental/AWSDynamoDB/") and "/data/" in k]

        earlier = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:00.000Z")
        aws.s3.put_object(Bucket="exports", Key="exports/orders/incremental/watermark", Body=earlier.encode())
        second = execute("ddb-dev-orders-native-incremental", machine, {})
        assert second["status"] == "SUCCEEDED" and aws.alarms() == []
        history = boto3.client("stepfunctions", region_name=REGION).get_execution_history(executionArn=second["executionArn"])["events"]
        (request,) = [json.loads(e["taskScheduledEventDetails"]["parameters"]) for e in history
                      if e.get("taskScheduledEventDetails", {}).get("resource") == "exportTableToPointInTime"]
        window = request["IncrementalExportSpecification"]
        assert request["ExportType"] == "INCREMENTAL_EXPORT" and window["ExportFromTime"] == earlier
        moved = aws.s3.get_object(Bucket="exports", Key="exports/orders/incremental/watermark")["Body"].read().decode()
        assert moved == window["ExportToTime"] and moved > earlier

        exports_before = len(aws.files())
        third = execute("ddb-dev-orders-native-incremental", machine, {})
        assert third["status"] == "SUCCEEDED" and json.loads(third["output"])["window"]["milliseconds"] < 15 * 60_000
        assert len(aws.files()) == exports_before  # nothing exported, the watermark left where it was


def test_a_step_without_a_catch_of_its_own_alarms_with_its_error_and_fails_the_run(definitions, monkeypatch):
    """The incremental machine's FindWatermark had no catch: with its bucket gone, S3's error now reaches the alert
    topic (the machine's name, the error and its cause) and the run still ends FAILED (ExecutionsFailed counts it)."""
    machine = definitions["incremental"]
    with emulated(point_in_time_recovery=True, monkeypatch=monkeypatch) as aws:
        aws.s3.delete_bucket(Bucket="exports")
        failed = execute("ddb-dev-orders-native-incremental", machine, {})
        assert (failed["status"], failed["error"]) == ("FAILED", "StepFailed"), failed
        (alarm,) = aws.alarms()
        assert alarm["Subject"] == "FAILED: ddb-dev-orders-native-incremental"
        assert alarm["Message"].startswith("ddb-dev-orders-native-incremental failed: S3.NoSuchBucket"), alarm["Message"]


def test_a_copy_into_another_account_stages_and_imports_there(definitions, monkeypatch):
    """The export writes into the other account's staging bucket (S3BucketOwner) and the import runs there
    as the role the Task names: the new table is in that account, with every item; none in this one."""
    with emulated(point_in_time_recovery=True, monkeypatch=monkeypatch) as aws:
        trust = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
        other = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn="arn:aws:iam::222222222222:role/OrganizationAccountAccessRole", RoleSessionName="setup")["Credentials"]

        def there(service: str):
            return boto3.client(service, region_name=REGION, aws_access_key_id=other["AccessKeyId"],
                                aws_secret_access_key=other["SecretAccessKey"], aws_session_token=other["SessionToken"])

        there("iam").create_role(RoleName="importer", AssumeRolePolicyDocument=json.dumps(trust))
        there("s3").create_bucket(Bucket="staging", CreateBucketConfiguration={"LocationConstraint": REGION})
        execution = execute("ddb-dev-orders-native-copy-orders-elsewhere", definitions["copy-orders-elsewhere"], {})
        assert execution["status"] == "SUCCEEDED", execution
        (copy,) = there("dynamodb").list_tables()["TableNames"]
        assert copy.startswith("orders-elsewhere-")
        items = sorted(i["pk"]["S"] for i in there("dynamodb").scan(TableName=copy)["Items"])
        assert items == [f"order-{index}" for index in range(7)]
        assert aws.dynamodb.list_tables()["TableNames"] == ["orders"]
        staged = [o["Key"] for o in there("s3").list_objects_v2(Bucket="staging").get("Contents", [])]
        assert any(key.startswith("copies/orders-to-elsewhere/AWSDynamoDB/") and "/data/" in key for key in staged)


def test_a_copy_into_another_region_exports_there_and_its_event_starts_the_import_there(definitions, rules, monkeypatch):
    """The rules as synthesized: the source machine exports into the staging bucket of us-west-2 and puts
    its event on the copy's own bus in eu-west-1; the forward rule there sends it to the copies' bus of us-west-2, whose
    rule starts the import machine there with the event's detail. The new table is in us-west-2 only."""
    away = "us-west-2"
    (forward,) = [r for r in rules.values() if r.get("Name") == "away-forward"]
    (start,) = [r for r in rules.values() if r is not forward]
    with emulated(point_in_time_recovery=True, monkeypatch=monkeypatch) as aws:
        boto3.client("s3", region_name=away).create_bucket(Bucket="away", CreateBucketConfiguration={"LocationConstraint": away})
        machine = boto3.client("stepfunctions", region_name=away).create_state_machine(
            name="ddb-dev-orders-native-copy-orders-away-import", definition=json.dumps(definitions["copy-orders-away-import"]),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/importer")["stateMachineArn"]
        here, there = boto3.client("events", region_name=REGION), boto3.client("events", region_name=away)
        there.create_event_bus(Name="copies")
        here.create_event_bus(Name=forward["EventBusName"])  # the copy's own announce bus (its name resolved as its logical id)
        here.put_rule(Name=forward["Name"], EventBusName=forward["EventBusName"], EventPattern=json.dumps(forward["EventPattern"]))
        here.put_targets(Rule=forward["Name"], EventBusName=forward["EventBusName"], Targets=[{k: v for k, v in t.items() if k in ("Id", "Arn", "RoleArn")} for t in forward["Targets"]])
        there.put_rule(Name="start", EventBusName="copies", EventPattern=json.dumps(start["EventPattern"]))
        (target,) = start["Targets"]
        there.put_targets(Rule="start", EventBusName="copies", Targets=[{"Id": target["Id"], "Arn": machine, "InputPath": target["InputPath"],
                                                                         "RoleArn": target["RoleArn"]}])

        execution = execute("ddb-dev-orders-native-copy-orders-away", definitions["copy-orders-away"], {})
        assert execution["status"] == "SUCCEEDED", execution
        (imported,) = boto3.client("stepfunctions", region_name=away).list_executions(stateMachineArn=machine)["executions"]
        assert imported["status"] == "SUCCEEDED", imported
        dynamodb_there = boto3.client("dynamodb", region_name=away)
        (copy,) = dynamodb_there.list_tables()["TableNames"]
        staged = [o["Key"] for o in aws.s3.list_objects_v2(Bucket="away").get("Contents", [])]
        (summary,) = [k for k in staged if k.endswith("/manifest-summary.json")]
        assert summary.startswith("copies/orders-to-away/AWSDynamoDB/") and copy == f"orders-away-{summary.split('/')[3]}"
        assert sorted(i["pk"]["S"] for i in dynamodb_there.scan(TableName=copy)["Items"]) == [f"order-{index}" for index in range(7)]
        assert aws.dynamodb.list_tables()["TableNames"] == ["orders"] and aws.alarms() == []


NO_EXPORT = ("Restore drill of orders: there is no completed full export in exports/orders/ of the bucket to restore "
             "(among the newest 100 exports of the table)")


def copy_export(aws: SimpleNamespace) -> str:
    """A full export of orders into another bucket, as a copy into another account or region writes one, run to
    its end (moto runs an export on a thread of its own)."""
    from moto.dynamodb.models import dynamodb_backends

    aws.s3.create_bucket(Bucket="staging", CreateBucketConfiguration={"LocationConstraint": REGION})
    arn = aws.dynamodb.export_table_to_point_in_time(TableArn=TABLE, S3Bucket="staging",
                                                     S3Prefix="copies/orders-to-elsewhere", ExportFormat="DYNAMODB_JSON")["ExportDescription"]["ExportArn"]
    dynamodb_backends[ACCOUNT][REGION].table_exports[arn].join()
    return str(arn)


def test_a_restore_drill_restores_the_latest_export_compares_the_counts_and_deletes_its_scratch_table(definitions, monkeypatch):
    """Two exports, then a copy's export into another bucket, newer than both, then the drill: it passes over the
    copy's, finds the later backup, imports it into orders-drill-<export id>, finds the same count, deletes the
    scratch table. After a line is removed from that export's file, the drill reports the mismatch with both
    counts on the alert topic; with no export at all it says so."""
    with emulated(point_in_time_recovery=True, monkeypatch=monkeypatch) as aws:
        failed = execute("ddb-dev-orders-native-drill", definitions["drill"], {})
        assert failed["status"] == "FAILED" and failed["error"] == "NoExport"
        (none,) = aws.alarms()
        assert none["Message"] == NO_EXPORT
        for _ in range(2):
            assert execute("ddb-dev-orders-native-export", definitions["export"], {})["status"] == "SUCCEEDED"
        backups = sorted(s["ExportArn"] for s in aws.dynamodb.list_exports(TableArn=TABLE)["ExportSummaries"])
        copied = copy_export(aws)
        assert copied > backups[-1]  # the copy's export is the newest of the table
        drilled = execute("ddb-dev-orders-native-drill", definitions["drill"], {})
        assert drilled["status"] == "SUCCEEDED", drilled
        output = json.loads(drilled["output"])
        latest = backups[-1]
        assert output["latest"] == latest and output["table"] == f"orders-drill-{latest.rsplit('/', 1)[1]}"
        assert (output["counts"]["exported"], output["imported"]) == (7, {"items": 7, "errors": 0})
        assert aws.dynamodb.list_tables()["TableNames"] == ["orders"] and aws.alarms() == []  # the scratch table is gone

        (data,) = [key for key in aws.files() if key.startswith(output["export"]) and key.endswith(".json.gz")]
        lines = gzip.decompress(aws.s3.get_object(Bucket="exports", Key=data)["Body"].read()).decode().splitlines(keepends=True)
        aws.s3.put_object(Bucket="exports", Key=data, Body=gzip.compress("".join(lines[1:]).encode()))
        mismatch = execute("ddb-dev-orders-native-drill", definitions["drill"], {})
        assert mismatch["status"] == "FAILED" and mismatch["error"] == "RestoreDrillMismatch"
        (alarm,) = aws.alarms()
        assert alarm["Subject"] == "FAILED: ddb-dev-orders-native-drill"
        assert alarm["Message"] == f"Restore drill of orders: the export {output['export']} holds 7 items, the restore imported 6 with 0 errors"
        assert aws.dynamodb.list_tables()["TableNames"] == ["orders"]


def test_the_copy_import_machine_imports_only_the_one_staged_export_its_event_names_into_that_exports_table(definitions, monkeypatch):
    """Forged events reach the import machine as their detail: a folder outside the copy's staging folder, the
    staging folder of every export (ImportTable would merge them), a table not named after the export, are each
    refused with an alarm before anything is imported; the event the source machine sends imports."""
    from moto.dynamodb.models import dynamodb_backends

    machine, name = definitions["copy-orders-away-import"], "ddb-dev-orders-native-copy-orders-away-import"
    with emulated(point_in_time_recovery=True, monkeypatch=monkeypatch) as aws:
        aws.s3.create_bucket(Bucket="away", CreateBucketConfiguration={"LocationConstraint": REGION})  # the staging bucket's name
        ids = []
        for bucket, prefix in (("away", "copies/orders-to-away"), ("away", "copies/orders-to-away"), ("away", "exports/orders")):
            arn = aws.dynamodb.export_table_to_point_in_time(TableArn=TABLE, S3Bucket=bucket, S3Prefix=prefix,
                                                             ExportFormat="DYNAMODB_JSON")["ExportDescription"]["ExportArn"]
            dynamodb_backends[ACCOUNT][REGION].table_exports[arn].join()
            ids.append(arn.rsplit("/", 1)[1])
        first, second, backup = ids
        forged = {
            "outside the staging folder": {"export": f"exports/orders/AWSDynamoDB/{backup}/data/", "table": f"orders-away-{backup}"},
            "every staged export": {"export": "copies/orders-to-away/AWSDynamoDB/", "table": f"orders-away-{first}"},
            "another export's table": {"export": f"copies/orders-to-away/AWSDynamoDB/{first}/data/", "table": f"orders-away-{second}"},
            "a table outside the prefix": {"export": f"copies/orders-to-away/AWSDynamoDB/{first}/data/", "table": f"orders-{first}"},
        }
        for what, detail in forged.items():
            refused = execute(name, machine, {"copy": "orders-away", "source": "orders", **detail})
            assert (refused["status"], refused["error"]) == ("FAILED", "InvalidInput"), what
            (alarm,) = aws.alarms()
            assert alarm["Subject"] == f"REFUSED: {name}", what
            assert alarm["Message"].startswith(f"{name} refused export {detail['export']} into table {detail['table']}: expected export: "
                                               "copies/orders-to-away/AWSDynamoDB/<export id>/data/"), what
        assert aws.dynamodb.list_tables()["TableNames"] == ["orders"]
        sent = {"copy": "orders-away", "source": "orders", "export": f"copies/orders-to-away/AWSDynamoDB/{first}/data/",
                "table": f"orders-away-{first}"}
        imported = execute(name, machine, sent)
        assert imported["status"] == "SUCCEEDED", imported
        assert aws.dynamodb.list_tables()["TableNames"] == ["orders", f"orders-away-{first}"] and aws.alarms() == []
