"""The parliament findings a reviewer accepts, each with the finding, where it is and why: data, read by
``iam.parliament_findings``. A finding no entry accepts fails the test that found it.

It lives with the tests, not in the package: parliament is a development dependency, and these entries
describe what parliament reports on this project's templates, not anything the constructs do.

Two kinds of entry:

- ``RULES``: parliament's false positives by construction, whatever the resource: it lints every
  document as an identity policy. Each rule names the kind of policy it applies to and why parliament's
  reading does not fit that kind.
- ``ACCEPTED``: findings that are right about the policy and accepted for the reason given, on the
  resources named by construct path (``fnmatch`` patterns, ``*`` spanning ``/``, so a pattern covers the
  environment stacks, the delivery stages' copies of them and the bare stacks of the construct tests).

Parliament runs with its community auditors (``include_community_auditors=True``): they look for
credential-returning actions, permission-management actions and privilege escalation, which is what a
reviewer of these roles wants named; their findings are accepted here one by one like the others.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Findings that list several actions: each action is accepted on its own (its
# own entry, its own reason), so an entry never covers an action added to the policy later.
PER_ACTION = {"CREDENTIALS_EXPOSURE", "PERMISSIONS_MANAGEMENT_ACTIONS", "RESOURCE_STAR"}


@dataclass(frozen=True)
class Accepted:
    """One accepted finding: parliament's ``issue``, on the policies at construct ``path`` of ``kind``,
    whose detail matches ``detail``; ``reason`` says why a reviewer accepts it, ``evidence`` where that comes from."""

    issue: str
    path: str
    reason: str
    evidence: str
    kind: str = "*"
    detail: str = "*"
    when: Callable[[Any], bool] | None = None  # a further test on the finding, for a rule that needs one

    def accepts(self, finding: Any) -> bool:
        document = finding.document
        return (finding.issue == self.issue and fnmatch.fnmatchcase(document.path, self.path)
                and fnmatch.fnmatchcase(document.kind, self.kind) and _detail_matches(self.detail, finding.detail)
                and (self.when is None or self.when(finding)))


def _detail_matches(pattern: str, detail: str) -> bool:
    """``*`` in a pattern is any run of characters; everything else is itself (a detail is often JSON, whose
    brackets fnmatch would otherwise read as a character class)."""
    return fnmatch.fnmatchcase(detail, pattern.replace("[", "[[]"))


def _only_through_wildcards(finding: Any) -> bool:
    """Every action parliament names is reached only through a wildcard of the document (``s3:List*``
    reaching ``s3:ListAllMyBuckets``), never named itself."""
    named = {a.lower() for s in _statements(finding.document.document) for a in _as_list(s.get("Action"))}
    reported = [entry["action"] for entry in json.loads(finding.detail)]
    return all(action.lower() not in named for action in reported)


def _assumes_named_roles(finding: Any) -> bool:
    """Every sts:AssumeRole the policy allows names whole role ARNs (no wildcard)."""
    statements = [s for s in _statements(finding.document.document)
                  if s.get("Effect") == "Allow" and "sts:AssumeRole" in _as_list(s.get("Action"))]
    return bool(statements) and all(":role/" in str(r) and "*" not in str(r) for s in statements for r in _as_list(s.get("Resource")))


def _connection_granted_by_its_prefix(finding: Any) -> bool:
    """Every connection the policy grants codestar-connections:UseConnection on is granted codeconnections:UseConnection
    too when its ARN is a codeconnections one (the grant of the old prefix is then only CDK's leftover)."""
    def granted(action: str) -> set[str]:
        return {str(r) for s in _statements(finding.document.document) if s.get("Effect") == "Allow" and action in _as_list(s.get("Action"))
                for r in _as_list(s.get("Resource"))}

    old = granted("codestar-connections:UseConnection")
    return bool(old) and all(":codeconnections:" not in arn or arn in granted("codeconnections:UseConnection") for arn in old)


def _default_key_policy(finding: Any) -> bool:
    """The key policy delegates the key to the account's IAM policies, CDK's default: ``kms:*`` for the account root."""
    return any(s.get("Effect") == "Allow" and _as_list(s.get("Action")) == ["kms:*"]
               and all(str(p).endswith(":root") for p in _as_list((s.get("Principal") or {}).get("AWS")))
               for s in _statements(finding.document.document))


def _statements(document: Any) -> list[dict[str, Any]]:
    return _as_list(document.get("Statement"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


KEY_RESOURCE = ("In a key policy, Resource \"*\" means the KMS key the policy is attached to, and it is the only form a key policy "
                "takes; parliament reads it as every resource of every listed action.")
RULES: tuple[Accepted, ...] = (
    Accepted("RESOURCE_STAR", "*", KEY_RESOURCE, "doc: KMS Developer Guide, 'Key policies in AWS KMS' (elements of a key policy)",
             kind="key"),
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*",
             "CDK's default key policy gives kms:* to the key's own account root, which hands every decision about the key to the "
             "account's IAM policies (no principal gains anything from it alone); key administration then needs an IAM grant, and "
             "none of this project's roles has one.",
             "doc: KMS Developer Guide, 'Default key policy' (allows access to the AWS account and enables IAM policies)",
             kind="key", when=_default_key_policy),
    Accepted("CREDENTIALS_EXPOSURE", "*",
             "A trust policy's one action is sts:AssumeRole: it says who may assume the role, which is its purpose; parliament's "
             "credentials auditor reads it as a grant to call AssumeRole.",
             "doc: IAM User Guide, 'Role trust policy'", kind="trust"),
    Accepted("RESOURCE_MISMATCH", "*",
             "Every action parliament names comes from an action wildcard of the statement (s3:List*, s3:GetObject*), never named "
             "itself; IAM applies a wildcard's action only to the resources of its own types, so those actions are granted on "
             "nothing and the statement grants what its named resources allow.",
             "doc: IAM User Guide, 'IAM JSON policy elements: Action' and 'Resource' (an action applies to resources of the types it "
             "supports)", when=_only_through_wildcards),
)

EMR_EC2 = ("The EC2 actions EMR performs as its service role act on launch templates, instances, security groups and interfaces it "
           "creates at launch, named at run time and not taggable by Data Pipeline's EmrCluster; every action is named one by one "
           "and pinned to the pipelines' regions (aws:RequestedRegion); the same wildcard is acknowledged to cdk-nag (IAM5).")
CDK_PIPELINES = "CDK Pipelines generates this grant (pipelines.CodePipeline); the delivery stack does not write it."
ACCEPTED: tuple[Accepted, ...] = (
    Accepted("RESOURCE_STAR", "*Roles/EmrServicePolicy/Resource", EMR_EC2,
             "doc: AWS managed policy AmazonEMRServicePolicy_v2 (the same actions, on tag-scoped resources a pipeline cannot tag)",
             detail="ec2:*"),
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*Roles/EmrServicePolicy/Resource",
             "iam:CreateServiceLinkedRole is limited to EMR's cleanup role (AWSServiceRoleForEMRCleanup) and to "
             "iam:AWSServiceName elasticmapreduce.amazonaws.com; EMR creates it on the first cluster of an account.",
             "doc: EMR Management Guide, 'Using the service-linked role for Amazon EMR'", detail="iam:createservicelinkedrole"),
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*Roles/PipelinePolicy/Resource",
             "iam:PassRole names only the stack's pipeline role and its node roles (by their name prefix), passed only to EMR and EC2 "
             "(iam:PassedToService): Data Pipeline hands them to the cluster it launches.",
             "doc: IAM User Guide, 'Granting a user permissions to pass a role to an AWS service'", detail="iam:passrole"),
    # The delivery stack: CDK Pipelines' generated roles.
    Accepted("RESOURCE_STAR", "*-delivery/Pipeline/Pipeline/Role/DefaultPolicy/Resource",
             CDK_PIPELINES + " The cross-region replication keys are known to the pipeline role by alias only, so their KMS grant is on *.",
             "source: aws-cdk-lib pipelines, cross-region support stacks (the key's alias, not its ARN)", detail="kms:*"),
    Accepted("RESOURCE_STAR", "*-delivery/Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource",
             CDK_PIPELINES + " Self-mutation lists the bootstrap buckets and reads stacks it does not know the names of.",
             "source: aws-cdk-lib pipelines, UpdatePipeline self-mutation step", detail="s3:ListBucket"),
    Accepted("CREDENTIALS_EXPOSURE", "*-delivery/Pipeline/*/DefaultPolicy/Resource",
             CDK_PIPELINES + " Its roles assume the actions' roles and the CDK bootstrap roles of the target accounts (deploy, "
             "publishing, lookup), the way CDK Pipelines deploys; the post-deploy check assumes the read-only lookup role.",
             "source: aws-cdk-lib pipelines; the project's check step (delivery_stack.LOOKUP_ROLE)", detail="sts:assumerole"),
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*-delivery/Pipeline/Pipeline/Source/*/DefaultPolicy/Resource",
             CDK_PIPELINES + " The source action sets the ACL of the artifacts (and their versions) it writes into the pipeline's own artifact bucket.",
             "source: aws-cdk-lib codepipeline-actions, CodeStarConnectionsSourceAction", detail="s3:putobject*acl"),
    Accepted("RESOURCE_MISMATCH", "*-delivery/Pipeline/Pipeline/Source/*/DefaultPolicy/Resource",
             CDK_PIPELINES + " It grants codestar-connections:UseConnection on the connection whatever its ARN's prefix; for a "
             "codeconnections ARN the delivery stack adds codeconnections:UseConnection on it, the grant that matches.",
             "doc: Developer Tools console guide, 'Connections rename - Summary of changes' (the service prefix must match the resource's)",
             detail='*"codestar-connections:UseConnection"*', when=_connection_granted_by_its_prefix),
    # The native engine's state machines (their roles: <machine>/StateMachine/Role, or <construct>/Role when named).
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*/Role/DefaultPolicy/Resource",
             "Step Functions sets up a logged state machine's log delivery with the machine role's permissions, "
             "logs:PutResourcePolicy among them, on '*' (CDK's StateMachine grants them when logging is on).",
             "doc: Step Functions Developer Guide, 'Logging using CloudWatch Logs' (IAM policies for logging)", detail="logs:putresourcepolicy"),
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*/Role/DefaultPolicy/Resource",
             "DynamoDB writes an export's files with the caller's permissions and sets their ACL: s3:PutObjectAcl on the export's own "
             "prefix only (of this account's bucket, or of the other account's staging bucket, pinned by s3:ResourceAccount).",
             "doc: DynamoDB Developer Guide, 'Requesting a table export in DynamoDB' (s3:AbortMultipartUpload, s3:PutObject, "
             "s3:PutObjectAcl)", detail="s3:putobjectacl"),
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*/Role/DefaultPolicy/Resource",
             "DynamoDB creates the imported table on its customer managed key as the caller, which takes kms:CreateGrant on that "
             "one key, through DynamoDB only (kms:ViaService).",
             "doc: DynamoDB Developer Guide, 'How Amazon DynamoDB uses AWS KMS' (the key policy for a customer managed key)",
             detail="kms:creategrant"),
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*/NativeImport-*/DefaultPolicy/Resource",
             "A native copy from another account imports as this role (copy-target stack), and DynamoDB creates the imported table "
             "on the copy's customer managed key of this stack as the caller, which takes kms:CreateGrant on that one key, through "
             "DynamoDB only (kms:ViaService).",
             "doc: DynamoDB Developer Guide, 'How Amazon DynamoDB uses AWS KMS' (the key policy for a customer managed key)",
             detail="kms:creategrant"),
    Accepted("CREDENTIALS_EXPOSURE", "*/Role/DefaultPolicy/Resource",
             "A native copy into another account runs its import Task as that account's import role (the Task's Credentials), "
             "which the machine's role assumes; the role is named by its ARN, and its trust policy names this machine's role.",
             "doc: Step Functions Developer Guide, 'Accessing resources in other AWS accounts'", detail="sts:assumerole",
             when=_assumes_named_roles),
    Accepted("PERMISSIONS_MANAGEMENT_ACTIONS", "*/StagingBucket/Bucket/Policy/Resource",
             "The staging bucket of a copy from another account admits that account's machine role (by its ARN) to write the "
             "export's files under the copy's own prefix: DynamoDB's export sets each object's ACL, so s3:PutObjectAcl with them.",
             "doc: DynamoDB Developer Guide, 'Requesting a table export in DynamoDB' (exports to a bucket of another account)",
             detail="s3:putobjectacl"),
    Accepted("RESOURCE_MISMATCH", "*/Role/DefaultPolicy/Resource",
             "states:ListExecutions lists the runs of a state machine or of a Map Run; the SAR marks both resource types required "
             "and the API takes one or the other. The incremental export lists the runs of its own state machine only.",
             "doc: Step Functions API Reference, ListExecutions (stateMachineArn or mapRunArn)",
             detail='[{"action": "states:ListExecutions", "required_format": "arn:*:states:*:*:mapRun:*/*:*"}]'),
)


def accepts(finding: Any) -> bool:
    """Whether some entry accepts the finding; a finding of PER_ACTION that lists actions is accepted when
    each of its actions is."""
    if finding.issue in PER_ACTION and finding.detail.startswith("["):
        actions = json.loads(finding.detail)
        return all(accepts(dataclasses.replace(finding, detail=action)) for action in actions)
    return any(entry.accepts(finding) for entry in (*RULES, *ACCEPTED))
