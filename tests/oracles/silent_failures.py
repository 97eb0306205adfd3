"""The check behind issue 25's "no silent failure": in a cloud assembly, every native state machine

- catches every error of every Task (a Catch of ``States.ALL``) in a handler that publishes to SNS and then
  reaches a ``Fail`` state, so the run is reported by the machine and still counts as failed; the alarm
  publications themselves are exempt (their catch would publish to the topic that just refused);
- has a CloudWatch alarm with an action on each of ``ExecutionsFailed``, ``ExecutionsTimedOut`` and
  ``ExecutionsAborted`` (namespace AWS/States, dimension StateMachineArn: Step Functions Developer Guide,
  "Monitoring Step Functions metrics using Amazon CloudWatch"), Sum >= 1 over 5 minutes, missing data not
  breaching, named ``ddb-...`` (the prefix the topics admit CloudWatch for);
- and every EventBridge Scheduler schedule is in a named group with such alarms on ``TargetErrorCount`` and
  ``InvocationDroppedCount`` (namespace AWS/Scheduler, dimension ScheduleGroup: EventBridge Scheduler User Guide,
  "Monitoring Amazon EventBridge Scheduler with Amazon CloudWatch"; the metrics exist per group only).

It reads the synthesized templates only, so a test can hand it a template with one catch or alarm removed and
see the finding. Each finding is one line naming the stack, the machine and what is missing.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

PUBLISH = ":states:::sns:publish"
EXECUTION_METRICS = ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
SCHEDULE_METRICS = ("TargetErrorCount", "InvocationDroppedCount")
EXPECTED_ALARM = {"Statistic": "Sum", "Period": 300, "Threshold": 1, "EvaluationPeriods": 1,
                  "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching"}


def _definition(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The ASL of a synthesized state machine: the DefinitionString's Fn::Join with each intrinsic as a stand-in string."""
    body = resource["Properties"]["DefinitionString"]
    if isinstance(body, str):
        return dict(json.loads(body))
    parts = body["Fn::Join"][1]
    return dict(json.loads("".join(p if isinstance(p, str) else json.dumps(json.dumps(p))[1:-1] for p in parts)))


def _is_publish(state: Mapping[str, Any]) -> bool:
    return state.get("Type") == "Task" and str(state.get("Resource", "")).endswith(PUBLISH)


def _alarms_then_fails(states: Mapping[str, Any], start: str) -> bool:
    """Whether the chain from ``start`` (Pass and Task states in turn) publishes to SNS and then fails."""
    published, name, seen = False, start, set()
    while name in states and name not in seen:
        seen.add(name)
        state = states[name]
        if state.get("Type") == "Fail":
            return published
        if state.get("Type") not in ("Pass", "Task"):
            return False
        published = published or _is_publish(state)
        name = state.get("Next", "")
    return False


def uncaught_tasks(definition: Mapping[str, Any]) -> list[str]:
    """The Tasks of ``definition`` (other than alarm publications) without a catch of every error that alarms and fails."""
    states = definition.get("States") or {}
    found = []
    for name, state in states.items():
        if state.get("Type") != "Task" or _is_publish(state):
            continue
        handlers = [c["Next"] for c in state.get("Catch", []) or [] if "States.ALL" in c.get("ErrorEquals", [])]
        if not handlers:
            found.append(f"Task {name} catches nothing of States.ALL")
        elif not any(_alarms_then_fails(states, handler) for handler in handlers):
            found.append(f"Task {name}'s catch of States.ALL ({', '.join(handlers)}) does not publish an alarm and then fail")
    return found


def _watched(resources: Mapping[str, Any], namespace: str, dimension: Mapping[str, Any]) -> set[str]:
    """The metrics of ``namespace`` with exactly ``dimension`` that an alarm of ``resources`` watches as expected."""
    watched = set()
    for resource in resources.values():
        props = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::CloudWatch::Alarm" or props.get("Dimensions") != [dimension]:
            continue
        if (props.get("Namespace") == namespace and all(props.get(k) == v for k, v in EXPECTED_ALARM.items()) and props.get("AlarmActions")
                and str(props.get("AlarmName", "")).startswith("ddb-")):
            watched.add(props.get("MetricName"))
    return watched


def missing_execution_alarms(resources: Mapping[str, Any], machine: str) -> list[str]:
    """The execution metrics of the machine of logical id ``machine`` that no alarm of ``resources`` watches as expected."""
    watched = _watched(resources, "AWS/States", {"Name": "StateMachineArn", "Value": {"Ref": machine}})
    return [f"no alarm on {metric}" for metric in EXECUTION_METRICS if metric not in watched]


def missing_schedule_alarms(resources: Mapping[str, Any], schedule: str) -> list[str]:
    """What the schedule of logical id ``schedule`` lacks: a named group, and alarms on that group's metrics."""
    group = resources[schedule]["Properties"].get("GroupName")
    if not isinstance(group, str):
        return [f"schedule in the group {group or 'default'} (expected a group of its stack, named)"]
    watched = _watched(resources, "AWS/Scheduler", {"Name": "ScheduleGroup", "Value": group})
    return [f"no alarm on {metric} of its group {group}" for metric in SCHEDULE_METRICS if metric not in watched]


def silent_failures_in(stack: str, template: Mapping[str, Any]) -> Iterator[str]:
    resources = template.get("Resources") or {}
    for logical, resource in resources.items():
        if resource.get("Type") == "AWS::StepFunctions::StateMachine":
            for finding in [*uncaught_tasks(_definition(resource)), *missing_execution_alarms(resources, logical)]:
                yield f"{stack}/{logical}: {finding}"
        if resource.get("Type") == "AWS::Scheduler::Schedule":
            for finding in missing_schedule_alarms(resources, logical):
                yield f"{stack}/{logical}: {finding}"


def silent_failures(outdir: Path) -> tuple[int, list[str]]:
    """(state machines checked, findings) over every stack of the cloud assembly in ``outdir``."""
    from ddb_datapipeline.assembly import load_assembly

    machines, findings = 0, []
    for stack in load_assembly(outdir).stacks:
        machines += len(stack.resources_of_type("AWS::StepFunctions::StateMachine"))
        findings += silent_failures_in(stack.name, stack.template)
    return machines, findings
