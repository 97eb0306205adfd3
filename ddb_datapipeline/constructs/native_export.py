"""A table export without Data Pipeline: DynamoDB's own export from point-in-time recovery, run by a
Step Functions state machine that EventBridge Scheduler starts. No EMR cluster, no Lambda, no read
capacity used.

The state machine calls ``ExportTableToPointInTime`` through the AWS SDK service integration, waits for
the export with ``DescribeExport`` in a bounded loop, and publishes to the alert topic when the export
fails, when it has not completed after ``late_after``, and when it gives up waiting. DynamoDB writes the
files as the caller, so the state machine's role is the one that needs the bucket (and its key).
"""
from __future__ import annotations

from datetime import UTC, datetime

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..definition.common import START_AT_FIRST_ACTIVATION, ScheduleSpec
from ..definition.periods import period_minutes
from .alert_topic import alerts_or_new
from .export_bucket import exports_prefix
from .native_steps import export_steps, grant_export, machine_name, state_machine
from .table_pipelines import PipelineConfigurationError, table_ref

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


class NativeExport(Construct):
    """Exports ``table`` into ``exports/<table>/`` of ``bucket`` on ``schedule`` (None: only when started
    by hand), encrypted with the bucket's KMS key. The table must have point-in-time recovery enabled.

    ``bucket_key``: for an imported bucket whose KMS key the bucket object does not carry.
    ``alert_topic`` defaults to a new encrypted topic; ``alert_key`` is its key, if it has one."""

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
        environment: str = "default",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        super().__init__(scope, id)
        source = table_ref(table)
        key = bucket_key if bucket_key is not None else bucket.encryption_key
        alert_topic, alert_key = alerts_or_new(self, alert_topic, alert_key)
        self.prefix = exports_prefix(source.table_name)
        late_minutes = period_minutes(schedule.late_after) if schedule is not None and schedule.late_after else None
        name = machine_name(environment, source.table_name, "export")

        if isinstance(table, dynamodb.Table) and not _has_pitr(table):
            raise PipelineConfigurationError(f"{table.node.path}: a native export reads point-in-time recovery; enable it on the table")
        start = sfn.Pass(self, "Start", parameters={"table": source.table_name, "polls": {"value": 0}})
        definition = start.next(export_steps(self, source=source, bucket=bucket, key=key, prefix=self.prefix, alert_topic=alert_topic,
                                             name=name, late_minutes=late_minutes, then=sfn.Succeed(self, "Exported")))

        self.log_group, self.state_machine = state_machine(
            self, definition, name, f"Exports DynamoDB table {source.table_name} from point-in-time recovery to S3", log_retention,
            alert_topic=alert_topic, alert_key=alert_key, wildcard_reason=wildcard_reason)
        grant_export(self.state_machine, source=source, bucket=bucket, key=key, prefix=self.prefix)
        self.schedule = schedule_machine(self, self.state_machine, schedule, f"Starts the export of {source.table_name}")


def schedule_machine(scope: Construct, machine: sfn.StateMachine, schedule: ScheduleSpec | None, what: str) -> scheduler.Schedule | None:
    """An EventBridge Scheduler schedule that starts ``machine`` every period of ``schedule`` (from its
    start, when one is stated); None without a schedule (started by hand)."""
    if schedule is None:
        return None
    start_date = None
    if schedule.start != START_AT_FIRST_ACTIVATION:
        start_date = datetime.strptime(schedule.start, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return scheduler.Schedule(
        scope, "Schedule",
        schedule=schedule_expression(schedule),
        target=targets.StepFunctionsStartExecution(machine),
        description=f"{what} every {schedule.period}",
        start=start_date,
    )
