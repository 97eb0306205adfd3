"""RestorePipeline on a bare Stack (the session's declared_pipelines, tests/constructs/conftest.py): its defaults
(never activated on deploy), the resources it exposes, its failure alarm on the stack's shared topic, and its props'
errors (more in tests/constructs/test_props.py)."""
from __future__ import annotations

import pytest

from ddb_datapipeline import PipelineConfigurationError, RestorePipeline
from tests.constructs.pipelines import check_exposed_and_alarm, field_values, pipeline_of
from tests.constructs.test_props import _stack


@pytest.fixture(scope="module")
def restore(declared_pipelines):
    return declared_pipelines.stack.node.find_child("Restore")


def test_defaults_an_on_demand_restore_at_half_the_write_capacity_not_activated(declared_pipelines, restore):
    pipeline = pipeline_of(declared_pipelines, restore)
    assert pipeline["Properties"]["Activate"] is False
    assert pipeline["Properties"]["Name"].startswith("ddb-default-orders-restore-")
    assert field_values(pipeline, "writeThroughputPercent") == ["0.5"]


def test_exposes_what_it_made_and_alarms_on_the_shared_topic(declared_pipelines, restore):
    check_exposed_and_alarm(declared_pipelines, restore)


@pytest.mark.parametrize(("props", "message"), [
    ({"write_ratio": 0.05}, "write_ratio: 0.05 is not allowed; expected a number from 0.1 to 1.0"),
    ({"environment": "Prod"}, "environment: 'Prod' is not allowed"),
    ({"alarm_emails": ["a@example.com", "A@EXAMPLE.COM"]}, "alarm_emails[1]: 'A@EXAMPLE.COM' is not allowed; expected each address once"),
])
def test_a_wrong_prop_is_refused_in_one_line_naming_it(props, message):
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError) as caught:
        RestorePipeline(stack, "Restore", source=table, target=table, bucket=bucket, **props)
    assert str(caught.value).startswith(f"Team/Restore: {message}") and "\n" not in str(caught.value)
