"""A copy without Data Pipeline: each run exports the table from point-in-time recovery and imports that
export into a new table, in one Step Functions state machine (no Lambda, no EMR, no capacity read).

A copy into another region is two machines: Step Functions calls AWS only in its own region without a
Lambda function, so this one exports into the target region's staging bucket and announces the export on
its region's default event bus; a rule forwards the event to the copies' bus in the target region, whose
rule starts the import machine there (``native_copy_import.py``).

ImportTable always creates its table, so every run makes a table of its own, named
``<target_prefix>-<export id>`` after the export it imports: the copy never writes into an existing table, and the
previous copies stay until the team deletes them (docs/native-engine.md). The machine checks the
name and the folder it computed before importing, as a restore checks its input, and its role may create
only tables of the prefix, in the source's account and region.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
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
from .alert_topic import alerts_for, check_alerts
from .delivery_alarm import delivery_alarm
from .export_bucket import exports_prefix
from .native_export import schedule_machine, wildcard_reason
from .native_restore import import_wildcard_reason, key_schema
from .native_steps import (
    COPY_EVENT_SOURCE,
    COPY_EXPORTED,
    MachineMetrics,
    NewTable,
    alarm,
    announce_bus_name,
    export_id,
    export_steps,
    grant_export,
    grant_import,
    import_check,
    import_steps,
    rule_arn,
    rule_role,
    state_machine,
)
from .pipeline_roles import TableRef
from .props import check_environment, check_schedule, check_target_prefix, construct_path
from .table_pipelines import bucket_key_of, generated_name_start, table_ref


def copy_wildcard_reason(finding: str) -> str | None:
    """The export's reasons and the import's: the machine does both."""
    return import_wildcard_reason(finding) or wildcard_reason(finding)


@dataclass(frozen=True)
class OtherAccount:
    """Where a copy into another account stages and imports: the target account's staging ``bucket``
    (``prefix`` its folder for this copy), written by the export with S3BucketOwner, and the role there that
    the import runs as (``import_role_arn``, which trusts this machine's role, named ``machine_role_name``)."""

    account: str
    bucket: s3.IBucket
    prefix: str
    import_role_arn: str
    machine_role_name: str
    table_key_arn: str | None = None  # the key there the new tables are on (an alias ARN); None: an AWS owned key


@dataclass(frozen=True)
class OtherRegion:
    """Where a copy into another region stages and imports: the staging ``bucket`` there (``prefix`` its
    folder for this copy; ``account`` its owner where that is another account), the copies' event bus there
    (``bus_arn``), whose rule starts the import of events naming ``copy``; ``machine_role_name`` and
    ``forward_rule_name`` are the names that side's policies admit."""

    region: str
    account: str | None
    bucket: s3.IBucket
    prefix: str
    bus_arn: str
    copy: str
    machine_role_name: str
    forward_rule_name: str


class NativeCopy(Construct, MachineMetrics):
    """Copies ``source`` into a new table ``<target_prefix>-<export id>`` on ``schedule`` (None: only when
    started by hand), through a full export into ``exports/<table>/`` of ``bucket``. The new table has the
    source's key schema (``partition_key``/``sort_key`` for a table this app only references), is billed
    per request and encrypted with ``table_key`` (default: an AWS owned key).

    ``other_account``: a copy into another account: the export goes to that account's staging bucket
    (S3BucketOwner) and the import runs there as its role (the Task's Credentials); the new table is on an
    AWS owned key. ``other_region``: a copy into another region (of this account or another): the export
    goes to the staging bucket there and the machine hands over to the import machine there by an event."""

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
        target_prefix: str,
        bucket_key: kms.IKey | None = None,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        table_key: kms.IKey | None = None,
        schedule: ScheduleSpec | None = None,
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        alarm_emails: Sequence[str] = (),
        environment: str = "default",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        other_account: OtherAccount | None = None,
        other_region: OtherRegion | None = None,
    ) -> None:
        where = construct_path(scope.node.path, id)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        schedule = check_schedule(where, "schedule", schedule, native=True)
        ref = table_ref(source, scope=scope)
        name = ref.table_name  # what the machine exports; a token CloudFormation resolves where the table has no fixed name
        target_prefix = check_target_prefix(where, target_prefix, name, generated_start=generated_name_start(source))
        super().__init__(scope, id)
        partition, sort = key_schema(source, partition_key, sort_key)
        alert_topic, alert_key = alerts_for(self, topic=alert_topic, key=alert_key, emails=alarm_emails)
        self.alert_topic, self.alert_key = alert_topic, alert_key
        self.target_prefix = target_prefix
        machine = machine_name(environment, ref.named, f"copy-{target_prefix}")
        if other_region is not None:
            self._hand_over(name=name, ref=ref, other_region=other_region, alert_topic=alert_topic, alert_key=alert_key, machine=machine,
                            log_retention=log_retention, schedule=schedule)
            return
        if other_account is None:
            key = bucket_key_of(where, bucket, bucket_key)
            self.prefix = exports_prefix(ref.named)
            staging, owner = bucket, {}
        else:  # the staging bucket is S3-managed: its account's key would need a key policy of its own
            key, self.prefix = None, other_account.prefix
            table_key = kms.Key.from_key_arn(self, "TargetKey", other_account.table_key_arn) if other_account.table_key_arn else None
            staging, owner = other_account.bucket, {"S3BucketOwner": other_account.account}
        new_table = NewTable(f"{target_prefix}-", partition, sort, table_key)

        assume = other_account.import_role_arn if other_account else None
        imported = import_steps(self, bucket=staging, table=new_table, alert_topic=alert_topic, name=machine, what="copy",
                                then=sfn.Succeed(self, "Copied"), assume_role_arn=assume,
                                account=other_account.account if other_account else None)
        check = import_check(self, prefix=self.prefix, table=new_table, then=imported, alert_topic=alert_topic, name=machine,
                             named_after_export=True,
                             refusal=f"expected export: {self.prefix}/AWSDynamoDB/<export id>/data/ and table: {target_prefix}-<that export id>")
        exported = export_steps(self, source=ref, bucket=staging, key=key, prefix=self.prefix, alert_topic=alert_topic, name=machine,
                                late_minutes=None, then=self._name_new_table(name).next(check), request=owner or None)
        start = sfn.Pass(self, "Start", parameters={"table": name, "polls": {"value": 0}})
        self.log_group, self.state_machine = state_machine(
            self, start.next(exported), machine, f"Copies DynamoDB table {name} into a new table {target_prefix}-... on each run",
            log_retention, alert_topic=alert_topic, alert_key=alert_key, wildcard_reason=copy_wildcard_reason, wait_loops=2,
            role_name=other_account.machine_role_name if other_account else None)
        grant_export(self.state_machine, source=ref, bucket=staging, key=key, prefix=self.prefix,
                     bucket_account=other_account.account if other_account else None)
        if other_account is None:
            grant_import(self.state_machine, bucket=bucket, key=key, prefix=self.prefix, table_key=new_table.key,
                         bucket_account=Stack.of(self).account)  # exported without S3BucketOwner: this account's bucket
        else:
            self.state_machine.add_to_role_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[other_account.import_role_arn]))
        self.schedule = schedule_machine(self, self.state_machine, schedule, f"Starts the copy of {name} into {target_prefix}-...",
                                         alert_topic=alert_topic, alert_key=alert_key)

    def _name_new_table(self, name: str) -> sfn.Pass:
        """The new table is named after the export it imports (arn:...:table/<table>/export/<export id>, an
        id that starts with the export's time), so each run's table says where its items came from."""
        exported = export_id("$.export.arn")
        return sfn.Pass(self, "NameNewTable", parameters={
            "source": name,
            "table.$": f"States.Format('{self.target_prefix}-{{}}', {exported})",
            "export.$": f"States.Format('{self.prefix}/AWSDynamoDB/{{}}/data/', {exported})",
            "polls": {"value": 0},
        })

    def _hand_over(self, *, name: str, ref: TableRef, other_region: OtherRegion, alert_topic: sns.ITopic, alert_key: kms.IKey | None,
                   machine: str, log_retention: logs.RetentionDays, schedule: ScheduleSpec | None) -> None:
        """Export into the target region's staging folder, then announce it: an event on a bus of this copy
        alone, which a rule forwards to the copies' bus there (the import machine's trigger).

        The bus (named as the forward rule, ``announce_bus_name``) refuses PutEvents from every principal but
        this machine's role: an explicit Deny in a resource policy holds against any Allow an identity policy of
        the account gives (IAM's evaluation logic), so no other principal of the account can put a forged copy
        event where the forward rule picks it up, as it could on the default bus."""
        self.prefix = other_region.prefix
        stack = Stack.of(self)
        bus_name = announce_bus_name(other_region.forward_rule_name)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name,
                                   description=f"Exports of {name} for the copy {self.target_prefix}, announced by its machine only")
        role_arn = f"arn:{stack.partition}:iam::{stack.account}:role/{other_region.machine_role_name}"
        cast(events.CfnEventBus, self.bus.node.default_child).policy = iam.PolicyDocument(statements=[iam.PolicyStatement(
            sid="OnlyTheCopysMachine", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()], actions=["events:PutEvents"],
            resources=[f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/{bus_name}"],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": role_arn}},
        )])
        staging = other_region.bucket
        owner = {"S3BucketOwner": other_region.account} if other_region.account else None
        failed = alarm(self, "HandOverFailed", alert_topic, f"FAILED: {machine}", "The export {} of {} could not be handed over to the import: {}",
                       "$.export", "$.source", "$.error.Cause").next(sfn.Fail(self, "NotHandedOver", error="HandOverFailed"))
        announce = tasks.EventBridgePutEvents(self, "AnnounceExport", entries=[tasks.EventBridgePutEventsEntry(
            source=COPY_EVENT_SOURCE, detail_type=COPY_EXPORTED, event_bus=self.bus,
            detail=sfn.TaskInput.from_object({"copy": other_region.copy, "source": name, "export": sfn.JsonPath.string_at("$.export"),
                                              "table": sfn.JsonPath.string_at("$.table")}),
        )], result_path=sfn.JsonPath.DISCARD)
        announce.add_catch(failed, result_path="$.error")
        announced = self._name_new_table(name).next(announce).next(sfn.Succeed(self, "HandedOver"))
        exported = export_steps(self, source=ref, bucket=staging, key=None, prefix=self.prefix, alert_topic=alert_topic, name=machine,
                                late_minutes=None, then=announced, request=owner)
        start = sfn.Pass(self, "Start", parameters={"table": name, "polls": {"value": 0}})
        self.log_group, self.state_machine = state_machine(
            self, start.next(exported), machine,
            f"Exports DynamoDB table {name} to {other_region.region} on each run, where it is imported into a new table {self.target_prefix}-...",
            log_retention, alert_topic=alert_topic, alert_key=alert_key, wildcard_reason=wildcard_reason, role_name=other_region.machine_role_name)
        grant_export(self.state_machine, source=ref, bucket=staging, key=None, prefix=self.prefix,
                     bucket_account=other_region.account or Stack.of(self).account)
        # The rule's name is fixed: the bus policy of another account admits events from this rule only.
        self.forward = events.Rule(self, "Forward", rule_name=other_region.forward_rule_name, event_bus=self.bus,
                    description=f"Forwards exports of {name} for the copy {self.target_prefix} to {other_region.region}",
                    event_pattern=events.EventPattern(source=[COPY_EVENT_SOURCE], detail_type=[COPY_EXPORTED],
                                                      detail={"copy": [other_region.copy]}),
                    targets=[targets.EventBus(events.EventBus.from_event_bus_arn(self, "TargetBus", other_region.bus_arn),
                                              role=rule_role(self, "ForwardRole", rule=rule_arn(
                                                  stack, bus_name=bus_name, rule_name=other_region.forward_rule_name)))])
        delivery_alarm(self, "ForwardFailed", rule_name=other_region.forward_rule_name, bus_name=bus_name, topic=alert_topic, key=alert_key,
                       description=f"An export of {name} for the copy {self.target_prefix} was not delivered to {other_region.region}: "
                                   "nothing will import it")
        self.schedule = schedule_machine(self, self.state_machine, schedule,
                                         f"Starts the copy of {name} into {self.target_prefix}-... in {other_region.region}",
                                         alert_topic=alert_topic, alert_key=alert_key)
