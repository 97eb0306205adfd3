"""What a running pipeline calls, and as whom: the runtime permission model, kept as data.

Each row says: when a definition contains this kind of object (``trigger``), this principal makes
these calls on this resource, with these condition keys in the request; and where that fact comes
from. ``expand.py`` turns the rows into concrete requests for one synthesized pipeline, and the
permission check evaluates each request against the synthesized identity and resource policies.

Principals: ``role`` is the definition's ``role`` (Data Pipeline acts as it, and EMR uses it as the
cluster's service role); ``resourceRole`` is the role of the instance profile the definition names
(every EMR node of the cluster, so Task Runner and the connector); ``service:<host>`` is an AWS
service assuming a role.

Placeholders in ``resource`` and ``context`` are filled by ``expand.py``: ``{account}`` and
``{home}`` (the pipeline's account and region), ``{region}`` (where the call is made: the
cluster's region for cluster calls), ``{role_arn}``, ``{nodes_arn}``, ``{profile_arn}``,
``{cluster_arn}``, ``{pipeline_arn}``; for a table ``{table_arn}``, ``{table}``, ``{table_region}``,
``{key_arn}``; for a folder ``{bucket_arn}``, ``{folder}``, ``{object_arn}`` (a sample file in it),
``{ancestor_arns}``, ``{marker_arns}`` and ``{ancestor_prefixes}`` (the folder and each folder above
it: its key, its ``_$folder$`` marker, its listing prefix; one request each), ``{folder_arns}`` (the folder's key
and marker), ``{folder_marker_arns}`` (the markers of the folder and its parent), ``{bucket_account}``,
``{bucket_region}``; the log folder's ``{log_*}``; ``{topic_arn}``, ``{topic_region}``, ``{jar_arn}``.

``when`` limits a row to a resource that needs it: ``bucket_kms`` (the bucket's default encryption
is a KMS key), ``table_cmk`` (the table is encrypted with a customer managed key, or is only
referenced and may be), ``topic_kms`` (the topic is encrypted with a KMS key), ``cross_account``
(the bucket or table belongs to another account), ``canned_acl`` (the step asks EMRFS for a canned
ACL).

Evidence: ``doc`` (an AWS documentation page), ``managed-policy`` (AWS's managed policy for the same
role grants it and nothing documents less), ``connector`` (the emr-dynamodb-connector source),
``inferred`` (reasoned, not read; every such row is listed in docs/permissions.md).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ROLE = "role"
NODES = "resourceRole"

# Sources, named once.
DP_ROLES = "Data Pipeline Developer Guide, 'IAM Roles for AWS Data Pipeline' (DataPipelineDefaultRole, DataPipelineDefaultResourceRole)"
DP_TASK_RUNNER = ("Data Pipeline Developer Guide, 'Task Runner on AWS Data Pipeline-Managed Resources'; "
                  "API Reference PollForTask, ReportTaskProgress, ReportTaskRunnerHeartbeat, SetTaskStatus")
DP_RESOURCE_POLICY = "AWS managed policy AmazonEC2RoleforDataPipelineRole (elasticmapreduce:AddJobFlowSteps, Describe*, ListInstance*)"
DP_ROLE_POLICY = "AWS managed policy AWSDataPipelineRole (elasticmapreduce:*, iam:PassRole, s3 Get/List/Put, sns:Publish)"
EMR_SERVICE = "AWS managed policy AmazonEMRServicePolicy_v2; EMR Management Guide, 'Service role for Amazon EMR (EMR role)'"
EMR_INSTANCE_PROFILE = "EMR Management Guide, 'Service role for cluster EC2 instances (EC2 instance profile)'"
CONNECTOR = "awslabs/emr-dynamodb-connector: DynamoDBExport.java, DynamoDBImport.java, DynamoDBClient.java (DescribeTable, Scan, BatchWriteItem)"
HIVE_PUSHDOWN = ("awslabs/emr-dynamodb-connector: emr-dynamodb-hive DynamoDBFilterPushdown.java (pushdown on by default; "
                 "conditions on the table's or an index's full key become a Query of it), DynamoDBClient.java")
DDB_KMS = ("DynamoDB Developer Guide, 'How Amazon DynamoDB uses AWS KMS': DynamoDB uses the key on behalf of the caller "
           "(Decrypt is logged with the reading role as user, invokedBy dynamodb.amazonaws.com), encryption context "
           "aws:dynamodb:tableName; CDK Table.grantReadData grants kms:Decrypt, kms:DescribeKey")
DDB_KMS_WRITE = (DDB_KMS + "; CDK Table.grantWriteData adds kms:Encrypt, kms:ReEncrypt*, kms:GenerateDataKey* (ReEncrypt is not a data-plane "
                 "call); the guide's key policy for a customer managed key allows kms:GenerateDataKey* through DynamoDB without saying "
                 "which data-key action it calls, so both symmetric ones (GenerateDataKey, GenerateDataKeyWithoutPlaintext) are requested")
KMS_METADATA = ("KMS API Reference, GrantConstraints: DescribeKey is an operation that does not accept an encryption context; "
                "Service Authorization Reference, AWS KMS: DescribeKey's condition keys are kms:CallerAccount, kms:RequestAlias, kms:ViaService")
# Template metadata (a list of {"Resource", "Kind": topic|key, "PolicyDocument"}): the policies of resources
# this project does not own, as the configuration states them (alarm_topic_admits_cloudwatch). The check
# decides against them; they are the team's word, not a template's.
STATED_POLICIES = "DdbDataPipeline::StatedPolicies"
S3_KMS = "S3 User Guide, 'Using server-side encryption with AWS KMS keys': PutObject needs kms:GenerateDataKey, GetObject and multipart uploads kms:Decrypt"
S3_PERMISSIONS = "S3 API Reference, PutObject/GetObject/DeleteObject/ListObjectsV2/AbortMultipartUpload 'Permissions'"
EMRFS = ("AWS Knowledge Center 'emr-s3-empty-files': EMRFS creates '<directory>_$folder$' objects for folders it creates with "
         "s3:// paths; Hadoop's mkdirs checks each ancestor folder (HEAD of the key and its marker, a listing of its prefix)")
EMRFS_LOCATION = "third-party measurement of a working Data Pipeline export (s3:GetBucketLocation on the bucket); no AWS page names it"
SNS_KMS = "SNS Developer Guide, 'Encryption at rest': a publisher to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt"
DP_PRECONDITION = "Data Pipeline Developer Guide, 'S3KeyExists' (checked by the service as the precondition's role)"
EMR_REMOVE = ("EMR Release Guide, 'Run commands and scripts on an Amazon EMR cluster' (command-runner.jar); Hadoop FileSystem Shell "
              "'rm -r -f -skipTrash'; S3 API Reference ListObjectsV2/DeleteObject 'Permissions'")
DP_SHELL = "Data Pipeline Developer Guide, 'ShellCommandActivity' (runs on the cluster as the instance profile); AWS CLI 'aws s3 rm --recursive'"
DP_LOGS = "Data Pipeline Developer Guide, 'pipelineLogUri' (Task Runner uploads activity logs there)"
TASK_RUNNER_INSTALL = ("public code reproducing Data Pipeline's 'Install TaskRunner' step (script-runner.jar running "
                       "s3://datapipeline-<region>/<region>/bootstrap-actions/latest/TaskRunner/install-remote-runner-v2 with "
                       "--zipFile .../<region>/software/latest/TaskRunner/TaskRunner-1.0.zip); no AWS page describes it")
EMR_SLR = ("AWS managed policy AWSDataPipelineRole v6 (iam:CreateServiceLinkedRole for elasticmapreduce.amazonaws.com); "
           "EMR Management Guide, 'Using the service-linked role for Amazon EMR' (AWSServiceRoleForEMRCleanup)")
IAM_PASSROLE = "IAM User Guide, 'Granting a user permissions to pass a role to an AWS service' (iam:PassedToService)"


@dataclass(frozen=True)
class RuntimeCall:
    trigger: str  # what in a definition makes the call happen (see TRIGGERS)
    step: str  # what happens, for a reader
    principal: str  # ROLE, NODES or service:<host>
    actions: tuple[str, ...]
    resource: str
    source: str
    evidence: str
    context: Mapping[str, str] = field(default_factory=dict)
    when: str | None = None
    # The resource is a cluster the pipeline launched: it carries the pipeline's tags (CLUSTER_TAGS_SOURCE), which the
    # request then carries as the resource's tag keys (expand.py).
    on_cluster: bool = False


TRIGGERS = {
    "pipeline": "every definition (its Default object: role, resourceRole, pipelineLogUri)",
    "EmrCluster": "an EmrCluster the pipeline launches",
    "EmrActivity": "an EmrActivity running the connector jar on a cluster",
    "reads DynamoDBDataNode": "an activity whose input is a DynamoDBDataNode (the connector's export scan)",
    "writes DynamoDBDataNode": "an activity whose output is a DynamoDBDataNode (the connector's import)",
    "filters DynamoDBDataNode": "a HiveCopyActivity with a filterSql, or a HiveActivity whose script has a WHERE, reading a "
                                "DynamoDBDataNode on a cluster that leaves dynamodb.filter.pushdown on (key conditions pushed down)",
    "writes S3DataNode": "an activity whose output is an S3DataNode (export files, through EMRFS)",
    "reads S3DataNode": "an activity whose input is an S3DataNode (import files, through EMRFS)",
    "deletes S3DataNode": "a ShellCommandActivity running 'aws s3 rm --recursive' on its input folder",
    "clears S3DataNode": "an EmrActivity whose first step removes its output folder (command-runner.jar hadoop fs -rm -r -f), "
                         "so a retry or rerun of an export does not meet its own files",
    "S3KeyExists": "an S3KeyExists precondition",
    "SnsAlarm": "an SnsAlarm (onFail, onLateAction)",
}

EMR_CREATES = ("ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:CreateSecurityGroup",
               "ec2:CreateNetworkInterface", "ec2:RunInstances", "ec2:CreateTags")
EMR_MODIFIES = ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress",
                "ec2:RevokeSecurityGroupIngress", "ec2:ModifyInstanceAttribute", "ec2:DetachNetworkInterface",
                "ec2:DeleteNetworkInterface", "ec2:DeleteSecurityGroup", "ec2:DeleteLaunchTemplate", "ec2:DeleteTags",
                "ec2:TerminateInstances")
EMR_DESCRIBES = ("ec2:DescribeAccountAttributes", "ec2:DescribeAvailabilityZones", "ec2:DescribeCapacityReservations",
                 "ec2:DescribeDhcpOptions", "ec2:DescribeImages", "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings",
                 "ec2:DescribeInstances", "ec2:DescribeKeyPairs", "ec2:DescribeLaunchTemplates", "ec2:DescribeNetworkAcls",
                 "ec2:DescribeNetworkInterfaces", "ec2:DescribePlacementGroups", "ec2:DescribePrefixLists", "ec2:DescribeRouteTables",
                 "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVolumeStatus", "ec2:DescribeVolumes",
                 "ec2:DescribeVpcAttribute", "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs")
# Data Pipeline watches and ends the clusters it launched (AWSDataPipelineRole grants elasticmapreduce:*).
DP_CLUSTER_CALLS = ("elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:AddTags", "elasticmapreduce:DescribeCluster",
                    "elasticmapreduce:DescribeStep", "elasticmapreduce:ListBootstrapActions", "elasticmapreduce:ListInstanceGroups",
                    "elasticmapreduce:ListInstances", "elasticmapreduce:ListSteps", "elasticmapreduce:TerminateJobFlows")
# Task Runner on the master node submits the activity as a step of its own cluster and follows it.
TASK_RUNNER_CLUSTER_CALLS = ("elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:DescribeCluster", "elasticmapreduce:DescribeJobFlows",
                             "elasticmapreduce:DescribeStep", "elasticmapreduce:ListInstanceGroups", "elasticmapreduce:ListInstances")
# The tag that ties an EMR cluster to the one node role that may run steps on it. Its value is the name of the
# pipeline's node role (unique in the account: IAM's rule for role names); the pipeline carries it, so the
# clusters it launches do, and the node role carries it as a principal tag, so one shared policy statement
# compares the two (the node policy's RunStepsOnTheCluster).
CLUSTER_TAG = "ddb-datapipeline:nodes"
CLUSTER_TAGS_SOURCE = ("Data Pipeline Developer Guide, 'Tagging your pipelines': tags applied to a pipeline are applied to its "
                       "underlying resources (Amazon EMR clusters and Amazon EC2 instances), not retroactively to finished ones; "
                       "Service Authorization Reference, Amazon EMR: every cluster action takes elasticmapreduce:ResourceTag/${TagKey} "
                       "and aws:ResourceTag/${TagKey}; IAM User Guide, 'IAM policy elements: Variables and tags' (aws:PrincipalTag)")
REGION = {"aws:RequestedRegion": "{region}"}
HOME = {"aws:RequestedRegion": "{home}"}
S3_CONTEXT = {"s3:ResourceAccount": "{bucket_account}", "aws:RequestedRegion": "{bucket_region}"}

CALLS: tuple[RuntimeCall, ...] = (
    # Every definition: who Data Pipeline acts as, and the pipeline log folder.
    RuntimeCall("pipeline", "Data Pipeline assumes the pipeline role", "service:datapipeline.amazonaws.com",
                ("sts:AssumeRole",), "{role_arn}", DP_ROLES, "doc"),
    RuntimeCall("pipeline", "Data Pipeline writes the pipeline's own log files", ROLE,
                ("s3:PutObject", "s3:GetObject"), "{log_object_arn}", DP_ROLE_POLICY, "inferred", S3_CONTEXT),
    RuntimeCall("pipeline", "Data Pipeline lists the pipeline's log folder", ROLE,
                ("s3:ListBucket",), "{log_bucket_arn}", DP_ROLE_POLICY, "inferred", {**S3_CONTEXT, "s3:prefix": "{log_folder}/"}),
    RuntimeCall("pipeline", "Task Runner uploads activity logs", NODES,
                ("s3:PutObject",), "{log_object_arn}", DP_LOGS, "doc", S3_CONTEXT),
    RuntimeCall("pipeline", "Task Runner lists the log folder before uploading", NODES,
                ("s3:ListBucket",), "{log_bucket_arn}", DP_RESOURCE_POLICY, "inferred", {**S3_CONTEXT, "s3:prefix": "{log_folder}/"}),
    RuntimeCall("pipeline", "log files are encrypted with the bucket's key", ROLE,
                ("kms:GenerateDataKey", "kms:Decrypt"), "{log_key_arn}", S3_KMS, "doc",
                {"kms:ViaService": "s3.{bucket_region}.amazonaws.com"}, "log_bucket_kms"),
    RuntimeCall("pipeline", "log files are encrypted with the bucket's key", NODES,
                ("kms:GenerateDataKey",), "{log_key_arn}", S3_KMS, "doc",
                {"kms:ViaService": "s3.{bucket_region}.amazonaws.com"}, "log_bucket_kms"),
    # An EMR cluster: launched by Data Pipeline, provisioned by EMR, run by Task Runner.
    RuntimeCall("EmrCluster", "Data Pipeline launches the cluster", ROLE,
                ("elasticmapreduce:RunJobFlow",), "*", DP_ROLE_POLICY, "doc", REGION),
    RuntimeCall("EmrCluster", "Data Pipeline passes the service role and the instance profile's role to EMR", ROLE,
                ("iam:PassRole",), "{role_arn}", IAM_PASSROLE, "doc", {"iam:PassedToService": "elasticmapreduce.amazonaws.com"}),
    RuntimeCall("EmrCluster", "Data Pipeline passes the service role and the instance profile's role to EMR", ROLE,
                ("iam:PassRole",), "{nodes_arn}", IAM_PASSROLE, "doc", {"iam:PassedToService": "elasticmapreduce.amazonaws.com"}),
    RuntimeCall("EmrCluster", "Data Pipeline watches, adds steps to and terminates the cluster", ROLE,
                DP_CLUSTER_CALLS, "{cluster_arn}", DP_ROLE_POLICY, "managed-policy", REGION, on_cluster=True),
    RuntimeCall("EmrCluster", "EMR assumes the service role", "service:elasticmapreduce.amazonaws.com",
                ("sts:AssumeRole",), "{role_arn}", EMR_SERVICE, "doc",
                {"aws:SourceAccount": "{account}", "aws:SourceArn": "{cluster_arn}"}),
    RuntimeCall("EmrCluster", "EMR reads the instance profile and its role", ROLE,
                ("iam:GetInstanceProfile",), "{profile_arn}", EMR_SERVICE, "managed-policy"),
    RuntimeCall("EmrCluster", "EMR reads the instance profile and its role", ROLE,
                ("iam:GetRole",), "{nodes_arn}", EMR_SERVICE, "managed-policy"),
    RuntimeCall("EmrCluster", "EMR's cleanup service-linked role is created if the account has none yet", ROLE,
                ("iam:CreateServiceLinkedRole",), "arn:aws:iam::{account}:role/aws-service-role/elasticmapreduce.amazonaws.com/AWSServiceRoleForEMRCleanup",
                EMR_SLR, "managed-policy", {"iam:AWSServiceName": "elasticmapreduce.amazonaws.com"}),
    RuntimeCall("EmrCluster", "EMR passes the instance profile's role to EC2", ROLE,
                ("iam:PassRole",), "{nodes_arn}", EMR_SERVICE, "managed-policy", {"iam:PassedToService": "ec2.amazonaws.com"}),
    RuntimeCall("EmrCluster", "EMR looks up the network, images and capacity", ROLE,
                EMR_DESCRIBES, "*", EMR_SERVICE, "managed-policy", REGION),
    RuntimeCall("EmrCluster", "EMR creates the launch template, security groups, interfaces and instances", ROLE,
                EMR_CREATES, "arn:aws:ec2:{region}:{account}:instance/i-0example", EMR_SERVICE, "managed-policy", REGION),
    RuntimeCall("EmrCluster", "EMR opens, tags, detaches and deletes them again at teardown", ROLE,
                EMR_MODIFIES, "arn:aws:ec2:{region}:{account}:security-group/sg-0example", EMR_SERVICE, "managed-policy", REGION),
    RuntimeCall("EmrCluster", "EC2 assumes the nodes' role for the instance profile", "service:ec2.amazonaws.com",
                ("sts:AssumeRole",), "{nodes_arn}", EMR_INSTANCE_PROFILE, "doc"),
    RuntimeCall("EmrCluster", "the nodes run Data Pipeline's 'Install TaskRunner' step: its script and Task Runner's software", NODES,
                ("s3:GetObject",), "arn:aws:s3:::datapipeline-{region}/{region}/bootstrap-actions/latest/TaskRunner/install-remote-runner-v2",
                TASK_RUNNER_INSTALL, "inferred"),
    RuntimeCall("EmrCluster", "the nodes run Data Pipeline's 'Install TaskRunner' step: its script and Task Runner's software", NODES,
                ("s3:GetObject",), "arn:aws:s3:::datapipeline-{region}/{region}/software/latest/TaskRunner/TaskRunner-1.0.zip",
                TASK_RUNNER_INSTALL, "inferred"),
    RuntimeCall("EmrCluster", "the install step runs through EMR's script runner", NODES,
                ("s3:GetObject",), "arn:aws:s3:::{region}.elasticmapreduce/libs/script-runner/script-runner.jar",
                TASK_RUNNER_INSTALL, "inferred"),
    RuntimeCall("EmrCluster", "Task Runner polls for tasks and reports that it is alive", NODES,
                ("datapipeline:PollForTask", "datapipeline:ReportTaskRunnerHeartbeat"), "*", DP_TASK_RUNNER, "doc", HOME),
    RuntimeCall("EmrCluster", "Task Runner reports progress and the result of each task", NODES,
                ("datapipeline:ReportTaskProgress", "datapipeline:SetTaskStatus"), "{pipeline_arn}", DP_TASK_RUNNER, "doc", HOME),
    RuntimeCall("EmrCluster", "Task Runner runs each activity as a step of its own cluster and follows it", NODES,
                TASK_RUNNER_CLUSTER_CALLS, "{cluster_arn}", DP_RESOURCE_POLICY + "; " + CLUSTER_TAGS_SOURCE, "managed-policy", REGION,
                on_cluster=True),
    # The connector.
    RuntimeCall("EmrActivity", "the step reads the connector jar from AWS's per-region bucket", NODES,
                ("s3:GetObject",), "{jar_arn}", CONNECTOR, "doc"),
    RuntimeCall("reads DynamoDBDataNode", "the export describes and scans the table", NODES,
                ("dynamodb:DescribeTable", "dynamodb:Scan"), "{table_arn}", CONNECTOR, "connector", {"aws:RequestedRegion": "{table_region}"}),
    RuntimeCall("reads DynamoDBDataNode", "DynamoDB decrypts the table with its key, as the caller", NODES,
                ("kms:Decrypt",), "{key_arn}", DDB_KMS, "doc",
                {"kms:ViaService": "dynamodb.{table_region}.amazonaws.com", "kms:CallerAccount": "{account}",
                 "kms:EncryptionContext:aws:dynamodb:tableName": "{table}"}, "table_cmk"),
    RuntimeCall("reads DynamoDBDataNode", "DynamoDB reads the table key's metadata, as the caller (no encryption context)", NODES,
                ("kms:DescribeKey",), "{key_arn}", DDB_KMS + "; " + KMS_METADATA, "doc",
                {"kms:ViaService": "dynamodb.{table_region}.amazonaws.com", "kms:CallerAccount": "{account}"}, "table_cmk"),
    # Asked only of a cluster that leaves pushdown on (expand.py, definition/emr.py pushdown_off): this project's
    # clusters turn it off (a Query of an index reads partial items), and their node roles get no Query.
    RuntimeCall("filters DynamoDBDataNode", "with pushdown on (this project turns it off), a filter on a key makes the Hive job "
                "query the table or the index it names", NODES,
                ("dynamodb:Query",), "{query_arn}", HIVE_PUSHDOWN, "connector", {"aws:RequestedRegion": "{table_region}"}),
    RuntimeCall("writes DynamoDBDataNode", "the import describes the table and writes batches", NODES,
                ("dynamodb:DescribeTable", "dynamodb:BatchWriteItem"), "{table_arn}", CONNECTOR, "connector", {"aws:RequestedRegion": "{table_region}"}),
    RuntimeCall("writes DynamoDBDataNode", "DynamoDB encrypts the written items with the table's key, as the caller", NODES,
                ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"), "{key_arn}", DDB_KMS_WRITE, "doc",
                {"kms:ViaService": "dynamodb.{table_region}.amazonaws.com", "kms:CallerAccount": "{account}",
                 "kms:EncryptionContext:aws:dynamodb:tableName": "{table}"}, "table_cmk"),
    RuntimeCall("writes DynamoDBDataNode", "DynamoDB reads the table key's metadata, as the caller (no encryption context)", NODES,
                ("kms:DescribeKey",), "{key_arn}", DDB_KMS + "; " + KMS_METADATA, "doc",
                {"kms:ViaService": "dynamodb.{table_region}.amazonaws.com", "kms:CallerAccount": "{account}"}, "table_cmk"),
    RuntimeCall("writes S3DataNode", "EMRFS writes the files, reads them back, removes _temporary, aborts failed uploads", NODES,
                ("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"), "{object_arn}", S3_PERMISSIONS, "doc", S3_CONTEXT),
    RuntimeCall("writes S3DataNode", "EMRFS lists the run folder", NODES,
                ("s3:ListBucket",), "{bucket_arn}", S3_PERMISSIONS, "doc", {**S3_CONTEXT, "s3:prefix": "{folder}/"}),
    RuntimeCall("writes S3DataNode", "EMRFS creates the folder and its ancestors: it looks for each ancestor's key", NODES,
                ("s3:GetObject",), "{ancestor_arns}", EMRFS, "inferred", S3_CONTEXT),
    RuntimeCall("writes S3DataNode", "EMRFS creates the folder and its ancestors: it writes and later removes their markers", NODES,
                ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"), "{marker_arns}", EMRFS, "inferred", S3_CONTEXT),
    RuntimeCall("writes S3DataNode", "EMRFS creates the folder and its ancestors: it lists each ancestor's prefix", NODES,
                ("s3:ListBucket",), "{bucket_arn}", EMRFS, "inferred", {**S3_CONTEXT, "s3:prefix": "{ancestor_prefixes}"}),
    RuntimeCall("writes S3DataNode", "a canned ACL on the files (-Dfs.s3.canned.acl in the step) also sets each object's ACL", NODES,
                ("s3:PutObjectAcl",), "{object_arn}", S3_PERMISSIONS, "doc", S3_CONTEXT, "canned_acl"),
    RuntimeCall("writes S3DataNode", "EMRFS asks where the bucket is", NODES,
                ("s3:GetBucketLocation",), "{bucket_arn}", EMRFS_LOCATION, "inferred", S3_CONTEXT),
    RuntimeCall("writes S3DataNode", "files are encrypted with the bucket's key", NODES,
                ("kms:GenerateDataKey", "kms:Decrypt"), "{key_arn}", S3_KMS, "doc",
                {"kms:ViaService": "s3.{bucket_region}.amazonaws.com"}, "bucket_kms"),
    RuntimeCall("reads S3DataNode", "EMRFS reads the manifest and the files", NODES,
                ("s3:GetObject",), "{object_arn}", S3_PERMISSIONS, "doc", S3_CONTEXT),
    RuntimeCall("reads S3DataNode", "EMRFS lists the folder", NODES,
                ("s3:ListBucket",), "{bucket_arn}", S3_PERMISSIONS, "doc", {**S3_CONTEXT, "s3:prefix": "{folder}/"}),
    RuntimeCall("reads S3DataNode", "EMRFS asks where the bucket is", NODES,
                ("s3:GetBucketLocation",), "{bucket_arn}", EMRFS_LOCATION, "inferred", S3_CONTEXT),
    RuntimeCall("reads S3DataNode", "files are decrypted with the bucket's key", NODES,
                ("kms:Decrypt",), "{key_arn}", S3_KMS, "doc", {"kms:ViaService": "s3.{bucket_region}.amazonaws.com"}, "bucket_kms"),
    RuntimeCall("deletes S3DataNode", "the cleanup lists the run folder", NODES,
                ("s3:ListBucket",), "{bucket_arn}", DP_SHELL, "doc", {**S3_CONTEXT, "s3:prefix": "{folder}/"}),
    RuntimeCall("deletes S3DataNode", "the cleanup deletes the run folder's objects", NODES,
                ("s3:DeleteObject",), "{object_arn}", DP_SHELL, "doc", S3_CONTEXT),
    # Before each attempt of an export: the step that removes its output folder (definition/emr.py).
    RuntimeCall("clears S3DataNode", "the removal lists the run folder's objects", NODES,
                ("s3:ListBucket",), "{bucket_arn}", EMR_REMOVE, "doc", {**S3_CONTEXT, "s3:prefix": "{folder}/"}),
    RuntimeCall("clears S3DataNode", "the removal deletes the run folder's objects", NODES,
                ("s3:DeleteObject",), "{object_arn}", EMR_REMOVE, "doc", S3_CONTEXT),
    RuntimeCall("clears S3DataNode", "EMRFS looks the folder up first (its key and its marker; a missing folder is no error)", NODES,
                ("s3:GetObject",), "{folder_arns}", EMRFS, "inferred", S3_CONTEXT),
    RuntimeCall("clears S3DataNode", "EMRFS deletes the folder's marker and marks the parent folder that is left", NODES,
                ("s3:DeleteObject", "s3:PutObject"), "{folder_marker_arns}", EMRFS, "inferred", S3_CONTEXT),
    RuntimeCall("S3KeyExists", "Data Pipeline checks that the key exists", ROLE,
                ("s3:GetObject",), "{object_arn}", DP_PRECONDITION, "doc", S3_CONTEXT),
    RuntimeCall("S3KeyExists", "Data Pipeline lists the key's folder (a missing key is then 404, not 403)", ROLE,
                ("s3:ListBucket",), "{bucket_arn}", S3_PERMISSIONS, "doc", {**S3_CONTEXT, "s3:prefix": "{folder}/"}),
    RuntimeCall("SnsAlarm", "Data Pipeline publishes the alarm", ROLE,
                ("sns:Publish",), "{topic_arn}", DP_ROLE_POLICY, "doc", {"aws:RequestedRegion": "{topic_region}"}),
    RuntimeCall("SnsAlarm", "SNS encrypts the message with the topic's key", ROLE,
                ("kms:GenerateDataKey", "kms:Decrypt"), "{key_arn}", SNS_KMS, "doc",
                {"kms:ViaService": "sns.{topic_region}.amazonaws.com"}, "topic_kms"),
)


def calls_for(trigger: str) -> tuple[RuntimeCall, ...]:
    return tuple(call for call in CALLS if call.trigger == trigger)


def folder_ancestors(prefix: str) -> list[str]:
    """``copies/a-to-b`` -> ``["copies"]``: the folders above a prefix, which EMRFS checks and marks
    (the model's ancestor requests and the grants that answer them both come from here)."""
    parts = prefix.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
