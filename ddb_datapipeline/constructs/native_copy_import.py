"""The target region's half of a native copy into another region: a state machine that imports the export
it is told about into a new table, started by a rule on the copies' event bus.

The source region's machine cannot call DynamoDB here (Step Functions calls AWS in its own region only,
without a Lambda function), so it exports into this region's staging bucket and sends an event; this
machine trusts nothing in that event it does not check: the folder must be the copy's staging folder and
the table must carry the copy's prefix, as a restore checks its input.
"""
from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..definition.generated_names import machine_name
from .alert_topic import alerts_for, check_alerts
from .delivery_alarm import delivery_alarm
from .native_restore import import_wildcard_reason
from .native_steps import (
    COPY_EVENT_SOURCE,
    COPY_EXPORTED,
    MachineMetrics,
    NewTable,
    copy_rule_name,
    grant_import,
    import_check,
    import_steps,
    rule_arn,
    rule_role,
    state_machine,
)
from .props import check_environment, check_table_name, check_target_prefix, construct_path


class NativeCopyImport(Construct, MachineMetrics):
    """Imports each export of ``source_table`` that arrives under ``prefix`` of ``bucket`` into a new table
    ``<target_prefix>-<export id>`` (key schema ``partition_key``/``sort_key``, billed per request, on
    ``table_key``, default an AWS owned key), when an event for ``copy`` reaches ``bus``; alarms on ``alert_topic``.
    ``bucket_account``: the account that owns ``bucket`` (default: this stack's, where the staging bucket is declared)."""

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
        bus: events.IEventBus,
        copy: str,
        source_table: str,
        bucket: s3.IBucket,
        prefix: str,
        target_prefix: str,
        partition_key: dynamodb.Attribute,
        sort_key: dynamodb.Attribute | None,
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        alarm_emails: Sequence[str] = (),
        environment: str,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        table_key: kms.IKey | None = None,
        bucket_account: str | None = None,
    ) -> None:
        where = construct_path(scope.node.path, id)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        source_table = check_table_name(where, "source_table", source_table, names="the import's state machine and rule")
        target_prefix = check_target_prefix(where, target_prefix, source_table)
        super().__init__(scope, id)
        alert_topic, alert_key = alerts_for(self, topic=alert_topic, key=alert_key, emails=alarm_emails)
        self.alert_topic, self.alert_key = alert_topic, alert_key
        name = machine_name(environment, source_table, f"copy-{target_prefix}-import")
        new_table = NewTable(f"{target_prefix}-", partition_key, sort_key, table_key)
        imported = import_steps(self, bucket=bucket, table=new_table, alert_topic=alert_topic, name=name, what="copy",
                                then=sfn.Succeed(self, "Copied"))
        check = import_check(self, prefix=prefix, table=new_table, then=imported, alert_topic=alert_topic, name=name, named_after_export=True,
                             refusal=f"expected export: {prefix}/AWSDynamoDB/<export id>/data/ and table: {target_prefix}-<that export id>")
        self.log_group, self.state_machine = state_machine(
            self, check, name, f"Imports exports of DynamoDB table {source_table} into new tables {target_prefix}-... of this region",
            log_retention, alert_topic=alert_topic, alert_key=alert_key, wildcard_reason=import_wildcard_reason)
        grant_import(self.state_machine, bucket=bucket, key=None, prefix=prefix, table_key=new_table.key,
                     bucket_account=bucket_account or Stack.of(self).account)
        # Named: CloudFormation's Ref of a rule on a custom bus is "<bus>|<rule>", not the name the alarm needs.
        rule_name = copy_rule_name(environment, source_table, target_prefix, "start")
        self.rule = events.Rule(
            self, "Start", event_bus=bus, rule_name=rule_name, description=f"Starts the import of each copy of {source_table} into {target_prefix}-...",
            event_pattern=events.EventPattern(source=[COPY_EVENT_SOURCE], detail_type=[COPY_EXPORTED], detail={"copy": [copy]}),
            targets=[targets.SfnStateMachine(
                self.state_machine, input=events.RuleTargetInput.from_event_path("$.detail"),
                role=rule_role(self, "StartRole", rule=rule_arn(Stack.of(self), bus_name=bus.event_bus_name, rule_name=rule_name)))],
        )
        delivery_alarm(self, "StartFailed", rule_name=rule_name, bus_name=bus.event_bus_name, topic=alert_topic, key=alert_key,
                       description=f"An export of {source_table} arrived for the copy {target_prefix} but its import did not start")
