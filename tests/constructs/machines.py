"""What every native construct's test module checks the same way, on the session's ``native_machines`` stacks
(tests/conftest.py): the three execution alarms of its machine, on the topic it exposes, watching the metrics its
``metric_*`` methods return, and the resources it exposes as properties."""
from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

OUTCOMES = (("metric_failed", "ExecutionsFailed", "failed"), ("metric_timed_out", "ExecutionsTimedOut", "timed-out"),
            ("metric_aborted", "ExecutionsAborted", "aborted"))


def find(native: Any, path: str) -> Any:
    """The construct at ``path`` (``Export``, or ``TeamAway/AwayImport`` in the other stack) of the native_machines app."""
    scope = native.stack
    if "/" in path:
        stack_id, path = path.split("/", 1)
        scope = native.stack.node.scope.node.find_child(stack_id)
    return scope.node.find_child(path)


def check_machine_alarms_and_metrics(native: Any, path: str) -> None:
    made = find(native, path)
    stack = cdk.Stack.of(made)
    template = native.template if stack is native.stack else Template.from_json(
        json.loads((native.outdir / f"{stack.stack_name}.template.json").read_text()))
    assert isinstance(made.state_machine, sfn.StateMachine) and isinstance(made.log_group, logs.LogGroup)
    machine = stack.resolve(made.state_machine.state_machine_arn)
    topic = stack.resolve(made.alert_topic.topic_arn)
    alarms = {a["Properties"]["MetricName"]: a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("Dimensions") == [{"Name": "StateMachineArn", "Value": machine}]}
    assert sorted(alarms) == sorted(name for _, name, _ in OUTCOMES)
    for method, metric_name, suffix in OUTCOMES:
        alarm = alarms[metric_name]
        assert alarm["AlarmName"].startswith("ddb-") and alarm["AlarmName"].endswith(f"-{suffix}")
        assert alarm["AlarmActions"] == [topic]
        assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["TreatMissingData"]) == (
            1, "GreaterThanOrEqualToThreshold", "notBreaching")
        metric = getattr(made, method)()
        assert (metric.namespace, metric.metric_name, stack.resolve(metric.dimensions), metric.statistic, metric.period.to_seconds()) == (
            alarm["Namespace"], alarm["MetricName"], {"StateMachineArn": machine}, alarm["Statistic"], alarm["Period"])
    time = made.metric_time()
    assert (time.namespace, time.metric_name, stack.resolve(time.dimensions), time.statistic) == (
        "AWS/States", "ExecutionTime", {"StateMachineArn": machine}, "Average")
