"""CopyPipeline on a bare Stack (the session's declared_pipelines, tests/constructs/conftest.py): two copies in two
parents, their defaults, the resources they expose (one shared role construct, a node role each), their failure
alarms on the stack's shared topic, and their props' errors (more in tests/constructs/test_props.py)."""
from __future__ import annotations

import pytest

from ddb_datapipeline import CopyDestination, CopyPipeline, PipelineConfigurationError
from tests.constructs.pipelines import check_exposed_and_alarm, pipeline_of
from tests.constructs.test_props import _stack


def copies(built):
    return [built.stack.node.find_child(parent).node.find_child("Copy") for parent in ("TeamA", "TeamB")]


def test_defaults_an_on_demand_copy_activated_on_deploy(declared_pipelines):
    for made in copies(declared_pipelines):
        pipeline = pipeline_of(declared_pipelines, made)
        assert pipeline["Properties"]["Activate"] is True
        assert pipeline["Properties"]["Name"].startswith(f"ddb-default-orders-copy-copy-of-orders-{made.node.scope.node.id}-")


def test_each_exposes_what_it_made_and_alarms_on_the_shared_topic(declared_pipelines):
    first, second = copies(declared_pipelines)
    for made in (first, second):
        check_exposed_and_alarm(declared_pipelines, made)
    assert first.roles is second.roles and first.nodes is not second.nodes


@pytest.mark.parametrize(("props", "message"), [
    ({"read_ratio": 0}, "read_ratio: 0 is not allowed; expected a number from 0.1 to 1.0"),
    ({"destination": "copy"}, "destination: 'copy' is not allowed; expected a CopyDestination"),
    ({"alarm_emails": ["ops@@example.com"]}, "alarm_emails[0]: 'ops@@example.com' is not allowed; expected an email address"),
])
def test_a_wrong_prop_is_refused_in_one_line_naming_it(props, message):
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError) as caught:
        CopyPipeline(stack, "Copy", source=table, bucket=bucket, **{"destination": CopyDestination(table_name="copy"), **props})
    assert str(caught.value).startswith(f"Team/Copy: {message}") and "\n" not in str(caught.value)
