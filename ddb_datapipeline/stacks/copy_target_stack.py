"""The receiving side of copies that leave the source stack's account or region.

Declares the target tables this project owns there and, for copies from another account, a staging
bucket and table policies that admit exactly each copy's own node role, by ARN, to its own staging
folder and its own table, never the whole source account. A native copy from another account gets the
same staging folder (written by its state machine's role) and a role here that its import runs as. A
native copy from another region gets the staging folder, an import machine here, the copies' event bus
that starts it, and an alert topic of this region (Step Functions publishes in its own region only).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from aws_cdk import CfnOutput, RemovalPolicy, Stack, Tags
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config import CopyConfig, OwnedTable
from ..constructs.acknowledge import acknowledge_wildcards
from ..constructs.alert_topic import AlertTopic
from ..constructs.data_table import DataTable
from ..constructs.export_bucket import ExportBucket
from ..constructs.native_copy_import import NativeCopyImport
from ..constructs.native_restore import import_wildcard_reason
from ..constructs.native_steps import EXPORT_WRITES as NATIVE_EXPORT_WRITES
from ..constructs.native_steps import announce_bus_name, grant_import, log_retention
from ..constructs.pipeline_roles import BATCH_WRITE, EXPORT_WRITES, FOLDER_MARKER, TABLE_KEY_METADATA, TABLE_KEY_WRITE
from ..constructs.table_pipelines import copy_staging_prefix
from ..definition.patterns import output_key
from ..permissions.runtime_calls import folder_ancestors
from .naming import copy_event_id, copy_key_alias
from .table_shapes import encryption, table_props


@dataclass(frozen=True)
class CopyTarget:
    source_table: str
    source_shape: OwnedTable | None
    copy: CopyConfig
    nodes_role_name: str | None = None  # the copy's node role in the source account (cross-account copies)
    native_roles: tuple[str, str] | None = None  # a native copy's machine role (source account) and import role (here)
    forward_rule: str | None = None  # a native copy from another region: the source region's rule that sends its events here


@dataclass(frozen=True)
class SourceIdentity:
    """The account and region the copies come from."""

    account: str
    region: str


class CopyTargetStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: str,
        targets: Sequence[CopyTarget],
        retain: bool,
        log_retention_days: int,
        source: SourceIdentity | None = None,
        staging_bucket_name: str | None = None,
        copies_bus_name: str | None = None,
        alert_emails: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self._retain = retain
        self._log_retention = log_retention(log_retention_days)
        self._bus: events.EventBus | None = None
        self.source_tables = sorted({target.source_table for target in targets})
        Tags.of(self).add("project", "ddb-datapipeline")
        Tags.of(self).add("environment", environment)
        if source is not None:
            # Retained whatever retain_data says: once it is gone, anyone could create a bucket of
            # this name in their own account (the source side also pins s3:ResourceAccount).
            self.staging = ExportBucket(
                self,
                "StagingBucket",
                retain=True,
                export_retention_days=14,
                transition_after_days=None,
                transition_storage_class="GLACIER_IR",
                log_retention_days=log_retention_days,
                kms_encrypted=False,
                bucket_name=staging_bucket_name,
            )
            self._environment = environment
            for target in targets:
                if target.nodes_role_name:
                    self._admit_to_staging(source, target)
                if target.native_roles:
                    self._admit_native_export(source, target)
                if target.forward_rule:
                    self._native_import_machine(source, target, copies_bus_name, alert_emails)
                elif target.native_roles:
                    self._native_import_role(source, target)
            CfnOutput(self, "StagingBucketName", value=self.staging.bucket.bucket_name)
        for target in targets:
            if not target.copy.owned or target.source_shape is None:
                continue
            self._declare(target, source)

    def _admit_to_staging(self, source: SourceIdentity, target: CopyTarget) -> None:
        """The copy's node role may write, read and delete under its own staging folder, create that
        folder's ancestors as EMRFS does, and list them; nothing else of the bucket."""
        bucket = self.staging.bucket
        prefix = copy_staging_prefix(target.source_table, target.copy.label)
        ancestors = folder_ancestors(prefix)
        admitted = self._admit(source, target)
        sid = output_key(f"{target.source_table} {target.copy.label}")
        for suffix, actions, resources, extra in (
            ("Objects", list(EXPORT_WRITES), [bucket.arn_for_objects(f"{prefix}/*")], {}),
            ("Folders", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
             [bucket.arn_for_objects(f"{a}{FOLDER_MARKER}") for a in [*ancestors, prefix]], {}),
            ("Ancestors", ["s3:GetObject"], [bucket.arn_for_objects(a) for a in [*ancestors, prefix]], {}),
            ("List", ["s3:ListBucket"], [bucket.bucket_arn],
             {"StringLike": {"s3:prefix": [f"{prefix}/*", prefix, *(f"{a}/" for a in ancestors)]}}),
            ("Location", ["s3:GetBucketLocation"], [bucket.bucket_arn], {}),
        ):
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"{sid}{suffix}",
                    principals=[iam.AccountPrincipal(source.account)],
                    actions=actions,
                    resources=resources,
                    conditions={**admitted, **extra},
                )
            )

    def _admit(self, source: SourceIdentity, target: CopyTarget) -> dict[str, Any]:
        """The principal is the source account, narrowed to the copy's role: a role ARN as principal
        would be refused while that role does not exist yet, and the two stacks deploy in either order."""
        role = target.native_roles[0] if target.native_roles else target.nodes_role_name
        return {"ArnEquals": {"aws:PrincipalArn": f"arn:{self.partition}:iam::{source.account}:role/{role}"}}

    def _admit_native_export(self, source: SourceIdentity, target: CopyTarget) -> None:
        """A native copy's export writes into the copy's staging folder as its machine's role."""
        bucket = self.staging.bucket
        bucket.add_to_resource_policy(iam.PolicyStatement(
            sid=f"{output_key(f'{target.source_table} {target.copy.label}')}Export",
            principals=[iam.AccountPrincipal(source.account)], actions=list(NATIVE_EXPORT_WRITES),
            resources=[bucket.arn_for_objects(f"{copy_staging_prefix(target.source_table, target.copy.label)}/*")],
            conditions=self._admit(source, target),
        ))

    def _native_import_machine(self, source: SourceIdentity, target: CopyTarget, bus_name: str | None,
                               alert_emails: Sequence[str]) -> None:
        """A native copy from another region: an import machine here, started from the copies' bus by the
        events the source region's rule forwards (another account's only from that rule)."""
        assert target.copy.target_prefix is not None and target.forward_rule is not None and bus_name is not None
        shape = target.source_shape
        if shape is None:  # the configuration refuses a native copy of a referenced table
            raise ValueError(f"{target.source_table}: a native copy needs the source table's key schema")
        if self._bus is None:
            self._bus = events.EventBus(self, "CopiesBus", event_bus_name=bus_name,
                                        description="Exports of native DynamoDB copies, announced by their source regions")
            self._admitted: list[iam.PolicyStatement] = []  # the source accounts' forward rules, one statement each
            self._forward_rules: list[str] = []
            self._alerts = AlertTopic.of(self, emails=alert_emails)  # the stack's shared topic, id "Alerts"
            CfnOutput(self, "AlertTopicArn", value=self._alerts.topic.topic_arn)
        # The forward rule sits on the copy's own announce bus in the source region: its ARN is rule/<bus>/<rule>.
        rule_arn = (f"arn:{self.partition}:events:{source.region}:{source.account}:rule/"
                    f"{announce_bus_name(target.forward_rule)}/{target.forward_rule}")
        bus_arn = f"arn:{self.partition}:events:{self.region}:{self.account}:event-bus/{bus_name}"
        self._forward_rules.append(rule_arn)
        if target.copy.cross_account:  # one policy on the bus itself (an EventBusPolicy resource per statement is deprecated)
            self._admitted.append(iam.PolicyStatement(
                sid=output_key(f"{target.source_table} {target.copy.label}"), principals=[iam.AccountPrincipal(source.account)],
                actions=["events:PutEvents"], resources=[bus_arn], conditions={"ArnEquals": {"aws:SourceArn": rule_arn}},
            ))
        self._only_forward_rules(bus_arn)
        props = table_props(shape)
        imports = NativeCopyImport(
            self, f"NativeCopyImport-{target.source_table}-{target.copy.target_prefix}", bus=self._bus, copy=copy_event_id(target.source_table, target.copy),
            source_table=target.source_table, bucket=self.staging.bucket,
            prefix=copy_staging_prefix(target.source_table, target.copy.label), target_prefix=target.copy.target_prefix,
            partition_key=props["partition_key"], sort_key=props["sort_key"], alert_topic=self._alerts.topic,
            alert_key=self._alerts.key, environment=self._environment, table_key=self._copy_key(target, shape),
            log_retention=self._log_retention,
        )
        CfnOutput(self, f"{output_key(f'{target.source_table} copy {target.copy.target_prefix}')}ImportStateMachineArn",
                  value=imports.state_machine.state_machine_arn,
                  description=f"Imports the copies of {target.source_table} exported from {source.region} into new tables {target.copy.target_prefix}-...")

    def _copy_key(self, target: CopyTarget, shape: OwnedTable, *, alias: str | None = None) -> kms.IKey | None:
        """The key of a native copy's new tables here when its source is on a customer managed key: a key of this
        stack (the source's key is in another region, or account, and a DynamoDB table's key is of its own region)."""
        if shape.encryption != "CUSTOMER_MANAGED":
            return None
        assert target.copy.target_prefix is not None
        return kms.Key(
            self, f"CopyKey-{target.source_table}-{target.copy.target_prefix}", enable_key_rotation=True,
            description=f"Encrypts the native copies {target.copy.target_prefix}-... of DynamoDB table {target.source_table}",
            # The copies outlive the stack (an import's table is not a resource of it), so their key must too.
            removal_policy=RemovalPolicy.RETAIN, alias=alias,
        )

    def _only_forward_rules(self, bus_arn: str) -> None:
        """Deny PutEvents on the copies' bus to anything but the forward rules of its copies (aws:SourceArn, which
        EventBridge sets when a rule delivers; a direct PutEvents call has none, so the Deny holds): a principal of
        this account, whose identity policy could allow PutEvents, cannot start an import with a forged event."""
        statement = iam.PolicyStatement(
            sid="OnlyTheForwardRules", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()], actions=["events:PutEvents"],
            resources=[bus_arn], conditions={"ArnNotEquals": {"aws:SourceArn": sorted(self._forward_rules)}})
        cast(events.CfnEventBus, self._bus.node.default_child).policy = iam.PolicyDocument(statements=[*self._admitted, statement])

    def _native_import_role(self, source: SourceIdentity, target: CopyTarget) -> None:
        """A native copy from another account in its own region: its import runs here, as a role that
        trusts that machine's role only and may create only tables of the copy's prefix, from its folder."""
        assert target.native_roles is not None and target.copy.target_prefix is not None
        bucket = self.staging.bucket
        prefix = copy_staging_prefix(target.source_table, target.copy.label)
        admitted = self._admit(source, target)
        role = iam.Role(
            self, f"NativeImport-{target.source_table}-{target.copy.target_prefix}",
            role_name=target.native_roles[1],
            assumed_by=iam.AccountPrincipal(source.account).with_conditions(admitted),
            description=f"Imports native copies of {target.source_table} from account {source.account} into new tables {target.copy.target_prefix}-*",
        )
        tables = f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{target.copy.target_prefix}-*"
        role.add_to_principal_policy(iam.PolicyStatement(actions=["dynamodb:ImportTable"], resources=[tables]))
        role.add_to_principal_policy(iam.PolicyStatement(actions=["dynamodb:DescribeImport"], resources=[f"{tables}/import/*"]))
        if target.source_shape is None:  # the configuration refuses a native copy of a referenced table
            raise ValueError(f"{target.source_table}: a native copy needs the source table's shape")
        # The source's machine names this key by its alias in ImportTable's SSESpecification; the role here uses it.
        table_key = self._copy_key(target, target.source_shape, alias=copy_key_alias(target.native_roles[1]))
        grant_import(role, bucket=bucket, key=None, prefix=prefix, table_key=table_key, bucket_account=self.account)  # this stack's staging bucket
        acknowledge_wildcards(role, import_wildcard_reason)

    def _admit_to_key(self, source: SourceIdentity, target: CopyTarget, key: kms.IKey, table_name: str) -> None:
        """DynamoDB uses the table's key with the caller's own KMS authorization ("How Amazon DynamoDB uses AWS
        KMS"), so the source account's node role needs the key policy (here) as well as its identity policy (there,
        pipeline_roles.TABLE_KEY_WRITE): the write actions for this one table through DynamoDB, and DescribeKey,
        which carries no encryption context, in a statement of its own."""
        through_dynamodb = {"kms:ViaService": f"dynamodb.{self.region}.amazonaws.com"}
        admitted = self._admit(source, target)
        sid = output_key(f"{target.source_table} {target.copy.label}")
        for suffix, actions, context in (
            ("Write", TABLE_KEY_WRITE, {"kms:EncryptionContext:aws:dynamodb:tableName": table_name}),
            ("Describe", TABLE_KEY_METADATA, {}),
        ):
            key.add_to_resource_policy(iam.PolicyStatement(
                sid=f"{sid}{suffix}", principals=[iam.AccountPrincipal(source.account)], actions=list(actions), resources=["*"],
                conditions={**admitted, "StringEquals": {**through_dynamodb, **context}},
            ))

    def _declare(self, target: CopyTarget, source: SourceIdentity | None) -> None:
        shape = target.source_shape
        if shape is None:  # the caller declares only owned targets, which take the source's shape
            raise ValueError(f"{target.copy.target_table}: an owned copy target needs the source table's shape")
        name = target.copy.target_table
        policy = None
        if source is not None and target.nodes_role_name:
            table_arn = f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{name}"
            policy = iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        sid="SourceNodesWriteCopies",
                        principals=[iam.AccountPrincipal(source.account)],
                        actions=list(BATCH_WRITE),
                        resources=[table_arn],
                        conditions=self._admit(source, target),
                    )
                ]
            )
        props = table_props(shape)
        # A source on a customer managed key keeps its copy on one: this stack's own key, whose policy admits the
        # copy's node role. Other sources: AWS managed keys (aws/dynamodb) cannot be used from another account, so a
        # copy written from another account stays on the AWS owned key.
        on_cmk = shape.encryption == "CUSTOMER_MANAGED"
        table = DataTable(
            self,
            f"Table-{name}",
            table_name=name,
            partition_key=props["partition_key"],
            sort_key=props["sort_key"],
            encryption=encryption("AWS_OWNED") if policy and not on_cmk else props["encryption"],
            point_in_time_recovery=shape.point_in_time_recovery,
            resource_policy=policy,
            retain=self._retain,
        )
        if policy is not None and source is not None and table.key is not None:
            self._admit_to_key(source, target, table.key, name)
        CfnOutput(self, f"Target{output_key(name)}", value=name)
