"""NativeCopy on a bare Stack (the session's native_machines, tests/conftest.py): a copy in its account, one into
another account and one into another region, each with its alarms, metrics and the stack's shared topic; its props'
errors (raised by the constructor, no synth)."""
from __future__ import annotations

import pytest

from ddb_datapipeline import NativeCopy, PipelineConfigurationError, ScheduleSpec
from tests.constructs.machines import check_machine_alarms_and_metrics, find
from tests.constructs.test_props import PK, _stack


@pytest.mark.parametrize("path", ["Copy", "Elsewhere", "Away"])
def test_alarms_watch_what_the_metric_methods_return(native_machines, path):
    check_machine_alarms_and_metrics(native_machines, path)


def test_a_copy_into_another_region_alarms_on_the_shared_topic_when_its_hand_over_is_not_delivered(native_machines):
    template, topic = native_machines.template.to_json(), find(native_machines, "Away").alert_topic
    (alarm,) = [r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["MetricName"] == "FailedInvocations"]
    assert alarm["AlarmName"] == "ddb-away-forward-failed-deliveries"
    assert alarm["AlarmActions"] == [native_machines.stack.resolve(topic.topic_arn)]
    assert topic is find(native_machines, "Alerts").topic


@pytest.mark.parametrize(("props", "message"), [
    ({"target_prefix": "orders"}, "target_prefix: 'orders' is not allowed; expected a prefix that the source table's name"),
    ({"schedule": ScheduleSpec("1 month")}, "schedule.period: '1 month' is not allowed; expected a period of at least 15 minutes"),
    ({"environment": "DEV"}, "environment: 'DEV' is not allowed"),
    ({"alarm_emails": "oncall@example.com"}, "alarm_emails: 'oncall@example.com' is not allowed; expected a list of email addresses"),
])
def test_a_wrong_prop_is_refused_in_one_line_naming_it(props, message):
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError) as caught:
        NativeCopy(stack, "Copy", source=table, bucket=bucket, partition_key=PK, **{"target_prefix": "orders-copy", **props})
    assert str(caught.value).startswith(f"Team/Copy: {message}") and "\n" not in str(caught.value)
