"""Fix 26 of the emulator (local_deploy/moto_fixes.py): the tasks of moto's Step Functions interpreter share one boto3
client per region, service and endpoint instead of making a new one for every task."""
from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest

from local_deploy import moto_fixes

# moto is imported where it is used, and moto_library runs this module on the one worker that imports moto (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("moto_library")

REGION, ROLE = "eu-west-1", "arn:aws:iam::123456789012:role/r"
# Two AWS SDK tasks of one service and region in every execution: the first finds the table, the second does not and
# its error is caught, so an execution's output shows both answers.
DEFINITION = json.dumps({"StartAt": "Found", "States": {
    "Found": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable", "Parameters": {"TableName": "orders"},
              "ResultSelector": {"status.$": "$.Table.TableStatus"}, "ResultPath": "$.found", "Next": "Missing"},
    "Missing": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:describeTable", "Parameters": {"TableName": "missing"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}], "Next": "Done"},
    "Done": {"Type": "Pass", "End": True}}})


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The (service, region) of every client moto's ``boto_client_for`` made during the test, with moto's Step Functions
    interpreter on; every module's ``boto_client_for`` that fix 26 replaces is put back after the test."""
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.utils import boto_client

    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    for module in moto_fixes.task_client_modules():
        monkeypatch.setattr(module, "boto_client_for", module.boto_client_for)
    clients: list[tuple[str, str]] = []
    real = boto_client.boto3

    class Counting:
        """boto3 as moto's function sees it: under any fix, so only clients really made are counted."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def client(self, *args: Any, **kwargs: Any) -> Any:
            clients.append((kwargs["service_name"], kwargs["region_name"]))
            return real.client(*args, **kwargs)

    monkeypatch.setattr(boto_client, "boto3", Counting())
    return clients


def runs() -> list[Any]:
    """Two executions of the definition (status, output, the history's event types) on a fresh moto."""
    from moto import mock_aws

    from tests.integration.test_native_state_machine import join_runs

    found: list[Any] = []
    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="orders", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        client = boto3.client("stepfunctions", region_name=REGION)
        machine = client.create_state_machine(name="m", definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
        for index in range(2):
            arn = client.start_execution(stateMachineArn=machine, name=f"e{index}", input="{}")["executionArn"]
            join_runs()
            described = client.describe_execution(executionArn=arn)
            history = [event["type"] for event in client.get_execution_history(executionArn=arn)["events"]]
            output = re.sub(r"Request ID: \w+", "Request ID: <random>", described.get("output") or "")  # moto makes one per error
            found.append((described["status"], output, history))
    return found


def test_the_tasks_share_one_client_and_get_the_same_answers(made: list[tuple[str, str]]):
    own = runs()
    assert [run[0] for run in own] == ["SUCCEEDED", "SUCCEEDED"], own
    assert all('"found": {"status": "ACTIVE"}' in run[1] and "ResourceNotFoundException" in run[1] for run in own), own
    assert made == [("dynamodb", REGION)] * 4  # moto: a client per task
    moto_fixes.fix_task_clients()
    made.clear()
    assert runs() == own
    assert runs() == own  # a new moto (as each test's mock_aws) in the same process
    assert made == [("dynamodb", REGION)]
