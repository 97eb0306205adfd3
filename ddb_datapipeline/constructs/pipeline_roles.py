"""The identities a DynamoDB pipeline runs as, each granted what the runtime model says it calls.

AWS's console setup uses AWSDataPipelineRole and AmazonEC2RoleforDataPipelineRole, which allow
DynamoDB, S3 and iam:PassRole on everything, and one resource role for every cluster. Here:

- one pipeline role per stack (Data Pipeline, and EMR's service role), which may run and manage EMR
  clusters, pass the stack's roles to EMR and EC2, write each pipeline's logs and publish alarms;
- one node role (and its instance profile) per pipeline, so the cluster of one pipeline can touch
  only its own table(s), folders and keys: an export's nodes have no write action on any table, a
  restore's nodes read only their table's exports.

Every statement answers a row of ``permissions/runtime_calls.py``; a test evaluates the model's
requests against these policies, and fails on a grant no request uses.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Aws, Stack, Tags, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..definition.generated_names import ACCEPTANCE_SUFFIX, MAX_NODE_ROLE_PREFIX, MAX_ROLE_NAME, shortened
from ..permissions import runtime_calls as calls
from .acknowledge import acknowledge_wildcards
from .props import PipelineConfigurationError, check_bool, construct_path, refuse
from .reads import attribute

EMR_SERVICE_EC2_ACTIONS = sorted({*calls.EMR_CREATES, *calls.EMR_MODIFIES, *calls.EMR_DESCRIBES})
EMR_CLUSTER_ACTIONS = list(calls.DP_CLUSTER_CALLS)
TASK_RUNNER_CLUSTER_ACTIONS = list(calls.TASK_RUNNER_CLUSTER_CALLS)

EXPORT_WRITES = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
READS = ("s3:GetObject",)
LOG_WRITES = ("s3:PutObject",)
SCAN = ("dynamodb:DescribeTable", "dynamodb:Scan")
# A filtered copy reads through the connector's Hive storage handler, which turns a filter on a table's (or an
# index's) full key into a Query of that table or index (emr-dynamodb-hive DynamoDBFilterPushdown.java, on by default).
BATCH_WRITE = ("dynamodb:DescribeTable", "dynamodb:BatchWriteItem")
# What DynamoDB needs of the caller on a table's customer managed key (runtime_calls: table_cmk rows): the
# cryptographic operations, which carry the table's encryption context, and DescribeKey, which carries none
# (KMS API Reference, GrantConstraints: DescribeKey is not an operation that accepts an encryption context;
# the Service Authorization Reference lists only kms:CallerAccount, kms:RequestAlias and kms:ViaService
# for it), so it gets a statement of its own. Writes use GenerateDataKey*, the form DynamoDB documents
# for a customer managed key's key policy.
TABLE_KEY_READ = ("kms:Decrypt",)
TABLE_KEY_WRITE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*")
TABLE_KEY_METADATA = ("kms:DescribeKey",)
FOLDER_MARKER = "_$folder$"
NODE_ROLES_REASON = (
    "The node roles of this stack's pipelines, by the name prefix they all share (one statement whatever "
    "the number of pipelines, so the shared role's policy stays within IAM's size limit)."
)
PREFIX_REASON = (
    "Object keys under this pipeline's own prefixes: run folders are named at run time, so the grant "
    "is a prefix, never the whole bucket."
)
DATA_KEY_REASON = (
    "kms:GenerateDataKey* is the form DynamoDB documents for a table on a customer managed key (the key policy of 'How "
    "Amazon DynamoDB uses AWS KMS'), which does not say which data-key action DynamoDB calls; the grant is on the table's "
    "key only, through DynamoDB (kms:ViaService) and for this one table (encryption context aws:dynamodb:tableName)."
)
SCRATCH_TABLES_REASON = (
    "The acceptance run's scratch tables of this table (<table>-acceptance-<run id>, named at run time): the environment "
    "states acceptance: true, so a copy of each pipeline can be run against tables the run creates and deletes instead "
    "of the configured ones."
)
TABLE_KEY_REASON = (
    "The key of a table declared in another stack, or only referenced, cannot be named here; the grant "
    "is limited to DynamoDB's use (kms:ViaService), and its cryptographic actions to this one table (encryption "
    "context aws:dynamodb:tableName); DescribeKey, which reads only the key's metadata, carries no encryption context."
)


@dataclass(frozen=True)
class PrefixAccess:
    """Object actions on one prefix of one bucket, with listing that prefix and using the bucket's key.

    ``emrfs_writes``: EMRFS creates the folder's ancestors (it looks for each ancestor's key, writes
    their ``_$folder$`` markers and lists their prefixes). ``owner_account``: the bucket belongs to
    another account; every statement then pins ``s3:ResourceAccount`` so a bucket of that name in
    anyone else's account is never written."""

    bucket: s3.IBucket
    key: kms.IKey | None
    prefix: str
    actions: tuple[str, ...]
    emrfs: bool = False  # read or written by EMRFS on the cluster (it asks for the bucket's location)
    emrfs_writes: bool = False
    owner_account: str | None = None

    def ancestors(self) -> list[str]:
        return calls.folder_ancestors(self.prefix)


@dataclass(frozen=True)
class TableRef:
    """A table a pipeline reads or writes, and its key when it may be encrypted with one.

    ``key`` is the table's customer managed key when this stack declares it; ``key_elsewhere`` is set
    for a table whose key this stack cannot name (only referenced, or declared in another stack)."""

    table_arn: str
    table_name: str
    region: str
    account: str
    key: kms.IKey | None = None
    key_elsewhere: bool = False
    # The name its folders and resources are named after: ``table_name`` when fixed, else one derived from the
    # table's construct path (``table_pipelines.table_label``); ``table_name`` is then a token CloudFormation resolves.
    label: str = ""

    @property
    def named(self) -> str:
        """``label``, or the table's name where no label was given (a table addressed by its name)."""
        return self.label or self.table_name


def node_role_name(prefix: str, pipeline: str) -> str:
    """A pipeline's node role: the stack's node-role prefix and the pipeline's name, readable where it
    fits IAM's 64 characters."""
    return prefix + shortened(pipeline, MAX_ROLE_NAME - len(prefix))


class NodeRole(Construct):
    """The EC2 role of one pipeline's EMR nodes and its instance profile (of the same name, as EMR
    expects)."""

    def __init__(self, scope: Construct, id: str, *, description: str, role_name: str | None = None) -> None:
        super().__init__(scope, id)
        self.name = role_name  # as given: the role's own name is a reference to the deployed role
        self.role = iam.Role(self, "Role", role_name=role_name, description=description, assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
        self.instance_profile = iam.InstanceProfile(self, "InstanceProfile", role=self.role, instance_profile_name=self.role.role_name)


class _NodeRoleNames(Construct):
    """The node role names a stack's pipelines have taken, and by which pipeline: a child of the stack (no
    resources), so every ``PipelineRoles`` of the stack sees the same list."""

    ID = "DdbNodeRoleNames"

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.owners: dict[str, str] = {}

    @classmethod
    def of(cls, stack: Stack) -> _NodeRoleNames:
        found = stack.node.try_find_child(cls.ID)
        return found if isinstance(found, _NodeRoleNames) else cls(stack, cls.ID)

    def claim(self, name: str, nodes: NodeRole) -> None:
        node = nodes.node
        scope = node.scope
        pipeline = scope.node.path if scope is not None else node.path
        owner = self.owners.setdefault(name, pipeline)
        if owner != pipeline:
            raise PipelineConfigurationError(
                f"{pipeline}: its node role would be named {name!r}, as {owner}'s is (an account has one role of a name); give one "
                "of them roles=PipelineRoles(stack, id, node_role_prefix=...) with a prefix of its own"
            )


class PipelineRoles(Construct):
    """The pipeline role every pipeline of a stack shares, and the two managed policies that hold
    what is the same for all of them: EMR's service permissions (on the pipeline role) and Task
    Runner's (on every node role).

    Regions, node roles and alarm topics are added as pipelines are declared (``use_region``,
    ``admit``, ``grant_alarm``); the statements that name them grow until synthesis. EMR, EC2 and Task
    Runner actions are pinned to the regions a pipeline starts a cluster in.

    ``pipeline_role``: a team's own role (imported, e.g. ``Role.from_role_arn(...)``) to use instead of
    creating one; it must trust ``datapipeline.amazonaws.com`` and ``elasticmapreduce.amazonaws.com``
    itself, and receives this construct's policies by name.

    ``node_role_prefix``: the start of every node role's name (default: the stack's name and region).
    The pipeline role may pass and read roles and instance profiles of that prefix only, in one
    statement: a statement naming each node role would grow with every pipeline and cross IAM's
    10,240 characters of inline policy per role at a few dozen pipelines."""

    def __init__(self, scope: Construct, id: str, *, regions: Sequence[str] = (), role_name: str | None = None,
                 pipeline_role: iam.IRole | None = None, node_role_prefix: str | None = None,
                 scratch_tables: bool = False) -> None:
        # Checked before the construct joins the tree, and named by the path it would have, as the other constructs' props.
        where = construct_path(scope.node.path, id)
        # ``scratch_tables``: each node role may also use its tables' acceptance scratch tables <table>-acceptance-*.
        scratch_tables = check_bool(where, "scratch_tables", scratch_tables)
        stack = Stack.of(scope)
        prefix = node_role_prefix if node_role_prefix is not None else _default_prefix(stack)
        if not isinstance(prefix, str) or not 1 <= len(prefix) <= MAX_NODE_ROLE_PREFIX or not _ROLE_NAME.fullmatch(prefix):
            raise refuse(where, "node_role_prefix", prefix, f"1-{MAX_NODE_ROLE_PREFIX} characters of A-Z a-z 0-9 + = , . @ _ -")
        super().__init__(scope, id)
        self.scratch_tables = scratch_tables
        self.home = stack.region
        self.node_role_prefix = prefix
        node_roles = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/{self.node_role_prefix}*"
        node_profiles = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:instance-profile/{self.node_role_prefix}*"
        self._regions: list[str] = []
        self._topics: set[str] = set()
        self.pipeline_role: iam.IRole = pipeline_role if pipeline_role is not None else self._create_role(role_name)
        self._pass = iam.PolicyStatement(
            sid="PassTheRolesToEmrAndEc2",
            actions=["iam:PassRole"],
            resources=[self.pipeline_role.role_arn, node_roles],
            conditions={"StringEquals": {"iam:PassedToService": ["elasticmapreduce.amazonaws.com", "ec2.amazonaws.com"]}},
        )
        self._read_roles = iam.PolicyStatement(sid="ReadTheRoles", actions=["iam:GetRole"], resources=[self.pipeline_role.role_arn, node_roles])
        self._read_profiles = iam.PolicyStatement(sid="ReadTheInstanceProfiles", actions=["iam:GetInstanceProfile"], resources=[node_profiles])
        self._publish = iam.PolicyStatement(sid="PublishFailureAlarms", actions=["sns:Publish"])
        self._encrypt_alarms = iam.PolicyStatement(
            sid="EncryptFailureAlarms",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            conditions={"StringEquals": {"kms:ViaService": f"sns.{self.home}.amazonaws.com"}},
        )
        # The statements that grow with the pipelines, in a policy of this construct (an imported
        # role gets it attached by name).
        self._policy = iam.Policy(self, "PipelinePolicy", roles=[self.pipeline_role],
                                  statements=[self._pass, self._read_roles, self._read_profiles])
        # Each statement with the actions it has been given, kept here: reading them back from the statement is a round trip.
        self._service: dict[object, tuple[iam.PolicyStatement, list[str]]] = {}
        acknowledge_wildcards(
            self._policy,
            lambda finding: NODE_ROLES_REASON if self.node_role_prefix in finding else (
                "Data Pipeline writes every pipeline's logs and reads a restore's export as the one pipeline role "
                "the stack's pipelines share: folders of this stack's bucket, named at run time."),
        )
        self.shared_policies: list[Construct] = [self._policy]

        # Statements whose region condition or per-region resources grow with use_region.
        self._in_regions: list[iam.PolicyStatement] = []
        self._per_region: list[tuple[iam.PolicyStatement, Callable[[str], list[str]]]] = []
        launch = self._regional(iam.PolicyStatement(sid="LaunchClusters", actions=["elasticmapreduce:RunJobFlow"], resources=["*"]))
        manage = self._regional(
            iam.PolicyStatement(sid="ManageClustersOfThisAccount", actions=EMR_CLUSTER_ACTIONS), _cluster_arns
        )
        # Not tag-scoped as AmazonEMRServicePolicy_v2 is: its create statements require the tag
        # for-use-with-amazon-emr-managed-policies on the subnet and security groups a cluster uses, which EMR does not
        # create and a cluster without subnetId (the default VPC; every copy's target-region cluster) does not have, and
        # its security-group statements on EMR-managed groups that an earlier cluster may have created untagged. A
        # condition there would stop clusters from launching; the statement stays on "*", pinned to the regions.
        instances = self._regional(iam.PolicyStatement(sid="RunClusterInstances", actions=EMR_SERVICE_EC2_ACTIONS, resources=["*"]))
        # A managed policy: it does not count against the role's 10,240 characters of inline policy,
        # which the per-pipeline policies share.
        self._shared_policy(
            "EmrServicePolicy",
            self.pipeline_role,
            "EMR launches instances, launch templates, security groups and network interfaces whose ids exist "
            "only after launch, and RunJobFlow and EC2's describes have no resource type; EMR's tag-scoped v2 "
            "statements also need the subnet and security groups tagged, which the default VPC's are not (clusters "
            "without subnetId launch there), so they would stop clusters from launching. Each action is named "
            "(no service wildcard), pinned to the pipelines' regions; cluster actions are limited to this "
            "account's clusters; the service-linked role to EMR's cleanup role.",
            launch,
            manage,
            instances,
            iam.PolicyStatement(
                sid="CreateEmrCleanupRoleOnce",
                actions=["iam:CreateServiceLinkedRole"],
                resources=[f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/aws-service-role/elasticmapreduce.amazonaws.com/AWSServiceRoleForEMRCleanup"],
                conditions={"StringEquals": {"iam:AWSServiceName": "elasticmapreduce.amazonaws.com"}},
            ),
        )
        home_only = {"StringEquals": {"aws:RequestedRegion": self.home}}
        self.node_policy = self._shared_policy(
            "NodePolicy",
            None,
            "Task Runner's PollForTask and ReportTaskRunnerHeartbeat have no resource type, and a pipeline's id "
            "exists only after it is created (so reports are scoped to this account's pipelines); a cluster's id "
            "exists only at launch (so step actions are scoped to this account's clusters in the pipelines' "
            f"regions, and to the one whose tag {calls.CLUSTER_TAG} is the calling node role's own); Task Runner, "
            "EMR's script runner and the connector jar are read from AWS's own per-region buckets, under their fixed folders.",
            iam.PolicyStatement(
                sid="TaskRunnerPolls",
                actions=["datapipeline:PollForTask", "datapipeline:ReportTaskRunnerHeartbeat"],
                resources=["*"],
                conditions=home_only,
            ),
            iam.PolicyStatement(
                sid="TaskRunnerReports",
                actions=["datapipeline:ReportTaskProgress", "datapipeline:SetTaskStatus"],
                resources=[f"arn:{Aws.PARTITION}:datapipeline:{self.home}:{Aws.ACCOUNT_ID}:pipeline/*"],
                conditions=home_only,
            ),
            # Only the cluster of the node role's own pipeline: Data Pipeline tags the clusters it launches with the
            # pipeline's tags, and the pipeline and its node role both carry CLUSTER_TAG = the node role's name
            # (``admit``, ``cluster_tags``). One statement serves every node role through the policy variable. The SAR
            # lists aws:ResourceTag and elasticmapreduce:ResourceTag for EMR's cluster resource; the global form is the one
            # parliament's checker knows (it reads the action rows, not the resource types' keys).
            self._regional(iam.PolicyStatement(
                sid="RunStepsOnTheCluster",
                actions=TASK_RUNNER_CLUSTER_ACTIONS,
                conditions={"StringEquals": {f"aws:ResourceTag/{calls.CLUSTER_TAG}": f"${{aws:PrincipalTag/{calls.CLUSTER_TAG}}}"}},
            ), _cluster_arns),
            self._regional(iam.PolicyStatement(sid="InstallTaskRunner", actions=["s3:GetObject"]), _task_runner_objects, conditioned=False),
            self._regional(iam.PolicyStatement(sid="ReadTheConnectorJar", actions=["s3:GetObject"]), _connector_jars, conditioned=False),
        )
        for region in [self.home, *regions]:
            self.use_region(region)

    def _create_role(self, role_name: str | None) -> iam.Role:
        role = iam.Role(
            self,
            "PipelineRole",
            role_name=role_name,
            description="AWS Data Pipeline role and EMR service role of the DynamoDB pipelines",
            assumed_by=iam.ServicePrincipal("datapipeline.amazonaws.com"),
        )
        # EMR assumes the service role for clusters of this account only (confused-deputy guard, as
        # the EMR Management Guide's service-role trust policy shows).
        role.assume_role_policy.add_statements(  # type: ignore[union-attr]  # a role built with assumed_by has one
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                principals=[iam.ServicePrincipal("elasticmapreduce.amazonaws.com")],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:elasticmapreduce:*:{Aws.ACCOUNT_ID}:*"},
                },
            )
        )
        return role

    def _regional(self, statement: iam.PolicyStatement, resources: Callable[[str], list[str]] | None = None,
                  *, conditioned: bool = True) -> iam.PolicyStatement:
        if conditioned:
            self._in_regions.append(statement)
        if resources is not None:
            self._per_region.append((statement, resources))
        return statement

    def _shared_policy(self, id: str, role: iam.IRole | None, reason: str, *statements: iam.PolicyStatement) -> iam.ManagedPolicy:
        # Attached through the role's ManagedPolicyArns, so a stack deletion removes the role with
        # its attachment (moto refuses to delete a role a ManagedPolicy's Roles list still names); an
        # imported role, which CDK cannot change, through the policy's Roles list.
        policy = iam.ManagedPolicy(self, id, statements=list(statements))
        if isinstance(role, iam.Role):
            role.add_managed_policy(policy)
        elif role is not None:
            policy.attach_to_role(role)
        acknowledge_wildcards(policy, reason)
        self.shared_policies.append(policy)
        return policy

    def use_region(self, region: str) -> None:
        """Lets EMR, EC2 and Task Runner work in ``region`` (where a pipeline starts a cluster)."""
        if region in self._regions:
            return
        self._regions.append(region)
        for statement in self._in_regions:
            statement.add_condition("StringEquals", {"aws:RequestedRegion": sorted(self._regions)})
        for statement, resources in self._per_region:
            statement.add_resources(*resources(region))

    def node_role_name(self, pipeline: str) -> str:
        """The name of ``pipeline``'s node role, which the pipeline role may pass."""
        return node_role_name(self.node_role_prefix, pipeline)

    def admit(self, nodes: NodeRole) -> None:
        """A pipeline's node role gets the node policy; the pipeline role may pass and read it by its prefix.

        Two node roles of one name in a stack (two exports of one table, or two ``PipelineRoles`` with one
        prefix) are refused here, naming both pipelines: CDK only warns about the duplicate, and CloudFormation
        fails the deployment, since an account has one role of a name."""
        name = nodes.name
        if name is None or not name.startswith(self.node_role_prefix):
            raise ValueError(f"{nodes.node.path}: the node role's name {name!r} must start with {self.node_role_prefix!r}, "
                             "the prefix the pipeline role may pass")
        if not _TAG_VALUE.fullmatch(name):
            raise ValueError(f"{nodes.node.path}: the node role's name {name!r} is not allowed; it is also the value of the tag "
                             f"{calls.CLUSTER_TAG}, which allows only letters, digits, spaces and _ . : / = + - @")
        _NodeRoleNames.of(Stack.of(self)).claim(name, nodes)
        nodes.role.add_managed_policy(self.node_policy)
        Tags.of(nodes.role).add(calls.CLUSTER_TAG, name)

    @staticmethod
    def cluster_tags(nodes: NodeRole) -> dict[str, str]:
        """The tag a pipeline carries (and so the clusters it launches) for ``nodes`` to reach its clusters only."""
        if nodes.name is None:
            raise ValueError(f"{nodes.node.path}: a node role without a name cannot be tied to its pipeline's clusters")
        return {calls.CLUSTER_TAG: nodes.name}

    def grant_alarm(self, topic: sns.ITopic, key: kms.IKey | None) -> None:
        """The pipeline role publishes the alarms of a pipeline to ``topic`` (encrypted with ``key``)."""
        if topic.topic_arn in self._topics:
            return
        if not self._topics:
            self._policy.add_statements(self._publish)
        self._topics.add(topic.topic_arn)
        self._publish.add_resources(topic.topic_arn)
        if key is not None:
            if not self._encrypt_alarms.has_resource:
                self._policy.add_statements(self._encrypt_alarms)
            self._encrypt_alarms.add_resources(key.key_arn)

    def grant_pipeline(
        self,
        scope: Construct,
        *,
        nodes: NodeRole,
        tables: Sequence[tuple[TableRef, tuple[str, ...]]],
        node_prefixes: Sequence[PrefixAccess],
        service_prefixes: Sequence[PrefixAccess],
    ) -> list[iam.Policy]:
        """A policy, declared in ``scope``, on the pipeline's node role: its tables, keys and prefixes.
        What Data Pipeline itself does in the bucket goes to the shared pipeline role (``_grant_service``)."""
        node_policy = iam.Policy(scope, "NodePermissions", roles=[nodes.role])
        for table, actions in tables:
            scratch = [f"{table.table_arn}{ACCEPTANCE_SUFFIX}*"] if self.scratch_tables else []
            node_policy.add_statements(iam.PolicyStatement(actions=list(actions), resources=[table.table_arn, *scratch]))
            _add_table_key(node_policy, table, TABLE_KEY_WRITE if "dynamodb:BatchWriteItem" in actions else TABLE_KEY_READ)
        for access in node_prefixes:
            _add_prefix_access(node_policy, access)
        # One statement per key, however many prefixes of that bucket the policy covers.
        for key_arn, key_actions in _bucket_key_actions(node_prefixes).items():
            node_policy.add_statements(
                iam.PolicyStatement(
                    actions=key_actions,
                    resources=[key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{self.home}.amazonaws.com"}},
                )
            )
        acknowledge_wildcards(node_policy, lambda finding: TABLE_KEY_REASON if ":key/*" in finding
                              else SCRATCH_TABLES_REASON if finding.endswith(f"{ACCEPTANCE_SUFFIX}*")
                              else DATA_KEY_REASON if finding == "Action::kms:GenerateDataKey*" else PREFIX_REASON)
        for access in service_prefixes:
            self._grant_service(access)
        return [node_policy]

    def _grant_service(self, access: PrefixAccess) -> None:
        """Data Pipeline's own access to a pipeline's bucket (its logs, a restore's manifest), as the
        pipeline role. That role is shared by every pipeline of the stack, so a per-pipeline prefix
        would isolate nothing: the grant is per bucket and top folder (``logs/*``, ``exports/*``), and
        the role's inline policy keeps one size however many pipelines the stack has."""
        # Every property read and call below is a round trip to the jsii Node process, made for every pipeline: each is
        # made once, and only when its answer is used (a statement's actions once, not once per action).
        bucket, top = access.bucket, access.prefix.split("/")[0]
        bucket_arn = attribute(bucket, "bucket_arn")
        objects = self._service_statement((bucket_arn, top), lambda: objects_arn(bucket_arn, f"{top}/*"), None)
        _add_missing_actions(objects, access.actions)
        listing = self._service_statement((bucket_arn, top, "list"), lambda: bucket_arn, {"StringLike": {"s3:prefix": [f"{top}/*"]}})
        _add_missing_actions(listing, ("s3:ListBucket",))
        if access.key is not None:
            key_arn = attribute(access.key, "key_arn")
            through_s3 = {"StringEquals": {"kms:ViaService": f"s3.{self.home}.amazonaws.com"}}
            actions = _bucket_key_actions([access])[key_arn]
            _add_missing_actions(self._service_statement(key_arn, lambda: key_arn, through_s3), actions)

    def _service_statement(self, key: object, resource: Callable[[], str],
                           conditions: dict[str, Any] | None) -> tuple[iam.PolicyStatement, list[str]]:
        """The pipeline role's statement kept under ``key`` and its actions; the first time, a new one on ``resource()``
        (without actions) added to its policy."""
        kept = self._service.get(key)
        if kept is None:
            kept = self._service[key] = (iam.PolicyStatement(resources=[resource()], conditions=conditions), [])
            self._policy.add_statements(kept[0])
        return kept


def _add_missing_actions(kept: tuple[iam.PolicyStatement, list[str]], actions: Sequence[str]) -> None:
    """``actions`` that the statement does not have yet, added in their order (none: no call). ``kept``: the statement
    and the actions given to it so far (every action it has: a service statement is made without any and only this
    function adds them)."""
    statement, present = kept
    missing = [a for a in actions if a not in present]
    if missing:
        statement.add_actions(*missing)
        present.extend(missing)


def objects_arn(bucket_arn: str, pattern: str) -> str:
    """What ``bucket.arn_for_objects(pattern)`` returns, from the bucket's ARN read once: aws-cdk-lib 2.275's BucketBase
    builds it as `${bucketArn}/${pattern}` (aws-s3/lib/perms.js arnForObjects, source read), so the text is the same and
    the template too, without a round trip to the jsii Node process for every folder of every pipeline."""
    return f"{bucket_arn}/{pattern}"


_ROLE_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]+")
# IAM's tag values (IAM API Reference, Tag: [\p{L}\p{Z}\p{N}_.:/=+\-@]*), as far as a role name can use them: no comma.
_TAG_VALUE = re.compile(r"[A-Za-z0-9+=.@_-]+")


def _default_prefix(stack: Stack) -> str:
    """The stack's name and region (IAM names are global to the account, stack names per region)."""
    parts = [stack.stack_name, *([] if Token.is_unresolved(stack.region) else [stack.region])]
    return shortened("-".join(parts), MAX_NODE_ROLE_PREFIX - 1) + "-"


def _cluster_arns(region: str) -> list[str]:
    return [f"arn:{Aws.PARTITION}:elasticmapreduce:{region}:{Aws.ACCOUNT_ID}:cluster/*"]


def _task_runner_objects(region: str) -> list[str]:
    return [f"arn:{Aws.PARTITION}:s3:::datapipeline-{region}/{region}/*", f"arn:{Aws.PARTITION}:s3:::{region}.elasticmapreduce/libs/script-runner/*"]


def _connector_jars(region: str) -> list[str]:
    return [f"arn:{Aws.PARTITION}:s3:::dynamodb-dpl-{region}/emr-ddb-storage-handler/*"]


def _bucket_key_actions(prefixes: Sequence[PrefixAccess]) -> dict[str, list[str]]:
    """Per bucket key: GenerateDataKey to write, Decrypt to read back or complete a multipart upload. Each key's ARN is
    read once (``attribute``), though every prefix of every pipeline names the bucket's key."""
    found: dict[str, set[str]] = {}
    for access in prefixes:
        key = access.key
        if key is None:
            continue
        actions = found.setdefault(attribute(key, "key_arn"), set())
        if "s3:PutObject" in access.actions:
            actions.add("kms:GenerateDataKey")
        if "s3:GetObject" in access.actions or "s3:AbortMultipartUpload" in access.actions:
            actions.add("kms:Decrypt")
    return {key: sorted(actions) for key, actions in found.items()}


def _add_table_key(policy: iam.Policy, table: TableRef, actions: tuple[str, ...]) -> None:
    if table.key is None and not table.key_elsewhere:
        return
    resource = table.key.key_arn if table.key is not None else f"arn:{Aws.PARTITION}:kms:{table.region}:{table.account}:key/*"
    through_dynamodb = {"kms:ViaService": f"dynamodb.{table.region}.amazonaws.com"}
    policy.add_statements(
        iam.PolicyStatement(
            actions=list(actions),
            resources=[resource],
            conditions={"StringEquals": {**through_dynamodb, "kms:EncryptionContext:aws:dynamodb:tableName": table.table_name}},
        ),
        iam.PolicyStatement(actions=list(TABLE_KEY_METADATA), resources=[resource], conditions={"StringEquals": through_dynamodb}),
    )


def _add_prefix_access(policy: iam.Policy, access: PrefixAccess) -> None:
    # The bucket's ARN read once (a round trip to the jsii Node process each time, for every prefix of every pipeline).
    # The statements go in by as many add_statements calls as ever: CDK records each call of it in the assembly's
    # metadata (aws:cdk:analytics:method), so fewer calls would change the stack's .metadata.json.
    owner = {"StringEquals": {"s3:ResourceAccount": access.owner_account}} if access.owner_account else {}
    bucket = access.bucket
    bucket_arn = attribute(bucket, "bucket_arn")
    policy.add_statements(
        iam.PolicyStatement(actions=list(access.actions), resources=[objects_arn(bucket_arn, f"{access.prefix}/*")], conditions=owner or None),
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket_arn],
            conditions={**owner, "StringLike": {"s3:prefix": [f"{access.prefix}/*", access.prefix, *(f"{a}/" for a in access.ancestors())]
                                                  if access.emrfs_writes else [f"{access.prefix}/*", access.prefix]}},
        ),
    )
    if access.emrfs_writes:
        ancestors = [*access.ancestors(), access.prefix]
        policy.add_statements(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects_arn(bucket_arn, a) for a in ancestors], conditions=owner or None),
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[objects_arn(bucket_arn, f"{a}{FOLDER_MARKER}") for a in ancestors],
                conditions=owner or None,
            ),
        )
    if access.emrfs:
        policy.add_statements(iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[bucket_arn], conditions=owner or None))
