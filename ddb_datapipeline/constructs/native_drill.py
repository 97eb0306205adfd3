"""A restore drill: on a schedule, restore the latest full export of a table into a scratch table, count
what came back, alarm on any difference, and delete the scratch table. The only proof that a backup
restores is a restore, and nobody runs one until the day they need it.

All of it is DynamoDB's own API through Step Functions' SDK integrations (no Lambda): ``ListExports``
(page by page) lists the table's COMPLETED full exports, newest first, and ``DescribeExport`` of each in turn
gives the bucket and prefix it was written to and its item count: the drill restores the newest one written
to this bucket's export prefix (``exports/<table>``). ``ListExports(TableArn)`` lists every export of the
table, a copy's into another account's or region's staging bucket too, and those files are not in this
bucket: taking the newest export whatever its folder would import from a folder that holds nothing (a false
FAILED alarm whenever a copy ran after the last backup). ListExports gives only the ARN, status and type, so
the folder needs DescribeExport; the drill keeps the ``MAX_CANDIDATES`` newest exports (its state stays
small however many exports the table has) and describes them newest first until one is this bucket's, at
most that many calls (a state transition each). The other design, the export machine recording its latest
export in the bucket for the drill to read, would add a write to every export and a file that can be stale
or missing; DescribeExport asks the service that wrote the export. ``ImportTable`` creates the scratch
table ``<table>-drill-<export id>`` (the source's key schema, billed per request), and ``DescribeImport``'s
``ImportedItemCount`` and ``ErrorCount`` are compared with the export's ``ItemCount``. The scratch table takes writes from nothing else, and the role may create
and delete only tables of that prefix: the drill never touches the source or a restore target.
"""
from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..definition.common import ScheduleSpec
from ..definition.generated_names import DRILL_SUFFIX, machine_name
from .alert_topic import alerts_for, check_alerts
from .export_bucket import exports_prefix
from .native_export import schedule_machine, wildcard_reason
from .native_restore import import_wildcard_reason, key_schema
from .native_steps import MachineMetrics, NewTable, alarm, export_id, grant_import, import_check, import_steps, state_machine
from .props import check_environment, check_schedule, construct_path
from .table_pipelines import bucket_key_of, table_ref

# How many of the newest completed full exports the drill describes before it gives up (and alarms): more than
# this many copies' exports since the last backup means the backups stopped, which deserves the alarm.
MAX_CANDIDATES = 100
# JSONata: the page's completed full exports merged with those kept so far, newest first (an export's id starts
# with its time in milliseconds, so the greatest ARN is the latest export), at most MAX_CANDIDATES of them; the
# outer [...] keeps a single ARN a list.
CANDIDATES = ("{% ($kept := [$reverse($sort($append($states.input.candidates, "
              "$states.input.page.ExportSummaries[ExportStatus = 'COMPLETED' and ExportType = 'FULL_EXPORT'].ExportArn)))"
              f"[[0..{MAX_CANDIDATES - 1}]]]; "
              "$merge([$states.input, {'candidates': $kept, 'count': $count($kept), 'index': 0, "
              "'next': $states.input.page.NextToken ? $states.input.page.NextToken : ''}])) %}")


def written_here(bucket: str, prefix: str) -> str:
    """JSONata: the described candidate's item count, and whether it was written to ``bucket`` under ``prefix``
    (a missing S3Prefix compares as false)."""
    return ("{% $merge([$states.input, {'counts': {'exported': $states.input.candidate.description.ItemCount}, "
            f"'own': $states.input.candidate.description.S3Bucket = '{bucket}' and $states.input.candidate.description.S3Prefix = '{prefix}'}}]) %}}")


def drill_prefix(table: str) -> str:
    return f"{table}{DRILL_SUFFIX}"


class NativeRestoreDrill(Construct, MachineMetrics):
    """Restores the latest full export of ``source`` (from ``exports/<table>/`` of ``bucket``) into a
    scratch table on ``schedule``, alarms on ``alert_topic`` when the counts differ or a step fails."""

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
        source: dynamodb.ITable,
        bucket: s3.IBucket,
        schedule: ScheduleSpec,
        bucket_key: kms.IKey | None = None,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        alarm_emails: Sequence[str] = (),
        environment: str = "default",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        where = construct_path(scope.node.path, id)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        # config/tables.py DRILL_RULE: a restore and a count take about an hour; a drill at most once an hour.
        checked = check_schedule(where, "schedule", schedule, native=True, minimum_minutes=60, required=True)
        assert checked is not None  # required=True
        schedule = checked
        super().__init__(scope, id)
        ref = table_ref(source, scope=scope)
        name = ref.table_name  # what the machine reports; a token CloudFormation resolves where the table has no fixed name
        partition, sort = key_schema(source, partition_key, sort_key)
        key = bucket_key_of(where, bucket, bucket_key)
        alert_topic, alert_key = alerts_for(self, topic=alert_topic, key=alert_key, emails=alarm_emails)
        self.alert_topic, self.alert_key = alert_topic, alert_key
        self.prefix = exports_prefix(ref.named)
        machine = machine_name(environment, ref.named, "drill")
        # The scratch table holds a copy of the source's items: on the source's customer managed key when it has one.
        scratch = NewTable(drill_prefix(ref.named), partition, sort, ref.key)
        stack = Stack.of(self)
        scratch_tables = scratch.arn_pattern(stack)

        def delete(id: str) -> tasks.CallAwsService:
            return tasks.CallAwsService(self, id, service="dynamodb", action="deleteTable", iam_action="dynamodb:DeleteTable",
                                        iam_resources=[scratch_tables], parameters={"TableName.$": "$.table"},
                                        result_path=sfn.JsonPath.DISCARD)

        mismatch = alarm(self, "MismatchAlarm", alert_topic, f"FAILED: {machine}",
                         "Restore drill of {}: the export {} holds {} items, the restore imported {} with {} errors",
                         "$.source", "$.export", "$.counts.exported", "$.imported.items", "$.imported.errors")
        verified = delete("DeleteScratchTable").next(sfn.Succeed(self, "Verified"))
        failed = delete("DeleteScratchTableAfterMismatch").next(sfn.Fail(self, "Mismatch", error="RestoreDrillMismatch"))
        compare = (
            sfn.Choice(self, "SameCount?")
            .when(sfn.Condition.and_(sfn.Condition.number_equals_json_path("$.imported.items", "$.counts.exported"),
                                     sfn.Condition.number_equals("$.imported.errors", 0)), verified)
            .otherwise(mismatch.next(failed))
        )
        count = tasks.CallAwsService(self, "CountImported", service="dynamodb", action="describeImport",
                                     iam_action="dynamodb:DescribeImport", iam_resources=[f"{scratch_tables}/import/*"],
                                     parameters={"ImportArn.$": "$.import.arn"},
                                     result_selector={"items.$": "$.ImportTableDescription.ImportedItemCount",
                                                      "errors.$": "$.ImportTableDescription.ErrorCount"},
                                     result_path="$.imported")
        imported = import_steps(self, bucket=bucket, table=scratch, alert_topic=alert_topic, name=machine, what="restore drill",
                                then=count.next(compare))
        check = import_check(self, prefix=self.prefix, table=scratch, then=imported, alert_topic=alert_topic, name=machine,
                             refusal=f"the drill computed a folder outside {self.prefix}/AWSDynamoDB/ or a table outside {scratch.prefix}*")
        latest_id = export_id("$.latest")
        described = tasks.CallAwsService(
            self, "DescribeCandidate", service="dynamodb", action="describeExport", iam_action="dynamodb:DescribeExport",
            iam_resources=[f"{ref.table_arn}/export/*"], parameters={"ExportArn.$": "$.latest"},
            result_selector={"description.$": "$.ExportDescription"}, result_path="$.candidate",
        )
        described.add_retry(errors=["DynamoDb.LimitExceededException", "DynamoDb.InternalServerErrorException"])
        name_scratch = sfn.Pass(self, "NameScratchTable", parameters={
            "source": name,
            "latest.$": "$.latest",
            "counts.$": "$.counts",
            "table.$": f"States.Format('{scratch.prefix}{{}}', {latest_id})",
            "export.$": f"States.Format('{self.prefix}/AWSDynamoDB/{{}}/data/', {latest_id})",
            "polls": {"value": 0},
        })
        none = alarm(self, "NoExportAlarm", alert_topic, f"FAILED: {machine}",
                     f"Restore drill of {{}}: there is no completed full export in {self.prefix}/ of the bucket to restore "
                     f"(among the newest {MAX_CANDIDATES} exports of the table)", "$.source"
                     ).next(sfn.Fail(self, "NoExport", error="NoExport"))
        listed = sfn.Pass.jsonata(self, "KeepNewest", outputs=CANDIDATES)
        first = self._list(ref.table_arn, "ListExports", more=False)
        more = self._list(ref.table_arn, "ListMoreExports", more=True)
        take = sfn.Pass(self, "TakeCandidate", parameters={"value.$": "States.ArrayGetItem($.candidates, $.index)"}, result_path="$.taken")
        latest = sfn.Pass(self, "Candidate", input_path="$.taken.value", result_path="$.latest")
        where = sfn.Pass.jsonata(self, "WrittenHere?", outputs=written_here(bucket.bucket_name, self.prefix))
        following = sfn.Pass(self, "NextCandidate", parameters={"value.$": "States.MathAdd($.index, 1)"}, result_path="$.following")
        advance = sfn.Pass(self, "AdvanceIndex", input_path="$.following.value", result_path="$.index")
        another = (
            sfn.Choice(self, "AnotherCandidate?")
            .when(sfn.Condition.number_less_than_json_path("$.index", "$.count"), take)
            .otherwise(none)
        )
        take.next(latest).next(described).next(where).next(
            sfn.Choice(self, "OwnExport?")
            .when(sfn.Condition.boolean_equals("$.own", True), name_scratch.next(check))
            .otherwise(following.next(advance).next(another)))
        pages = (
            sfn.Choice(self, "MorePages?")
            .when(sfn.Condition.string_equals("$.next", ""), another)
            .otherwise(more)
        )
        more.next(listed)
        start = sfn.Pass(self, "Start", parameters={"source": name, "candidates": []})
        self.log_group, self.state_machine = state_machine(
            self, start.next(first).next(listed).next(pages), machine,
            f"Restores the latest export of DynamoDB table {name} into a scratch table and compares the counts, every {schedule.period}",
            log_retention, alert_topic=alert_topic, alert_key=alert_key, wildcard_reason=drill_wildcard_reason)
        grant_import(self.state_machine, bucket=bucket, key=key, prefix=self.prefix, table_key=scratch.key,
                     bucket_account=Stack.of(self).account)  # the export's bucket: its export names no S3BucketOwner
        self.schedule = schedule_machine(self, self.state_machine, schedule, f"Starts the restore drill of {name}",
                                         alert_topic=alert_topic, alert_key=alert_key)

    def _list(self, table_arn: str, id: str, *, more: bool) -> tasks.CallAwsService:
        """A page of the table's exports (ListExports has no resource type: its grant is on '*')."""
        return tasks.CallAwsService(
            self, id, service="dynamodb", action="listExports", iam_action="dynamodb:ListExports", iam_resources=["*"],
            parameters={"TableArn": table_arn, "MaxResults": 25, **({"NextToken.$": "$.next"} if more else {})},
            result_path="$.page",
        )


def drill_wildcard_reason(finding: str) -> str | None:
    if finding == "Resource::*":
        return ("ListExports has no resource type (Service Authorization Reference, Amazon DynamoDB), so it is granted on '*'; "
                "the machine lists the exports of its own table only. Log delivery and X-Ray are on '*' likewise.")
    if ":table/" in finding and finding.endswith("*") and DRILL_SUFFIX in finding:
        return "The drill creates, describes and deletes only its own scratch tables, named at run time after the export they hold."
    return import_wildcard_reason(finding) or wildcard_reason(finding)
