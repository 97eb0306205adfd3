"""NativeExport on a bare Stack: the state machine's steps, the role's grants, the schedule, cdk-nag."""
from __future__ import annotations

import json
from fnmatch import fnmatchcase

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3

from ddb_datapipeline import NativeExport, PipelineConfigurationError
from ddb_datapipeline.constructs.native_export import schedule_expression
from ddb_datapipeline.definition.common import ScheduleSpec
from tests.conftest import statement_actions, world_without
from tests.constructs.test_pipelines import KEY, Built


@pytest.fixture(scope="module")
def native(native_machines) -> Built:
    return native_machines


def asl(built: Built, construct: str = "Export") -> dict:
    """The definition of the state machine of construct ``Export`` or ``Restore``."""
    (machine,) = [m for logical, m in built.template.find_resources("AWS::StepFunctions::StateMachine").items() if logical.startswith(construct)]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else json.dumps(json.dumps(p))[1:-1] for p in parts))


def statements(built: Built, construct: str | None = None) -> list[dict]:
    """Every policy statement of the stack, or those of the role of construct ``construct``'s state machine."""
    policies = built.template.find_resources("AWS::IAM::Policy").values()
    if construct is not None:
        machines = built.template.find_resources("AWS::StepFunctions::StateMachine")
        (role,) = [m["Properties"]["RoleArn"]["Fn::GetAtt"][0] for logical, m in machines.items() if logical.startswith(construct)]
        policies = [p for p in policies if {"Ref": role} in p["Properties"]["Roles"]]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_cdk_nag_is_clean_with_a_reason_for_each_wildcard(native):
    assert native.nag_violations() == []


def test_the_state_machine_exports_waits_and_alarms(native):
    states = asl(native)["States"]
    export = states["Export"]
    assert export["Resource"].endswith(":states:::aws-sdk:dynamodb:exportTableToPointInTime")
    assert export["Parameters"]["S3Prefix"] == "exports/orders" and export["Parameters"]["ExportFormat"] == "DYNAMODB_JSON"
    assert export["Parameters"]["S3SseAlgorithm"] == "KMS"  # the bucket's own key
    assert states["DescribeExport"]["Resource"].endswith(":states:::aws-sdk:dynamodb:describeExport")
    choices = {c["Next"]: c for c in states["Finished?"]["Choices"]}
    assert choices["Exported"]["StringEquals"] == "COMPLETED"
    assert choices["Late"]["NumericEquals"] == 72  # 6 hours of checks 5 minutes apart
    assert choices["GaveUp"]["NumericGreaterThanEquals"] == 288  # a day
    for alarm in ("Failed", "Late", "GaveUp"):
        assert states[alarm]["Resource"].endswith(":states:::sns:publish")
    assert export["Catch"][0]["Next"] == "Failed" and states["DescribeExport"]["Catch"][0]["Next"] == "Failed"
    assert not any(s["Type"] == "Task" and ":lambda:" in s["Resource"] for s in states.values())


def test_the_role_may_export_only_this_table_into_its_prefix_with_the_buckets_key(native):
    found = {tuple(sorted(s["Action"])) if isinstance(s["Action"], list) else (s["Action"],): s for s in statements(native, "Export")}
    assert found[("dynamodb:ExportTableToPointInTime",)]["Resource"] == {"Fn::GetAtt": [next(
        k for k, v in native.template.find_resources("AWS::DynamoDB::Table").items() if v["Properties"]["TableName"] == "orders"), "Arn"]}
    writes = found[("s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl")]
    assert writes["Resource"]["Fn::Join"][1][-1] == "/exports/orders/*"
    keys = [s for s in statements(native, "Export") if s["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]]
    assert {s["Condition"]["StringEquals"]["kms:ViaService"] for s in keys} == {"s3.eu-west-1.amazonaws.com", "sns.eu-west-1.amazonaws.com"}
    assert not any(a in ("dynamodb:*", "s3:*") for s in statements(native) for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))


def test_the_schedule_starts_the_state_machine_at_the_stated_time(native):
    (schedule,) = [s for logical, s in native.template.find_resources("AWS::Scheduler::Schedule").items() if logical.startswith("Export")]
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(12 hours)" and props["StartDate"] == "2027-01-01T02:00:00.000Z"
    assert props["Target"]["Arn"]["Ref"].startswith("ExportStateMachine")
    grants = [s for s in statements(native) if s["Action"] == "states:StartExecution"]
    # the export's schedule starts the export, the copy's the copy: each role one machine
    assert sorted(g["Resource"]["Ref"].split("StateMachine")[0] for g in grants) == ["Copy", "Drill", "Export", "Incremental"]


@pytest.mark.parametrize("period, expected", [("15 minutes", "rate(15 minutes)"), ("1 hour", "rate(1 hour)"), ("2 weeks", "rate(14 days)")])
def test_periods_become_rates(period, expected):
    stack = cdk.Stack()
    assert stack.resolve(schedule_expression(ScheduleSpec(period)).expression_string) == expected


def test_a_monthly_period_and_a_table_without_point_in_time_recovery_are_refused():
    with pytest.raises(PipelineConfigurationError, match="the native engine takes a period in minutes, hours, days or weeks"):
        schedule_expression(ScheduleSpec("1 month"))
    stack = cdk.Stack(cdk.App(), "S")
    table = dynamodb.Table(stack, "T", table_name="t", partition_key=KEY)
    with pytest.raises(PipelineConfigurationError, match="^S/T: a native export reads point-in-time recovery; enable it on the table$"):
        NativeExport(stack, "E", table=table, bucket=s3.Bucket(stack, "B"))


def test_every_runtime_call_of_the_state_machine_and_its_schedule_is_allowed(native):
    """The native rows of the permission model (permissions/native_calls.py) against the synthesized
    policies and trusts: the export, its files and key, the alarms and their key, logs, traces, the
    schedule's start."""
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from ddb_datapipeline.permissions.audit import outcomes

    world = load_world(load_assembly(native.outdir))
    (machine,) = [m for m in world.state_machines if m.name.endswith("-native-export")]
    found = outcomes(world)
    actions = {o.expected.request.action for o in found if o.expected.pipeline is machine}
    assert {"dynamodb:ExportTableToPointInTime", "dynamodb:DescribeExport", "s3:PutObject", "s3:AbortMultipartUpload",
            "kms:GenerateDataKey", "sns:Publish", "states:StartExecution", "sts:AssumeRole", "logs:CreateLogDelivery",
            "xray:PutTraceSegments"} <= actions
    # the copy into another account: its import role lives in that account's stack, absent from this bare one
    assert [o.line() for o in found if not o.decision.allowed and "elsewhere" not in o.line()] == []


def test_a_missing_grant_is_named(native):
    """Take the export's S3 write statement away (the watermark's own PutObject stays): the export's file
    writes are denied, by name."""
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from ddb_datapipeline.permissions.audit import denied

    world = world_without(load_world(load_assembly(native.outdir)), "", lambda s: "s3:AbortMultipartUpload" in statement_actions(s))
    lines = [o.line() for o in denied(world) if "elsewhere" not in o.line()]
    assert lines and all("DynamoDB writes the export's files as the caller" in line for line in lines)
    assert {line.split(" may not ")[1].split(" on ")[0] for line in lines} == {"s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"}


def test_parliament_accepts_every_policy_and_the_model_agrees_with_aws_service_reference(native):
    """The IAM oracles (tests/oracles/iam.py) on the native machines of native_machines: both stacks."""
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from tests.oracles.iam import model_mismatches, parliament_findings

    assert parliament_findings(native.outdir) == []
    assert model_mismatches(load_world(load_assembly(native.outdir))) == []


def test_every_granted_action_is_used_by_a_runtime_call(native):
    """The other direction: nothing the roles of the state machine and the schedule hold goes unused."""
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from ddb_datapipeline.permissions.audit import outcomes

    world = load_world(load_assembly(native.outdir))
    (machine,) = [m for m in world.state_machines if m.name.endswith("-native-export")]
    used = {(o.expected.request.principal, o.expected.request.action) for o in outcomes(world)}
    for role_arn in {machine.role_arn, *(s.role_arn for s in world.schedules)}:
        for policy in world.roles[role_arn].policies:
            for statement in policy.document["Statement"]:
                for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
                    assert (role_arn, action) in used, f"{action} granted to {role_arn} but no runtime call uses it"


# --- NativeRestore ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def restore(native_machines) -> Built:
    return native_machines


def test_a_restore_is_cdk_nag_clean_and_creates_only_tables_of_its_prefix(restore):
    assert restore.nag_violations() == []
    states = asl(restore, "Restore")["States"]
    checks = states["OwnExportAndNewTable?"]["Choices"][0]["And"]
    assert {c["Variable"]: c["StringMatches"] for c in checks} == {"$.export": "exports/orders/AWSDynamoDB/*", "$.table": "orders-restore*"}
    imports = next(s for s in statements(restore) if s["Action"] == "dynamodb:ImportTable")
    assert imports["Resource"]["Fn::Join"][1][-1] == ":dynamodb:eu-west-1:111111111111:table/orders-restore*"
    params = states["Import"]["Parameters"]["TableCreationParameters"]
    assert params["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}] and params["BillingMode"] == "PAY_PER_REQUEST"


def test_every_runtime_call_of_a_restore_is_allowed_and_every_grant_used(restore):
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from ddb_datapipeline.permissions.audit import outcomes

    world = load_world(load_assembly(restore.outdir))
    (machine,) = [m for m in world.state_machines if m.name.endswith("-native-restore")]
    found = outcomes(world)
    assert [o.line() for o in found if not o.decision.allowed and "elsewhere" not in o.line()] == []
    used = {(o.expected.request.principal, o.expected.request.action) for o in found}
    assert {"dynamodb:ImportTable", "dynamodb:DescribeImport", "s3:GetObject", "s3:ListBucket", "logs:PutLogEvents",
            "kms:CreateGrant"} <= {action for _, action in used}
    for policy in world.roles[machine.role_arn].policies:
        for statement in policy.document["Statement"]:
            for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
                # an action pattern (kms:GenerateDataKey*) is used by any request it matches
                assert any(principal == machine.role_arn and fnmatchcase(used_action.lower(), action.lower()) for principal, used_action in used), \
                    f"{action} granted but no runtime call uses it"


def test_a_referenced_source_needs_its_key_schema():
    from ddb_datapipeline import NativeRestore

    stack = cdk.Stack(cdk.App(), "S")
    table = dynamodb.Table.from_table_name(stack, "T", "orders")
    with pytest.raises(PipelineConfigurationError, match="an import creates a table with the source's key schema; give partition_key"):
        NativeRestore(stack, "R", source=table, bucket=s3.Bucket(stack, "B"))
    NativeRestore(stack, "R2", source=table, bucket=s3.Bucket(stack, "B2"), partition_key=KEY)


def test_a_copy_exports_names_the_new_table_after_the_export_then_imports_it(native):
    states = asl(native, "Copy")["States"]
    assert states["Export"]["Parameters"]["S3Prefix"] == "exports/orders"
    assert states["Finished?"]["Choices"][0] == {"Variable": "$.progress.status", "StringEquals": "COMPLETED", "Next": "NameNewTable"}
    names = states["NameNewTable"]["Parameters"]
    assert names["table.$"] == "States.Format('orders-copy-{}', States.ArrayGetItem(States.StringSplit($.export.arn, '/'), 3))"
    assert names["export.$"] == "States.Format('exports/orders/AWSDynamoDB/{}/data/', States.ArrayGetItem(States.StringSplit($.export.arn, '/'), 3))"
    check = states["OwnExportAndNewTable?"]["Choices"][0]["And"]
    assert [c["StringMatches"] for c in check] == ["exports/orders/AWSDynamoDB/*", "orders-copy-*"]
    assert states["Import"]["Parameters"]["TableCreationParameters"]["BillingMode"] == "PAY_PER_REQUEST"
    assert states["Imported?"]["Choices"][0]["Next"] == "Copied"
    assert not any(s["Type"] == "Task" and ":lambda:" in s["Resource"] for s in states.values())


def test_a_copy_may_create_only_tables_of_its_prefix(native):
    (imports,) = [s for s in statements(native, "Copy") if s["Action"] == "dynamodb:ImportTable"]
    assert imports["Resource"]["Fn::Join"][1][-1].endswith(":table/orders-copy-*")


def test_a_copy_prefix_that_the_source_could_match_is_refused():
    from ddb_datapipeline import DataTable, ExportBucket, NativeCopy

    stack = cdk.Stack(cdk.App(), "S")
    orders = DataTable(stack, "Orders", table_name="orders", partition_key=KEY, retain=False).table
    bucket = ExportBucket(stack, "Bucket", retain=False, export_retention_days=30, transition_after_days=None,
                          transition_storage_class="GLACIER_IR", log_retention_days=30).bucket
    with pytest.raises(PipelineConfigurationError, match="target_prefix 'ord' would name copies that the source table 'orders' could match"):
        NativeCopy(stack, "Copy", source=orders, bucket=bucket, target_prefix="ord")


def test_incremental_exports_export_the_window_then_move_the_watermark(native):
    states = asl(native, "Incremental")["States"]
    assert states["Window"]["QueryLanguage"] == "JSONata" and states["Window"]["Output"].startswith("{% (")
    export = states["Export"]["Parameters"]
    assert export["S3Prefix"] == "exports/orders/incremental" and export["ExportType"] == "INCREMENTAL_EXPORT"
    assert export["IncrementalExportSpecification"] == {"ExportFromTime.$": "$.window.from", "ExportToTime.$": "$.window.to",
                                                        "ExportViewType": "NEW_AND_OLD_IMAGES"}
    assert states["Finished?"]["Choices"][0]["Next"] == "SaveWatermark"
    assert states["SaveWatermark"]["Parameters"]["Body.$"] == "$.window.to"
    assert states["ReadWatermark"]["Catch"][0]["ErrorEquals"] == ["S3.NoSuchKeyException"]
    assert states["Alone?"]["Choices"][0] == {"Variable": "$.running.count", "NumericGreaterThan": 1, "Next": "AnotherRunIsGoing"}


def test_incremental_exports_may_touch_only_their_watermark_and_prefix(native):
    found = statements(native, "Incremental")
    watermark = [s for s in found if s["Action"] in ("s3:GetObject", "s3:PutObject")]
    assert {s["Resource"]["Fn::Join"][1][-1] for s in watermark} == {"/exports/orders/incremental/watermark"}
    writes = [s for s in found if isinstance(s["Action"], list) and "s3:AbortMultipartUpload" in s["Action"]]
    assert [s["Resource"]["Fn::Join"][1][-1] for s in writes] == ["/exports/orders/incremental/*"]
    (runs,) = [s for s in found if s["Action"] == "states:ListExecutions"]
    assert runs["Resource"]["Fn::Join"][1][-1].endswith(":stateMachine:ddb-dev-orders-native-incremental")


@pytest.mark.parametrize("period", ["10 minutes", "2 days", "1 month"])
def test_an_incremental_period_outside_15_minutes_to_a_day_is_refused(period):
    from ddb_datapipeline import DataTable, ExportBucket, NativeIncrementalExport

    stack = cdk.Stack(cdk.App(), "S")
    orders = DataTable(stack, "Orders", table_name="orders", partition_key=KEY, retain=False).table
    bucket = ExportBucket(stack, "Bucket", retain=False, export_retention_days=30, transition_after_days=None,
                          transition_storage_class="GLACIER_IR", log_retention_days=30).bucket
    with pytest.raises(PipelineConfigurationError, match=f"incremental period '{period}': expected 15 minutes to 24 hours"):
        NativeIncrementalExport(stack, "Incremental", table=orders, bucket=bucket, period=period)
