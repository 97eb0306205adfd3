"""One synthesized state machine (and the schedules that start it) -> the requests it makes at run time,
from the rows of ``native_calls.py``. Like ``expand.py`` for pipelines: a Task this model has no rows
for raises ``ModelGap`` rather than being skipped."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from .assembly_view import Rule, StateMachine, World
from .expand import Expected, ModelGap, requests_of
from .native_calls import (
    ALARM,
    CALLS,
    CREDENTIALS,
    DELETE_TABLE_TASK,
    DESCRIBE_EXPORT_TASK,
    DESCRIBE_IMPORT_TASK,
    EXPORT_TASK,
    IMPORT_TASK,
    LIST_EXPORTS_TASK,
    LOGS,
    MACHINE,
    NOT_FOUND_ERRORS,
    NOT_FOUND_WORDS,
    PUBLISH_TASK,
    PUT_EVENTS_TASK,
    ROUTE,
    RULE,
    RUNS_TASK,
    SCHEDULER,
    START,
    WATERMARK_FIND_TASK,
    WATERMARK_READ_TASK,
    WATERMARK_WRITE_TASK,
)

# The execution metrics a machine's CloudWatch alarms watch (constructs/native_steps.py EXECUTION_ALARMS).
EXECUTION_METRICS = ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
# The metrics of a schedule group whose alarms say a schedule did not start its machine (constructs/native_export.py
# SCHEDULE_ALARMS).
SCHEDULE_METRICS = ("TargetErrorCount", "InvocationDroppedCount")
SAMPLE_EXPORT = "01700000000000-a1b2c3d4"
SAMPLE_FILE = "AWSDynamoDB/01700000000000-a1b2c3d4/data/example.json.gz"


def _tasks(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for state in (definition.get("States") or {}).values():
        if state.get("Type") == "Task":
            yield state
        for branch in state.get("Branches", []) or []:
            yield from _tasks(branch)
        if "ItemProcessor" in state or "Iterator" in state:
            yield from _tasks(state.get("ItemProcessor") or state["Iterator"])


def _task_facts(world: World, machine: StateMachine, state: Mapping[str, Any], account: str) -> tuple[str, dict[str, Any]]:
    """The Task's trigger and the facts its rows need; ``account`` is where it calls (the machine's, or its
    Credentials role's)."""
    resource = str(state["Resource"])
    service = resource.split(":::", 1)[1] if ":::" in resource else ""
    parameters = state.get("Parameters") or {}
    if service == EXPORT_TASK:
        bucket, prefix = parameters["S3Bucket"], parameters.get("S3Prefix", "")
        table_arn = parameters["TableArn"]
        facts: dict[str, Any] = {"table_arn": table_arn, "table": table_arn.rsplit("/", 1)[1],
                                 "object_arn": f"arn:aws:s3:::{bucket}/{prefix}/{SAMPLE_FILE}",
                                 "account": parameters.get("S3BucketOwner") or account}  # the bucket's, for s3:ResourceAccount
        table = world.tables.get(table_arn)
        if table is None:  # only referenced: it may be encrypted with a customer managed key of its account (as expand.py)
            region, account = table_arn.split(":")[3:5]
            facts["table_key_arn"] = f"arn:aws:kms:{region}:{account}:key/referenced-{facts['table']}"
        elif table.encryption == "CUSTOMER_MANAGED" and table.key_arn:
            facts["table_key_arn"] = table.key_arn
        if parameters.get("S3SseAlgorithm") == "KMS":
            facts["key_arn"] = parameters["S3SseKmsKeyId"]
        return service, facts
    if service == DESCRIBE_EXPORT_TASK:  # the exports of the table the machine exports, or lists the exports of
        exports = [t["Parameters"]["TableArn"] for t in _tasks(machine.definition)
                   if str(t["Resource"]).endswith((EXPORT_TASK, LIST_EXPORTS_TASK))]
        if not exports:
            raise ModelGap(f"{machine.label}: DescribeExport without an export or list task: which table's exports is unknown")
        return service, {"export_arn": f"{exports[0]}/export/{SAMPLE_EXPORT}"}
    if service == LIST_EXPORTS_TASK:
        return service, {}
    if service == DELETE_TABLE_TASK:
        return service, {"import_table_arn": f"arn:aws:dynamodb:{machine.region}:{account}:table/{_sample(machine, '$.table')}"}
    if service == PUBLISH_TASK:
        topic_arn = parameters["TopicArn"]
        topic = world.topics.get(topic_arn)
        return service, {"topic_arn": topic_arn, **({"topic_key_arn": topic.key_arn} if topic and topic.key_arn else {})}
    if service == IMPORT_TASK:
        return service, _import_facts(world, machine, parameters, account)
    if service == DESCRIBE_IMPORT_TASK:
        target = _sample(machine, "$.table")
        return service, {"import_arn": f"arn:aws:dynamodb:{machine.region}:{account}:table/{target}/import/{SAMPLE_EXPORT}"}
    if service in (WATERMARK_READ_TASK, WATERMARK_WRITE_TASK, WATERMARK_FIND_TASK):
        bucket_name, key = parameters["Bucket"], parameters.get("Key") or parameters["Prefix"]
        facts = {"object_arn": f"arn:aws:s3:::{bucket_name}/{key}", "bucket_arn": f"arn:aws:s3:::{bucket_name}", "object_key": key}
        bucket = world.buckets.get(bucket_name)
        if bucket is not None and bucket.key_arn:
            facts["key_arn"] = bucket.key_arn
        return service, facts
    if service == RUNS_TASK:
        return service, {"listed_machine_arn": parameters["StateMachineArn"]}
    if service == PUT_EVENTS_TASK:
        return service, {"event_bus_arn": [_bus_arn(machine, entry) for entry in parameters.get("Entries") or []]}
    raise ModelGap(f"{machine.label}: a Task calling {resource} is not in the native runtime model")


def _caught_not_found(machine: StateMachine, state: Mapping[str, Any]) -> Iterator[str]:
    """The triggers of the rows that let the Task receive each "not found" error its Catch handles (error
    semantics: a catch that can never run is a run that fails); an error that reads as "not found" and has no
    entry in ``NOT_FOUND_ERRORS`` is a gap of the model."""
    for catch in state.get("Catch") or []:
        for error in catch.get("ErrorEquals") or []:
            if error in NOT_FOUND_ERRORS:
                trigger = NOT_FOUND_ERRORS[error]
                if trigger is not None:
                    yield trigger
            elif any(word in error for word in NOT_FOUND_WORDS):
                raise ModelGap(f"{machine.label}: a Task catches {error}; what it takes to receive that error is not in the native "
                               "runtime model")


def _sample(machine: StateMachine, variable: str) -> str:
    """A value the machine's input check accepts for ``variable`` (its StringMatches pattern, the wildcard
    filled in): a run-time name, as a restore's new table or export folder is."""
    for state in (machine.definition.get("States") or {}).values():
        for choice in state.get("Choices", []) or []:
            for condition in [choice, *(choice.get("And") or [])]:
                if condition.get("Variable") == variable and "StringMatches" in condition:
                    return str(condition["StringMatches"]).replace("*", "example")
    raise ModelGap(f"{machine.label}: {variable} is named at run time and the machine does not check it: no request can be modelled")


def _import_facts(world: World, machine: StateMachine, parameters: Mapping[str, Any], account: str) -> dict[str, Any]:
    source = parameters["S3BucketSource"]
    bucket_name = source["S3Bucket"]
    folder = _sample(machine, "$.export")
    table = _sample(machine, "$.table")
    bucket = world.buckets.get(bucket_name)
    facts: dict[str, Any] = {
        # s3:ResourceAccount of the reads: the bucket's owner where the assembly declares the bucket; a bucket it only
        # names (an existing one) is taken to be in the account that calls, as the constructs take it.
        "account": bucket.account if bucket is not None else account,
        "import_table_arn": f"arn:aws:dynamodb:{machine.region}:{account}:table/{table}",
        "object_arn": f"arn:aws:s3:::{bucket_name}/{folder.rstrip('/')}/example.json.gz",
        "bucket_arn": f"arn:aws:s3:::{bucket_name}",
        "folder": folder,
        "import_log_arn": f"arn:aws:logs:{machine.region}:{account}:log-group:/aws-dynamodb/imports:log-stream:example",
    }
    if bucket is not None and bucket.key_arn:
        facts["key_arn"] = bucket.key_arn
    sse = (parameters.get("TableCreationParameters") or {}).get("SSESpecification") or {}
    if sse.get("KMSMasterKeyId"):
        facts["table_key_arn"] = world.aliases.get(str(sse["KMSMasterKeyId"]), sse["KMSMasterKeyId"])
    return facts


def _bus_arn(machine: StateMachine, entry: Mapping[str, Any]) -> str:
    bus = str(entry.get("EventBusName") or "default")
    return bus if bus.startswith("arn:") else f"arn:aws:events:{machine.region}:{machine.account}:event-bus/{bus}"


def _event(machine: StateMachine, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of the entry known before the run: source, detail type, the detail's fixed members."""
    detail = entry.get("Detail") or {}
    if isinstance(detail, str):
        detail = json.loads(detail)
    return {"source": entry.get("Source"), "detail-type": entry.get("DetailType"), "detail": detail}


def _matches(machine: StateMachine, pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge's matching for the patterns this project writes: nested objects of lists of exact strings."""
    for key, expected in pattern.items():
        if f"{key}.$" in event:
            raise ModelGap(f"{machine.label}: a rule matches '{key}', which the event names at run time")
        value = event.get(key)
        if isinstance(expected, Mapping):
            if not isinstance(value, Mapping) or not _matches(machine, expected, value):
                return False
        elif isinstance(expected, list) and all(isinstance(v, str) for v in expected):
            if value not in expected:
                return False
        else:
            raise ModelGap(f"{machine.label}: a rule's pattern {key}: {expected!r} is not in the native runtime model")
    return True


def _alarms(world: World, machine: StateMachine, rule: Rule, facts: Mapping[str, str]) -> list[Expected]:
    """The requests of the alarms on the rule's dropped events (FailedInvocations of that rule)."""
    bus = rule.bus_arn.rsplit("/", 1)[1]
    dimensions = {"RuleName": rule.arn.rsplit("/", 1)[1], **({"EventBusName": bus} if bus != "default" else {})}
    return _published(world, machine, "AWS/Events", ("FailedInvocations",), dimensions, facts)


def execution_alarm_metrics(world: World, machine: StateMachine) -> set[str]:
    """The AWS/States execution metrics of ``machine`` (dimension StateMachineArn) that an alarm of the assembly
    watches and publishes to a topic."""
    return {alarm.metric for alarm in world.alarms
            if alarm.namespace == "AWS/States" and dict(alarm.dimensions) == {"StateMachineArn": machine.arn} and alarm.topics}


def _published(world: World, machine: StateMachine, namespace: str, metrics: tuple[str, ...], dimensions: Mapping[str, str],
               facts: Mapping[str, str]) -> list[Expected]:
    """The requests of CloudWatch publishing the alarms on ``metrics`` of ``namespace`` with exactly ``dimensions``
    to their topics (the topic's policy, and its key's when it has one)."""
    found: list[Expected] = []
    for alarm in world.alarms:
        if alarm.namespace == namespace and alarm.metric in metrics and dict(alarm.dimensions) == dict(dimensions):
            for topic_arn in alarm.topics:
                topic = world.topics.get(topic_arn)
                alarm_facts = {**facts, "alarm_arn": alarm.arn, "topic_arn": topic_arn,
                               **({"topic_key_arn": topic.key_arn} if topic and topic.key_arn else {})}
                found += _requests(machine, ALARM, alarm_facts, {})
    return found


def _route(world: World, machine: StateMachine, event: Mapping[str, Any], bus_arn: str, seen: frozenset[str]) -> tuple[list[Expected], int]:
    """The requests of the rules the event passes through from ``bus_arn``, and how many machines it starts."""
    found: list[Expected] = []
    started = 0
    for rule in world.rules:
        if rule.bus_arn != bus_arn or not _matches(machine, rule.pattern, event):
            continue
        region, account = rule.arn.split(":")[3:5]
        for target in rule.targets:
            if target.role_arn is None:
                raise ModelGap(f"{machine.label}: rule {rule.arn} sends to {target.arn} without a role")
            facts = {"account": account, "region": region, "rule_arn": rule.arn, "rule_role": target.role_arn, "rule_account": account,
                     "target_arn": target.arn}
            found += _alarms(world, machine, rule, facts)
            if ":event-bus/" in target.arn and target.arn not in seen:
                found += _requests(machine, ROUTE, facts, {RULE: target.role_arn})
                more, count = _route(world, machine, event, target.arn, seen | {target.arn})
                found += more
                started += count
            elif ":stateMachine:" in target.arn:
                found += _requests(machine, START, facts, {RULE: target.role_arn})
                started += 1
            else:
                raise ModelGap(f"{machine.label}: rule {rule.arn} sends to {target.arn}, which the native runtime model has no rows for")
    return found, started


def _event_routes(world: World, machine: StateMachine, state: Mapping[str, Any]) -> list[Expected]:
    found: list[Expected] = []
    for entry in (state.get("Parameters") or {}).get("Entries") or []:
        bus = _bus_arn(machine, entry)
        event = _event(machine, entry)
        more, started = _route(world, machine, event, bus, frozenset({bus}))
        if not started:
            raise ModelGap(f"{machine.label}: its event {event['source']}/{event['detail-type']} on {bus} starts no state machine: "
                           "no rule of the assembly carries it to one")
        found += more
    return found


# A row's ``when`` holds where the fact it needs is known: the key it names exists.
WHEN_FACT = {"export_kms": "key_arn", "topic_kms": "topic_key_arn", "table_cmk": "table_key_arn", "log_kms": "log_key_arn"}


def _requests(machine: StateMachine, trigger: str, facts: Mapping[str, Any], principals: Mapping[str, str]) -> Iterator[Expected]:
    for call in CALLS:
        if call.trigger == trigger and (call.when is None or WHEN_FACT[call.when] in facts):
            yield from requests_of(machine, call, principals.get(call.principal, call.principal), facts)


def _log_facts(world: World, machine: StateMachine) -> dict[str, str]:
    """The machine's log group as the encryption context names it (its ARN without the ``:*`` of Fn::GetAtt Arn) and
    the key it is encrypted with, when it is; nothing for a log group the assembly does not declare."""
    group = machine.log_group_arn
    key = world.log_groups.get(group) if group else None
    if group is None or key is None:
        return {}
    return {"log_group_arn": group.removesuffix(":*"), "log_key_arn": world.aliases.get(key, key)}


def native_requests(world: World, machine: StateMachine) -> list[Expected]:
    base = {"account": machine.account, "region": machine.region, "machine_arn": machine.arn, "machine_role": machine.role_arn}
    principals = {MACHINE: machine.role_arn}
    found = list(_requests(machine, "machine", base, principals))
    if machine.logging:
        found += _requests(machine, "logging", {**base, **_log_facts(world, machine)},
                           {**principals, LOGS: f"service:logs.{machine.region}.amazonaws.com"})
    if machine.tracing:
        found += _requests(machine, "tracing", base, principals)
    assumed: set[str] = set()
    for state in _tasks(machine.definition):
        role = str((state.get("Credentials") or {}).get("RoleArn") or "")
        trigger, facts = _task_facts(world, machine, state, role.split(":")[4] if role else machine.account)
        if role and role not in assumed:
            assumed.add(role)
            found += _requests(machine, CREDENTIALS, {**base, "assumed_role": role}, principals)
        found += _requests(machine, trigger, {**base, **facts}, {MACHINE: role} if role else principals)
        for caught in _caught_not_found(machine, state):
            found += _requests(machine, caught, {**base, **facts}, {MACHINE: role} if role else principals)
        if trigger == PUT_EVENTS_TASK:
            found += _event_routes(world, machine, state)
    missing = [metric for metric in EXECUTION_METRICS if metric not in execution_alarm_metrics(world, machine)]
    if missing:
        raise ModelGap(f"{machine.label}: no CloudWatch alarm with a topic on its {', '.join(missing)} (AWS/States, StateMachineArn): "
                       "a run that fails outside the machine's own alarms would tell nobody")
    found += _published(world, machine, "AWS/States", EXECUTION_METRICS, {"StateMachineArn": machine.arn}, base)
    for schedule in world.schedules:
        if schedule.target_arn == machine.arn:
            facts = {**base, "scheduler_role": schedule.role_arn, "schedule_group_arn": schedule.group_arn}
            found += _requests(machine, "schedule", facts, {SCHEDULER: schedule.role_arn})
            group = {"ScheduleGroup": schedule.group_arn.rsplit("/", 1)[1]}
            watched = {a.metric for a in world.alarms if a.namespace == "AWS/Scheduler" and dict(a.dimensions) == group and a.topics}
            if missing := [metric for metric in SCHEDULE_METRICS if metric not in watched]:
                raise ModelGap(f"{machine.label}: its schedule's group {group['ScheduleGroup']} has no CloudWatch alarm with a topic on "
                               f"{', '.join(missing)} (AWS/Scheduler): a schedule that cannot start the machine would tell nobody")
            found += _published(world, machine, "AWS/Scheduler", SCHEDULE_METRICS, group, base)
    return found
