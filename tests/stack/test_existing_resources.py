"""An environment that writes into an existing bucket and alerts through an existing topic."""
from __future__ import annotations

import json

import pytest

from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.config import ConfigError, load_environments
from ddb_datapipeline.permissions.assembly_view import load_world
from ddb_datapipeline.permissions.audit import denied, outcomes
from tests.conftest import config_error, synthesize, world_without

BUCKET = "team-backups-eu-west-1"
BUCKET_KEY = "arn:aws:kms:eu-west-1:333333333333:key/0f0e0d0c-0b0a-0908-0706-050403020100"
TOPIC = "arn:aws:sns:eu-west-1:333333333333:data-oncall"
TOPIC_KEY = "arn:aws:kms:eu-west-1:333333333333:key/99999999-8888-7777-6666-555555555555"
# A native table copied into another region: the copy's forwarding rule alarms through CloudWatch on TOPIC.
COPIED_AWAY = {"name": "payments", "engine": "native", "owned": {"partition_key": {"name": "pk", "type": "S"}},
               "copies": [{"target_prefix": "payments-dr", "region": "eu-central-1"}]}


def context(**bucket):
    return {
        "environments": {
            "shared": {
                "account": "333333333333",
                "region": "eu-west-1",
                "alarm_topic_arn": TOPIC,
                "alarm_topic_key_arn": TOPIC_KEY,
                "alarm_topic_admits_cloudwatch": True,
                "export_bucket": {"existing_bucket_name": BUCKET, "existing_key_arn": BUCKET_KEY, **bucket},
                "tables": [{"name": "orders"}, COPIED_AWAY],
            }
        }
    }


@pytest.fixture(scope="module")
def synthesis(tmp_path_factory):
    synthesis = synthesize(context(), tmp_path_factory.mktemp("existing"))
    (solutions,) = [p for p in synthesis.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert solutions["violations"] == []
    return synthesis


@pytest.fixture(scope="module")
def template(synthesis):
    return synthesis.template("shared")


def test_parliament_accepts_every_policy_and_the_model_agrees_with_aws_service_reference(synthesis, world):
    from tests.oracles.iam import model_mismatches, parliament_findings

    assert parliament_findings(synthesis.outdir) == []
    assert model_mismatches(world) == []


@pytest.fixture(scope="module")
def world(synthesis):
    return load_world(load_assembly(synthesis.outdir))


def test_every_runtime_call_is_allowed_with_the_topic_stated_to_admit_cloudwatch(world):
    calls = [o for o in outcomes(world) if o.expected.request.principal == "service:cloudwatch.amazonaws.com"]
    # CloudWatch publishes the forwarding rule's alarm and the machine's execution alarms, and SNS encrypts them with the topic's key.
    assert {(o.expected.request.action, o.expected.request.resource) for o in calls} >= {("sns:Publish", TOPIC), ("kms:GenerateDataKey", TOPIC_KEY)}
    published = {o.expected.request.context["aws:SourceArn"].rsplit(":", 1)[1] for o in calls if o.expected.request.action == "sns:Publish"}
    # The import machine in eu-central-1 and its rule alarm on the copy-target stack's own topic there; the export's
    # schedule is in the stack's schedule group, whose two alarms say a schedule did not start its machine.
    assert published == {"ddb-DdbDataPipeline-shared-schedule-start-errors", "ddb-DdbDataPipeline-shared-schedules-dropped","ddb-shared-payments-copy-payments-dr-forward-failed-deliveries", "ddb-shared-payments-copy-payments-dr-start-failed-deliveries",
                         *(f"ddb-shared-payments-native-{kind}-{end}" for kind in ("export", "restore", "copy-payments-dr", "copy-payments-dr-import")
                           for end in ("failed", "timed-out", "aborted"))}
    assert [o.line() for o in denied(world)] == []


@pytest.mark.parametrize("kind, actions", [("topic", {"sns:Publish"}), ("key", {"kms:GenerateDataKey", "kms:Decrypt"})])
def test_without_the_stated_admission_cloudwatch_is_denied(world, kind, actions):
    changed = world_without(world, f"{kind} policy as stated by the configuration",
                            lambda s: s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"})
    lost = denied(changed)
    assert {(o.expected.request.principal, o.expected.request.action) for o in lost} == {("service:cloudwatch.amazonaws.com", a) for a in actions}


@pytest.mark.parametrize("native", [COPIED_AWAY, {"name": "ledger", "engine": "native"}], ids=["copied-elsewhere", "exported-only"])
def test_a_native_table_needs_the_topic_to_admit_cloudwatch(native):
    ctx = context()
    del ctx["environments"]["shared"]["alarm_topic_admits_cloudwatch"]
    ctx["environments"]["shared"]["tables"] = [{"name": "orders"}, native]
    message = config_error(load_environments, ctx)
    assert message.startswith(f"environments.shared.alarm_topic_arn: '{TOPIC}' is not allowed; expected a topic whose policy and key admit "
                              f"CloudWatch alarms, as tables[{native['name']}] (native engine) alarms through CloudWatch when a run of its "
                              "state machines fails, times out or is aborted")
    assert "set alarm_topic_admits_cloudwatch: true" in message
    ctx["environments"]["shared"]["tables"] = [{"name": "orders"}]  # Data Pipeline alarms by itself: nothing to state
    load_environments(ctx)


def test_a_statement_about_the_topic_needs_a_topic():
    ctx = context()
    env = ctx["environments"]["shared"]
    del env["alarm_topic_arn"], env["alarm_topic_key_arn"]
    assert config_error(load_environments, ctx) == ("environments.shared.alarm_topic_admits_cloudwatch: true is not allowed; "
                                                     "expected no statement about a topic without alarm_topic_arn")


def test_nothing_is_created_for_the_existing_bucket_and_topic(template):
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::S3::Bucket" not in types and "AWS::SNS::Topic" not in types


def test_pipelines_and_grants_use_the_existing_bucket_key_and_topic(template):
    text = json.dumps(template)
    assert f":s3:::{BUCKET}/exports/orders/*" in text
    assert BUCKET_KEY in text
    pipelines = [r for r in template["Resources"].values() if r["Type"] == "AWS::DataPipeline::Pipeline"]
    for pipeline in pipelines:
        alarm = next(o for o in pipeline["Properties"]["PipelineObjects"] if o["Id"] == "FailureAlarm")
        assert {"Key": "topicArn", "StringValue": TOPIC} in alarm["Fields"]
    publish = [
        s for p in template["Resources"].values() if p["Type"] == "AWS::IAM::Policy"
        for s in p["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "sns:Publish"
    ]
    assert {s["Resource"] for s in publish} == {TOPIC}


@pytest.mark.parametrize(
    "bucket, expected",
    [
        ({"export_retention_days": 10}, "export_bucket.export_retention_days: 10 is not allowed; expected nothing with existing_bucket_name"),
        ({"existing_key_arn": "arn:aws:kms:eu-west-1:1:key/x"}, "export_bucket.existing_key_arn: 'arn:aws:kms:eu-west-1:1:key/x' is not allowed; expected a KMS key ARN"),
    ],
)
def test_existing_bucket_mistakes(bucket, expected):
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_environments(context(**bucket))


def test_a_topic_key_needs_a_topic():
    ctx = context()
    env = ctx["environments"]["shared"]
    del env["alarm_topic_arn"], env["alarm_topic_admits_cloudwatch"]
    env["alarm_topic_key_arn"] = BUCKET_KEY
    with pytest.raises(ConfigError, match="alarm_topic_key_arn: .* expected no key without alarm_topic_arn"):
        load_environments(ctx)
