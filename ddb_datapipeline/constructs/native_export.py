"""A table export without Data Pipeline: DynamoDB's own export from point-in-time recovery, run by a
Step Functions state machine that EventBridge Scheduler starts. No EMR cluster, no Lambda, no read
capacity used.

The state machine calls ``ExportTableToPointInTime`` through the AWS SDK service integration, waits for
the export with ``DescribeExport`` in a bounded loop, and publishes to the alert topic when the export
fails, when it has not completed after ``late_after``, and when it gives up waiting. DynamoDB writes the
files as the caller, so the state machine's role is the one that needs the bucket (and its key).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..definition.common import ScheduleSpec
from ..definition.generated_names import machine_name, shortened
from ..definition.periods import START_AT_FIRST_ACTIVATION, period_minutes
from .alert_topic import alerts_for, check_alerts
from .delivery_alarm import ALARM_PREFIX, admit_alarms
from .export_bucket import exports_prefix
from .native_steps import ALARM_PERIOD, MachineMetrics, export_steps, grant_export, state_machine
from .props import PipelineConfigurationError, check_environment, check_schedule, construct_path
from .table_pipelines import bucket_key_of, table_ref

# What EventBridge Scheduler's rate() takes; a month has no fixed length, so a monthly period is refused.
RATE_UNITS = {"minute": "minutes", "minutes": "minutes", "hour": "hours", "hours": "hours", "day": "days", "days": "days"}


def wildcard_reason(finding: str) -> str | None:
    """Why each wildcard of a native state machine's role cannot be narrower (cdk-nag IAM5)."""
    if finding == "Resource::*":
        return ("CloudWatch Logs log delivery and X-Ray tracing of the state machine, and an import's logs:DescribeLogGroups: "
                "these actions have no resource type (Service Authorization Reference), so they are granted on '*'.")
    if finding.endswith("/export/*"):
        return "DescribeExport of this table's exports only: an export's ARN exists once the export has started."
    if "/exports/" in finding and finding.endswith("/*"):
        return "DynamoDB writes the export's files under this table's own prefix, in folders it names at run time."
    if "/copies/" in finding and finding.endswith("/*"):
        return "DynamoDB writes the export's files under the copy's own staging folder, in folders it names at run time."
    if finding.endswith(":key/*"):
        return ("The key of a table only referenced cannot be named here; the grant is limited to DynamoDB's use "
                "(kms:ViaService), and Decrypt to this one table (encryption context aws:dynamodb:tableName); DescribeKey, "
                "which reads only the key's metadata, carries no encryption context.")
    return None


def _has_pitr(table: dynamodb.Table) -> bool:
    """Whether a table this app declares (Table; a TableV2 sets it per replica and is not checked) has
    point-in-time recovery enabled."""
    resource = table.node.default_child
    spec = Stack.of(table).resolve(getattr(resource, "point_in_time_recovery_specification", None)) or {}
    return bool(spec.get("pointInTimeRecoveryEnabled"))


def schedule_expression(spec: ScheduleSpec) -> scheduler.ScheduleExpression:
    """``N minutes|hours|days|weeks`` as EventBridge Scheduler's rate(); weeks as days."""
    count, _, unit = spec.period.strip().lower().partition(" ")
    if unit in ("week", "weeks"):
        return scheduler.ScheduleExpression.rate(Duration.days(int(count) * 7))
    if unit not in RATE_UNITS or not count.isdigit():
        raise PipelineConfigurationError(f"schedule '{spec.period}': the native engine takes a period in minutes, hours, days or weeks")
    return scheduler.ScheduleExpression.rate(getattr(Duration, RATE_UNITS[unit])(int(count)))


class NativeExport(Construct, MachineMetrics):
    """Exports ``table`` into ``exports/<table>/`` of ``bucket`` on ``schedule`` (None: only when started
    by hand), encrypted with the bucket's KMS key. The table must have point-in-time recovery enabled.

    ``bucket_key``: for an imported bucket whose KMS key the bucket object does not carry.
    ``alert_topic`` defaults to the stack's shared ``AlertTopic``; ``alert_key`` is its key, if it has one;
    ``alarm_emails`` are subscribed to whichever topic it alerts."""

    # What it creates or uses, typed for the team's code (aws-cdk L2s expose theirs the same way).
    alert_topic: sns.ITopic  # the topic its alarms publish to: the given one, or the stack's shared AlertTopic's
    alert_key: kms.IKey | None  # that topic's key, when it has one
    state_machine: sfn.StateMachine  # the machine that runs it (its role: ``state_machine.role``)
    log_group: logs.LogGroup  # the machine's execution log

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.ITable,
        bucket: s3.IBucket,
        bucket_key: kms.IKey | None = None,
        schedule: ScheduleSpec | None = ScheduleSpec("1 day"),
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        alarm_emails: Sequence[str] = (),
        environment: str = "default",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        where = construct_path(scope.node.path, id)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        schedule = check_schedule(where, "schedule", schedule, native=True)
        super().__init__(scope, id)
        source = table_ref(table, scope=scope)
        key = bucket_key_of(where, bucket, bucket_key)
        alert_topic, alert_key = alerts_for(self, topic=alert_topic, key=alert_key, emails=alarm_emails)
        self.alert_topic, self.alert_key = alert_topic, alert_key
        self.prefix = exports_prefix(source.named)
        late_minutes = period_minutes(schedule.late_after) if schedule is not None and schedule.late_after else None
        name = machine_name(environment, source.named, "export")

        if isinstance(table, dynamodb.Table) and not _has_pitr(table):
            raise PipelineConfigurationError(f"{table.node.path}: a native export reads point-in-time recovery; enable it on the table")
        start = sfn.Pass(self, "Start", parameters={"table": source.table_name, "polls": {"value": 0}})
        definition = start.next(export_steps(self, source=source, bucket=bucket, key=key, prefix=self.prefix, alert_topic=alert_topic,
                                             name=name, late_minutes=late_minutes, then=sfn.Succeed(self, "Exported")))

        self.log_group, self.state_machine = state_machine(
            self, definition, name, f"Exports DynamoDB table {source.table_name} from point-in-time recovery to S3", log_retention,
            alert_topic=alert_topic, alert_key=alert_key, wildcard_reason=wildcard_reason)
        grant_export(self.state_machine, source=source, bucket=bucket, key=key, prefix=self.prefix)
        self.schedule = schedule_machine(self, self.state_machine, schedule, f"Starts the export of {source.table_name}",
                                         alert_topic=alert_topic, alert_key=alert_key)


def schedule_machine(scope: Construct, machine: sfn.StateMachine, schedule: ScheduleSpec | None, what: str, *,
                     alert_topic: sns.ITopic, alert_key: kms.IKey | None) -> scheduler.Schedule | None:
    """An EventBridge Scheduler schedule that starts ``machine`` every period of ``schedule`` (from its
    start, when one is stated); None without a schedule (started by hand). It sits in the stack's schedule
    group, whose alarms tell ``alert_topic`` when a schedule could not start its machine (``schedule_group``)."""
    if schedule is None:
        return None
    start_date = None
    if schedule.start != START_AT_FIRST_ACTIVATION:
        start_date = datetime.strptime(schedule.start, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    group = schedule_group(scope, alert_topic=alert_topic, alert_key=alert_key)
    made = scheduler.Schedule(
        scope, "Schedule",
        schedule=schedule_expression(schedule),
        target=targets.StepFunctionsStartExecution(machine),
        description=f"{what} every {schedule.period}",
        start=start_date,
        # Named, not referenced: the group's name is in the schedule's role's trust (aws:SourceArn) and the alarms.
        schedule_group=scheduler.ScheduleGroup.from_schedule_group_name(scope, "Group", group.schedule_group_name_literal),
    )
    made.node.add_dependency(group.group)
    return made


# EventBridge Scheduler's metrics of a schedule group that say a schedule did not start its target, with the suffix of
# the alarm on each (EventBridge Scheduler User Guide, "Monitoring Amazon EventBridge Scheduler with Amazon CloudWatch":
# namespace AWS/Scheduler, dimension ScheduleGroup; the metrics are per group, not per schedule):
# TargetErrorCount, the target's API answered an error (StartExecution refused: a deleted machine, a denied role, a
# throttle); InvocationDroppedCount, Scheduler gave up on an invocation after its retry policy (default: 185 attempts
# over 24 hours). The first comes at once, the second when the run is lost for good.
SCHEDULE_ALARMS = (("TargetErrorCount", "schedule-start-errors"), ("InvocationDroppedCount", "schedules-dropped"))
MAX_SCHEDULE_GROUP_NAME = 64  # EventBridge Scheduler's limit on a schedule group's name


class StackSchedules(Construct):
    """The schedule group of a stack's native schedules and its alarms: Scheduler reports a schedule that could
    not start its machine per group only, so the stack's schedules share one group (``ddb-<stack name>``), one
    alarm per metric, and each alarm publishes to every alert topic of the stack's schedules."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.schedule_group_name_literal = shortened(f"{ALARM_PREFIX}{stack.stack_name}", MAX_SCHEDULE_GROUP_NAME)
        self.group = scheduler.ScheduleGroup(self, "Group", schedule_group_name=self.schedule_group_name_literal,
                                             removal_policy=RemovalPolicy.DESTROY)
        self.alarms = [
            cloudwatch.Alarm(
                self, metric_name,
                alarm_name=f"{self.schedule_group_name_literal}-{suffix}",
                alarm_description=f"A schedule of the group {self.schedule_group_name_literal} could not start its state machine "
                                  f"({metric_name}): that run did not happen",
                metric=cloudwatch.Metric(namespace="AWS/Scheduler", metric_name=metric_name,
                                         dimensions_map={"ScheduleGroup": self.schedule_group_name_literal},
                                         statistic="Sum", period=ALARM_PERIOD),
                threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for metric_name, suffix in SCHEDULE_ALARMS
        ]
        self._topics: set[str] = set()

    def alert(self, topic: sns.ITopic, key: kms.IKey | None) -> None:
        """Let the group's alarms publish to ``topic`` too (once per topic)."""
        if topic.node.path in self._topics:
            return
        self._topics.add(topic.node.path)
        for alarm in self.alarms:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        admit_alarms(topic, key)


def schedule_group(scope: Construct, *, alert_topic: sns.ITopic, alert_key: kms.IKey | None) -> StackSchedules:
    """The stack's ``StackSchedules`` (made on first use), alerting ``alert_topic``."""
    stack = Stack.of(scope)
    found = stack.node.try_find_child("NativeSchedules")
    group = found if isinstance(found, StackSchedules) else StackSchedules(stack, "NativeSchedules")
    group.alert(alert_topic, alert_key)
    return group
