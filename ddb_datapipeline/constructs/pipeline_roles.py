"""The two identities a DynamoDB pipeline runs as, scoped to what this stack's pipelines touch.

AWS's console setup uses AWSDataPipelineRole and AmazonEC2RoleforDataPipelineRole, which allow
DynamoDB, S3 and iam:PassRole on everything. Here the pipeline role may only run and manage EMR
clusters, pass these two roles, read its bucket and publish to its topic; the resource role (the EMR
nodes' instance profile) may only read the tables it exports, write the tables it restores or copies
into and use its own prefixes. A pipeline's permissions are added by ``grant_pipeline`` as it is
declared, in policies of its own so a reviewer sees one pipeline's access in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from .acknowledge import acknowledge_wildcards
from .export_bucket import ExportBucket

# What EMR does as its service role while it launches, watches and terminates a cluster's instances
# (the EC2 part of AmazonEMRServicePolicy, without spot fleets, autoscaling or placement groups).
EMR_SERVICE_EC2_ACTIONS = [
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CancelSpotInstanceRequests",
    "ec2:CreateNetworkInterface",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteTags",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeInstances",
    "ec2:DescribeKeyPairs",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribePrefixLists",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "ec2:DetachNetworkInterface",
    "ec2:ModifyInstanceAttribute",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RunInstances",
    "ec2:TerminateInstances",
]
EMR_CLUSTER_ACTIONS = [
    "elasticmapreduce:AddJobFlowSteps",
    "elasticmapreduce:AddTags",
    "elasticmapreduce:DescribeCluster",
    "elasticmapreduce:DescribeStep",
    "elasticmapreduce:ListBootstrapActions",
    "elasticmapreduce:ListInstanceGroups",
    "elasticmapreduce:ListInstances",
    "elasticmapreduce:ListSteps",
    "elasticmapreduce:TerminateJobFlows",
]
TASK_RUNNER_ACTIONS = [
    "datapipeline:PollForTask",
    "datapipeline:ReportTaskProgress",
    "datapipeline:ReportTaskRunnerHeartbeat",
    "datapipeline:SetTaskStatus",
]


@dataclass(frozen=True)
class PrefixAccess:
    """Object actions on one prefix of one bucket (plus listing that prefix and using the bucket's key)."""

    bucket: s3.IBucket
    key: kms.IKey | None
    prefix: str
    actions: tuple[str, ...]


EXPORT_WRITES = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
READS = ("s3:GetObject",)
LOG_WRITES = ("s3:PutObject",)
SCAN = ("dynamodb:DescribeTable", "dynamodb:Scan")
BATCH_WRITE = ("dynamodb:DescribeTable", "dynamodb:BatchWriteItem")
PREFIX_REASON = (
    "Object keys under this pipeline's own prefixes: run folders are named at run time, so the grant "
    "is a prefix, never the whole bucket."
)


class PipelineRoles(Construct):
    """The pipeline role (``role``: Data Pipeline and EMR's service role) and the resource role
    (``resourceRole``: the EMR nodes, through an instance profile of the same name).

    ``cluster_regions`` lists every region a pipeline of this stack starts a cluster in (a copy to
    another region imports there); EMR and EC2 actions are pinned to those regions."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: ExportBucket,
        alert_topic: sns.ITopic,
        alert_key: kms.IKey | None,
        cluster_regions: Sequence[str] = (),
        role_name_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._bucket = bucket
        self.shared_policies: list[Construct] = []  # what every pipeline needs before it activates
        home = Stack.of(self).region
        regions = sorted({home, *cluster_regions})
        self.pipeline_role = iam.Role(
            self,
            "PipelineRole",
            role_name=f"{role_name_prefix}-pipeline" if role_name_prefix else None,
            description="AWS Data Pipeline role and EMR service role of the DynamoDB pipelines",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("datapipeline.amazonaws.com"),
                iam.ServicePrincipal("elasticmapreduce.amazonaws.com"),
            ),
        )
        self.resource_role = iam.Role(
            self,
            "ResourceRole",
            role_name=f"{role_name_prefix}-nodes" if role_name_prefix else None,
            description="EC2 role of the EMR nodes that run DynamoDB exports, restores and copies",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        )
        self.instance_profile = iam.InstanceProfile(
            self, "ResourceInstanceProfile", role=self.resource_role, instance_profile_name=self.resource_role.role_name
        )
        for statement in (
            iam.PolicyStatement(
                sid="PassOnlyThePipelineRoles",
                actions=["iam:PassRole", "iam:GetRole"],
                resources=[self.pipeline_role.role_arn, self.resource_role.role_arn],
            ),
            iam.PolicyStatement(
                sid="ReadTheNodesInstanceProfile",
                actions=["iam:GetInstanceProfile"],
                resources=[self.instance_profile.instance_profile_arn],
            ),
            iam.PolicyStatement(sid="PublishFailureAlarms", actions=["sns:Publish"], resources=[alert_topic.topic_arn]),
        ):
            self.pipeline_role.add_to_policy(statement)
        if alert_key is not None:
            self.pipeline_role.add_to_policy(
                iam.PolicyStatement(
                    sid="EncryptFailureAlarms", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[alert_key.key_arn]
                )
            )
        self.shared_policies.append(self.pipeline_role.node.find_child("DefaultPolicy"))
        in_regions = {"StringEquals": {"aws:RequestedRegion": regions}}
        self._shared_policy(
            "EmrServicePolicy",
            self.pipeline_role,
            "EMR launches instances, security groups and network interfaces whose ids exist only after "
            "launch, and RunJobFlow has no resource type; the statements name each action (no service "
            "wildcard) and are pinned to the pipelines' regions; cluster actions are limited to this account's clusters.",
            iam.PolicyStatement(sid="LaunchClusters", actions=["elasticmapreduce:RunJobFlow"], resources=["*"], conditions=in_regions),
            iam.PolicyStatement(
                sid="ManageClustersOfThisAccount",
                actions=EMR_CLUSTER_ACTIONS,
                resources=[f"arn:{Aws.PARTITION}:elasticmapreduce:{r}:{Aws.ACCOUNT_ID}:cluster/*" for r in regions],
            ),
            iam.PolicyStatement(sid="RunClusterInstances", actions=EMR_SERVICE_EC2_ACTIONS, resources=["*"], conditions=in_regions),
        )
        self._shared_policy(
            "TaskRunnerPolicy",
            self.resource_role,
            "Task Runner's PollForTask, ReportTaskProgress, ReportTaskRunnerHeartbeat and SetTaskStatus "
            "support no resource-level permissions; the connector jar is read from AWS's own per-region "
            "bucket, under its fixed folder.",
            iam.PolicyStatement(
                sid="TaskRunnerOnTheNodes",
                actions=TASK_RUNNER_ACTIONS,
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": home}},
            ),
            iam.PolicyStatement(
                sid="ReadTheConnectorJar",
                actions=["s3:GetObject"],
                resources=[f"arn:{Aws.PARTITION}:s3:::dynamodb-dpl-{r}/emr-ddb-storage-handler/*" for r in regions],
            ),
        )

    def _shared_policy(self, id: str, role: iam.Role, reason: str, *statements: iam.PolicyStatement) -> None:
        policy = iam.Policy(self, id, roles=[role], statements=list(statements))
        acknowledge_wildcards(policy, reason)
        self.shared_policies.append(policy)

    def bucket_prefix(self, prefix: str, actions: tuple[str, ...]) -> PrefixAccess:
        """Access to a prefix of this stack's export bucket."""
        return PrefixAccess(self._bucket.bucket, self._bucket.key, prefix, actions)

    def grant_pipeline(
        self,
        id: str,
        *,
        tables: Sequence[tuple[str, tuple[str, ...]]],
        node_prefixes: Sequence[PrefixAccess],
        service_prefixes: Sequence[PrefixAccess],
    ) -> list[iam.Policy]:
        """One policy per role for one pipeline, so a reviewer sees a pipeline's access in one place:
        the nodes get the table actions (by table ARN) and their prefixes, the service its prefixes."""
        nodes = iam.Policy(self, f"{id}Nodes", roles=[self.resource_role])
        for table_arn, actions in tables:
            nodes.add_statements(iam.PolicyStatement(actions=list(actions), resources=[table_arn]))
        service = iam.Policy(self, f"{id}Service", roles=[self.pipeline_role])
        for policy, prefixes in ((nodes, node_prefixes), (service, service_prefixes)):
            for access in prefixes:
                _add_prefix_access(policy, access)
            # One statement per key, however many prefixes of that bucket the policy covers.
            key_arns = list(dict.fromkeys(access.key.key_arn for access in prefixes if access.key is not None))
            if key_arns:
                policy.add_statements(iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=key_arns))
            acknowledge_wildcards(policy, PREFIX_REASON)
        return [nodes, service]


def _add_prefix_access(policy: iam.Policy, access: PrefixAccess) -> None:
    policy.add_statements(
        iam.PolicyStatement(actions=list(access.actions), resources=[access.bucket.arn_for_objects(f"{access.prefix}/*")]),
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[access.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{access.prefix}/*", access.prefix]}},
        ),
    )
