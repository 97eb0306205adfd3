"""The smoke check reads a pipeline list, description or definition, or a region's state machines, once per check
(``smoke_common.Check.once``): on a stand-in Data Pipeline and Step Functions client that counts what it is asked.
That the report stays the same is shown by tests/integration/test_local_deploy.py's smoke checks, which name every
difference they make."""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from local_deploy.smoke_common import (
    Check,
    buckets_listed,
    describe_table,
    iam_listed,
    pipeline_definition,
    pipeline_descriptions,
    pipelines_listed,
    state_machines_listed,
)
from local_deploy.smoke_report import SmokeReport


class CountingClient:
    """Answers as Data Pipeline and Step Functions would for ``count`` pipelines (two pages of a list) and two machines."""

    def __init__(self, count: int) -> None:
        self.ids = [f"df-{n:04d}" for n in range(count)]
        self.asked: Counter[str] = Counter()

    def list_pipelines(self, marker: str | None = None) -> dict[str, Any]:
        self.asked["list_pipelines"] += 1
        start = int(marker or 0)
        page = [{"id": pid, "name": f"name-{pid}"} for pid in self.ids[start : start + 20]]
        more = start + 20 < len(self.ids)
        return {"pipelineIdList": page, "hasMoreResults": more, **({"marker": str(start + 20)} if more else {})}

    def describe_pipelines(self, pipelineIds: list[str]) -> dict[str, Any]:  # noqa: N803 (the API's parameter name)
        self.asked["describe_pipelines"] += 1
        assert len(pipelineIds) <= 25, "the API describes at most 25 pipelines a call"
        return {"pipelineDescriptionList": [{"pipelineId": pid, "name": f"name-{pid}", "fields": []} for pid in pipelineIds
                                            if pid in self.ids]}

    def get_pipeline_definition(self, pipelineId: str) -> dict[str, Any]:  # noqa: N803
        self.asked["get_pipeline_definition"] += 1
        if pipelineId not in self.ids:
            raise LookupError(f"no pipeline {pipelineId}")
        return {"pipelineObjects": [{"id": "Default", "name": "Default", "fields": [{"key": "owner", "stringValue": pipelineId}]}]}

    def get_paginator(self, operation: str) -> Any:
        """IAM's ListRoles and ListInstanceProfiles, two pages each."""
        self.asked[operation] += 1
        member, name = {"list_roles": ("Roles", "RoleName"), "list_instance_profiles": ("InstanceProfiles", "InstanceProfileName")}[operation]
        pages = [{member: [{name: f"{member}-{n}", "Arn": f"arn-{n}"} for n in range(start, start + 2)]} for start in (0, 2)]
        return type("Paginator", (), {"paginate": lambda self: iter(pages)})()

    def list_buckets(self) -> dict[str, Any]:
        self.asked["list_buckets"] += 1
        return {"Buckets": [{"Name": "exports"}, {"Name": "logs"}]}

    def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803
        """DynamoDB's: the table "orders" exists; any other name is not found, with the error code DynamoDB gives."""
        from botocore.exceptions import ClientError

        self.asked["describe_table"] += 1
        if TableName != "orders":
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "not found"}}, "DescribeTable")
        return {"Table": {"TableName": TableName, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}

    def list_state_machines(self) -> dict[str, Any]:
        self.asked["list_state_machines"] += 1
        return {"stateMachines": [{"name": "one"}, {"name": "two"}]}


@pytest.fixture
def reads() -> tuple[Check, dict[str, CountingClient]]:
    regions = {"eu-west-1": CountingClient(30), "us-east-1": CountingClient(3)}
    return Check(lambda service, region: regions[region], SmokeReport(endpoint="stand-in")), regions  # type: ignore[arg-type]


def test_each_list_description_and_definition_is_read_once_per_check(reads):
    check, regions = reads
    for _ in range(3):
        assert [p["id"] for p in pipelines_listed(check, "eu-west-1")] == regions["eu-west-1"].ids
        descriptions = pipeline_descriptions(check, "eu-west-1")
        assert list(descriptions) == regions["eu-west-1"].ids  # by id, in the listed order
        assert pipeline_definition(check, "eu-west-1", "df-0007")["pipelineObjects"][0]["fields"][0]["stringValue"] == "df-0007"
        assert [m["name"] for m in state_machines_listed(check, "eu-west-1")] == ["one", "two"]
        assert buckets_listed(check, "eu-west-1") == {"exports", "logs"}
    # two pages listed, 30 pipelines described 25 at a time, one definition, one machine list: once each
    assert regions["eu-west-1"].asked == {"list_pipelines": 2, "describe_pipelines": 2, "get_pipeline_definition": 1,
                                          "list_state_machines": 1, "list_buckets": 1}
    # another region, another pipeline: read on their own
    assert list(pipeline_descriptions(check, "us-east-1")) == ["df-0000", "df-0001", "df-0002"]
    pipeline_definition(check, "eu-west-1", "df-0008")
    assert regions["us-east-1"].asked == {"list_pipelines": 1, "describe_pipelines": 1}
    assert regions["eu-west-1"].asked["get_pipeline_definition"] == 2


def test_a_failed_read_is_not_kept(reads):
    check, regions = reads
    for _ in range(2):
        with pytest.raises(LookupError, match="no pipeline df-9999"):
            pipeline_definition(check, "eu-west-1", "df-9999")
    assert regions["eu-west-1"].asked["get_pipeline_definition"] == 2


def test_a_new_check_reads_again(reads):
    check, regions = reads
    pipeline_descriptions(check, "us-east-1")
    again = Check(check.clients, SmokeReport(endpoint="stand-in"))
    pipeline_descriptions(again, "us-east-1")
    assert regions["us-east-1"].asked == {"list_pipelines": 2, "describe_pipelines": 2}


def test_roles_and_instance_profiles_are_listed_once_per_check_and_region(reads):
    check, regions = reads
    for _ in range(3):
        assert list(iam_listed(check, "eu-west-1", "roles")) == ["Roles-0", "Roles-1", "Roles-2", "Roles-3"]
        assert iam_listed(check, "eu-west-1", "instance profiles")["InstanceProfiles-3"]["Arn"] == "arn-3"
    iam_listed(check, "us-east-1", "roles")
    assert regions["eu-west-1"].asked == {"list_roles": 1, "list_instance_profiles": 1}
    assert regions["us-east-1"].asked == {"list_roles": 1}


def test_a_table_is_described_once_per_check_and_a_missing_one_each_time_it_is_asked(reads):
    """The stack comparison and the configuration comparison both describe each owned table (smoke_common.describe_table);
    a table that is not there is asked for again, as an error is never kept."""
    check, regions = reads
    for _ in range(3):
        assert describe_table(check, "eu-west-1", "orders")["TableName"] == "orders"
    for _ in range(2):
        assert describe_table(check, "eu-west-1", "orders-restore") is None
    assert regions["eu-west-1"].asked == {"describe_table": 1 + 2}
