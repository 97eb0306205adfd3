"""Incremental exports between full exports: DynamoDB's ``INCREMENTAL_EXPORT`` of what changed in a time
window, every period, with the window worked out in the state machine (JSONata), not in a Lambda.

Each run exports ``[from, to)``: ``from`` is where the last completed run stopped (the watermark, a
one-line object ``exports/<table>/incremental/watermark`` in the bucket, so it survives redeploys and
stack replacements), ``to`` is the latest whole minute five minutes before now (DynamoDB refuses an
``ExportToTime`` in the future), at most 24 hours after ``from`` (the service's longest window). The
watermark moves only after the export completed, so a failed run leaves no gap (the next run exports the
window again, with what came after), and consecutive windows share their bound, so nothing is exported
twice. After missed runs the next ones catch up, 24 hours a run. Without a watermark (the first run, or
one deleted by hand), the run starts one period back and says so on the alert topic: earlier changes are
in the full exports. A run that finds another run of its machine still going does nothing.
"""
from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..definition.common import ScheduleSpec
from ..definition.generated_names import machine_name
from ..definition.periods import INCREMENTAL_MAX_MINUTES, INCREMENTAL_MIN_MINUTES, period_minutes
from .alert_topic import alerts_for, check_alerts
from .export_bucket import exports_prefix
from .native_export import schedule_machine, wildcard_reason
from .native_steps import MachineMetrics, alarm, export_steps, grant_export, state_machine
from .props import check_environment, construct_path, refuse
from .table_pipelines import bucket_key_of, table_ref

SETTLE_MINUTES = 5  # how far behind now a window ends: DynamoDB refuses an ExportToTime in the future
MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES = INCREMENTAL_MIN_MINUTES, INCREMENTAL_MAX_MINUTES


def window_expression(period: int, now: str = "$millis()") -> str:
    """The JSONata that adds ``window`` (``from``, ``to``, ``milliseconds``, ``resumed``) to the state's
    input; ``now`` is the clock in epoch milliseconds (a test gives a fixed one). Whole minutes come from
    ``%``, not ``/``: moto's interpreter mistakes a division for the start of a regular expression."""
    return (
        "{% ("
        "$minute := 60000; "
        f"$clock := {now}; "
        f"$latest := $clock - {SETTLE_MINUTES} * $minute - $clock % $minute; "
        "$mark := $states.input.watermark.body; "
        f"$from := $mark ? $toMillis($trim($mark)) : $latest - {period} * $minute; "
        f"$to := $min([$from + {MAX_WINDOW_MINUTES} * $minute, $latest]); "
        "$merge([$states.input, {'window': {'from': $fromMillis($from), 'to': $fromMillis($to), "
        "'milliseconds': $to - $from, 'resumed': $mark ? true : false}}])"
        ") %}"
    )


class NativeIncrementalExport(Construct, MachineMetrics):
    """Exports what changed in ``table`` every ``period`` (15 minutes to 24 hours) into
    ``exports/<table>/incremental/`` of ``bucket``, each window starting where the last completed one
    ended. The table must have point-in-time recovery enabled (as for a full export)."""

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
        period: str,
        bucket_key: kms.IKey | None = None,
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        alarm_emails: Sequence[str] = (),
        environment: str = "default",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        where = construct_path(scope.node.path, id)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        minutes = period_minutes(period) if isinstance(period, str) else None
        if minutes is None or not MIN_WINDOW_MINUTES <= minutes <= MAX_WINDOW_MINUTES:
            raise refuse(where, "period", period, "a period from 15 minutes to 24 hours (DynamoDB's incremental export window)")
        super().__init__(scope, id)
        source = table_ref(table, scope=scope)
        stack = Stack.of(self)
        key = bucket_key_of(where, bucket, bucket_key)
        alert_topic, alert_key = alerts_for(self, topic=alert_topic, key=alert_key, emails=alarm_emails)
        self.alert_topic, self.alert_key = alert_topic, alert_key
        self.prefix = f"{exports_prefix(source.named)}/incremental"
        self.watermark_key = f"{self.prefix}/watermark"
        name = machine_name(environment, source.named, "incremental")
        own_arn = f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:{name}"

        save = tasks.CallAwsService(
            self, "SaveWatermark", service="s3", action="putObject", iam_action="s3:PutObject",
            iam_resources=[bucket.arn_for_objects(self.watermark_key)],
            parameters={"Bucket": bucket.bucket_name, "Key": self.watermark_key, "Body.$": "$.window.to"},
            result_path=sfn.JsonPath.DISCARD,
        ).next(sfn.Succeed(self, "Exported"))
        exported = export_steps(self, source=source, bucket=bucket, key=key, prefix=self.prefix, alert_topic=alert_topic, name=name,
                                late_minutes=None, then=save, request={
                                    "ExportType": "INCREMENTAL_EXPORT",
                                    "IncrementalExportSpecification": {"ExportFromTime.$": "$.window.from", "ExportToTime.$": "$.window.to",
                                                                       "ExportViewType": "NEW_AND_OLD_IMAGES"},
                                })
        started = alarm(self, "StartedWithoutWatermark", alert_topic, f"STARTED: {name}",
                        "Incremental exports of {} start at {}: there was no watermark; earlier changes are in the full exports",
                        "$.table", "$.window.from", result_path=sfn.JsonPath.DISCARD).next(exported)
        decide = (
            sfn.Choice(self, "WindowLongEnough?")
            .when(sfn.Condition.number_less_than("$.window.milliseconds", MIN_WINDOW_MINUTES * 60_000), sfn.Succeed(self, "NothingToExportYet"))
            .when(sfn.Condition.boolean_equals("$.window.resumed", False), started)
            .otherwise(exported)
        )
        window = sfn.Pass.jsonata(self, "Window", outputs=window_expression(minutes)).next(decide)
        read = tasks.CallAwsService(
            self, "ReadWatermark", service="s3", action="getObject", iam_action="s3:GetObject",
            iam_resources=[bucket.arn_for_objects(self.watermark_key)],
            parameters={"Bucket": bucket.bucket_name, "Key": self.watermark_key},
            result_selector={"body.$": "$.Body"}, result_path="$.watermark",
        )
        # Whether the watermark exists is asked with a listing of its own key, not by catching GetObject's NoSuchKey:
        # S3 answers a missing key 404 NoSuchKey only to a caller with s3:ListBucket on the bucket and 403 AccessDenied
        # to any other (S3 API Reference, GetObject, "Permissions"), and no AWS page says which s3:prefix that implied
        # listing carries, so a grant limited to the key might never match it. A ListObjectsV2 request carries its
        # Prefix as s3:prefix (S3 User Guide, bucket policy examples, s3:prefix), so the grant below is exact.
        find = sfn.CustomState(self, "FindWatermark", state_json={
            "Type": "Task", "Resource": f"arn:{stack.partition}:states:::aws-sdk:s3:listObjectsV2",
            "Parameters": {"Bucket": bucket.bucket_name, "Prefix": self.watermark_key, "MaxKeys": 1},
            "ResultSelector": {"count.$": "$.KeyCount"}, "ResultPath": "$.found",
        })
        no_watermark = sfn.Pass(self, "NoWatermark", result=sfn.Result.from_object({"body": ""}), result_path="$.watermark")
        look = find.next(sfn.Choice(self, "WatermarkExists?")
                         .when(sfn.Condition.number_greater_than("$.found.count", 0), read.next(window))
                         .otherwise(no_watermark.next(window)))
        running = tasks.CallAwsService(
            self, "OtherRuns", service="sfn", action="listExecutions", iam_action="states:ListExecutions", iam_resources=[own_arn],
            parameters={"StateMachineArn": own_arn, "StatusFilter": "RUNNING"},
            result_selector={"count.$": "States.ArrayLength($.Executions)"}, result_path="$.running",
        )
        alone = (
            sfn.Choice(self, "Alone?")
            .when(sfn.Condition.number_greater_than("$.running.count", 1), sfn.Succeed(self, "AnotherRunIsGoing"))
            .otherwise(look)
        )
        start = sfn.Pass(self, "Start", parameters={"table": source.table_name, "polls": {"value": 0}})
        self.log_group, self.state_machine = state_machine(
            self, start.next(running).next(alone), name,
            f"Exports the changes of DynamoDB table {source.table_name} since the last incremental export, every {period}",
            log_retention, alert_topic=alert_topic, alert_key=alert_key, wildcard_reason=wildcard_reason)
        grant_export(self.state_machine, source=source, bucket=bucket, key=key, prefix=self.prefix)
        # FindWatermark lists the watermark's own key and nothing else of the bucket. A denial is not caught: it fails the run.
        self.state_machine.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[bucket.bucket_arn], conditions={"StringEquals": {"s3:prefix": self.watermark_key}}))
        self.schedule = schedule_machine(self, self.state_machine, ScheduleSpec(period),
                                         f"Starts the incremental export of {source.table_name}",
                                         alert_topic=alert_topic, alert_key=alert_key)
