"""A table export without Data Pipeline: DynamoDB's own export from point-in-time recovery, run by a
Step Functions state machine that EventBridge Scheduler starts. No EMR cluster, no Lambda, no read
capacity used.

The state machine calls ``ExportTableToPointInTime`` through the AWS SDK service integration, waits for
the export with ``DescribeExport`` in a bounded loop, and publishes to the alert topic when the export
fails, when it has not completed after ``late_after``, and when it gives up waiting. DynamoDB writes the
files as the caller, so the state machine's role is the one that needs the bucket (and its key).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..definition.common import START_AT_FIRST_ACTIVATION, ScheduleSpec
from ..definition.periods import period_minutes
from .acknowledge import acknowledge_wildcards
from .alert_topic import alerts_or_new
from .export_bucket import exports_prefix
from .pipeline_roles import TableRef
from .table_pipelines import PipelineConfigurationError, table_ref

POLL_EVERY = Duration.minutes(5)
GIVE_UP_AFTER_MINUTES = 24 * 60  # an export of a large table takes hours; one that runs a day is stuck
# What EventBridge Scheduler's rate() takes; a month has no fixed length, so a monthly period is refused.
RATE_UNITS = {"minute": "minutes", "minutes": "minutes", "hour": "hours", "hours": "hours", "day": "days", "days": "days"}
# DynamoDB's export writes objects (multipart for large files) with the caller's permissions.
EXPORT_WRITES = ("s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl")


def wildcard_reason(finding: str) -> str | None:
    """Why each wildcard of a native state machine's role cannot be narrower (cdk-nag IAM5)."""
    if finding == "Resource::*":
        return ("CloudWatch Logs log delivery and X-Ray tracing of the state machine: these actions have no "
                "resource type (Service Authorization Reference), so they are granted on '*'.")
    if finding.endswith("/export/*"):
        return "DescribeExport of this table's exports only: an export's ARN exists once the export has started."
    if "/exports/" in finding and finding.endswith("/*"):
        return "DynamoDB writes the export's files under this table's own prefix, in folders it names at run time."
    if finding.endswith(":key/*"):
        return ("The key of a table only referenced cannot be named here; the grant is limited to DynamoDB's use "
                "(kms:ViaService) for this one table (encryption context aws:dynamodb:tableName).")
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
        name = f"ddb-{environment}-{source.table_name}-native-export"

        if isinstance(table, dynamodb.Table) and not _has_pitr(table):
            raise PipelineConfigurationError(f"{table.node.path}: a native export reads point-in-time recovery; enable it on the table")
        failed = alarm(self, "Failed", alert_topic, f"FAILED: {name}", "The export of {} failed: {}",
                             "$.table", "$.error.Cause").next(sfn.Fail(self, "ExportFailed", error="ExportFailed"))
        export = tasks.CallAwsService(
            self, "Export", service="dynamodb", action="exportTableToPointInTime",
            iam_action="dynamodb:ExportTableToPointInTime", iam_resources=[source.table_arn],
            parameters={
                "TableArn": source.table_arn,
                "S3Bucket": bucket.bucket_name,
                "S3Prefix": self.prefix,
                "ExportFormat": "DYNAMODB_JSON",
                **({"S3SseAlgorithm": "KMS", "S3SseKmsKeyId": key.key_arn} if key is not None else {"S3SseAlgorithm": "AES256"}),
            },
            result_selector={"arn.$": "$.ExportDescription.ExportArn"},
            result_path="$.export",
        )
        export.add_retry(errors=["DynamoDb.LimitExceededException"], interval=Duration.minutes(5), max_attempts=6, backoff_rate=1.5)
        export.add_catch(failed, result_path="$.error")
        describe = tasks.CallAwsService(
            self, "DescribeExport", service="dynamodb", action="describeExport",
            iam_action="dynamodb:DescribeExport", iam_resources=[f"{source.table_arn}/export/*"],
            parameters={"ExportArn.$": "$.export.arn"},
            result_selector={"status.$": "$.ExportDescription.ExportStatus"},
            result_path="$.progress",
        )
        describe.add_retry(errors=["DynamoDb.LimitExceededException", "DynamoDb.InternalServerErrorException"])
        describe.add_catch(failed, result_path="$.error")
        count = sfn.Pass(self, "CountPolls", parameters={"value.$": "States.MathAdd($.polls.value, 1)"}, result_path="$.polls")
        wait = sfn.Wait(self, "WaitForExport", time=sfn.WaitTime.duration(POLL_EVERY))
        polls_late = -(-late_minutes // 5) if late_minutes else None
        polls_max = GIVE_UP_AFTER_MINUTES // 5
        gave_up = alarm(self, "GaveUp", alert_topic, f"STUCK: {name}", "The export of {} has not finished after {} polls",
                              "$.table", "$.polls.value").next(sfn.Fail(self, "ExportStuck", error="ExportStuck"))
        failed_status = sfn.Pass(self, "ExportReportedFailure", parameters={"Cause.$": "$.progress.status"}, result_path="$.error").next(failed)
        decide = (
            sfn.Choice(self, "Finished?")
            .when(sfn.Condition.string_equals("$.progress.status", "COMPLETED"), sfn.Succeed(self, "Exported"))
            .when(sfn.Condition.string_equals("$.progress.status", "FAILED"), failed_status)
            .when(sfn.Condition.number_greater_than_equals("$.polls.value", polls_max), gave_up)
        )
        if polls_late is not None:
            late = alarm(self, "Late", alert_topic, f"LATE: {name}", "The export of {} has not finished after {} polls",
                               "$.table", "$.polls.value", result_path=sfn.JsonPath.DISCARD).next(wait)
            decide = decide.when(sfn.Condition.number_equals("$.polls.value", polls_late), late)
        decide.otherwise(wait)
        start = sfn.Pass(self, "Start", parameters={"table": source.table_name, "polls": {"value": 0}})
        definition = start.next(export).next(wait).next(describe).next(count).next(decide)

        self.log_group, self.state_machine = state_machine(
            self, definition, name, f"Exports DynamoDB table {source.table_name} from point-in-time recovery to S3", log_retention,
            alert_key=alert_key, wildcard_reason=wildcard_reason)
        region = Stack.of(self).region
        self._grant_writes(bucket, key, region)
        self._grant_table_key(source, region)
        self.schedule = None
        if schedule is not None:
            start_date = None
            if schedule.start != START_AT_FIRST_ACTIVATION:
                start_date = datetime.strptime(schedule.start, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
            self.schedule = scheduler.Schedule(
                self, "Schedule",
                schedule=schedule_expression(schedule),
                target=targets.StepFunctionsStartExecution(self.state_machine),
                description=f"Starts the export of {source.table_name} every {schedule.period}",
                start=start_date,
            )

    def _grant_table_key(self, source: TableRef, region: str) -> None:
        """A table on a customer managed key: DynamoDB reads it for the export on behalf of the caller, so
        the caller may decrypt through DynamoDB, for this table only (inferred: the DynamoDB guide says the
        key policy must let DynamoDB use the key for the role that starts the export, without naming the
        actions; these are the reading actions it names elsewhere)."""
        if source.key is None and not source.key_elsewhere:
            return
        resource = source.key.key_arn if source.key is not None else f"arn:{Stack.of(self).partition}:kms:{source.region}:{source.account}:key/*"
        self.state_machine.add_to_role_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:DescribeKey"], resources=[resource],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com",
                                         "kms:EncryptionContext:aws:dynamodb:tableName": source.table_name}},
        ))

    def _grant_writes(self, bucket: s3.IBucket, key: kms.IKey | None, region: str) -> None:
        role = self.state_machine.role
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(EXPORT_WRITES), resources=[bucket.arn_for_objects(f"{self.prefix}/*")]))
        if key is not None:
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            ))


def depend_on_policy_only(machine: sfn.StateMachine) -> None:
    """CDK makes a machine depend on its role and the role's policy; the role is already a reference of
    RoleArn (cfn-lint W3005), so only the policy stays (the machine must not start before it)."""
    resource = machine.node.default_child
    policy = machine.role.node.try_find_child("DefaultPolicy")
    if isinstance(resource, CfnResource) and policy is not None and isinstance(policy.node.default_child, CfnResource):
        resource.add_override("DependsOn", [Stack.of(machine).get_logical_id(policy.node.default_child)])


def alarm(scope: Construct, id: str, topic: sns.ITopic, subject: str, template: str, *paths: str,
          result_path: str | None = None) -> tasks.SnsPublish:
    """A Task that publishes ``template`` (States.Format with ``paths``) to the alert topic."""
    return tasks.SnsPublish(
        scope, id, topic=topic, subject=subject[:100],
        message=sfn.TaskInput.from_json_path_at(f"States.Format('{template}', {', '.join(paths)})"),
        result_path=result_path if result_path is not None else "$.alarm",
    )


def state_machine(scope: Construct, definition: sfn.IChainable, name: str, comment: str, log_retention: logs.RetentionDays, *,
                  alert_key: kms.IKey | None, wildcard_reason: Callable[[str], str | None]) -> tuple[logs.LogGroup, sfn.StateMachine]:
    """A native-engine state machine: logged (level ALL, no execution data) and traced, stopped an hour
    after its wait loop would give up, allowed to encrypt alarms with the topic's key (SNS does so as
    the publisher), its wildcards acknowledged with ``wildcard_reason``."""
    log_group = logs.LogGroup(scope, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY)
    machine = sfn.StateMachine(
        scope, "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        state_machine_name=name,
        comment=comment,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        timeout=Duration.minutes(GIVE_UP_AFTER_MINUTES + 60),
    )
    if alert_key is not None:
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[alert_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"sns.{Stack.of(scope).region}.amazonaws.com"}},
        ))
    depend_on_policy_only(machine)
    acknowledge_wildcards(machine, wildcard_reason)
    return log_group, machine
