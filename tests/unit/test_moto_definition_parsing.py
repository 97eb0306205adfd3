"""Fix 25 of the emulator (local_deploy/moto_fixes.py): an execution builds its program from the parse tree kept for its
definition's text instead of parsing the text again; each execution still gets components of its own."""
from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_deploy import moto_fixes

# moto is imported where it is used (its Step Functions parser takes about 1.8 CPU-s to import), and moto_library runs
# this module on the one worker that imports moto (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("moto_library")

REGION, ROLE = "eu-west-1", "arn:aws:iam::123456789012:role/r"
# Two paths through one definition: a small number passes straight on, a big one goes through a task that fails and is
# caught, so executions that alternate must each follow their own input.
DEFINITION = json.dumps({"StartAt": "Count", "States": {
    "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Big?"},
    "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "Fail"}], "Default": "Done"},
    "Fail": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable", "Parameters": {"TableName": "missing"},
             "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}], "Next": "Done"},
    "Done": {"Type": "Pass", "End": True}}})
REFUSED = DEFINITION.replace('"Type": "Choice"', '"Type": "Choose"')
INPUTS = ({"n": 0}, {"n": 5}, {"n": 1}, {"n": 7})


def runs() -> list[Any]:
    """Each input's execution (status, output, error, the history's event types) on one machine, then a create of the
    refused text (its error code and message), on a fresh moto."""
    from moto import mock_aws

    from tests.integration.test_native_state_machine import join_runs

    found: list[Any] = []
    with mock_aws():
        client = boto3.client("stepfunctions", region_name=REGION)
        machine = client.create_state_machine(name="m", definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
        for index, execution_input in enumerate(INPUTS):
            arn = client.start_execution(stateMachineArn=machine, name=f"e{index}", input=json.dumps(execution_input))["executionArn"]
            join_runs()
            described = client.describe_execution(executionArn=arn)
            history = [event["type"] for event in client.get_execution_history(executionArn=arn)["events"]]
            output = re.sub(r"Request ID: \w+", "Request ID: <random>", described.get("output") or "")  # moto makes one per error
            found.append((described["status"], output, described.get("error"), history))
        try:
            client.create_state_machine(name="refused", definition=REFUSED, roleArn=ROLE)
        except ClientError as error:
            found.append((error.response["Error"]["Code"], error.response["Error"]["Message"]))
    return found


def test_the_same_executions_without_parsing_a_definition_again(parses: list[str]):
    own = runs()
    statuses = [run[0] for run in own[:len(INPUTS)]]
    assert statuses == ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED"], own
    # The big inputs went through the failing task, whose error the catch kept in the output.
    assert [run[3].count("TaskFailed") for run in own[:len(INPUTS)]] == [0, 1, 0, 1], own
    assert [("ResourceNotFoundException" in run[1]) for run in own[:len(INPUTS)]] == [False, True, False, True], own
    assert own[-1][1].startswith("ASLParserException line 1:"), own[-1]  # moto answers a refused text without a code
    assert parses.count(DEFINITION) == 1 + len(INPUTS)  # moto: once to validate the create, once per execution
    moto_fixes.fix_definition_parsing()
    parses.clear()
    assert runs() == own
    assert runs() == own  # a new moto (as each test's mock_aws) in the same process
    assert parses == [DEFINITION, REFUSED, REFUSED]
