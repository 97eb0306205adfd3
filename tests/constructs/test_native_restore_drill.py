"""NativeRestoreDrill on a bare Stack (the session's native_machines, tests/conftest.py): its alarms and metrics,
the stack's shared topic, and its props' errors (raised by the constructor, no synth)."""
from __future__ import annotations

import pytest

from ddb_datapipeline import NativeRestoreDrill, PipelineConfigurationError, ScheduleSpec
from tests.constructs.machines import check_machine_alarms_and_metrics, find
from tests.constructs.test_props import PK, _stack


def test_alarms_watch_what_the_metric_methods_return(native_machines):
    check_machine_alarms_and_metrics(native_machines, "Drill")


def test_alerts_through_the_stacks_shared_topic(native_machines):
    assert find(native_machines, "Drill").alert_topic is find(native_machines, "Alerts").topic


@pytest.mark.parametrize(("props", "message"), [
    ({"schedule": ScheduleSpec("30 minutes")}, "schedule.period: '30 minutes' is not allowed; expected a period of at least 1 hour"),
    ({"schedule": None}, "schedule: None is not allowed; expected a ScheduleSpec"),
    ({"environment": "-x"}, "environment: '-x' is not allowed"),
    ({"alarm_emails": [42]}, "alarm_emails[0]: 42 is not allowed; expected an email address"),
])
def test_a_wrong_prop_is_refused_in_one_line_naming_it(props, message):
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError) as caught:
        NativeRestoreDrill(stack, "Drill", source=table, bucket=bucket, partition_key=PK, **{"schedule": ScheduleSpec("7 days"), **props})
    assert str(caught.value).startswith(f"Team/Drill: {message}") and "\n" not in str(caught.value)
