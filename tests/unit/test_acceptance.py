"""The acceptance run's parts that need no emulator: the copy of a definition it runs (tables renamed, folders moved,
schedule removed, the restore guard admitting the moved folder only), its refusals, the confirmation, the waiting on
Data Pipeline's instances, and the reading of CloudTrail events. The whole run is tested on the drill's deploy
(tests/integration/test_local_deploy.py)."""
from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from ddb_datapipeline.acceptance.plan import (
    AcceptanceError,
    check_run_id,
    plan_runs,
    refuse_environment,
    scratch_definition,
    unscratched_tables,
)
from ddb_datapipeline.acceptance.run import AwsPipelineRunner, JobOutcome, PipelineJob
from ddb_datapipeline.acceptance.trail import Denial, ModelIndex, ModelRow, denial_of
from ddb_datapipeline.config import load_environments
from ddb_datapipeline.definition.guard import FolderGuard, read_guard
from tests.conftest import cdk_json_context

BUCKET = "ddb-dev-exports"
GUARD = FolderGuard(f"s3://{BUCKET}/exports/orders").command()


def _object(object_id: str, **fields: str) -> dict[str, Any]:
    return {"id": object_id, "name": object_id, "fields": [
        {"key": key, "refValue": value[1:]} if value.startswith("@") else {"key": key, "stringValue": value} for key, value in fields.items()]}


STORED = {
    "pipelineObjects": [
        _object("Default", type="Default", scheduleType="cron", schedule="@DefaultSchedule", pipelineLogUri=f"s3://{BUCKET}/logs/orders-copy/"),
        _object("DefaultSchedule", type="Schedule", period="1 day", startAt="FIRST_ACTIVATION_DATE_TIME"),
        _object("Source", type="DynamoDBDataNode", tableName="orders"),
        _object("Target", type="DynamoDBDataNode", tableName="orders-staging"),
        _object("Other", type="DynamoDBDataNode", tableName="orders-open"),
        _object("Remote", type="DynamoDBDataNode", tableName="arn:aws:dynamodb:us-east-1:222222222222:table/orders-staging"),
        _object("Folder", type="S3DataNode", directoryPath=f"s3://{BUCKET}/exports/orders/#{{format(@scheduledStartTime, 'YYYY-MM-dd-HH-mm-ss')}}"),
        _object("Staging", type="S3DataNode", directoryPath=f"s3://{BUCKET}/copies/orders-to-orders-staging-eu-west-1/#{{@scheduledStartTime}}"),
        _object("Guard", type="ShellCommandActivity", command=GUARD, scriptArgument="#{myInputS3Loc}"),
        _object("Copy", type="HiveActivity", hiveScript='TBLPROPERTIES ("dynamodb.table.name" = "orders");'),
        _object("Projection", type="HiveActivity", hiveScript='TBLPROPERTIES ("dynamodb.table.name" = "#{input.tableName}");'),
    ],
    "parameterObjects": [{"id": "myInputS3Loc", "attributes": [{"key": "type", "stringValue": "AWS::S3::ObjectKey"}]}],
    "parameterValues": [{"id": "myInputS3Loc", "stringValue": f"s3://{BUCKET}/exports/orders/choose"}],
}
NAMES = {"orders": "orders-acceptance-r1234567", "orders-staging": "orders-staging-acceptance-r1234567"}


def _fields(definition: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(o["id"], f["key"]): f.get("stringValue", f.get("refValue", "")) for o in definition["pipelineObjects"] for f in o["fields"]}


def test_the_copy_of_a_definition_names_the_scratch_tables_moves_its_folders_and_runs_once():
    copied = scratch_definition(STORED, names=NAMES, run_id="r1234567")
    fields = _fields(copied)
    assert fields[("Source", "tableName")] == "orders-acceptance-r1234567"
    assert fields[("Target", "tableName")] == "orders-staging-acceptance-r1234567"
    assert fields[("Other", "tableName")] == "orders-open"  # a configured name that merely starts like one is left alone
    assert fields[("Remote", "tableName")] == "arn:aws:dynamodb:us-east-1:222222222222:table/orders-staging-acceptance-r1234567"
    assert fields[("Copy", "hiveScript")] == 'TBLPROPERTIES ("dynamodb.table.name" = "orders-acceptance-r1234567");'
    assert fields[("Folder", "directoryPath")].startswith(f"s3://{BUCKET}/exports/orders/acceptance-r1234567/#{{format(")
    assert fields[("Staging", "directoryPath")].startswith(f"s3://{BUCKET}/copies/orders-to-orders-staging-eu-west-1/acceptance-r1234567/")
    assert fields[("Default", "pipelineLogUri")] == f"s3://{BUCKET}/logs/orders-copy/"  # the pipeline's own log folder stays
    # on demand: no schedule object, no reference to one
    assert fields[("Default", "scheduleType")] == "ondemand"
    assert "DefaultSchedule" not in {o["id"] for o in copied["pipelineObjects"]} and ("Default", "schedule") not in fields
    # the guard admits the run's own export folders, and no longer the table's real ones
    guard = read_guard(fields[("Guard", "command")])
    assert guard is not None
    assert guard.admits(f"s3://{BUCKET}/exports/orders/acceptance-r1234567/2026-01-02-03-04-05")
    assert not guard.admits(f"s3://{BUCKET}/exports/orders/2026-01-02-03-04-05")
    assert copied["parameterValues"] == [{"id": "myInputS3Loc", "stringValue": f"s3://{BUCKET}/exports/orders/acceptance-r1234567/choose"}]
    assert scratch_definition(STORED, names=NAMES, run_id="r1234567") == copied  # the stored definition is not changed
    # the check apart from the renaming: only orders-open (not a table of this pipeline's run here) is left
    assert unscratched_tables(copied, "r1234567") == ["Other.tableName: orders-open"]
    assert unscratched_tables(scratch_definition(STORED, names={"orders-staging": NAMES["orders-staging"]}, run_id="r1234567"),
                              "r1234567") == ["Source.tableName: orders", "Other.tableName: orders-open", "Copy.hiveScript: orders"]


def _dev() -> Any:
    return load_environments(cdk_json_context())["dev"]


def test_the_plan_runs_each_pipeline_of_dev_once_a_restore_after_its_export():
    runs = plan_runs(_dev())
    assert [(r.label, r.needs) for r in runs if r.kind == "restore"] == [("orders restore", "orders export"),
                                                                        ("customers restore", "customers export")]
    assert [r.label for r in runs if r.selective] == ["orders copy orders-recent-eu-west-1", "orders copy orders-open-eu-west-1"]
    assert all(r.skipped is None for r in runs) and len(runs) == 7


def test_refusals_name_the_setting_and_what_would_allow_the_run():
    dev = _dev()
    with pytest.raises(AcceptanceError) as kept:
        refuse_environment(replace(dev, retain_data=True), owns_sandbox=False)
    assert str(kept.value) == ("environments.dev.retain_data: true marks data that must survive; the acceptance run refuses such "
                               "an environment unless --i-own-this-sandbox is given")
    refuse_environment(replace(dev, retain_data=True), owns_sandbox=True)
    with pytest.raises(AcceptanceError, match=r"^environments\.dev\.acceptance: false; the node roles may not use scratch tables"):
        refuse_environment(replace(dev, acceptance=False), owns_sandbox=True)
    with pytest.raises(AcceptanceError) as bad:
        check_run_id("Run 1")
    assert str(bad.value) == "--run-id: 'Run 1' is not allowed; expected 6-16 lower-case letters and digits"


def test_a_declined_confirmation_creates_nothing(tmp_path):
    from ddb_datapipeline.__main__ import parser
    from ddb_datapipeline.acceptance.cli import run_acceptance

    def no_aws(service: str, region: str) -> Any:
        raise AssertionError(f"{service} called in {region}")

    args = parser().parse_args(["acceptance", "--env", "dev", "--report-dir", str(tmp_path)])
    lines: list[str] = []
    runner = SimpleNamespace(run=no_aws, remove=no_aws)
    assert run_acceptance(args, clients=no_aws, runner=runner, ask=lambda question: "n", out=lines.append) == 2
    assert lines[-1] == "acceptance: nothing done" and lines[0].startswith("acceptance run ") and not list(tmp_path.iterdir())


class _Pipelines:
    """Data Pipeline's answers for one run: the instance states of each poll, in turn."""

    def __init__(self, polls: list[dict[str, str]]) -> None:
        self.polls, self.calls = polls, []

    def create_pipeline(self, **kwargs: Any) -> dict[str, str]:
        self.calls.append(("create", kwargs["name"]))
        return {"pipelineId": "df-1"}

    def put_pipeline_definition(self, **kwargs: Any) -> dict[str, Any]:
        return {"errored": False}

    def activate_pipeline(self, **kwargs: Any) -> None:
        self.calls.append(("activate", kwargs["parameterValues"]))

    def get_paginator(self, name: str) -> Any:
        states = self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]
        self.current = states
        return SimpleNamespace(paginate=lambda **_: [{"ids": list(states)}])

    def describe_objects(self, **kwargs: Any) -> dict[str, Any]:
        return {"pipelineObjects": [{"id": i, "name": i, "fields": [{"key": "@status", "stringValue": self.current[i]}]}
                                    for i in kwargs["objectIds"]]}


def _job(timeout: float = 600) -> PipelineJob:
    return PipelineJob("acceptance-r1-x", "eu-west-1", {"pipelineObjects": []}, (("myInputS3Loc", "s3://b/f"),), (), timeout)


def test_the_service_runner_polls_each_instance_until_all_are_done_with_a_line_per_poll():
    service = _Pipelines([{"Export": "WAITING_FOR_RUNNER"}, {"Export": "RUNNING"}, {"Export": "FINISHED", "Cluster": "FINISHED"}])
    now = [0.0]
    runner = AwsPipelineRunner(lambda s, r: service, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0], poll_seconds=60)
    lines: list[str] = []
    assert runner.run(_job(), progress=lines.append).ok
    assert lines == ["acceptance: acceptance-r1-x: Export WAITING_FOR_RUNNER (0 s)", "acceptance: acceptance-r1-x: Export RUNNING (60 s)",
                     "acceptance: acceptance-r1-x: Cluster FINISHED, Export FINISHED (120 s)"]
    assert service.calls == [("create", "acceptance-r1-x"), ("activate", [{"id": "myInputS3Loc", "stringValue": "s3://b/f"}])]


def test_the_service_runner_reports_a_failed_instance_and_gives_up_at_the_timeout():
    failed = AwsPipelineRunner(lambda s, r: _Pipelines([{"Export": "FAILED", "Cluster": "FINISHED"}]), sleep=lambda s: None)
    assert failed.run(_job(), progress=lambda line: None) == JobOutcome("FAILED", "instances {'Export': 'FAILED'}")
    now = [0.0]
    slow = AwsPipelineRunner(lambda s, r: _Pipelines([{"Export": "RUNNING"}]), sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    outcome = slow.run(_job(timeout=150), progress=lambda line: None)
    assert outcome.status == "TIMED OUT" and outcome.detail.startswith("not done after 150 s")


def _event(code: str, source: str = "dynamodb.amazonaws.com", name: str = "DescribeTable") -> dict[str, Any]:
    return {"eventTime": "t", "eventSource": source, "eventName": name, "errorCode": code, "errorMessage": "m",
            "resources": [{"ARN": "arn:aws:dynamodb:eu-west-1:1:table/orders-acceptance-r1234567"}],
            "userIdentity": {"sessionContext": {"sessionIssuer": {"userName": "ddb-dev-nodes-orders-export"}}}}


def test_only_refusals_and_kms_errors_are_denials_and_a_denial_the_model_allowed_is_a_model_error():
    assert denial_of(_event("AccessDeniedException"), "eu-west-1") is not None
    assert denial_of(_event("KMS.DisabledException", "kms.amazonaws.com", "Decrypt"), "eu-west-1") is not None
    assert denial_of(_event("ResourceNotFoundException"), "eu-west-1") is None
    assert denial_of({**_event(""), "errorCode": None}, "eu-west-1") is None
    denial = denial_of(_event("AccessDeniedException"), "eu-west-1")
    assert denial is not None and (denial.call, denial.role) == ("dynamodb:DescribeTable", "ddb-dev-nodes-orders-export")
    allowed, denied = ModelRow("reads DynamoDBDataNode", "scan", "doc", True), ModelRow("reads DynamoDBDataNode", "scan", "doc", False)
    index = ModelIndex({("ddb-dev-nodes-orders-export", "dynamodb:DescribeTable"): (("orders", allowed), ("customers", denied))})
    rows = index.rows_for(denial, "r1234567")  # the scratch table counts as the table it stands in for
    assert rows == (allowed,)
    assert Denial("t", "r", "c", "role", "res", "e", rows).verdict == "MODEL ERROR: the model called it allowed"
    assert Denial("t", "r", "c", "role", "res", "e", (denied,)).verdict == "predicted: the model denies it too"
    assert Denial("t", "r", "c", "role", "res", "e").verdict.startswith("NO MODEL ROW")
    assert json.dumps(_event("x"))  # the events are the JSON CloudTrail puts into CloudTrailEvent


# ---------------------------------------------------------------- the native engine's machines (acceptance/native.py)
def _analytics(**table_changes: Any) -> Any:
    env = load_environments(cdk_json_context())["analytics"]
    return replace(env, tables=tuple(replace(t, **table_changes) for t in env.tables))


def test_the_plan_runs_each_native_machine_once_the_restore_after_the_export_and_skips_what_it_cannot_undo():
    env = _analytics()
    (events,) = env.tables
    env = replace(env, tables=(replace(events, export=replace(events.export, incremental="1 hour"),
                                       restore=replace(events.restore, drill="7 days"),
                                       copies=(*events.copies, replace(events.copies[0], target_prefix="events-dr", region="us-west-2"))),))
    runs = {r.label: r for r in plan_runs(env)}
    assert list(runs) == ["events native export", "events native restore", "events native incremental",
                          "events native copy-events-staging", "events native copy-events-dr", "events native drill"]
    assert runs["events native export"].name_prefix == "ddb-analytics-events-native-export"
    assert runs["events native copy-events-staging"].name_prefix == "ddb-analytics-events-native-copy-events-staging"
    assert [label for label, r in runs.items() if r.needs == "events native export"] == ["events native restore", "events native drill"]
    assert runs["events native incremental"].skipped is not None and "watermark" in runs["events native incremental"].skipped
    assert runs["events native copy-events-dr"].skipped is not None and "another account or region" in runs["events native copy-events-dr"].skipped
    assert {label for label, r in runs.items() if r.skipped is None} == {
        "events native export", "events native restore", "events native copy-events-staging", "events native drill"}
    # a referenced table has no restore or drill machine (stacks/table_set.py)
    assert [r.kind for r in plan_runs(_analytics(owned=None))] == ["native-export", "native-copy-events-staging"]


class _StepFunctions:
    """Step Functions' answers for one execution: its status at each DescribeExecution, in turn."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses, self.calls = statuses, []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_state_machines"
        return SimpleNamespace(paginate=lambda **_: [{"stateMachines": [
            {"name": "ddb-analytics-events-native-export", "stateMachineArn": "arn:sm:export"}, {"name": "other", "stateMachineArn": "arn:sm:other"}]}])

    def start_execution(self, **kwargs: Any) -> dict[str, str]:
        self.calls.append(("start", kwargs["stateMachineArn"], kwargs["name"], kwargs["input"]))
        return {"executionArn": "arn:execution:1"}

    def describe_execution(self, **kwargs: Any) -> dict[str, Any]:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"status": status, **({"output": json.dumps({"export": {"arn": "a"}})} if status == "SUCCEEDED" else {}),
                **({"error": "States.TaskFailed", "cause": "AccessDenied"} if status == "FAILED" else {})}

    def stop_execution(self, **kwargs: Any) -> None:
        self.calls.append(("stop", kwargs["executionArn"]))


def _machines(statuses: list[str]) -> tuple[Any, _StepFunctions, list[float]]:
    from ddb_datapipeline.acceptance.native import AwsMachineRunner

    service, now = _StepFunctions(statuses), [0.0]
    runner = AwsMachineRunner(lambda s, r: service, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0], poll_seconds=30)
    return runner, service, now


def test_the_step_functions_runner_starts_the_machine_by_name_and_polls_with_a_line_per_poll():
    runner, service, _ = _machines(["RUNNING", "RUNNING", "SUCCEEDED"])
    lines: list[str] = []
    outcome = runner.run(region="eu-west-1", machine="ddb-analytics-events-native-export", execution="acceptance-r1-export",
                         payload={}, timeout_seconds=600, progress=lines.append)
    assert outcome.ok and outcome.output == {"export": {"arn": "a"}}
    assert service.calls == [("start", "arn:sm:export", "acceptance-r1-export", "{}")]
    assert lines == [f"acceptance: ddb-analytics-events-native-export: acceptance-r1-export {status} ({seconds} s)"
                     for status, seconds in (("RUNNING", 0), ("RUNNING", 30), ("SUCCEEDED", 60))]


def test_the_step_functions_runner_reports_a_failure_stops_at_the_timeout_and_names_a_missing_machine():
    failed, _, _ = _machines(["FAILED"])
    outcome = failed.run(region="eu-west-1", machine="ddb-analytics-events-native-export", execution="e", payload={},
                         timeout_seconds=600, progress=lambda line: None)
    assert (outcome.status, outcome.detail, outcome.ok) == ("FAILED", "States.TaskFailed: AccessDenied", False)
    slow, service, now = _machines(["RUNNING"])
    outcome = slow.run(region="eu-west-1", machine="ddb-analytics-events-native-export", execution="e", payload={},
                       timeout_seconds=90, progress=lambda line: None)
    assert (outcome.status, outcome.detail) == ("TIMED OUT", "still running after 90 s; stopped")
    assert service.calls[-1] == ("stop", "arn:execution:1") and now[0] == 90
    missing = failed.run(region="eu-west-1", machine="ddb-analytics-events-native-restore", execution="e", payload={},
                         timeout_seconds=600, progress=lambda line: None)
    assert (missing.status, missing.detail) == ("NOT DEPLOYED", "no state machine ddb-analytics-events-native-restore in eu-west-1; "
                                                                 "deploy the environment first")


def test_cleanup_takes_only_the_exports_of_the_configured_table_from_an_executions_history():
    from ddb_datapipeline.acceptance.native import export_arns

    table = "arn:aws:dynamodb:eu-west-1:111111111111:table/events"
    text = json.dumps([{"output": {"export": {"arn": f"{table}/export/01765-abc"}}},
                       {"ExportArn": f"{table}-staging/export/01765-def"}, f"{table}/export/01765-abc"])
    assert export_arns(text, table) == [f"{table}/export/01765-abc"]
