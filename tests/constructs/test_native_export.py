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
from tests.constructs.machines import check_machine_alarms_and_metrics
from tests.constructs.test_pipelines import KEY, Built


@pytest.fixture(scope="module")
def native(native_machines) -> Built:
    return native_machines


@pytest.fixture(scope="module")
def world(native_machines):
    """The permission model's world of the assembly, read once for the module (a test that changes it copies it)."""
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world

    return load_world(load_assembly(native_machines.outdir))


@pytest.fixture(scope="module")
def checked(world):
    """Every runtime call of the world with its decision."""
    from ddb_datapipeline.permissions.audit import outcomes

    return outcomes(world)


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


def test_every_runtime_call_of_the_state_machine_and_its_schedule_is_allowed(world, checked):
    """The native rows of the permission model (permissions/native_calls.py) against the synthesized
    policies and trusts: the export, its files and key, the alarms and their key, logs, traces, the
    schedule's start."""
    (machine,) = [m for m in world.state_machines if m.name.endswith("-native-export")]
    found = checked
    actions = {o.expected.request.action for o in found if o.expected.pipeline is machine}
    assert {"dynamodb:ExportTableToPointInTime", "dynamodb:DescribeExport", "s3:PutObject", "s3:AbortMultipartUpload",
            "kms:GenerateDataKey", "sns:Publish", "states:StartExecution", "sts:AssumeRole", "logs:CreateLogDelivery",
            "xray:PutTraceSegments"} <= actions
    # the copy into another account: its import role lives in that account's stack, absent from this bare one
    assert [o.line() for o in found if not o.decision.allowed and "elsewhere" not in o.line()] == []


def test_a_missing_grant_is_named(world):
    """Take the export's S3 write statement away (the watermark's own PutObject stays): the export's file
    writes are denied, by name."""
    from ddb_datapipeline.permissions.audit import denied

    without = world_without(world, "", lambda s: "s3:AbortMultipartUpload" in statement_actions(s))
    lines = [o.line() for o in denied(without) if "elsewhere" not in o.line()]
    assert lines and all("DynamoDB writes the export's files as the caller" in line for line in lines)
    assert {line.split(" may not ")[1].split(" on ")[0] for line in lines} == {"s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"}


def test_parliament_accepts_every_policy_and_the_model_agrees_with_aws_service_reference(native, world):
    """The IAM oracles (tests/oracles/iam.py) on the native machines of native_machines: both stacks."""
    from tests.oracles.iam import model_mismatches, parliament_findings

    assert parliament_findings(native.outdir) == []
    assert model_mismatches(world) == []


def test_every_granted_action_is_used_by_a_runtime_call(world, checked):
    """The other direction: nothing the roles of the state machine and the schedule hold goes unused."""
    (machine,) = [m for m in world.state_machines if m.name.endswith("-native-export")]
    used = {(o.expected.request.principal, o.expected.request.action) for o in checked}
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
    assert {c["Variable"]: c["StringMatches"] for c in checks} == {"$.export": "exports/orders/AWSDynamoDB/*/data/",
                                                                        "$.table": "orders-restore*"}
    assert states["OwnExportAndNewTable?"]["Default"] == "RefusedAlarm" and states["RefusedAlarm"]["Next"] == "Refused"
    imports = next(s for s in statements(restore) if s["Action"] == "dynamodb:ImportTable")
    assert imports["Resource"]["Fn::Join"][1][-1] == ":dynamodb:eu-west-1:111111111111:table/orders-restore*"
    params = states["Import"]["Parameters"]["TableCreationParameters"]
    assert params["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}] and params["BillingMode"] == "PAY_PER_REQUEST"


def test_every_runtime_call_of_a_restore_is_allowed_and_every_grant_used(world, checked):
    (machine,) = [m for m in world.state_machines if m.name.endswith("-native-restore")]
    found = checked
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
    assert [c["StringMatches"] for c in check] == ["exports/orders/AWSDynamoDB/*/data/", "orders-copy-*"]
    cut = "States.ArrayGetItem(States.StringSplit($.export, '/'), 3)"
    assert states["ExpectedNames"]["Parameters"] == {"export.$": f"States.Format('exports/orders/AWSDynamoDB/{{}}/data/', {cut})",
                                                     "table.$": f"States.Format('orders-copy-{{}}', {cut})"}
    assert states["OneExportAndItsTable?"]["Choices"][0]["And"] == [
        {"Variable": "$.export", "StringEqualsPath": "$.expected.export"}, {"Variable": "$.table", "StringEqualsPath": "$.expected.table"}]
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
    with pytest.raises(PipelineConfigurationError, match=r"^S/Copy: target_prefix: 'ord' is not allowed; expected a prefix that the source table's name 'orders' does not start with$"):
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
    # Whether the watermark exists is listed, not caught: a missing key is a 403 without an unconditioned listing grant.
    assert states["FindWatermark"]["Parameters"] == {"Bucket": states["ReadWatermark"]["Parameters"]["Bucket"],
                                                     "Prefix": "exports/orders/incremental/watermark", "MaxKeys": 1}
    assert states["WatermarkExists?"]["Choices"] == [{"Variable": "$.found.count", "NumericGreaterThan": 0, "Next": "ReadWatermark"}]
    assert states["WatermarkExists?"]["Default"] == "NoWatermark"
    # A missing key is not caught as such: the only catch is the one of every error, which alarms and fails the run.
    assert states["ReadWatermark"]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "StepFailedAlarm"}]
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
    with pytest.raises(PipelineConfigurationError, match=f"^S/Incremental: period: '{period}' is not allowed; expected a period from 15 minutes to 24 hours"):
        NativeIncrementalExport(stack, "Incremental", table=orders, bucket=bucket, period=period)


def test_the_watermark_is_looked_for_by_listing_its_own_key(world, checked):
    """FindWatermark lists exports/<table>/incremental/watermark (ListObjectsV2, Prefix = the key), which the grant
    limited by s3:prefix allows; without that statement the one denial names the listing."""
    import json

    from ddb_datapipeline.permissions.audit import denied
    from ddb_datapipeline.permissions.native_calls import WATERMARK_FIND_TASK

    (machine,) = [m for m in world.state_machines if m.name.endswith("-native-incremental")]
    listing = [o for o in checked if o.expected.pipeline is machine and o.expected.call.trigger == WATERMARK_FIND_TASK]
    assert [(o.expected.request.action, o.expected.request.resource, o.expected.request.context["s3:prefix"], o.decision.allowed)
            for o in listing] == [("s3:ListBucket", listing[0].expected.facts["bucket_arn"], "exports/orders/incremental/watermark", True)]
    without = world_without(world, "", lambda s: s.get("Action") == "s3:ListBucket" and "watermark" in json.dumps(s))
    (line,) = [o.line() for o in denied(without) if "elsewhere" not in o.line()]
    assert "ddb-dev-orders-native-incremental" in line and " may not s3:ListBucket on " in line
    assert "[the machine looks for its watermark by listing its own key]" in line


def test_incremental_exports_may_list_only_their_watermark_key(native):
    (listing,) = [s for s in statements(native, "Incremental") if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {"StringEquals": {"s3:prefix": "exports/orders/incremental/watermark"}}


def test_the_drill_restores_only_an_export_written_to_its_bucket_and_prefix(native):
    """ListExports names every export of the table, a copy's into another bucket too: the drill describes the
    newest first and takes the first written to this bucket under exports/<table> (the run is in
    tests/integration/test_native_state_machine.py)."""
    import json

    from ddb_datapipeline.template_resolver import Resolver

    resources = native.template.to_json()["Resources"]
    types = {logical: r["Type"] for logical, r in resources.items()}
    (drill,) = [r for logical, r in resources.items() if logical.startswith("DrillStateMachine") and r["Type"].endswith("StateMachine")]
    states = json.loads(Resolver("Team", "eu-west-1", "111111111111", {k: k for k in types}, types)(drill["Properties"]["DefinitionString"]))["States"]
    (bucket,) = [logical for logical, r in resources.items() if r["Type"] == "AWS::S3::Bucket" and logical.startswith("Bucket")
                 and "AccessLogs" not in logical]
    own = states["WrittenHere?"]["Output"]
    assert (f"'own': $states.input.candidate.description.S3Bucket = '{bucket}' and "
            "$states.input.candidate.description.S3Prefix = 'exports/orders'") in own
    assert states["OwnExport?"]["Choices"] == [{"Variable": "$.own", "BooleanEquals": True, "Next": "NameScratchTable"}]
    assert states["OwnExport?"]["Default"] == "NextCandidate"


def test_every_state_machine_passes_botocore_and_asl_validator(native):
    """The oracles of tests/oracles/state_machines.py on every machine of this assembly (both stacks)."""
    from tests.oracles.state_machines import check_assembly

    assert check_assembly(native.outdir) == 8


def test_no_machine_fails_silently(native):
    """Every Task of the eight machines catches every error into an alarm and a Fail, and each machine has its
    three execution alarms (tests/oracles/silent_failures.py)."""
    from tests.oracles.silent_failures import silent_failures

    assert silent_failures(native.outdir) == (8, [])


def test_the_steps_without_a_catch_of_their_own_alarm_with_the_error_then_fail(native):
    states = asl(native, "Drill")["States"]
    caught = {name for name, s in states.items() if s.get("Catch") == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error",
                                                                        "Next": "StepFailedAlarm"}]}
    # The drill's listing, describing, counting and deleting had no catch; the import steps keep their own.
    assert caught == {"ListExports", "ListMoreExports", "DescribeCandidate", "CountImported", "DeleteScratchTable",
                      "DeleteScratchTableAfterMismatch"}
    assert states["Import"]["Catch"][0]["Next"] == "ImportFailedAlarm"
    handler = states["StepFailedAlarm"]
    assert handler["Resource"].endswith(":states:::sns:publish") and handler["Parameters"]["Subject"] == "FAILED: ddb-dev-orders-native-drill"
    assert handler["Parameters"]["Message.$"] == "States.Format('ddb-dev-orders-native-drill failed: {}: {}', $.error.Error, $.error.Cause)"
    assert states[handler["Next"]] == {"Type": "Fail", "Error": "StepFailed", "Cause": "a step failed; the alarm names its error"}
    # The export machine caught everything already: no handler is added to it.
    assert "StepFailedAlarm" not in asl(native, "Export")["States"]


def test_each_machine_alarms_through_cloudwatch_when_a_run_fails_times_out_or_is_aborted(native):
    alarms = [a["Properties"] for a in native.template.find_resources("AWS::CloudWatch::Alarm").values()
              if a["Properties"]["Namespace"] == "AWS/States"]
    export = {a["MetricName"]: a for a in alarms if a["AlarmName"].startswith("ddb-dev-orders-native-export-")}
    assert {m: a["AlarmName"] for m, a in export.items()} == {
        "ExecutionsFailed": "ddb-dev-orders-native-export-failed", "ExecutionsTimedOut": "ddb-dev-orders-native-export-timed-out",
        "ExecutionsAborted": "ddb-dev-orders-native-export-aborted"}
    (machine,) = [k for k in native.template.find_resources("AWS::StepFunctions::StateMachine") if k.startswith("Export")]
    (topic,) = [k for k in native.template.find_resources("AWS::SNS::Topic") if k.startswith("AlertsTopic")]  # the stack's shared one
    for alarm in export.values():
        assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine}}]
        assert alarm["AlarmActions"] == [{"Ref": topic}]


@pytest.mark.parametrize("broken", ["catch", "handler", "alarm", "schedule-alarm"])
def test_the_check_reports_a_task_without_a_catch_or_a_machine_without_an_alarm(native, broken):
    """Break one thing in a copy of the synthesized template and see tests/oracles/silent_failures.py name it."""
    import copy

    from tests.oracles.silent_failures import silent_failures_in

    template = copy.deepcopy(native.template.to_json())
    resources = template["Resources"]
    (logical,) = [k for k in resources if k.startswith("Drill") and resources[k]["Type"] == "AWS::StepFunctions::StateMachine"]
    if broken in ("alarm", "schedule-alarm"):
        name = "ddb-dev-orders-native-drill-timed-out" if broken == "alarm" else "ddb-Team-schedules-dropped"
        (alarm,) = [k for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["AlarmName"] == name]
        del resources[alarm]
        schedules = sorted(k for k, r in resources.items() if r["Type"] == "AWS::Scheduler::Schedule")
        expected = (f"Team/{logical}: no alarm on ExecutionsTimedOut" if broken == "alarm" else
                    [f"Team/{k}: no alarm on InvocationDroppedCount of its group ddb-Team" for k in schedules])
    else:
        definition = asl(native, "Drill")
        if broken == "catch":
            del definition["States"]["CountImported"]["Catch"]
            expected = f"Team/{logical}: Task CountImported catches nothing of States.ALL"
        else:  # the handler fails without publishing
            definition["States"]["CountImported"]["Catch"][0]["Next"] = "StepFailed"
            expected = f"Team/{logical}: Task CountImported's catch of States.ALL (StepFailed) does not publish an alarm and then fail"
        resources[logical]["Properties"]["DefinitionString"] = json.dumps(definition)
    assert sorted(silent_failures_in("Team", template)) == (expected if isinstance(expected, list) else [expected])


def test_the_permission_check_publishes_each_execution_alarm_and_stops_on_a_machine_without_one(world, checked):
    """CloudWatch's publication of every execution alarm is decided against the topic's policy and key; a
    machine left without one of its alarms stops the check (ModelGap) instead of passing unnoticed."""
    import dataclasses

    from ddb_datapipeline.permissions.audit import outcomes
    from ddb_datapipeline.permissions.expand import ModelGap

    published = {o.expected.request.context["aws:SourceArn"].rsplit(":", 1)[1]: o.decision.allowed for o in checked
                 if o.expected.request.principal == "service:cloudwatch.amazonaws.com" and o.expected.request.action == "sns:Publish"}
    assert {name: allowed for name, allowed in published.items() if "-native-drill-" in name} == {
        "ddb-dev-orders-native-drill-failed": True, "ddb-dev-orders-native-drill-timed-out": True, "ddb-dev-orders-native-drill-aborted": True}
    assert len([name for name in published if name.endswith("-aborted")]) == 8
    without = dataclasses.replace(world, alarms=[a for a in world.alarms if not a.arn.endswith(":ddb-dev-orders-native-drill-aborted")])
    with pytest.raises(ModelGap, match="ddb-dev-orders-native-drill.*: no CloudWatch alarm with a topic on its ExecutionsAborted"):
        outcomes(without)


def test_the_schedules_of_a_stack_share_a_group_whose_alarms_say_a_schedule_did_not_start_its_machine(native):
    """EventBridge Scheduler counts start errors and dropped invocations per schedule group only: the stack's
    schedules share the group ddb-<stack>, each of whose two alarms publishes to every topic of those schedules (here the
    stack's shared one)."""
    (group,) = native.template.find_resources("AWS::Scheduler::ScheduleGroup").values()
    assert group["Properties"] == {"Name": "ddb-Team"} and group["DeletionPolicy"] == "Delete"
    schedules = native.template.find_resources("AWS::Scheduler::Schedule").values()
    assert len(schedules) == 4 and {s["Properties"]["GroupName"] for s in schedules} == {"ddb-Team"}
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in native.template.find_resources("AWS::CloudWatch::Alarm").values()
              if a["Properties"]["Namespace"] == "AWS/Scheduler"}
    assert {m: a["AlarmName"] for m, a in alarms.items()} == {"TargetErrorCount": "ddb-Team-schedule-start-errors",
                                                              "InvocationDroppedCount": "ddb-Team-schedules-dropped"}
    # Every construct was given no topic: all alert through the stack's shared one, so the group's alarms name it once.
    topics = [a["Ref"] for a in alarms["InvocationDroppedCount"]["AlarmActions"]]
    assert len(topics) == 1 and topics[0].startswith("AlertsTopic")
    for alarm in alarms.values():
        assert alarm["Dimensions"] == [{"Name": "ScheduleGroup", "Value": "ddb-Team"}]


def test_the_permission_check_stops_on_a_schedule_group_without_its_alarm(world, checked):
    import dataclasses

    from ddb_datapipeline.permissions.audit import outcomes
    from ddb_datapipeline.permissions.expand import ModelGap

    published = {o.expected.request.context["aws:SourceArn"].rsplit(":", 1)[1] for o in checked
                 if o.expected.request.principal == "service:cloudwatch.amazonaws.com" and o.expected.request.action == "sns:Publish"
                 and o.decision.allowed}
    assert {"ddb-Team-schedule-start-errors", "ddb-Team-schedules-dropped"} <= published
    without = dataclasses.replace(world, alarms=[a for a in world.alarms if not a.arn.endswith(":ddb-Team-schedule-start-errors")])
    with pytest.raises(ModelGap, match="its schedule's group ddb-Team has no CloudWatch alarm with a topic on TargetErrorCount"):
        outcomes(without)


def _import_sse(native: Built, construct: str) -> dict:
    """The SSESpecification of the ImportTable state of ``construct``'s machine, references resolved to logical ids."""
    from ddb_datapipeline.template_resolver import Resolver

    resources = native.template.to_json()["Resources"]
    types = {logical: r["Type"] for logical, r in resources.items()}
    (machine,) = [r for logical, r in resources.items() if logical.startswith(f"{construct}StateMachine") and r["Type"].endswith("StateMachine")]
    states = json.loads(Resolver("Team", "eu-west-1", "111111111111", {k: k for k in types}, types)(machine["Properties"]["DefinitionString"]))["States"]
    (sse,) = [s["Parameters"]["TableCreationParameters"].get("SSESpecification") for s in states.values()
              if s.get("Resource") == "arn:aws:states:::aws-sdk:dynamodb:importTable"]
    return sse


def test_the_drills_scratch_table_is_on_the_sources_customer_managed_key(native):
    """CT.DYNAMODB.PR.2 / CKV_AWS_119: the scratch table holds the source's items, so it is created on the source's key."""
    (key,) = [logical for logical in native.template.find_resources("AWS::KMS::Key") if logical.startswith("Orders")]
    sse = _import_sse(native, "Drill")
    assert sse is not None and sse["SSEType"] == "KMS" and sse["Enabled"] is True
    assert key in json.dumps(sse["KMSMasterKeyId"])


def test_a_drill_without_the_new_tables_key_grant_is_denied_creating_the_scratch_table(world):
    """DynamoDB creates a table on a customer managed key with the caller's KMS authorization (the guide's ImportTable
    policy): without the grant the drill's import is reported, by name."""
    from ddb_datapipeline.permissions.audit import denied

    without = world_without(world, "", lambda s: "kms:CreateGrant" in statement_actions(s))
    lines = [o.line() for o in denied(without) if "drill" in o.line()]
    assert any("may not kms:CreateGrant" in line and "DynamoDB creates the new table on its customer managed key" in line for line in lines), lines[:3]


# --- Confused deputy: who may assume the roles, which bucket the imports read -------------------------
def _flat(value):
    """A condition with the partition written out: the bare stack joins ``arn:``, Ref AWS::Partition and the rest."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        return "".join("aws" if part == {"Ref": "AWS::Partition"} else part for part in value["Fn::Join"][1])
    return {k: _flat(v) for k, v in value.items()} if isinstance(value, dict) else value


def _roles(built: Built) -> dict[str, dict]:
    return {logical: r["Properties"] for logical, r in built.template.find_resources("AWS::IAM::Role").items()}


MACHINES_HERE = {"ArnLike": {"aws:SourceArn": "arn:aws:states:eu-west-1:111111111111:stateMachine:*"},
                 "StringEquals": {"aws:SourceAccount": "111111111111"}}


def test_every_machine_role_named_or_not_trusts_step_functions_for_this_accounts_machines_only(native):
    """The named roles of the copies into another account (``copier``) and region (``away-copier``), which other
    accounts' policies name, carry the same conditions as the roles CDK makes for the other machines."""
    trusts = {props.get("RoleName", logical): props["AssumeRolePolicyDocument"]["Statement"]
              for logical, props in _roles(native).items()
              if props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}}
    assert {"copier", "away-copier"} <= set(trusts) and len(trusts) >= 7
    for name, (statement,) in trusts.items():
        assert _flat(statement["Condition"]) == MACHINES_HERE, name


def test_the_forward_rules_role_trusts_eventbridge_for_that_rule_only(native):
    """The role the forward rule's target uses: aws:SourceArn is the rule's ARN (rule/<bus>/<rule>), as the EventBridge
    User Guide's confused-deputy page says EventBridge sends for an event bus rule target."""
    (rule,) = native.template.find_resources("AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]
    role = _roles(native)[target["RoleArn"]["Fn::GetAtt"][0]]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert _flat(statement["Condition"]) == {"ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:111111111111:rule/away-forward/away-forward"},
                                      "StringEquals": {"aws:SourceAccount": "111111111111"}}


def test_the_imports_read_only_from_the_buckets_account(native):
    """s3:ResourceAccount on the import's GetObject and ListBucket (restore, same-account copy, drill): S3 ARNs carry no
    account, so without it a bucket of the same name elsewhere could feed an import."""
    for construct in ("Restore", "Copy", "Drill"):
        reads = [s for s in statements(native, construct) if statement_actions(s) in (["s3:GetObject"], ["s3:ListBucket"])
                 and "exports/orders" in json.dumps(s["Resource"]) + json.dumps(s.get("Condition"))]
        assert len(reads) == 2, construct
        for statement in reads:
            assert statement["Condition"]["StringEquals"] == {"s3:ResourceAccount": "111111111111"}, (construct, statement)


def test_the_cloudwatch_key_statement_carries_no_source_keys_by_choice(native):
    """Deliberate (constructs/delivery_alarm.py): no AWS page read says the KMS call SNS makes for CloudWatch's alarm
    carries aws:SourceArn or aws:SourceAccount, and a key the call lacks would drop every alarm. The topic's own
    statement carries both."""
    keys = [st for key in native.template.find_resources("AWS::KMS::Key").values() for st in key["Properties"]["KeyPolicy"]["Statement"]
            if st.get("Sid") == "CloudWatchAlarmsEncrypt"]
    assert keys and all("Condition" not in st for st in keys)
    topics = [st for policy in native.template.find_resources("AWS::SNS::TopicPolicy").values()
              for st in policy["Properties"]["PolicyDocument"]["Statement"] if st.get("Sid") == "CloudWatchAlarmsPublish"]
    assert topics and all(set(st["Condition"]["StringEquals"]) == {"aws:SourceAccount"} and set(st["Condition"]["ArnLike"]) == {"aws:SourceArn"}
                          for st in topics)


def test_another_accounts_machine_rule_or_bucket_is_denied_where_this_ones_are_allowed(world, checked):
    """The permission model's own requests pass the new conditions; the same requests from another account's state machine,
    from another rule, or against a bucket of another account are denied by them."""
    from ddb_datapipeline.permissions.evaluator import Policy, Request, evaluate

    def trusted(request: Request) -> bool:
        return evaluate(request, resource_policy=world.roles[request.resource].trust, kind="trust").allowed

    def assumed(role_suffix: str, principal: str) -> Request:
        return next(o.expected.request for o in checked if o.expected.request.action == "sts:AssumeRole"
                    and o.expected.request.principal == principal and o.expected.request.resource.endswith(role_suffix))

    machine = assumed(":role/copier", "service:states.amazonaws.com")
    assert trusted(machine)
    for forged in ({"aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:aws:states:eu-west-1:999999999999:stateMachine:x"},
                   {**machine.context, "aws:SourceArn": "arn:aws:states:us-east-1:111111111111:stateMachine:x"}):
        assert not trusted(Request(machine.principal, machine.action, machine.resource, forged)), forged

    forward = next(o.expected.request for o in checked if o.expected.request.action == "sts:AssumeRole"
                   and o.expected.request.principal == "service:events.amazonaws.com" and "eu-west-1" in str(o.expected.request.context))
    assert trusted(forward)
    for forged in ({**forward.context, "aws:SourceArn": "arn:aws:events:eu-west-1:111111111111:rule/away-forward/another-rule"},
                   {"aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:aws:events:eu-west-1:999999999999:rule/away-forward/away-forward"}):
        assert not trusted(Request(forward.principal, forward.action, forward.resource, forged)), forged

    (restore,) = [m for m in world.state_machines if m.name.endswith("-native-restore")]
    read = next(o.expected.request for o in checked if o.expected.pipeline is restore and o.expected.request.action == "s3:GetObject")
    identity: list[Policy] = list(world.roles[restore.role_arn].policies)
    assert read.context["s3:ResourceAccount"] == "111111111111" and evaluate(read, identity=identity, resource_account="111111111111").allowed
    # a bucket of the same name in another account, whose policy admits this role: only the condition stands in the way
    theirs = Policy("their bucket policy", {"Statement": [{"Effect": "Allow", "Principal": {"AWS": restore.role_arn}, "Action": "s3:*",
                                                           "Resource": "*"}]})
    elsewhere = Request(read.principal, read.action, read.resource, {**read.context, "s3:ResourceAccount": "999999999999"})
    decision = evaluate(elsewhere, identity=identity, resource_policy=theirs, resource_account="999999999999")
    assert not decision.allowed and "no identity policy" in decision.reason, decision



def test_the_alarms_watch_what_metric_methods_return_and_the_construct_exposes_what_it_made(native):
    check_machine_alarms_and_metrics(native, "Export")


# --- the state machines' log groups ----------------------------------------------------------------
def test_every_machine_logs_to_a_group_encrypted_with_its_stacks_one_rotating_logs_key(native):
    """CT.CLOUDWATCH.PR.3 / CKV_AWS_158: each log group names the stack's LogsKey; one key for all, rotated, whose policy
    lets CloudWatch Logs of this region use it for log groups of this account and region only."""
    groups = native.template.find_resources("AWS::Logs::LogGroup")
    machines = native.template.find_resources("AWS::StepFunctions::StateMachine")
    logged = {m["Properties"]["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
              for m in machines.values()}
    assert logged == set(groups) and len(groups) == len(machines) > 1
    keys = {logical: key for logical, key in native.template.find_resources("AWS::KMS::Key").items() if fnmatchcase(logical, "LogsKey????????")}
    assert len(keys) == 1
    ((logical, key),) = keys.items()
    assert {g["Properties"]["KmsKeyId"]["Fn::GetAtt"][0] for g in groups.values()} == {logical}
    assert key["Properties"]["EnableKeyRotation"] is True
    (logs,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal", {}).get("Service") == "logs.eu-west-1.amazonaws.com"]
    pattern = logs["Condition"]["StringLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert native.stack.resolve(pattern) == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":logs:eu-west-1:111111111111:log-group:*"]]}
    assert "kms:DescribeKey" not in logs["Action"] and not any("*" in action for action in logs["Action"])


def test_cloudwatch_logs_may_use_the_logs_key_for_this_accounts_log_groups_only(world, checked):
    """The model's requests of CloudWatch Logs (one per machine and action) are allowed by the key policy; the same
    request for another account's log group, or with no encryption context, is not; without the statement, every
    machine's logging is denied by name."""
    from ddb_datapipeline.permissions.audit import decide_request, denied
    from ddb_datapipeline.permissions.evaluator import Request

    logged = [o for o in checked if o.expected.request.principal == "service:logs.eu-west-1.amazonaws.com"]
    machines = [m for m in world.state_machines if m.region == "eu-west-1"]
    assert {(o.expected.pipeline.name, o.expected.request.action) for o in logged} == {
        (m.name, action) for m in machines for action in ("kms:GenerateDataKey", "kms:Decrypt")}
    assert all(o.decision.allowed for o in logged), [o.line() for o in logged if not o.decision.allowed]
    request = logged[0].expected.request
    group = request.context["kms:EncryptionContext:aws:logs:arn"]
    assert group.startswith("arn:aws:logs:eu-west-1:111111111111:log-group:") and not group.endswith(":*")
    for context in ({**request.context, "kms:EncryptionContext:aws:logs:arn": group.replace("111111111111", "999999999999")},
                    {k: v for k, v in request.context.items() if not k.startswith("kms:EncryptionContext")}):
        assert not decide_request(world, Request(request.principal, request.action, request.resource, context)).allowed, context

    without = world_without(world, " key policy", lambda s: s.get("Sid") == "CloudWatchLogsOfThisAccountAndRegion")
    lines = [o.line() for o in denied(without) if "service:logs.eu-west-1." in o.line()]
    assert len(lines) == len(logged) and all("CloudWatch Logs encrypts the machine's log events" in line for line in lines)


@pytest.mark.parametrize("days, kept", [(1, 1), (2, 3), (30, 30), (90, 90), (100, 120), (365, 365), (366, 400), (3653, 3653), (3654, None)])
def test_the_logs_retention_is_the_shortest_cloudwatch_period_keeping_them_the_configured_days(days, kept):
    """CloudWatch Logs offers fixed periods (RetentionInDays); a configured log_retention_days between two is rounded up,
    never down, and beyond ten years the logs are kept forever."""
    from aws_cdk import aws_logs as logs

    from ddb_datapipeline.constructs.native_steps import log_retention

    retention = log_retention(days)
    if kept is None:
        assert retention == logs.RetentionDays.INFINITE
    else:
        stack = cdk.Stack()
        group = logs.LogGroup(stack, "L", retention=retention)
        assert stack.resolve(group.node.default_child.retention_in_days) == kept


def test_a_construct_of_the_stack_under_the_logs_keys_id_is_refused_by_name():
    """The logs key is found at the stack root by its id; something else there is named, not used as a key."""
    from constructs import Construct

    from ddb_datapipeline.constructs.logs_key import logs_key

    stack = cdk.Stack()
    Construct(stack, "LogsKey")
    with pytest.raises(PipelineConfigurationError, match=r"^Default/LogsKey: the id 'LogsKey' at the stack root is the state machine logs' key; "
                                                         r"this is a Construct: give it another id$"):
        logs_key(stack)
    assert logs_key(cdk.Stack()) is not None
