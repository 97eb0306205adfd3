"""The two identities a DynamoDB pipeline runs as, scoped to what this stack's pipelines touch.

AWS's console setup uses AWSDataPipelineRole and AmazonEC2RoleforDataPipelineRole, which allow
DynamoDB, S3 and iam:PassRole on everything. Here the pipeline role may only run and manage EMR
clusters, pass these two roles, read its bucket and publish to its topic; the resource role (the EMR
nodes' instance profile) may only read the tables it exports, write the tables it restores and use
its own prefixes of the bucket. Permissions for a table are added by ``grant_export``/``grant_restore``
as the pipelines are declared, each in its own policy so a reviewer sees a table's access in one place.
"""
from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
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


class PipelineRoles(Construct):
    """The pipeline role (``role``: Data Pipeline and EMR's service role) and the resource role
    (``resourceRole``: the EMR nodes, through an instance profile of the same name)."""

    def __init__(self, scope: Construct, id: str, *, bucket: ExportBucket, alert_topic: sns.ITopic, alert_key: kms.IKey | None) -> None:
        super().__init__(scope, id)
        self._bucket = bucket
        self.shared_policies: list[iam.Policy] = []  # what every pipeline needs before it activates
        region = Stack.of(self).region
        self.pipeline_role = iam.Role(
            self,
            "PipelineRole",
            description="AWS Data Pipeline role and EMR service role of the DynamoDB pipelines",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("datapipeline.amazonaws.com"),
                iam.ServicePrincipal("elasticmapreduce.amazonaws.com"),
            ),
        )
        self.resource_role = iam.Role(
            self,
            "ResourceRole",
            description="EC2 role of the EMR nodes that run DynamoDB exports and restores",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        )
        self.instance_profile = iam.InstanceProfile(
            self, "ResourceInstanceProfile", role=self.resource_role, instance_profile_name=self.resource_role.role_name
        )

        self.pipeline_role.add_to_policy(
            iam.PolicyStatement(
                sid="PassOnlyThePipelineRoles",
                actions=["iam:PassRole", "iam:GetRole"],
                resources=[self.pipeline_role.role_arn, self.resource_role.role_arn],
            )
        )
        self.pipeline_role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadTheNodesInstanceProfile",
                actions=["iam:GetInstanceProfile"],
                resources=[self.instance_profile.instance_profile_arn],
            )
        )
        self.pipeline_role.add_to_policy(
            iam.PolicyStatement(sid="PublishFailureAlarms", actions=["sns:Publish"], resources=[alert_topic.topic_arn])
        )
        if alert_key is not None:
            self.pipeline_role.add_to_policy(
                iam.PolicyStatement(
                    sid="EncryptFailureAlarms", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[alert_key.key_arn]
                )
            )

        emr = self._policy("EmrServicePolicy", self.pipeline_role)
        self.shared_policies.append(emr)
        emr.add_statements(
            iam.PolicyStatement(
                sid="LaunchClusters",
                actions=["elasticmapreduce:RunJobFlow"],
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": region}},
            ),
            iam.PolicyStatement(
                sid="ManageClustersOfThisAccountAndRegion",
                actions=EMR_CLUSTER_ACTIONS,
                resources=[f"arn:{Aws.PARTITION}:elasticmapreduce:{region}:{Aws.ACCOUNT_ID}:cluster/*"],
            ),
            iam.PolicyStatement(
                sid="RunClusterInstances",
                actions=EMR_SERVICE_EC2_ACTIONS,
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": region}},
            ),
        )
        acknowledge_wildcards(
            emr,
            "EMR launches instances, security groups and network interfaces whose ids exist only after "
            "launch, and RunJobFlow has no resource type; the statements name each action (no service "
            "wildcard) and are pinned to this region; cluster actions are limited to this account's clusters.",
        )

        task_runner = self._policy("TaskRunnerPolicy", self.resource_role)
        self.shared_policies.append(task_runner)
        task_runner.add_statements(
            iam.PolicyStatement(
                sid="TaskRunnerOnTheNodes",
                actions=TASK_RUNNER_ACTIONS,
                resources=["*"],
                conditions={"StringEquals": {"aws:RequestedRegion": region}},
            ),
            iam.PolicyStatement(
                sid="ReadTheConnectorJar",
                actions=["s3:GetObject"],
                resources=[f"arn:{Aws.PARTITION}:s3:::dynamodb-dpl-{region}/emr-ddb-storage-handler/*"],
            ),
        )
        acknowledge_wildcards(
            task_runner,
            "Task Runner's PollForTask, ReportTaskProgress, ReportTaskRunnerHeartbeat and SetTaskStatus "
            "support no resource-level permissions; the connector jar is read from AWS's own per-region "
            "bucket, under its fixed folder.",
        )

    def _policy(self, id: str, role: iam.Role) -> iam.Policy:
        return iam.Policy(self, id, roles=[role])

    def _grant_bucket(self, policy: iam.Policy, prefix: str, actions: list[str]) -> None:
        bucket = self._bucket.bucket
        policy.add_statements(
            iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects(f"{prefix}/*")]),
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}/*", prefix]}},
            ),
        )
        if self._bucket.key is not None:
            policy.add_statements(
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self._bucket.key.key_arn]
                )
            )

    def _pipeline_policies(
        self,
        id: str,
        *,
        table: dynamodb.ITable,
        table_actions: list[str],
        prefix: str,
        node_s3_actions: list[str],
        log_prefix: str,
        service_reads_prefix: bool,
    ) -> list[iam.Policy]:
        """One policy per role for one pipeline, so a reviewer sees a pipeline's access in one place."""
        nodes = self._policy(f"{id}Nodes", self.resource_role)
        nodes.add_statements(iam.PolicyStatement(actions=table_actions, resources=[table.table_arn]))
        self._grant_bucket(nodes, prefix, node_s3_actions)
        self._grant_bucket(nodes, log_prefix, ["s3:PutObject"])
        service = self._policy(f"{id}Service", self.pipeline_role)
        self._grant_bucket(service, log_prefix, ["s3:GetObject", "s3:PutObject"])
        if service_reads_prefix:  # the restore's manifest precondition runs as the pipeline role
            self._grant_bucket(service, prefix, ["s3:GetObject"])
        for policy in (nodes, service):
            acknowledge_wildcards(
                policy,
                "Object keys under this pipeline's own prefixes of the export bucket: run folders are "
                "named at run time, so the grant is a prefix, never the whole bucket.",
            )
        return [nodes, service]

    def grant_export(self, *, id: str, table: dynamodb.ITable, prefix: str, log_prefix: str) -> list[iam.Policy]:
        """Scan one table into one prefix of the bucket; returns the policies that grant it."""
        return self._pipeline_policies(
            id,
            table=table,
            table_actions=["dynamodb:DescribeTable", "dynamodb:Scan"],
            prefix=prefix,
            node_s3_actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            log_prefix=log_prefix,
            service_reads_prefix=False,
        )

    def grant_restore(self, *, id: str, table: dynamodb.ITable, prefix: str, log_prefix: str) -> list[iam.Policy]:
        """Read the exports of one prefix and write them into one table; returns the policies that grant it."""
        return self._pipeline_policies(
            id,
            table=table,
            table_actions=["dynamodb:DescribeTable", "dynamodb:BatchWriteItem"],
            prefix=prefix,
            node_s3_actions=["s3:GetObject"],
            log_prefix=log_prefix,
            service_reads_prefix=True,
        )
