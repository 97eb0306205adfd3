"""NativeIncrementalExport on a bare Stack (the session's native_machines, tests/conftest.py): its alarms and
metrics, the stack's shared topic, and its props' errors (raised by the constructor, no synth)."""
from __future__ import annotations

import pytest

from ddb_datapipeline import NativeIncrementalExport, PipelineConfigurationError
from tests.constructs.machines import check_machine_alarms_and_metrics, find
from tests.constructs.test_props import _stack


def test_alarms_watch_what_the_metric_methods_return(native_machines):
    check_machine_alarms_and_metrics(native_machines, "Incremental")


def test_alerts_through_the_stacks_shared_topic(native_machines):
    assert find(native_machines, "Incremental").alert_topic is find(native_machines, "Alerts").topic


@pytest.mark.parametrize(("props", "message"), [
    ({"period": "10 minutes"}, "period: '10 minutes' is not allowed; expected a period from 15 minutes to 24 hours"),
    ({"period": "2 days"}, "period: '2 days' is not allowed; expected a period from 15 minutes to 24 hours"),
    ({"environment": "x y"}, "environment: 'x y' is not allowed"),
    ({"alarm_emails": ["a@example.com", "a@example.com"]}, "alarm_emails[1]: 'a@example.com' is not allowed; expected each address once"),
])
def test_a_wrong_prop_is_refused_in_one_line_naming_it(props, message):
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError) as caught:
        NativeIncrementalExport(stack, "Incremental", table=table, bucket=bucket, **{"period": "1 hour", **props})
    assert str(caught.value).startswith(f"Team/Incremental: {message}") and "\n" not in str(caught.value)
