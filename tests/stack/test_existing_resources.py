"""An environment that writes into an existing bucket and alerts through an existing topic."""
from __future__ import annotations

import json

import pytest

from ddb_datapipeline.config import ConfigError, load_environments
from tests.conftest import synthesize

BUCKET = "team-backups-eu-west-1"
BUCKET_KEY = "arn:aws:kms:eu-west-1:333333333333:key/0f0e0d0c-0b0a-0908-0706-050403020100"
TOPIC = "arn:aws:sns:eu-west-1:333333333333:data-oncall"


def context(**bucket):
    return {
        "environments": {
            "shared": {
                "account": "333333333333",
                "region": "eu-west-1",
                "alarm_topic_arn": TOPIC,
                "export_bucket": {"existing_bucket_name": BUCKET, "existing_key_arn": BUCKET_KEY, **bucket},
                "tables": [{"name": "orders"}],
            }
        }
    }


@pytest.fixture(scope="module")
def synthesis(tmp_path_factory):
    return synthesize(context(), tmp_path_factory.mktemp("existing"))


@pytest.fixture(scope="module")
def template(synthesis):
    (solutions,) = [p for p in synthesis.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert solutions["violations"] == []
    return synthesis.template("shared")


def test_parliament_accepts_every_policy_and_the_model_agrees_with_aws_service_reference(synthesis):
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from tests.oracles.iam import model_mismatches, parliament_findings

    assert parliament_findings(synthesis.outdir) == []
    assert model_mismatches(load_world(load_assembly(synthesis.outdir))) == []


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
    assert [s["Resource"] for s in publish] == [TOPIC]


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
    del env["alarm_topic_arn"]
    env["alarm_topic_key_arn"] = BUCKET_KEY
    with pytest.raises(ConfigError, match="alarm_topic_key_arn: .* expected no key without alarm_topic_arn"):
        load_environments(ctx)
