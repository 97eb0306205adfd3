"""The whole local flow against the session's moto server, with the real CDK CLI:
bootstrap and deploy every stack, smoke check, a second deploy with a changed configuration (an
update), the smoke check naming what differs, destroy; and a failed deploy that names its stack and
resource and stops the server it started.

The deployed configuration is cdk.json's, whose native-engine environment gets every kind of native machine, so
that both engines go through one synth, one bootstrap and one deploy.

The tests of this module run in order and share one deployment (a deploy costs seconds).
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_deploy import LocalDeployError, emulator
from local_deploy.cdk_cli import cli_environment
from local_deploy.deploy import DeployResult, Options, deploy, destroy, environments, project_context
from local_deploy.smoke import SmokeCheckFailed, read_assembly, smoke_check
from local_deploy.smoke_common import ClientFactory

LOCAL_ACCOUNT = "123456789012"


class Flow:
    """What the ordered tests share: the endpoint, the local cloud assembly and the first deploy."""

    def __init__(self, endpoint: str, workdir: Path) -> None:
        self.endpoint = endpoint
        self.workdir = workdir
        self.assembly = workdir / "cdk.out.local"
        self.output: list[str] = []
        self.first: DeployResult | None = None
        self.ids_before_update: dict[str, str] = {}
        # The local deploy's own client factory: one client per service and region for every test (a client costs a few
        # ms of CPU to make), with the test credentials.
        self.client = ClientFactory(endpoint)

    def options(self, **kwargs: Any) -> Options:
        kwargs.setdefault("context", flow_context())
        return Options(
            endpoint=self.endpoint, assembly_dir=self.assembly, state_dir=self.workdir / "state", out=self.output.append, **kwargs
        )

    def stack_status(self, name: str, region: str) -> str:
        return self.client("cloudformation", region).describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]

    def pipeline_ids(self) -> dict[str, str]:
        return {row.name: row.pipeline_id for row in self.first.report.pipelines} if self.first else {}




def flow_context() -> dict[str, Any]:
    """cdk.json's configuration, its native environment ``analytics`` given an account and its one table what cdk.json
    leaves out (incremental exports, a restore drill, copies into another account and another region), so that both
    engines and every kind of native machine go through one synth, one bootstrap and one deploy."""
    context = copy.deepcopy(project_context())
    analytics = context["environments"]["analytics"]
    analytics["account"] = "111111111111"  # a copy into another region needs the environment's account
    (events,) = analytics["tables"]
    events["export"]["incremental"] = "30 minutes"
    events["restore"]["drill"] = "7 days"
    events["copies"] += [{"target_prefix": "events-analytics", "account": "222222222222"}, {"target_prefix": "events-dr", "region": "us-west-2"}]
    return context


def changed_context() -> dict[str, Any]:
    """The flow's configuration with a different read ratio and EMR core count in dev."""
    context = flow_context()
    dev = context["environments"]["dev"]
    orders = next(t for t in dev["tables"] if t["name"] == "orders")
    orders.setdefault("export", {})["read_ratio"] = 0.4
    dev.setdefault("emr", {})["core_instance_count"] = 3
    return context


@pytest.fixture(scope="module")
def flow(moto_server: emulator.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Flow:
    flow = Flow(moto_server.endpoint, tmp_path_factory.mktemp("local-deploy"))
    flow.first = deploy(flow.options())
    return flow


def test_bootstrap_and_deploy_create_every_stack_and_the_smoke_check_passes(flow: Flow):
    stacks = read_assembly(flow.assembly)
    names = {stack.name for stack in stacks}
    assert {f"DdbDataPipeline-{env.name}" for env in environments(flow.options())} <= names
    for stack in stacks:
        assert flow.stack_status(stack.name, stack.region) == "CREATE_COMPLETE"
        toolkit = flow.client("cloudformation", stack.region).describe_stacks(StackName="CDKToolkit")["Stacks"][0]
        assert toolkit["StackStatus"] == "CREATE_COMPLETE"
    report = flow.first.report
    assert report.ok, report.differences
    assert report.checks > 100
    assert {row.name for row in report.stacks} == names
    # Every configured pipeline was read back: two (or more, with copies) per table.
    tables = sum(len(env.tables) for env in environments(flow.options()) if env.name != "analytics")
    assert len(report.pipelines) >= 2 * tables
    assert {row.state for row in report.pipelines} <= {"SCHEDULED", "PENDING"}
    assert any(row.state == "referenced, not deployed" for row in report.tables)
    assert all(bucket.tls_only for bucket in report.buckets)


def test_the_cli_left_its_compiled_code_for_its_next_run(flow: Flow):
    """Node wrote the code cache the CLI's environment names (NODE_COMPILE_CACHE, local_deploy/cdk_cli.py)."""
    cache = Path(cli_environment(flow.endpoint, "us-east-1")["NODE_COMPILE_CACHE"])
    assert any(path.is_file() for path in cache.rglob("*")), cache


def test_the_summary_names_stacks_tables_buckets_and_pipelines_with_their_state(flow: Flow):
    text = "\n".join(flow.output)
    assert "Stacks" in text and "Tables" in text and "Buckets" in text and "Pipelines" in text
    for row in flow.first.report.pipelines:
        assert row.pipeline_id in text
    assert "Smoke check passed" in text
    assert "Not modelled by the emulator" in text


def test_the_local_assembly_targets_moto_and_has_no_bootstrap_version_rule(flow: Flow):
    for stack in read_assembly(flow.assembly):
        assert stack.account == LOCAL_ACCOUNT
        assert "CheckBootstrapVersion" not in stack.template.get("Rules", {})
        assert "BootstrapVersion" not in stack.template.get("Parameters", {})


def test_the_emulator_reads_every_deployed_template_as_moto_s_own_loader_does(flow: Flow):
    """moto fix 19 reads a JSON template with json.loads; on the templates this deploy deployed it gives what
    moto's PyYAML loader gives, type for type (repr tells 1, 1.0 and True apart), without falling back to it."""
    import yaml

    from local_deploy.moto_fixes import json_as_yaml

    templates = sorted(flow.assembly.glob("*.template.json"))
    assert len(templates) == len(read_assembly(flow.assembly))
    for path in templates:
        text = path.read_text()
        assert repr(json_as_yaml(text)) == repr(yaml.load(text, Loader=yaml.Loader)), path.name


def test_the_pipelines_post_deploy_check_finds_each_environment_healthy(flow: Flow, monkeypatch: pytest.MonkeyPatch):
    """The read-only check the delivery pipeline runs after each stage, against what was deployed."""
    from ddb_datapipeline.deployed_check import check_stack

    monkeypatch.setenv("AWS_ENDPOINT_URL", flow.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    for name, region in (("DdbDataPipeline-dev", "eu-west-1"), ("DdbDataPipeline-prod", "us-east-1"), ("DdbDataPipeline-analytics", "eu-west-1")):
        assert check_stack(boto3.Session(region_name=region), name) == [], name


def test_a_native_environment_deploys_with_its_state_machines_and_no_pipeline(flow: Flow):
    names = [m["name"] for m in flow.client("stepfunctions", "eu-west-1").list_state_machines()["stateMachines"]]
    assert {"ddb-analytics-events-native-export", "ddb-analytics-events-native-restore", "ddb-analytics-events-native-copy-events-staging",
            "ddb-analytics-events-native-incremental", "ddb-analytics-events-native-copy-events-analytics", "ddb-analytics-events-native-drill"} <= set(names)
    # the copy into another account: its staging bucket and import role, in its copy-target stack
    assert flow.stack_status("DdbDataPipeline-analytics-copy-targets-222222222222-eu-west-1", "eu-west-1") == "CREATE_COMPLETE"
    role = flow.client("iam", "eu-west-1").get_role(RoleName="ddb-analytics-events-copy-events-analytics-import")["Role"]
    assert "ddb-analytics-events-copy-events-analytics-machine" in json.dumps(role["AssumeRolePolicyDocument"])
    assert not [row for row in flow.first.report.pipelines if row.name.startswith("ddb-analytics-")]
    assert flow.stack_status("DdbDataPipeline-analytics", "eu-west-1") == "CREATE_COMPLETE"
    # the copy into another region: its forward rule here, on the copy's own announce bus, the copies' bus, its rule and the import machine there
    forward = "ddb-analytics-events-copy-events-dr-forward"  # the rule and the bus it is on share the name
    assert flow.client("events", "eu-west-1").describe_rule(Name=forward, EventBusName=forward)["State"] == "ENABLED"
    assert flow.stack_status("DdbDataPipeline-analytics-copy-targets-us-west-2", "us-west-2") == "CREATE_COMPLETE"
    (rule,) = flow.client("events", "us-west-2").list_rules(EventBusName="ddb-analytics-copies")["Rules"]
    (target,) = flow.client("events", "us-west-2").list_targets_by_rule(Rule=rule["Name"], EventBusName="ddb-analytics-copies")["Targets"]
    assert target["Arn"].endswith(":stateMachine:ddb-analytics-events-native-copy-events-dr-import") and target["InputPath"] == "$.detail"
    # the machines' log groups (encrypted with the stack's LogsKey, which moto's CloudFormation does not pass on) keep their
    # logs the environment's log_retention_days
    days = project_context()["environments"]["analytics"]["export_bucket"]["log_retention_days"]
    groups = [g for g in flow.client("logs", "eu-west-1").describe_log_groups()["logGroups"]
              if g["logGroupName"].startswith("DdbDataPipeline-analytics-Native")]
    assert len(groups) >= 6 and {g.get("retentionInDays") for g in groups} == {days}, groups


@pytest.fixture(scope="module")
def drilled(flow: Flow) -> Any:
    """The drill (make drill-local's runner) on the first deploy: 60 items per owned table."""
    from local_deploy.drill import Drill

    drill = Drill(flow.endpoint, flow.options(), 60)
    return drill, drill.rows()


def test_a_drill_runs_every_pipeline_from_its_stored_definition_and_verifies_what_moved(drilled):
    _, rows = drilled
    verdicts = {re.sub(r"-[0-9a-f]{8}$", "", row.pipeline): row.verdict for row in rows}
    for name in ("ddb-dev-orders-export", "ddb-dev-orders-restore", "ddb-dev-orders-copy-orders-staging-eu-west-1",
                 "ddb-dev-orders-copy-orders-recent-eu-west-1", "ddb-dev-orders-copy-orders-open-eu-west-1",
                 "ddb-prod-orders-export", "ddb-prod-orders-restore", "ddb-prod-orders-copy-orders-us-west-2",
                 "ddb-prod-orders-copy-orders-analytics-222222222222-us-east-1",
                 "ddb-dev-customers-export", "ddb-dev-customers-restore", "ddb-prod-customers-export", "ddb-prod-customers-restore"):
        assert verdicts.pop(name) == "verified", (name, rows)
    for name in ("ddb-analytics-events-native-export", "ddb-analytics-events-native-restore", "ddb-analytics-events-native-copy-events-staging"):
        assert verdicts.pop(name) == "verified", (name, rows)  # state machines, run on moto's interpreter
    elsewhere = "not run: a copy into another account or region (tests/integration/test_native_state_machine.py runs it)"
    assert verdicts == {"ddb-analytics-events-native-copy-events-analytics": elsewhere, "ddb-analytics-events-native-copy-events-dr": elsewhere}
    counts = {re.sub(r"-[0-9a-f]{8}$", "", row.pipeline): (row.items, row.files) for row in rows}
    # a file per map task: an on-demand table on one core node has 5 (connector_format.export_split)
    assert counts["ddb-dev-orders-export"] == (60, 5) and counts["ddb-prod-orders-copy-orders-us-west-2"][0] == 60
    assert 0 < counts["ddb-dev-orders-copy-orders-recent-eu-west-1"][0] < counts["ddb-dev-orders-copy-orders-open-eu-west-1"][0] < 60
    # DynamoDB's export of a small table: one data file (moto fix 7); the restore and the copy hold every item
    assert counts["ddb-analytics-events-native-export"] == (60, 1)
    assert counts["ddb-analytics-events-native-restore"][0] == counts["ddb-analytics-events-native-copy-events-staging"][0] == 60


def test_the_drill_says_which_pipeline_it_runs_as_it_starts_it(flow: Flow, drilled):
    """A run takes seconds to minutes; a line per pipeline as it starts shows the drill is not hung."""
    _, rows = drilled
    running = {line.removeprefix("drill: running ") for line in flow.output if line.startswith("drill: running ")}
    ran = {row.pipeline for row in rows if not row.verdict.startswith("not run")}
    assert ran and ran <= running


def test_the_drill_decides_calls_in_the_stacks_the_deploy_deployed_without_the_delivery_stack(flow: Flow, drilled):
    """The AWS assembly the drill decides calls with holds the deployed stacks, in their AWS accounts, and not the
    delivery stack, which the local deploy does not deploy (drill.aws_assembly leaves it out: it built dev and prod
    a second time in every drill)."""
    from ddb_datapipeline.assembly import load_assembly

    as_deployed = {stack.name: stack.account for stack in load_assembly(flow.workdir / "state" / "drill-assembly").stacks}
    # an environment of native tables only decides no call (its machines run on moto): left out of that synth
    native_only = tuple(f"DdbDataPipeline-{env.name}" for env in environments(flow.options()) if all(table.native for table in env.tables))
    assert native_only == ("DdbDataPipeline-analytics",)
    assert sorted(as_deployed) == sorted(stack.name for stack in read_assembly(flow.assembly) if not stack.name.startswith(native_only))
    assert LOCAL_ACCOUNT not in as_deployed.values()


def _failing_run(drill: Any, prefix: str, change: Any, access: Any = None) -> str:
    """The one-line failure of an orders pipeline (``ddb-<env>-orders-<kind>-...``) run from a changed copy of
    its stored definition."""
    from local_deploy.drill import RunFailed

    env = next(e for e in drill.environments if e.name == prefix.split("-")[1])
    kind = prefix.split("-")[3]
    pipeline_id, name, region = drill.one(env, "orders", kind, prefix)
    stored = copy.deepcopy(drill.stored(pipeline_id, region))
    change(stored)
    saved, drill.access = drill.access, access or drill.access
    try:
        with pytest.raises(RunFailed) as failed:
            drill.run(name, pipeline_id, region, stored=stored)
    finally:
        drill.access = saved
    message = str(failed.value)
    assert "\n" not in message and message.startswith(name)
    return message


def _export_anew(drill: Any, env: Any) -> Any:
    """The dev orders export run again into its scheduled start's folder, which the drill's export wrote: its first
    step removes the folder, so the connector does not refuse it."""
    pipeline_id, name, region = drill.one(env, "orders", "export", "ddb-dev-orders-export-")
    return drill.run(name, pipeline_id, region)


def _field(stored: dict[str, Any], object_id: str, key: str) -> dict[str, Any]:
    (obj,) = [o for o in stored["pipelineObjects"] if o["id"] == object_id]
    (found,) = [f for f in obj["fields"] if f["key"] == key]
    return found


def test_a_step_with_swapped_arguments_fails_the_run_and_raises_the_alarm(flow: Flow, drilled):
    drill, _ = drilled
    sqs, sns = flow.client("sqs", "eu-west-1"), flow.client("sns", "eu-west-1")
    queue = sqs.create_queue(QueueName="drill-alarms")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if "DdbDataPipeline-dev" in t["TopicArn"] and "Alerts" in t["TopicArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    def swap(stored: dict[str, Any]) -> None:
        step = _steps(stored, "TableBackupActivity")[-1]  # the connector's, after the removal of the output folder
        jar, tool, *options, folder, table, ratio = step["stringValue"].split(",")
        step["stringValue"] = ",".join([jar, tool, *options, table, folder, ratio])

    message = _failing_run(drill, "ddb-dev-orders-export-", swap)
    assert message.endswith("TableBackupActivity: 'orders' is not an s3:// folder (the step's arguments are out of order?)")
    (alarm,) = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])]
    assert alarm["Subject"].startswith("FAILED: ") and "is not an s3:// folder" in alarm["Message"]


def _steps(stored: dict[str, Any], object_id: str) -> list[dict[str, Any]]:
    (obj,) = [o for o in stored["pipelineObjects"] if o["id"] == object_id]
    return [f for f in obj["fields"] if f["key"] == "step"]


def test_a_retry_after_an_attempt_that_wrote_files_succeeds_only_because_the_folder_is_removed_first(drilled):
    """The first attempt of the scheduled export writes its map tasks' files and fails; the retry targets the same
    folder. As deployed, its first step removes the folder and the retry exports. Without that step the connector
    refuses the folder (FileOutputFormat.checkOutputSpecs) on every retry, and the run fails with its message."""
    from local_deploy.drill import RunFailed

    drill, _ = drilled
    env = next(e for e in drill.environments if e.name == "dev")
    pipeline_id, name, region = drill.one(env, "orders", "export", "ddb-dev-orders-export-")
    result = drill.run(name, pipeline_id, region, fail_attempts={"TableBackupActivity": 1})
    (failed,) = result.attempts["TableBackupActivity"]
    assert "attempt 1 failed after its map tasks wrote" in failed and result.items > 0

    stored = copy.deepcopy(drill.stored(pipeline_id, region))
    (activity,) = [o for o in stored["pipelineObjects"] if o["id"] == "TableBackupActivity"]
    activity["fields"].remove(_steps(stored, "TableBackupActivity")[0])
    with pytest.raises(RunFailed) as refused:
        drill.run(name, pipeline_id, region, stored=stored, fail_attempts={"TableBackupActivity": 1})
    assert "org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory s3://" in str(refused.value)
    assert str(refused.value).endswith(" already exists")


def test_a_wrong_output_folder_is_refused_as_the_node_role_would_be(drilled):
    drill, _ = drilled

    def elsewhere(stored: dict[str, Any]) -> None:
        folder = _field(stored, "S3BackupLocation", "directoryPath")  # s3://<bucket>/exports/orders/#{format(...)}, a literal
        folder["stringValue"] = folder["stringValue"].replace("/exports/orders/", "/other-team/")

    message = _failing_run(drill, "ddb-dev-orders-export-", elsewhere)
    # The first step removes the output folder: the node role may not even list another team's folder.
    assert "TableBackupActivity (removing s3://" in message and "/other-team/" in message
    assert " may not s3:ListBucket on arn:aws:s3:::" in message


def test_a_missing_grant_fails_the_run_naming_the_call(drilled):
    from tests.conftest import statement_actions, world_without

    drill, _ = drilled
    world = world_without(drill.access.world, "", lambda st: "dynamodb:Scan" in statement_actions(st))
    access = type(drill.access)(world, drill.access.names)
    message = _failing_run(drill, "ddb-dev-orders-export-", lambda stored: None, access)
    # dev names no account: the permission model's placeholder account; the connector describes the table first
    assert message.endswith(" may not dynamodb:DescribeTable on arn:aws:dynamodb:eu-west-1:000000000000:table/orders: "
                            "no identity policy allows it")


def test_a_copy_of_some_attributes_that_drops_one_is_reported_as_a_mismatch(drilled):
    """dev's orders-open copies the items its filter keeps, cut to the key and three attributes (its script
    read back by the runner); a stored script that leaves out `total` leaves a target the verification
    (worked out from the configuration) reports."""
    drill, _ = drilled
    env = next(e for e in drill.environments if e.name == "dev")
    copy_config = next(c for t in env.tables if t.name == "orders" for c in t.copies if c.target_table == "orders-open")
    source = drill.seeded[("dev", "orders")]
    assert copy_config.selection.attributes == ("pk", "sk", "status", "total", "updated_at")
    assert drill.copy_verdict(copy_config, source) == "verified"
    found = drill.items_of("orders-open", "eu-west-1")
    assert found and all(set(item) <= {"pk", "sk", "status", "total", "updated_at"} and "title" not in item for item in found)
    assert any("title" in item for item in source)
    pipeline_id, name, region = drill.one(env, "orders", "copy", "ddb-dev-orders-copy-orders-open-")
    stored = copy.deepcopy(drill.stored(pipeline_id, region))
    script = _field(stored, "CopyActivity", "hiveScript")
    piece = ", concat('total', chr(3), ddb_item['total'])"
    assert piece in script["stringValue"]
    script["stringValue"] = script["stringValue"].replace(piece, "")
    drill.run(name, pipeline_id, region, stored=stored)
    assert drill.copy_verdict(copy_config, source).startswith("MISMATCH: orders-open holds ")
    drill.run(name, pipeline_id, region)  # as deployed again, for the tests after this one
    assert drill.copy_verdict(copy_config, source) == "verified"


def test_the_count_after_an_incremental_copy_fails_the_run_when_the_copy_missed_items(drilled):
    """dev's orders-recent is counted after each run (verify, on by default for an incremental copy): a stored
    copy whose window is half as long leaves items of the window out of an empty target, and the count
    (its own, unchanged script) fails the run naming how many."""
    drill, _ = drilled
    client = drill.clients("dynamodb", "eu-west-1")
    for item in drill.items_of("orders-recent", "eu-west-1"):
        client.delete_item(TableName="orders-recent", Key={"pk": item["pk"], "sk": item["sk"]})

    def half_window(stored: dict[str, Any]) -> None:
        sql = _field(stored, "CopyActivity", "filterSql")
        assert "minusMinutes(minusHours(@scheduledStartTime, 1), 15)" in sql["stringValue"]
        sql["stringValue"] = sql["stringValue"].replace("minusMinutes(minusHours(@scheduledStartTime, 1), 15)",
                                                        "minusMinutes(@scheduledStartTime, 30)")

    message = _failing_run(drill, "ddb-dev-orders-copy-orders-recent-", half_window)
    found = re.search(r" VerifyActivity: (\d+) of the (\d+) items the copy should have taken are not in orders-recent "
                      r"\(the count after the copy\)$", message)
    assert found and 0 < int(found[1]) < int(found[2]), message
    env = next(e for e in drill.environments if e.name == "dev")
    pipeline_id, name, region = drill.one(env, "orders", "copy", "ddb-dev-orders-copy-orders-recent-")
    drill.run(name, pipeline_id, region)  # as deployed again: the copy and its count pass
    copy_config = next(c for t in env.tables if t.name == "orders" for c in t.copies if c.target_table == "orders-recent")
    assert drill.copy_verdict(copy_config, drill.seeded[("dev", "orders")]) == "verified"


def test_a_copy_into_another_account_is_decided_in_both_accounts(drilled):
    """The emulator is one account, but the drill decides each call in the accounts of the AWS assembly: without
    the target account's bucket policy for the source's node role, the copy's export into the staging bucket
    (its first call there, the removal of its staging folder, is refused) although the node role's own policy allows it."""
    from tests.conftest import world_without

    drill, rows = drilled
    assert any(note.startswith("prod/customers is only referenced: the drill created stand-in tables customers, customers-restore")
               for note in drill.notes)
    world = world_without(drill.access.world, "StagingBucketPolicy30E8DF0E",
                          lambda st: st.get("Sid", "").startswith("OrdersOrdersAnalytics222222222222UsEast1"))
    message = _failing_run(drill, "ddb-prod-orders-copy-orders-analytics-", lambda stored: None, type(drill.access)(world, drill.access.names))
    # The export's first step, the removal of its staging folder, is the first call the bucket refuses.
    assert " ExportActivity (removing s3://ddb-prod-copies-222222222222-us-east-1/" in message
    assert "): ddb-prod-us-east-1-nodes-orders-copy-orders-analytics-" in message
    assert message.endswith(": the resource policy of the other account does not allow it")
    assert " may not s3:ListBucket on arn:aws:s3:::ddb-prod-copies-222222222222-us-east-1: " in message


def test_a_precondition_on_the_wrong_key_and_a_cleanup_of_another_folder_fail_their_runs(drilled):
    """The restore's precondition waiting for another key never holds; the copy's cleanup pointed at the
    bucket's exports is refused for the node role, whose grant ends at the copy's staging folder."""
    from local_deploy.drill import RunFailed

    drill, _ = drilled
    env = next(e for e in drill.environments if e.name == "dev")
    export = _export_anew(drill, env)
    pipeline_id, name, region = drill.one(env, "orders", "restore", "ddb-dev-orders-restore-")
    stored = copy.deepcopy(drill.stored(pipeline_id, region))
    _field(stored, "ExportManifestExists", "s3Key")["stringValue"] = "#{myInputS3Loc}/manifest.json"
    with pytest.raises(RunFailed) as failed:
        drill.run(name, pipeline_id, region, {"myInputS3Loc": export.exports[0]}, stored=stored)
    assert str(failed.value) == (f"{name} TableLoadActivity: precondition ExportManifestExists never holds: "
                                 f"{export.exports[0]}/manifest.json does not exist")

    def elsewhere(stored: dict[str, Any]) -> None:
        staging = _field(stored, "StagingFolder", "directoryPath")["stringValue"]  # s3://<bucket>/copies/..., a literal
        command = _field(stored, "CleanupActivity", "command")
        command["stringValue"] = command["stringValue"].replace("#{input.directoryPath}", staging.split("/copies/")[0] + "/exports")

    message = _failing_run(drill, "ddb-dev-orders-copy-orders-staging-eu-west-1-", elsewhere)
    assert "CleanupActivity: " in message and " may not s3:ListBucket on arn:aws:s3:::" in message


def test_a_restore_of_an_export_missing_a_line_is_reported_as_a_mismatch(flow: Flow, drilled):
    """Remove one line from the export the drill made: the restore still runs, and the verification says
    the restored table holds one item fewer than the source."""
    import gzip

    drill, _ = drilled
    env = next(e for e in drill.environments if e.name == "dev")
    s3 = flow.client("s3", "eu-west-1")
    export = _export_anew(drill, env)
    bucket, _, prefix = export.exports[0].removeprefix("s3://").partition("/")
    manifest = s3.get_object(Bucket=bucket, Key=f"{prefix}/manifest")["Body"].read().decode()
    data, *_ = [url.removeprefix(f"s3://{bucket}/") for url in re.findall(r'"url":"([^"]+)"', manifest)]  # a file of this run (one per map task)
    assert data.endswith(".gz")  # the step compresses
    lines = gzip.decompress(s3.get_object(Bucket=bucket, Key=data)["Body"].read()).decode().splitlines(keepends=True)
    s3.put_object(Bucket=bucket, Key=data, Body=gzip.compress("".join(lines[1:]).encode()))
    flow.client("dynamodb", "eu-west-1").delete_table(TableName="orders-restore")
    flow.client("dynamodb", "eu-west-1").create_table(
        TableName="orders-restore", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
    pipeline_id, name, region = drill.one(env, "orders", "restore", "ddb-dev-orders-restore-")
    restored = drill.run(name, pipeline_id, region, {"myInputS3Loc": export.exports[0]})
    assert restored.items == 60 - 1  # a line fewer in one of the files
    source = drill.items_of("orders", "eu-west-1")
    from ddb_datapipeline.acceptance.items import table_checksum

    assert drill.same("orders-restore", "eu-west-1", table_checksum(source), len(source)) == "MISMATCH: orders-restore holds 59 items, expected 60"


# ---------------------------------------------------------------- the acceptance run (ddb_datapipeline.acceptance) on the drill's deploy
@pytest.fixture(scope="module")
def model_index(drilled) -> Any:
    """The permission model's rows of the deployed assembly, built once (it decides every expected call)."""
    from ddb_datapipeline.acceptance.trail import ModelIndex

    return ModelIndex.of(drilled[0].access.world)


def _acceptance(flow: Flow, drill: Any, tmp: Path, *, model: Any = None, access: Any = None, before_run: Any = None,
                trail: bool = True, env: str = "dev", machines: Any = None) -> tuple[int, dict[str, Any], list[str], str]:
    """One ``python -m ddb_datapipeline acceptance --env dev`` on the emulator: the local runner in place of Data Pipeline
    (deciding each call by ``access``, default the deployed policies), a CloudTrail stand-in answering with the calls it
    refused, the permission model of the deployed assembly. (exit code, the JSON report, the output lines, run id)."""
    from ddb_datapipeline.__main__ import parser
    from ddb_datapipeline.acceptance.cli import run_acceptance
    from local_deploy.acceptance_local import LocalRunner, RecordedTrail

    cdk_json = tmp / "cdk.json"
    cdk_json.write_text(json.dumps({"context": flow_context()}))
    run_id = f"t{len(list(tmp.glob('*')))}{abs(hash(str(tmp))) % 10**6:06d}"
    args = parser().parse_args(["acceptance", "--env", env, "--cdk-json", str(cdk_json), "--yes", "--items", "20",
                                "--trail-wait-seconds", "0", "--report-dir", str(tmp / "reports"), "--run-id", run_id,
                                *([] if trail else ["--no-trail"])])
    trail = RecordedTrail()
    runner = LocalRunner(drill.clients, access or drill.access, trail, before_run)
    lines: list[str] = []
    code = run_acceptance(args, clients=drill.clients, runner=runner, model=model, machines=machines,
                          trail_clients=lambda service, region: trail.client(region), out=lines.append, err=lines.append)
    report = tmp / "reports" / f"acceptance-{run_id}.json"
    return code, json.loads(report.read_text()) if report.exists() else {}, lines, run_id


def _left_behind(flow: Flow, run_id: str) -> list[str]:
    """Tables, pipelines and objects of the run still on the emulator."""
    found = [t for t in flow.client("dynamodb", "eu-west-1").list_tables()["TableNames"] if t.endswith(f"-acceptance-{run_id}")]
    found += [p["name"] for p in flow.client("datapipeline", "eu-west-1").list_pipelines()["pipelineIdList"]
              if p["name"].startswith(f"acceptance-{run_id}-")]
    s3 = flow.client("s3", "eu-west-1")
    for bucket in s3.list_buckets()["Buckets"]:
        found += [o["Key"] for o in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []) if f"/acceptance-{run_id}" in o["Key"]]
    return found


@pytest.fixture(scope="module")
def accepted(flow: Flow, drilled, model_index, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from ddb_datapipeline.acceptance.items import table_checksum

    drill, _ = drilled
    before = {name: table_checksum(drill.items_of(name, "eu-west-1")) for name in ("orders", "orders-staging", "orders-restore")}
    code, report, lines, run_id = _acceptance(flow, drill, tmp_path_factory.mktemp("acceptance"), model=model_index)
    after = {name: table_checksum(drill.items_of(name, "eu-west-1")) for name in before}
    return code, report, lines, run_id, before, after


def test_acceptance_runs_every_pipeline_of_dev_on_scratch_tables_verifies_and_deletes_what_it_made(flow: Flow, accepted):
    code, report, lines, run_id, before, after = accepted
    assert code == 0, lines[-3:]
    verdicts = {run["label"]: run["verdict"] for run in report["runs"]}
    assert sorted(verdicts) == sorted(["orders export", "orders restore", "orders copy orders-staging-eu-west-1",
                                       "orders copy orders-recent-eu-west-1", "orders copy orders-open-eu-west-1",
                                       "customers export", "customers restore"])
    for label in ("orders export", "orders restore", "orders copy orders-staging-eu-west-1", "customers export", "customers restore"):
        assert verdicts[label] == "verified: 20 items, checksums equal", label
    for label in ("orders copy orders-recent-eu-west-1", "orders copy orders-open-eu-west-1"):
        assert verdicts[label].startswith("verified: ") and " of 20 items taken" in verdicts[label], label
    assert report["denied_calls"] == [] and report["trail_checked"] and report["left"] == []
    assert sum(item.startswith("table ") for item in report["deleted"]) == 7  # orders, customers and five targets
    assert sum(item.startswith("pipeline ") for item in report["deleted"]) == 7
    assert _left_behind(flow, run_id) == []
    assert before == after  # the configured tables were neither read into nor written


def test_acceptance_prints_the_plan_and_a_progress_line_per_run(accepted):
    _, _, lines, run_id, _, _ = accepted
    assert lines[0] == f"acceptance run {run_id} of dev (eu-west-1):"
    assert any(line.startswith("  estimated cost: about ") for line in lines)
    assert sum(re.match(r"acceptance: \[\d/7\] .*: running acceptance-", line) is not None for line in lines) == 7


def test_a_removed_grant_shows_as_a_denied_call_the_model_called_allowed(flow: Flow, drilled, model_index, tmp_path: Path):
    """AWS (here the local runner's access) lacks the node roles' DynamoDB grants the synthesized model has: every run
    fails, each first refused call is in the report with its role and scratch table, and marked a model error."""
    from tests.conftest import statement_actions, world_without

    drill, _ = drilled
    world = world_without(drill.access.world, "", lambda st: "dynamodb:Scan" in statement_actions(st))
    code, report, _, run_id = _acceptance(flow, drill, tmp_path, model=model_index, access=type(drill.access)(world, drill.access.names))
    assert code == 1
    export = next(d for d in report["denied_calls"] if d["resource"].endswith(f":table/orders-acceptance-{run_id}")
                  and d["role"] == "ddb-dev-eu-west-1-nodes-orders-export")
    assert export["call"] == "dynamodb:DescribeTable" and export["error"].startswith("AccessDenied: no identity policy allows it")
    assert export["verdict"] == "MODEL ERROR: the model called it allowed"
    assert any(row["trigger"] == "reads DynamoDBDataNode" and row["allowed"] for row in export["rows"])
    restore = next(run for run in report["runs"] if run["label"] == "orders restore")
    assert restore["outcome"] == "not run: orders export did not leave an export"
    assert _left_behind(flow, run_id) == []


def test_an_interrupted_run_deletes_what_it_made_and_exits_130(flow: Flow, drilled, tmp_path: Path):
    drill, _ = drilled
    started: list[str] = []

    def interrupt(job: Any) -> None:
        started.append(job.name)
        if len(started) == 2:  # Ctrl-C while the second pipeline runs (the first finished)
            raise KeyboardInterrupt

    code, report, lines, run_id = _acceptance(flow, drill, tmp_path, before_run=interrupt)
    assert code == 130 and report["interrupted"] and not report["trail_checked"]
    assert f"acceptance: interrupted; deleting what run {run_id} created" in lines
    assert sum(item.startswith("pipeline ") for item in report["deleted"]) == 2
    assert sum(item.startswith("table ") for item in report["deleted"]) == 7
    assert any(item.startswith("s3://") and f"/exports/orders/acceptance-{run_id}/" in item for item in report["deleted"])
    assert _left_behind(flow, run_id) == []


def test_cleanup_deletes_a_killed_runs_tables_pipelines_and_folders_and_nothing_else(flow: Flow, drilled, tmp_path: Path):
    drill, _ = drilled
    ddb, dp, s3 = (flow.client(s, "eu-west-1") for s in ("dynamodb", "datapipeline", "s3"))
    keyed = {"BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
             "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}
    for name in ("orders-acceptance-killed01", "orders-acceptance-other001"):
        ddb.create_table(TableName=name, **keyed)
    dp.create_pipeline(name="acceptance-killed01-ddb-dev-orders-export", uniqueId="killed01")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"]
                  if s3.list_objects_v2(Bucket=b["Name"], Prefix="exports/orders/").get("KeyCount"))
    s3.put_object(Bucket=bucket, Key="exports/orders/acceptance-killed01/2026-01-01-00-00-00/manifest", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="exports/orders/acceptance-killed01_$folder$", Body=b"")
    from ddb_datapipeline.__main__ import parser
    from ddb_datapipeline.acceptance.cli import run_acceptance
    from local_deploy.acceptance_local import LocalRunner, RecordedTrail

    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": flow_context()}))
    out: list[str] = []
    args = parser().parse_args(["acceptance", "cleanup", "--env", "dev", "--cdk-json", str(cdk_json), "--run-id", "killed01"])
    code = run_acceptance(args, clients=drill.clients, runner=LocalRunner(drill.clients, drill.access, RecordedTrail()), out=out.append)
    assert code == 0, out
    assert out[-1] == "acceptance cleanup killed01: 3 deleted, 0 left"
    assert sorted(out[:-1]) == ["acceptance: deleted pipeline acceptance-killed01-ddb-dev-orders-export",
                                f"acceptance: deleted s3://{bucket}/exports/orders/acceptance-killed01/ (2 objects)",
                                "acceptance: deleted table orders-acceptance-killed01 (eu-west-1)"]
    assert _left_behind(flow, "killed01") == []
    assert "orders-acceptance-other001" in ddb.list_tables()["TableNames"]  # another run's table stays
    ddb.delete_table(TableName="orders-acceptance-other001")


def _account(flow: Flow) -> tuple[set[str], set[str]]:
    """Every table of eu-west-1 and every object under a bucket's exports/events/ (all the native runs may touch: the
    copies into another region or account are not run)."""
    tables = set(flow.client("dynamodb", "eu-west-1").list_tables()["TableNames"])
    s3 = flow.client("s3", "eu-west-1")
    keys = set()
    for bucket in s3.list_buckets()["Buckets"]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"], Prefix="exports/events/")
        keys |= {f"{bucket['Name']}/{o['Key']}" for page in pages for o in page.get("Contents", [])}
    return tables, keys


@pytest.fixture(scope="module")
def accepted_native(flow: Flow, drilled, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``acceptance --env analytics`` with its machines on moto's interpreter, then ``acceptance cleanup`` of a run
    killed after its export started; moto's execution is on only inside this fixture (the smoke checks after it list
    the machines CloudFormation stored)."""
    from ddb_datapipeline.__main__ import parser
    from ddb_datapipeline.acceptance.cli import run_acceptance
    from ddb_datapipeline.acceptance.items import table_checksum
    from local_deploy.acceptance_local import LocalRunner, RecordedTrail, native_machines

    drill, _ = drilled
    native = native_machines(drill, next(env for env in drill.environments if env.name == "analytics"))
    assert native is not None
    try:
        source = table_checksum(drill.items_of("events", "eu-west-1"))
        before = _account(flow)
        code, report, lines, run_id = _acceptance(flow, drill, tmp_path_factory.mktemp("native"), env="analytics", machines=native.machines)
        after = _account(flow), table_checksum(drill.items_of("events", "eu-west-1"))
        # a run killed after it started its export: the execution finished, nothing deleted what it made
        outcome = native.machines.run(region="eu-west-1", machine="ddb-analytics-events-native-export", execution="acceptance-killed02-export",
                                      payload={}, timeout_seconds=60, progress=lambda line: None)
        assert outcome.ok, outcome
        killed = _account(flow)
        cdk_json = tmp_path_factory.mktemp("native-cleanup") / "cdk.json"
        cdk_json.write_text(json.dumps({"context": flow_context()}))
        out: list[str] = []
        args = parser().parse_args(["acceptance", "cleanup", "--env", "analytics", "--cdk-json", str(cdk_json), "--run-id", "killed02"])
        cleanup = run_acceptance(args, clients=drill.clients, runner=LocalRunner(drill.clients, drill.access, RecordedTrail()),
                                 machines=native.machines, out=out.append)
        cleaned = _account(flow)
    finally:
        native.close()
    return code, report, lines, run_id, (before, source), after, (killed, cleanup, out, cleaned)


def test_acceptance_runs_every_native_machine_of_analytics_verifies_it_and_leaves_the_account_as_it_was(accepted_native):
    code, report, lines, run_id, (before, source), (after, source_after), _ = accepted_native
    assert code == 0, lines[-3:]
    runs = {run["label"]: run for run in report["runs"]}
    assert runs["events native export"]["verdict"] == ("verified: 60 items in the files, as DescribeExport counts "
                                                       "(the configured table is not scanned)")
    for label in ("events native restore", "events native copy-events-staging"):
        assert re.fullmatch(r"verified: 60 items, checksums equal to export \d{14}-[0-9a-f]{8}'s", runs[label]["verdict"]), runs[label]
        assert runs[label]["items_compared"] == 60
    assert runs["events native drill"]["verdict"].startswith("verified: the drill's own count check passed")
    assert runs["events native incremental"]["outcome"].startswith("skipped: an incremental export moves the watermark")
    for label in ("events native copy-events-analytics", "events native copy-events-dr"):
        assert runs[label]["outcome"].startswith("skipped: a copy into another account or region"), label
    created = report["created"]
    assert f"table events-restore-acceptance-{run_id} (eu-west-1)" in created
    assert sum(item.startswith("export ") for item in created) == 2 and sum(item.startswith("table events-staging-") for item in created) == 1
    exports = {item.split(": ", 1)[1] for item in created if item.startswith("export ")}
    assert {item.rsplit(" (", 1)[0] for item in report["deleted"] if item.startswith("s3://")} == exports
    assert all("/exports/events/AWSDynamoDB/" in folder for folder in exports)
    assert sum(item.startswith("table ") for item in report["deleted"]) == 2
    assert after == before  # every table and object the run made is gone, and nothing else went
    assert source_after == source  # the configured table was not written


def test_acceptance_cleanup_finds_a_killed_native_runs_export_by_its_execution_and_deletes_it(accepted_native):
    *_, (before, _), _, (killed, code, out, cleaned) = accepted_native
    made = sorted(killed[1] - before[1])
    assert made and all("/exports/events/AWSDynamoDB/" in key for key in made)
    assert code == 0, out
    folder = made[0].split("/", 1)[1].rsplit("/AWSDynamoDB/", 1)[0] + "/AWSDynamoDB/" + made[0].split("/AWSDynamoDB/", 1)[1].split("/", 1)[0]
    assert f"acceptance: deleted s3://{made[0].split('/', 1)[0]}/{folder}/ ({len(made)} objects)" in out
    assert out[-1] == f"acceptance cleanup killed02: {len(out) - 1} deleted, 0 left"
    assert cleaned == before


def test_the_smoke_check_names_each_native_machine_that_differs_from_the_configuration(flow: Flow):
    """One smoke check of a configuration changed four ways: a copy's prefix, a copy's target region (its
    import machine is looked for there), the incremental period and the restore prefix."""
    context = flow_context()
    table = context["environments"]["analytics"]["tables"][0]
    table["copies"][0]["target_prefix"] = "events-preview"
    table["copies"][2]["region"] = "us-east-1"
    table["export"]["incremental"] = "2 hours"
    table["restore"] = {"target_prefix": "events-recovered-", "drill": "7 days"}
    found = [str(d) for d in smoke_check(flow.endpoint, flow.assembly, environments(flow.options(context=context, env="analytics"))).differences]
    for expected in ("expected one state machine named ddb-analytics-events-native-copy-events-preview in eu-west-1, found 0",
                     "expected one state machine named ddb-analytics-events-native-copy-events-dr-import in us-east-1, found 0",
                     "otherwise than for a period of 2 hours",
                     "creates tables events-restore*, configuration says events-recovered-*"):
        assert sum(expected in d for d in found) == 1, (expected, found)
    assert len(found) == 4, found


def test_the_smoke_check_names_a_state_machine_for_another_table(flow: Flow):
    context = flow_context()
    context["environments"]["analytics"]["tables"][0]["name"] = "invoices"
    report = smoke_check(flow.endpoint, flow.assembly, environments(flow.options(context=context, env="analytics")))
    for kind in ("export", "drill"):
        assert any(f"expected one state machine named ddb-analytics-invoices-native-{kind} in eu-west-1, found 0" in str(d) for d in report.differences)


def test_the_smoke_check_names_what_differs_from_a_modified_configuration(flow: Flow):
    modified = changed_context()
    prod_orders = next(t for t in modified["environments"]["prod"]["tables"] if t["name"] == "orders")
    prod_orders["owned"]["billing_mode"] = "PAY_PER_REQUEST"
    prod_orders["owned"].pop("read_capacity")
    prod_orders["owned"].pop("write_capacity")
    copies = prod_orders.get("copies", [])
    if copies:
        copies[0]["write_ratio"] = 0.9
    open_orders = next(c for c in modified["environments"]["dev"]["tables"][0]["copies"] if c.get("filter"))
    open_orders["filter"] = "status = 'OPEN'"
    open_orders["attributes"] = ["status"]
    recent_orders = next(c for c in modified["environments"]["dev"]["tables"][0]["copies"] if c.get("incremental"))
    recent_orders["verify"] = False  # deployed with the count (on by default for an incremental copy)
    report = smoke_check(flow.endpoint, flow.assembly, environments(flow.options(context=modified)))
    found = [str(d) for d in report.differences]
    deployed = "(\"`status` IN ('OPEN', 'PENDING') AND `total` >= 100\", ('pk', 'sk', 'status', 'total', 'updated_at'))"
    assert sum(f"copies [{deployed}] (WHERE, attributes), configuration says (\"`status` = 'OPEN'\", ('pk', 'sk', 'status'))" in d
               for d in found) == 1, found
    assert sum("orders-recent" in d and "counts after each run [(\"`updated_at` >= unix_timestamp(" in d and
               "('pk', 'sk'))] (WHERE, keys), configuration says no count" in d for d in found) == 1, found
    if copies:
        assert any("prod/orders copy pipeline" in d and "TargetTable.writeThroughputPercent is '0.5', configuration says '0.9'" in d for d in found), found
    assert any("dev/orders export pipeline" in d and "DDBSourceTable.readThroughputPercent is '0.25', configuration says '0.4'" in d for d in found), found
    assert any("EmrCluster coreInstanceCount is '1', configuration says '3'" in d for d in found), found
    assert any("prod/table orders" in d and "billing mode is PROVISIONED, configuration says PAY_PER_REQUEST" in d for d in found), found
    with pytest.raises(SmokeCheckFailed, match=r"^smoke check: config "):
        report.raise_for_differences()


def test_the_smoke_check_names_a_changed_pipeline_field_and_a_missing_bucket_policy(flow: Flow):
    row = next(r for r in flow.first.report.pipelines if r.name.startswith("ddb-dev-customers-export-"))
    bucket = next(b for b in flow.first.report.buckets if b.stack == "DdbDataPipeline-dev" and b.encryption == "aws:kms")
    region = next(s.region for s in flow.first.report.stacks if s.name == "DdbDataPipeline-dev")
    pipelines, s3 = flow.client("datapipeline", region), flow.client("s3", region)
    original = pipelines.get_pipeline_definition(pipelineId=row.pipeline_id)
    policy = s3.get_bucket_policy(Bucket=bucket.name)["Policy"]
    tampered = copy.deepcopy(original["pipelineObjects"])
    for obj in tampered:
        for field in obj["fields"]:
            if obj["id"] == "Default" and field["key"] == "failureAndRerunMode":
                field["stringValue"] = "none"
    try:
        pipelines.put_pipeline_definition(
            pipelineId=row.pipeline_id,
            pipelineObjects=tampered,
            parameterObjects=original["parameterObjects"],
            parameterValues=original["parameterValues"],
        )
        s3.delete_bucket_policy(Bucket=bucket.name)
        report = smoke_check(flow.endpoint, flow.assembly, environments(flow.options()))
        found = [str(d) for d in report.differences]
        assert any(
            row.pipeline_id in d and "object Default field failureAndRerunMode is 'none', expected 'CASCADE'" in d for d in found
        ), found
        assert any(bucket.name in d and "has no bucket policy" in d for d in found), found
    finally:
        pipelines.put_pipeline_definition(
            pipelineId=row.pipeline_id,
            pipelineObjects=original["pipelineObjects"],
            parameterObjects=original["parameterObjects"],
            parameterValues=original["parameterValues"],
        )
        s3.put_bucket_policy(Bucket=bucket.name, Policy=policy)
    assert smoke_check(flow.endpoint, flow.assembly, environments(flow.options())).ok


def test_a_second_deploy_with_a_changed_configuration_updates_in_place(flow: Flow):
    """Only dev changes, so only dev is deployed again (ENV=dev), as a team would."""
    before = {name: pid for name, pid in flow.pipeline_ids().items() if name.startswith("ddb-dev-")}
    printed = len(flow.output)
    result = deploy(flow.options(context=changed_context(), env="dev"))
    assert result.report.ok, result.report.differences
    assert "  bootstrap: already done on this emulator" in flow.output[printed:]
    assert flow.stack_status("DdbDataPipeline-dev", "eu-west-1") == "UPDATE_COMPLETE"
    after = {row.name: row.pipeline_id for row in result.report.pipelines}
    assert before and after == before, "a ratio or a core count is an in-place update, never a replacement"
    region_client = flow.client("datapipeline", "eu-west-1")
    export = next(pid for name, pid in after.items() if name.startswith("ddb-dev-orders-export-"))
    definition = region_client.get_pipeline_definition(pipelineId=export)
    source = next(o for o in definition["pipelineObjects"] if o["id"] == "DDBSourceTable")
    assert {"key": "readThroughputPercent", "stringValue": "0.4"} in source["fields"]
    cluster = next(o for o in definition["pipelineObjects"] if o["id"] == "EmrClusterForBackup")
    assert {"key": "coreInstanceCount", "stringValue": "3"} in cluster["fields"]


def test_destroy_removes_every_stack_and_pipeline_and_lists_what_is_retained(flow: Flow):
    stacks = read_assembly(flow.assembly)
    destroyed = destroy(flow.options(context=changed_context()))
    assert sorted(destroyed) == sorted(stack.name for stack in stacks)
    for stack in stacks:
        with pytest.raises(Exception, match="does not exist"):
            flow.stack_status(stack.name, stack.region)
        assert flow.client("datapipeline", stack.region).list_pipelines()["pipelineIdList"] == []
    text = "\n".join(flow.output)
    assert "Kept by DeletionPolicy Retain" in text
    # prod keeps its data (retain_data: true): its table outlives the stack, as in AWS.
    assert flow.client("dynamodb", "us-east-1").describe_table(TableName="orders")["Table"]["TableName"] == "orders"


def test_a_failed_deploy_names_the_stack_and_the_resource(flow: Flow):
    """Two environments that both own a table of the same name, in two accounts (valid configuration)
    that the local deploy puts into moto's one account: the second stack cannot create it. On the session's
    server (bootstrapped by the first deploy, its stacks destroyed by now), which the deploy did not start and
    leaves running; test_local_faults checks that a deploy stops a server it started when a step fails."""
    context = copy.deepcopy(project_context())
    base = {key: value for key, value in context.items() if key not in ("environments", "delivery")}
    table = {"name": "clash", "owned": {"partition_key": {"name": "pk", "type": "S"}}, "export": {"schedule": "ondemand"}}
    env = {"region": "eu-west-1", "retain_data": False, "tables": [table]}
    clashing = {**base, "environments": {"alpha": {**env, "account": "111111111111"}, "beta": {**env, "account": "222222222222"}}}
    printed = len(flow.output)
    options = Options(context=clashing, endpoint=flow.endpoint, assembly_dir=flow.workdir / "clash", state_dir=flow.workdir / "clash-state",
                      out=flow.output.append)
    with pytest.raises(LocalDeployError) as failure:
        deploy(options)
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith("deploy failed: stack DdbDataPipeline-"), message
    assert re.search(r"resource (Table|RestoreTarget)-clash/Table \(\w+, AWS::DynamoDB::Table\) CREATE_FAILED", message), message
    assert "already exists" in message, message
    assert "  bootstrap: already done on this emulator" in flow.output[printed:]
    assert emulator.answers(flow.endpoint)
