"""The public pipeline constructs: export a table, restore an export, copy a table into another.

Each takes CDK interfaces (``ITable``, ``IBucket``, ``ITopic``) and derives what it can from them:
the table's name and key, the bucket's key. What is not given is created once per stack and shared:
the alert topic (``AlertTopic.of``) and the ``PipelineRoles``. Each pipeline gets a node role of its own (its EMR cluster's
identity), so a cluster reaches only its own table(s), folders and keys.
"""
from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnResource, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..definition.common import PipelineSettings, ScheduleSpec
from ..definition.copy import CopySpec, build_copy_definition
from ..definition.emr import ClusterSpec
from ..definition.export import ExportSpec, build_export_definition
from ..definition.generated_names import name_from_path
from ..definition.hive_copy import CopySelection, HiveCopySpec, build_hive_copy_definition
from ..definition.model import PipelineDefinition
from ..definition.restore import RestoreSpec, build_restore_definition
from .alert_topic import alerts_for, check_alerts
from .data_pipeline import DataPipeline
from .export_bucket import COPIES_PREFIX, exports_prefix, logs_prefix, s3_uri
from .pipeline_roles import BATCH_WRITE, EXPORT_WRITES, LOG_WRITES, READS, SCAN, NodeRole, PipelineRoles, PrefixAccess, TableRef
from .props import (
    PipelineConfigurationError as PipelineConfigurationError,
)
from .props import (
    check_bool,
    check_cluster,
    check_environment,
    check_ratio,
    check_schedule,
    check_table_name,
    construct_path,
    refuse,
)
from .reads import attribute, read_once

PIPELINE_NAME_PREFIX = "ddb"
SERVICE_LOG_ACCESS = ("s3:GetObject", "s3:PutObject")
DAILY = ScheduleSpec("1 day")
ROLES_ID = "DdbPipelineRoles"


def copy_staging_prefix(table_name: str, label: str) -> str:
    """The folder of a copy's staging runs, in the source's bucket or the target account's."""
    return f"{COPIES_PREFIX}/{table_name}-to-{label}"


def fixed_table_name(table: dynamodb.ITable) -> str | None:
    """The table's name when the app fixes it (given, or the name of a referenced table); None when CloudFormation
    names the table at deploy (its name is a token)."""
    name: str = attribute(table, "table_name")
    if not read_once(table, "name_is_token", lambda: Token.is_unresolved(name)):
        return name
    resource = table.node.default_child
    declared = getattr(resource, "table_name", None)
    if isinstance(declared, str) and not Token.is_unresolved(declared):
        return declared
    return None


def physical_table_name(table: dynamodb.ITable) -> str:
    """The table's name as the definitions and state machines take it: the fixed name, else the token that
    CloudFormation resolves to the name it gave the table (``Ref`` of the table, or its import across stacks)."""
    fixed = fixed_table_name(table)
    return fixed if fixed is not None else table.table_name


def generated_name_start(table: dynamodb.ITable) -> str | None:
    """For a table this app declares without a name, the start of the name CloudFormation gives it at deploy:
    ``<stack name>-<logical id>``, then a random suffix (inferred from the names CloudFormation generates for resources
    without a name; a logical id is letters and digits only). None for a table with a fixed name, or one only referenced."""
    if fixed_table_name(table) is not None:
        return None
    resource = table.node.default_child
    if not isinstance(resource, CfnResource):
        return None
    stack = Stack.of(resource)
    if Token.is_unresolved(stack.stack_name):
        return None
    return f"{stack.stack_name}-{stack.resolve(resource.logical_id)}"


class _TableNames:
    """The names the tables used by a stack's constructs go by in folders and resource names, and which table has
    each. Two tables with one fixed name are one table referenced twice; a name derived from a construct path that
    another table also goes by would put two tables' exports in one folder and give their pipelines one name, so it
    is refused naming both tables. Kept beside the stack, not in its construct tree, so an app whose tables all have
    fixed names synthesizes exactly as before (jsii hands back one Python object per stack)."""

    _by_stack: weakref.WeakKeyDictionary[Stack, _TableNames] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.owners: dict[str, tuple[str, bool]] = {}

    @classmethod
    def of(cls, stack: Stack) -> _TableNames:
        found = cls._by_stack.get(stack)
        if found is None:
            found = cls._by_stack[stack] = cls()
        return found

    def claim(self, name: str, path: str, *, derived: bool) -> None:
        owner, owner_derived = self.owners.setdefault(name, (path, derived))
        if owner != path and (derived or owner_derived):
            raise PipelineConfigurationError(
                f"{owner} and {path}: both tables would go by the name {name!r} in export folders and resource names (a table "
                "without a fixed name goes by its construct path); give one of them table_name or another construct id"
            )


def table_label(table: dynamodb.ITable, *, scope: Construct) -> str:
    """The name ``table``'s folders and resources (pipelines, roles, state machines) are named after: its fixed name,
    else one derived from its construct path (``definition/generated_names.py`` name_from_path), so a table that
    CloudFormation names works as one with a fixed name. ``scope``: the construct using the table; its stack keeps the
    names in use, so two tables going by one name are refused."""
    return _claimed_label(table, fixed_table_name(table), scope=scope)


def _claimed_label(table: dynamodb.ITable, fixed: str | None, *, scope: Construct) -> str:
    """``table_label`` once ``fixed`` (``fixed_table_name(table)``) is known."""
    path: str = read_once(table, "path", lambda: table.node.path)
    label = fixed if fixed is not None else name_from_path(path)
    _TableNames.of(Stack.of(scope)).claim(label, path, derived=fixed is None)
    return label


def table_ref(table: dynamodb.ITable, *, scope: Construct) -> TableRef:
    """The table's ARN and key: a table this app declares has its key (or none, for AWS-owned and
    AWS-managed keys); one it only references may use a key this app cannot name.

    Each property is read once (every read is a round trip to the jsii Node process, and a synth makes a TableRef
    for every pipeline and state machine): ``physical_table_name`` and ``table_label`` from one ``fixed_table_name``."""
    declared = isinstance(table, (dynamodb.Table, dynamodb.TableV2))
    key = attribute(table, "encryption_key")
    fixed = fixed_table_name(table)
    region, account = read_once(table, "region and account", lambda: _region_and_account(table.env))
    return TableRef(
        attribute(table, "table_arn"),
        fixed if fixed is not None else attribute(table, "table_name"),
        region,
        account,
        key=key,
        key_elsewhere=key is None and not declared,
        label=_claimed_label(table, fixed, scope=scope),
    )


def default_roles(scope: Construct) -> PipelineRoles:
    """The stack's one ``PipelineRoles``, created by the first pipeline that is given none."""
    stack = Stack.of(scope)
    found = stack.node.try_find_child(ROLES_ID)
    return found if isinstance(found, PipelineRoles) else PipelineRoles(stack, ROLES_ID)


def _region_and_account(env: Any) -> tuple[str, str]:  # a ResourceEnvironment
    return env.region, env.account


def bucket_key_of(where: str, bucket: s3.IBucket, bucket_key: kms.IKey | None) -> kms.IKey | None:
    """The KMS key the constructs grant on for ``bucket``: ``bucket_key`` when given, else the key the bucket object
    carries. A bucket whose CloudFormation resource names a KMS key that the bucket object does not carry (one made with
    ``Bucket.from_cfn_bucket``, or changed through an escape hatch) needs ``bucket_key``: without it no role is granted
    that key, and every write and read of the exports is denied at run time, which only a later check would tell."""
    if bucket_key is not None:
        return bucket_key
    carried = attribute(bucket, "encryption_key")
    if carried is not None:
        return carried
    resource = bucket.node.default_child
    if isinstance(resource, s3.CfnBucket):
        encryption = Stack.of(bucket).resolve(resource.bucket_encryption) or {}
        for rule in encryption.get("serverSideEncryptionConfiguration") or []:
            default = rule.get("serverSideEncryptionByDefault") or {}
            key_id = default.get("kmsMasterKeyId")
            if str(default.get("sseAlgorithm", "")).startswith("aws:kms") and key_id:
                raise refuse(where, "bucket_key", None, f"the KMS key {shown_key(key_id)} that bucket {bucket.node.path} is encrypted "
                                                        "with, as an IKey (writing and reading the exports needs kms:GenerateDataKey "
                                                        "and kms:Decrypt on it)")
    return None


def shown_key(key_id: object) -> str:
    """A key id for a message: the literal, or 'given by reference' for a CloudFormation expression."""
    return key_id if isinstance(key_id, str) else "(a reference)"


def key_schema_words(table: dynamodb.ITable) -> str | None:
    """A declared table's key schema, as ``pk (S), sk (N)``; None when the app does not know it (an imported table)."""
    if not isinstance(table, dynamodb.Table):
        return None
    schema = table.schema_v2()
    keys = [*(schema.partition_keys or []), *(schema.sort_keys or [])]
    return ", ".join(f"{k.name} ({_ATTRIBUTE_TYPES.get(str(k.type), str(k.type))})" for k in keys)


# AttributeType's members as DynamoDB writes them (AttributeDefinition.AttributeType: S, N, B).
_ATTRIBUTE_TYPES = {str(dynamodb.AttributeType.STRING): "S", str(dynamodb.AttributeType.NUMBER): "N", str(dynamodb.AttributeType.BINARY): "B"}


class _TablePipeline(Construct):
    """What the three kinds share: roles, a node role, the log folder, settings, alarms, tags, and
    waiting for the permissions before activation."""

    kind = ""
    # What a pipeline creates or uses, typed for the team's code (aws-cdk L2s expose theirs the same way).
    alert_topic: sns.ITopic  # the topic its failures are published to: the given one, or the stack's shared AlertTopic's
    alert_key: kms.IKey | None  # that topic's key, when it has one
    roles: PipelineRoles  # the pipeline role (shared in the stack) that runs it and publishes its alarms
    nodes: NodeRole  # its EMR cluster's own role and instance profile
    pipeline: DataPipeline  # the CfnPipeline (``pipeline.resource``) and its checked definition
    pipeline_id: str  # the pipeline's id (df-...), a token until deploy

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table_name: str,
        bucket: s3.IBucket,
        bucket_key: kms.IKey | None,
        environment: str,
        roles: PipelineRoles | None,
        alert_topic: sns.ITopic | None,
        alert_key: kms.IKey | None,
        alarm_emails: Sequence[str],
        log_name: str,
        nodes_role_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.table_name = table_name
        self.environment = environment
        self.bucket = bucket
        self.bucket_key = bucket_key_of(self.node.path, bucket, bucket_key)
        self.roles = roles if roles is not None else default_roles(self)
        alert_topic, alert_key = alerts_for(self, topic=alert_topic, key=alert_key, emails=alarm_emails)
        self.alert_topic, self.alert_key = alert_topic, alert_key
        self.roles.grant_alarm(alert_topic, alert_key)
        self.log_prefix = logs_prefix(log_name)
        # This pipeline's own cluster identity: nothing another pipeline's nodes may use.
        self.nodes = NodeRole(self, "Nodes", description=f"EMR nodes of the {self.kind} pipeline {log_name}",
                              role_name=nodes_role_name or self.roles.node_role_name(log_name))
        self.roles.admit(self.nodes)
        self.settings = PipelineSettings(
            region=Stack.of(self).region,
            role=self.roles.pipeline_role.role_name,
            resource_role=self.nodes.instance_profile.instance_profile_name,
            log_uri=s3_uri(bucket, self.log_prefix) + "/",
            alarm_topic_arn=alert_topic.topic_arn,
        )
        self.name_prefix = f"{PIPELINE_NAME_PREFIX}-{environment}-{log_name}"

    def prefix(self, prefix: str, actions: tuple[str, ...], *, emrfs: bool = False, emrfs_writes: bool = False) -> PrefixAccess:
        """Access to a prefix of this pipeline's bucket."""
        return PrefixAccess(self.bucket, self.bucket_key, prefix, actions, emrfs=emrfs or emrfs_writes, emrfs_writes=emrfs_writes)

    def _grant(self, *, tables: Sequence[tuple[TableRef, tuple[str, ...]]], node_prefixes: Sequence[PrefixAccess],
               service_prefixes: Sequence[PrefixAccess] = ()) -> list[iam.Policy]:
        logs_for_nodes = self.prefix(self.log_prefix, LOG_WRITES)
        logs_for_service = self.prefix(self.log_prefix, SERVICE_LOG_ACCESS)
        return self.roles.grant_pipeline(
            self,
            nodes=self.nodes,
            tables=tables,
            node_prefixes=[*node_prefixes, logs_for_nodes],
            service_prefixes=[logs_for_service, *service_prefixes],
        )

    def _declare(self, *, description: str, definition: PipelineDefinition, activate: bool, granted: list[iam.Policy],
                 tables: Sequence[TableRef]) -> None:
        self.pipeline = DataPipeline(
            self,
            "Pipeline",
            name_prefix=self.name_prefix,
            description=description,
            definition=definition,
            activate=activate,
            # A table CloudFormation names is in the definition as a token; the validator reads it as the name it goes by.
            stand_ins={t.table_name: t.named for t in tables if Token.is_unresolved(t.table_name)},
            # dynamodbdatapipeline=true is the tag AWS's restricted-access setup keys its conditions on.
            tags={
                "dynamodbdatapipeline": "true",
                "ddb-datapipeline:kind": self.kind,
                "ddb-datapipeline:table": self.table_name,
                "ddb-datapipeline:environment": self.environment,
                # Data Pipeline puts it on the clusters it launches: only this pipeline's node role may run steps there.
                **self.roles.cluster_tags(self.nodes),
            },
        )
        self.pipeline_id = self.pipeline.pipeline_id
        # Activation uses the roles at once, so their policies must exist first (in one call: a round trip to the jsii
        # Node process per policy otherwise; the node keeps them in the same order).
        self.pipeline.node.add_dependency(*self.roles.shared_policies, *granted)


class ExportPipeline(_TablePipeline):
    """Exports ``table`` into ``exports/<table>/<run time>/`` of ``bucket`` every day (``schedule``),
    or once per activation with ``schedule=None``. Activated on deploy: a scheduled export starts at its
    first period, an on-demand one runs once.

    ``bucket_key`` is needed only for an imported bucket whose KMS key the bucket object does not carry;
    ``roles`` defaults to the stack's shared roles, ``alert_topic`` to the stack's shared ``AlertTopic``;
    ``alarm_emails`` are subscribed to whichever topic it alerts (each address once per topic)."""

    kind = "export"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.ITable,
        bucket: s3.IBucket,
        bucket_key: kms.IKey | None = None,
        schedule: ScheduleSpec | None = DAILY,
        read_ratio: float = 0.25,
        compress: bool = True,
        cluster: ClusterSpec = ClusterSpec(),
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        alarm_emails: Sequence[str] = (),
        roles: PipelineRoles | None = None,
        environment: str = "default",
    ) -> None:
        where = construct_path(scope.node.path, id)
        schedule = check_schedule(where, "schedule", schedule)
        read_ratio = check_ratio(where, "read_ratio", read_ratio)
        compress = check_bool(where, "compress", compress)
        cluster = check_cluster(where, "cluster", cluster)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        source = table_ref(table, scope=scope)
        super().__init__(scope, id, table_name=source.table_name, bucket=bucket, bucket_key=bucket_key, environment=environment,
                         roles=roles, alert_topic=alert_topic, alert_key=alert_key, alarm_emails=alarm_emails, log_name=f"{source.named}-export")
        prefix = exports_prefix(source.named)
        granted = self._grant(tables=[(source, SCAN)], node_prefixes=[self.prefix(prefix, EXPORT_WRITES, emrfs_writes=True)])
        spec = ExportSpec(table_name=source.table_name, output_uri=s3_uri(bucket, prefix), read_ratio=read_ratio, cluster=cluster,
                          schedule=schedule, compress=compress)
        when = f"every {schedule.period}" if schedule else "on demand"
        self._declare(
            description=f"Exports DynamoDB table {source.table_name} to S3 {when}",
            definition=build_export_definition(spec, self.settings),
            activate=True,
            granted=granted,
            tables=[source],
        )


class RestorePipeline(_TablePipeline):
    """Imports one export folder of ``source`` (chosen at activation) into ``target``; never
    activated on deploy. ``target`` may be ``source`` itself."""

    kind = "restore"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: dynamodb.ITable,
        target: dynamodb.ITable,
        bucket: s3.IBucket,
        bucket_key: kms.IKey | None = None,
        write_ratio: float = 0.5,
        cluster: ClusterSpec = ClusterSpec(),
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        alarm_emails: Sequence[str] = (),
        roles: PipelineRoles | None = None,
        environment: str = "default",
    ) -> None:
        where = construct_path(scope.node.path, id)
        write_ratio = check_ratio(where, "write_ratio", write_ratio)
        cluster = check_cluster(where, "cluster", cluster)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        # The connector writes the items as exported: into a table keyed otherwise, every write fails at run time.
        expected, found = key_schema_words(source), key_schema_words(target)
        if expected is not None and found is not None and expected != found:
            raise refuse(where, "target", target.node.path, f"a table with the source's key schema {expected} (it has {found}); a "
                                                            "restore writes the items as they were exported")
        read = table_ref(source, scope=scope)  # only its name and label: the restore reads the export, not the table
        source_name = read.table_name
        written = table_ref(target, scope=scope)
        super().__init__(scope, id, table_name=source_name, bucket=bucket, bucket_key=bucket_key, environment=environment,
                         roles=roles, alert_topic=alert_topic, alert_key=alert_key, alarm_emails=alarm_emails, log_name=f"{read.named}-restore")
        prefix = exports_prefix(read.named)
        granted = self._grant(
            tables=[(written, BATCH_WRITE)],
            node_prefixes=[self.prefix(prefix, READS, emrfs=True)],
            # The manifest precondition is evaluated by the service, as the pipeline role.
            service_prefixes=[self.prefix(prefix, READS)],
        )
        spec = RestoreSpec(source_table_name=source_name, target_table_name=written.table_name, exports_uri=s3_uri(bucket, prefix),
                           write_ratio=write_ratio, cluster=cluster)
        self._declare(
            description=f"Restores an export of DynamoDB table {source_name} into {written.table_name}",
            definition=build_restore_definition(spec, self.settings),
            activate=False,
            granted=granted,
            tables=[read, written],
        )


@dataclass(frozen=True)
class CopyDestination:
    """Where a copy writes: ``table`` when this app declares it in the source's stack, otherwise
    ``table_name`` with its ``region`` and ``account`` when they differ from the source's.

    Into another account, the copy stages its files in that account's ``staging_bucket`` (S3-managed
    encryption, so no key policy crosses accounts), and its node role needs the fixed
    ``nodes_role_name`` that the other account's bucket and table policies admit."""

    table: dynamodb.ITable | None = None
    table_name: str | None = None
    region: str | None = None
    account: str | None = None
    staging_bucket: s3.IBucket | None = None
    nodes_role_name: str | None = None


class CopyPipeline(_TablePipeline):
    """Copies ``source`` into ``destination`` through a staging folder: an export on a cluster in the
    source's region, an import on a cluster in the destination's, then a cleanup. Activated on deploy
    like an export (a scheduled copy starts at its first period, an on-demand one runs once)."""

    kind = "copy"

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: dynamodb.ITable,
        destination: CopyDestination,
        bucket: s3.IBucket,
        bucket_key: kms.IKey | None = None,
        schedule: ScheduleSpec | None = None,
        read_ratio: float = 0.25,
        write_ratio: float = 0.5,
        cluster: ClusterSpec = ClusterSpec(),
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        alarm_emails: Sequence[str] = (),
        roles: PipelineRoles | None = None,
        environment: str = "default",
        selection: CopySelection | None = None,
    ) -> None:
        where = construct_path(scope.node.path, id)
        schedule = check_schedule(where, "schedule", schedule)
        read_ratio = check_ratio(where, "read_ratio", read_ratio)
        write_ratio = check_ratio(where, "write_ratio", write_ratio)
        cluster = check_cluster(where, "cluster", cluster)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        if not isinstance(destination, CopyDestination):
            raise refuse(where, "destination", destination, "a CopyDestination")
        if selection is not None and not isinstance(selection, CopySelection):
            raise refuse(where, "selection", selection, "a CopySelection or None")
        read = table_ref(source, scope=scope)
        home = Stack.of(scope)
        target = _destination_ref(where, destination, home)
        cross_account = target.account != home.account
        label = "-".join([target.named, *([target.account] if cross_account else []), target.region])
        if cross_account and (destination.staging_bucket is None or destination.nodes_role_name is None):
            raise PipelineConfigurationError(
                f"{where}: a copy into account {target.account} needs destination.staging_bucket (that account's) and "
                "destination.nodes_role_name (the role its policies admit)"
            )
        super().__init__(scope, id, table_name=read.table_name, bucket=bucket, bucket_key=bucket_key, environment=environment,
                         roles=roles, alert_topic=alert_topic, alert_key=alert_key, alarm_emails=alarm_emails, log_name=f"{read.named}-copy-{label}",
                         nodes_role_name=destination.nodes_role_name)
        if selection is not None:  # one cluster, in the source's region: the target's region starts none
            self._selective(read=read, target=target, label=label, selection=selection, schedule=schedule, read_ratio=read_ratio,
                            write_ratio=write_ratio, cluster=cluster, cross_account=cross_account)
            return
        self.roles.use_region(target.region)  # the import's cluster runs there
        prefix = copy_staging_prefix(read.named, label)
        if destination.staging_bucket is None:
            staging = self.prefix(prefix, EXPORT_WRITES, emrfs_writes=True)
            staging_uri = s3_uri(bucket, prefix)
        else:
            # Another account's bucket, addressed by name: every statement pins that account.
            staging = PrefixAccess(destination.staging_bucket, None, prefix, EXPORT_WRITES, emrfs=True, emrfs_writes=True,
                                   owner_account=target.account)
            staging_uri = s3_uri(destination.staging_bucket, prefix)
        granted = self._grant(tables=[(read, SCAN), (target, BATCH_WRITE)], node_prefixes=[staging])
        spec = CopySpec(
            source_table_name=read.table_name,
            target_table=target.table_arn if cross_account else target.table_name,
            target_region=target.region,
            staging_uri=staging_uri,
            read_ratio=read_ratio,
            write_ratio=write_ratio,
            cluster=cluster,
            schedule=schedule,
            cross_account=cross_account,
        )
        when = f"every {schedule.period}" if schedule else "on demand"
        self.label = label
        self._declare(
            description=f"Copies DynamoDB table {read.table_name} into {target.table_name} in {target.region} {when}",
            definition=build_copy_definition(spec, self.settings),
            activate=True,
            granted=granted,
            tables=[read, target],
        )

    def _selective(self, *, read: TableRef, target: TableRef, label: str, selection: CopySelection, schedule: ScheduleSpec | None,
                   read_ratio: float, write_ratio: float, cluster: ClusterSpec, cross_account: bool) -> None:
        """A filtered or incremental copy: one Hive job from table to table, no staging folder (so no
        grant on the bucket beyond the logs)."""
        if cross_account:
            raise PipelineConfigurationError(f"{self.node.path}: a filtered or incremental copy into account {target.account} is not "
                                             "supported (its Hive job writes the target by name, in the cluster's account)")
        if selection.incremental is not None and schedule is None:
            raise PipelineConfigurationError(f"{self.node.path}: an incremental copy needs a schedule (its window is the time since "
                                             "the previous run)")
        # The count after the run (hive_verify) reads the target too. No Query: the cluster turns the storage handler's
        # filter pushdown off (definition/emr.py HIVE_SETTINGS), so every filtered read is a Scan.
        target_actions = tuple(dict.fromkeys((*BATCH_WRITE, *SCAN))) if selection.verify_keys else BATCH_WRITE
        granted = self._grant(tables=[(read, SCAN), (target, target_actions)], node_prefixes=[])
        spec = HiveCopySpec(source_table_name=read.table_name, target_table=target.table_name, target_region=target.region,
                            read_ratio=read_ratio, write_ratio=write_ratio, cluster=cluster, selection=selection, schedule=schedule)
        when = f"every {schedule.period}" if schedule else "on demand"
        self.label = label
        self.selection = selection
        self._declare(
            description=f"Copies DynamoDB table {read.table_name} into {target.table_name} in {target.region} {when}: "
                        f"{selection.words(schedule.period if schedule else None)}"[:1024],
            definition=build_hive_copy_definition(spec, self.settings),
            activate=True,
            granted=granted,
            tables=[read, target],
        )


def _destination_ref(where: str, destination: CopyDestination, home: Stack) -> TableRef:
    if (destination.table is None) == (destination.table_name is None):
        raise PipelineConfigurationError(f"{where}: destination: give exactly one of table (declared here) and table_name")
    if destination.table is not None:
        return table_ref(destination.table, scope=home)
    name = check_table_name(where, "destination.table_name", destination.table_name, names="the copy's staging folder, roles and pipeline")
    region = destination.region or home.region
    account = destination.account or home.account
    # Declared in another stack, or not by this app: its key cannot be named here. A table in another
    # account is reached through its resource policy; when it is on a customer managed key of that account
    # (the copy target of a source on one), that key's policy admits the node role, which needs the grant too.
    return TableRef(f"arn:{home.partition}:dynamodb:{region}:{account}:table/{name}", name, region, account, key_elsewhere=True, label=name)
