"""NativeRestore on a bare Stack (the session's native_machines, tests/conftest.py): its alarms and metrics, the
stack's shared topic, and its props' errors (raised by the constructor, no synth)."""
from __future__ import annotations

import pytest

from ddb_datapipeline import NativeRestore, PipelineConfigurationError
from tests.constructs.machines import check_machine_alarms_and_metrics, find
from tests.constructs.test_props import PK, _stack


def test_alarms_watch_what_the_metric_methods_return(native_machines):
    check_machine_alarms_and_metrics(native_machines, "Restore")


def test_alerts_through_the_stacks_shared_topic(native_machines):
    assert find(native_machines, "Restore").alert_topic is find(native_machines, "Alerts").topic


@pytest.mark.parametrize(("props", "message"), [
    ({"target_prefix": "bad name"}, "target_prefix: 'bad name' is not allowed; expected 3-255 characters"),
    ({"target_prefix": "ord"}, "target_prefix: 'ord' is not allowed; expected a prefix that the source table's name 'orders' does not start with"),
    ({"environment": "Dev"}, "environment: 'Dev' is not allowed; expected a lowercase letter"),
    ({"alarm_emails": ["nobody"]}, "alarm_emails[0]: 'nobody' is not allowed; expected an email address such as oncall@example.com"),
])
def test_a_wrong_prop_is_refused_in_one_line_naming_it(props, message):
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError) as caught:
        NativeRestore(stack, "Restore", source=table, bucket=bucket, partition_key=PK, **props)
    assert str(caught.value).startswith(f"Team/Restore: {message}") and "\n" not in str(caught.value)
