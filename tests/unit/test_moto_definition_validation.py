"""Fix 23 of the emulator (local_deploy/moto_fixes.py): a definition moto accepted once is accepted again without
parsing it; a refused one is parsed and refused every time with moto's own error."""
from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_deploy import moto_fixes

# moto is imported where it is used: its Step Functions parser takes about 1.8 CPU-s to import, which every xdist worker
# would pay at collection, and moto_library runs this module on the one worker that imports moto (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("moto_library")

REGION = "eu-west-1"
VALID = json.dumps({"QueryLanguage": "JSONata", "StartAt": "Wait", "States": {
    "Wait": {"Type": "Wait", "Seconds": 0, "Next": "Describe"},
    "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable",
                 "Arguments": {"TableName": "{% $states.input.table %}"}, "Output": "{% $states.result.Table.TableStatus %}", "End": True}}})
REFUSED = VALID.replace('"Type": "Wait"', '"Type": "Waiting"')


def creates(definitions: list[str]) -> list[Any]:
    """What each CreateStateMachine answers (the machine's name, or the error code and message), on a fresh moto."""
    from moto import mock_aws

    answers: list[Any] = []
    with mock_aws():
        client = boto3.client("stepfunctions", region_name=REGION)
        for index, definition in enumerate(definitions):
            try:
                arn = client.create_state_machine(name=f"m{index}", definition=definition, roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
                answers.append(client.describe_state_machine(stateMachineArn=arn)["definition"])
            except ClientError as error:
                answers.append((error.response["Error"]["Code"], error.response["Error"]["Message"]))
    return answers


def test_the_same_definitions_are_accepted_and_refused_without_parsing_an_accepted_one_again(parses: list[str]):
    order = [VALID, REFUSED, VALID, REFUSED]
    own = creates(order)
    assert own[0] == own[2] == VALID and own[1] == own[3] and own[1][1].startswith("ASLParserException line 1:"), own
    assert parses == order
    moto_fixes.fix_definition_validation()
    parses.clear()
    assert creates(order) == own
    assert creates(order) == own  # a new moto (as each test's mock_aws) in the same process
    assert parses == [VALID, REFUSED, REFUSED, REFUSED, REFUSED]
