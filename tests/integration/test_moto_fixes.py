"""The emulator's fix 6 (local_deploy/moto_fixes.py): Fn::GetStackOutput reads another stack's output,
as CloudFormation does, and a missing output fails the stack instead of passing the object through."""
from __future__ import annotations

import json

import boto3
import pytest

from local_deploy import emulator


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
