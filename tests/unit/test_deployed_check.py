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
