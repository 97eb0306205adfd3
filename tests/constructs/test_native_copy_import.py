"""NativeCopyImport on a bare Stack of another region (TeamAway of the session's native_machines, tests/conftest.py),
given a topic of its own: its alarms and metrics, its delivery alarm, and its props' errors (raised by the
constructor, no synth)."""
from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3

from ddb_datapipeline import NativeCopyImport, PipelineConfigurationError
from tests.constructs.machines import check_machine_alarms_and_metrics, find
from tests.constructs.test_props import ENV, PK


def test_alarms_watch_what_the_metric_methods_return(native_machines):
    check_machine_alarms_and_metrics(native_machines, "TeamAway/AwayImport")


def test_a_given_topic_is_used_and_its_start_rule_alarms_there(native_machines):
    made, given = find(native_machines, "TeamAway/AwayImport"), find(native_machines, "TeamAway/AwayAlerts")
    assert made.alert_topic is given.topic
    template = json.loads((native_machines.outdir / "TeamAway.template.json").read_text())
    (alarm,) = [r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"]["MetricName"] == "FailedInvocations"]
    assert alarm["AlarmActions"] == [cdk.Stack.of(made).resolve(given.topic.topic_arn)]
    assert not any(r["Type"] == "AWS::SNS::Topic" and k.startswith("AlertsTopic") for k, r in template["Resources"].items())


@pytest.mark.parametrize(("props", "message"), [
    ({"target_prefix": "orders"}, "target_prefix: 'orders' is not allowed"),
    ({"environment": "Dev"}, "environment: 'Dev' is not allowed"),
    ({"alarm_emails": ["x@"]}, "alarm_emails[0]: 'x@' is not allowed; expected an email address"),
    # a token (another stack's table.table_name) cannot name the machine and its rule
    ({"source_table": "${Token[TOKEN.21]}"}, "source_table: '${Token[TOKEN.21]}' is not allowed; expected the table's name written out"),
    ({"source_table": None}, "source_table: None is not allowed; expected the table's name written out"),
])
def test_a_wrong_prop_is_refused_in_one_line_naming_it(props, message):
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    bus = events.EventBus.from_event_bus_arn(stack, "Copies", "arn:aws:events:eu-west-1:111111111111:event-bus/copies")
    with pytest.raises(PipelineConfigurationError) as caught:
        NativeCopyImport(stack, "Import", bus=bus, copy="orders/copy", bucket=s3.Bucket.from_bucket_name(stack, "Staging", "staging"),
                         prefix="copies/orders", partition_key=PK, sort_key=None,
                         **{"source_table": "orders", "target_prefix": "orders-copy", "environment": "dev", **props})
    assert str(caught.value).startswith(f"Team/Import: {message}") and "\n" not in str(caught.value)
    assert stack.node.try_find_child("Import") is None  # refused before joining the tree
