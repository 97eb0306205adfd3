"""The post-deploy check's verdict on a pipeline's state (the integration test runs it on a deploy)."""
from __future__ import annotations

from typing import Any

import pytest

from ddb_datapipeline.deployed_check import check_pipeline


class DataPipelineAnswering:
    """Answers describe_pipelines with one description, as the service shapes it."""

    def __init__(self, kind: str | None, state: str) -> None:
        tags = [{"key": "ddb-datapipeline:kind", "value": kind}] if kind else []
        self.description = {"name": "ddb-prod-orders-x", "fields": [{"key": "@pipelineState", "stringValue": state}], "tags": tags}

    def describe_pipelines(self, pipelineIds: list[str]) -> dict[str, Any]:
        return {"pipelineDescriptionList": [self.description]}


@pytest.mark.parametrize(
    "kind, state",
    [("export", "SCHEDULED"), ("copy", "SCHEDULED"), ("export", "FINISHED"), ("restore", "PENDING")],
)
def test_expected_states_pass(kind, state):
    assert check_pipeline(DataPipelineAnswering(kind, state), "df-1") == []


@pytest.mark.parametrize(
    "kind, state, expected",
    [
        ("restore", "SCHEDULED", "state is 'SCHEDULED'; expected PENDING for a restore pipeline"),
        ("export", "PENDING", "state is 'PENDING'; expected ACTIVE or FINISHED or SCHEDULED for a export pipeline"),
        (None, "SCHEDULED", "tag ddb-datapipeline:kind is ''; expected export, restore or copy"),
    ],
)
def test_unexpected_states_are_named(kind, state, expected):
    (finding,) = check_pipeline(DataPipelineAnswering(kind, state), "df-1")
    assert expected in str(finding)


class Answering:
    """A session whose stack reports the given outputs and holds no resources."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def client(self, service: str) -> Any:
        return self

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
        return {"Stacks": [{"StackStatus": "CREATE_COMPLETE", "Outputs": outputs}]}

    def get_paginator(self, name: str) -> Any:
        return self

    def paginate(self, StackName: str) -> list[dict[str, Any]]:
        return [{"StackResourceSummaries": []}]


def test_a_table_stack_needs_no_bucket_of_its_own_and_an_environment_stack_does():
    from ddb_datapipeline.deployed_check import check_stack

    assert check_stack(Answering({}), "DdbDataPipeline-big-tables-01", table_stack=True) == []
    (finding,) = check_stack(Answering({}), "DdbDataPipeline-big")
    assert str(finding) == "DdbDataPipeline-big: output ExportBucketName is missing"


def test_the_delivery_check_reads_every_table_stack_of_an_environment():
    from ddb_datapipeline.config import load_environments
    from ddb_datapipeline.stacks.delivery_stack import check_command

    owned = {"partition_key": {"name": "pk", "type": "S"}}
    tables = [{"name": f"t-{i}", "owned": owned} for i in range(6)]
    env = load_environments({"environments": {"big": {"region": "us-east-1", "table_stacks": 2, "stack_assignment": "rendezvous",
                                                         "tables": tables}}})["big"]
    command = check_command(env, "arn:aws:iam::1:role/lookup")
    assert command.endswith(
        "check-deployed --stack DdbDataPipeline-big --region us-east-1 --role-arn arn:aws:iam::1:role/lookup "
        "--table-stack DdbDataPipeline-big-tables-01 --table-stack DdbDataPipeline-big-tables-02"
    )


class Holding(Answering):
    """A stack with ``outputs`` that holds one resource of ``type_`` (its describe call answers ``answer``)."""

    def __init__(self, type_: str, physical: str, answer: dict[str, Any]) -> None:
        super().__init__({"ExportBucketName": "b"})
        self.resource = {"ResourceType": type_, "PhysicalResourceId": physical}
        self.answer = answer

    def paginate(self, StackName: str) -> list[dict[str, Any]]:
        return [{"StackResourceSummaries": [self.resource]}]

    def get_bucket_encryption(self, Bucket: str) -> dict[str, Any]:
        return {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}}

    def get_bucket_policy(self, Bucket: str) -> dict[str, Any]:
        import json

        deny = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        return {"Policy": json.dumps({"Statement": [deny]})}

    def describe_state_machine(self, stateMachineArn: str) -> dict[str, Any]:
        return self.answer

    def get_schedule(self, Name: str) -> dict[str, Any]:
        return self.answer


@pytest.mark.parametrize(
    "type_, physical, answer, expected",
    [
        ("AWS::StepFunctions::StateMachine", "arn:m", {"name": "ddb-prod-orders-native-export", "status": "ACTIVE"}, None),
        ("AWS::StepFunctions::StateMachine", "arn:m", {"name": "ddb-prod-orders-native-export", "status": "DELETING"},
         "ddb-prod-orders-native-export: status is DELETING; expected ACTIVE"),
        ("AWS::Scheduler::Schedule", "NativeExportordersSchedule", {"State": "ENABLED"}, None),
        ("AWS::Scheduler::Schedule", "NativeExportordersSchedule", {"State": "DISABLED"},
         "schedule NativeExportordersSchedule: state is DISABLED; expected ENABLED"),
    ],
)
def test_a_native_state_machine_or_schedule_that_will_not_run_is_named(type_, physical, answer, expected):
    from ddb_datapipeline.deployed_check import check_stack

    found = [str(f) for f in check_stack(Holding(type_, physical, answer), "DdbDataPipeline-prod")]
    assert found == ([expected] if expected else [])
