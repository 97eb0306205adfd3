"""The resources of a template by type, with the properties a reviewer checks.

A reviewer asks the same questions of every stack: is the data encrypted, is it retained when the
stack or the resource goes, is point-in-time recovery on, is anything public. Each known type gets a
table answering exactly those; other types are listed with their retention, so nothing is hidden.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ..assembly import StackArtifact
from ..policies import is_tls_only
from . import iam, intrinsics
from . import markdown as md

SKIPPED_TYPES = frozenset({"AWS::CDK::Metadata"})  # synthesis bookkeeping, nothing to review
PUBLIC_ACCESS_BLOCKS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")

Row = list[str]
View = tuple[list[str], Callable[[StackArtifact, str, dict[str, Any]], Row]]


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


def _flag(value: Any) -> bool:
    return value is True or value in ("true", "True")


def retention(resource: dict[str, Any]) -> str:
    """What happens to the resource when it is deleted or replaced (CloudFormation default: Delete)."""
    deletion = resource.get("DeletionPolicy")
    replace = resource.get("UpdateReplacePolicy")
    shown = intrinsics.text(deletion) if deletion else "Delete (default)"
    if replace and replace != deletion:
        shown += f", on replace {intrinsics.text(replace)}"
    return shown


def _tls_only(stack: StackArtifact, policy_type: str, target_key: str, logical_id: str) -> bool:
    """Whether a resource policy of the stack denies requests without TLS to this resource."""
    for policy in stack.resources_of_type(policy_type).values():
        properties = _props(policy)
        targets = [intrinsics.text(t) for t in intrinsics.as_list(properties.get(target_key))]
        if "${" + logical_id + "}" not in targets:
            continue
        if is_tls_only(properties.get("PolicyDocument") or {}):
            return True
    return False


def _bucket(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    p = _props(resource)
    rules = intrinsics.as_list((p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"))
    encryption = []
    for rule in rules:
        default = rule.get("ServerSideEncryptionByDefault") or {}
        shown = md.code(intrinsics.text(default.get("SSEAlgorithm", "?")))
        if default.get("KMSMasterKeyID"):
            shown += " key " + md.code(intrinsics.text(default["KMSMasterKeyID"]))
        if _flag(rule.get("BucketKeyEnabled")):
            shown += ", bucket key"
        encryption.append(shown)
    block = p.get("PublicAccessBlockConfiguration")
    if isinstance(block, dict):
        missing = [k for k in PUBLIC_ACCESS_BLOCKS if not _flag(block.get(k))]
        public = md.warn(True, "open: " + ", ".join(missing)) if missing else "all four blocks on"
    else:
        public = md.warn(True, "not set (account and S3 defaults apply)")
    logging = p.get("LoggingConfiguration")
    logs = (md.code(intrinsics.text(logging.get("DestinationBucketName", "this bucket"))) + " "
            + md.code(intrinsics.text(logging.get("LogFilePrefix", "")))) if isinstance(logging, dict) else "off"
    lifecycle = []
    for rule in intrinsics.as_list((p.get("LifecycleConfiguration") or {}).get("Rules")):
        prefix = rule.get("Prefix") or (rule.get("Filter") or {}).get("Prefix")
        scope = md.code(intrinsics.text(prefix)) if prefix else "whole bucket"
        what = []
        if rule.get("ExpirationInDays") is not None:
            what.append(f"expire after {intrinsics.text(rule['ExpirationInDays'])} d")
        for transition in intrinsics.as_list(rule.get("Transitions")):
            what.append(f"{intrinsics.text(transition.get('StorageClass'))} after {intrinsics.text(transition.get('TransitionInDays'))} d")
        if rule.get("NoncurrentVersionExpiration"):
            what.append(f"old versions expire after {intrinsics.text(rule['NoncurrentVersionExpiration'].get('NoncurrentDays'))} d")
        if rule.get("AbortIncompleteMultipartUpload"):
            what.append(f"abort uploads after {intrinsics.text(rule['AbortIncompleteMultipartUpload'].get('DaysAfterInitiation'))} d")
        status = "" if rule.get("Status", "Enabled") == "Enabled" else " (disabled)"
        lifecycle.append(f"{scope}: {md.text(', '.join(what) or 'no action')}{status}")
    versioning = intrinsics.text((p.get("VersioningConfiguration") or {}).get("Status", "off"))
    tls = "yes" if _tls_only(stack, "AWS::S3::BucketPolicy", "Bucket", logical_id) else md.warn(True, "no")
    return [
        "<br>".join(encryption) or md.warn(True, "not set (S3 default SSE-S3)"),
        md.warn(versioning != "Enabled", md.text(versioning)),
        public,
        tls,
        logs,
        "<br>".join(lifecycle) or "none",
        retention(resource),
    ]


def _table(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    p = _props(resource)
    types = {a.get("AttributeName"): a.get("AttributeType") for a in intrinsics.as_list(p.get("AttributeDefinitions"))}
    keys = [f"{md.code(intrinsics.text(k.get('AttributeName')))} {types.get(k.get('AttributeName'), '?')} {k.get('KeyType', '')}"
            for k in intrinsics.as_list(p.get("KeySchema"))]
    if p.get("BillingMode") == "PAY_PER_REQUEST":
        billing = "on demand"
    else:
        throughput = p.get("ProvisionedThroughput") or {}
        billing = (f"provisioned {intrinsics.text(throughput.get('ReadCapacityUnits', '?'))} RCU / "
                   f"{intrinsics.text(throughput.get('WriteCapacityUnits', '?'))} WCU")
    sse = p.get("SSESpecification") or {}
    if _flag(sse.get("SSEEnabled")):
        key = sse.get("KMSMasterKeyId")
        encryption = "KMS key " + md.code(intrinsics.text(key)) if key else "KMS, AWS managed key"
    else:
        encryption = "AWS owned key (default)"
    pitr_spec = p.get("PointInTimeRecoverySpecification") or {}
    pitr = "on" if _flag(pitr_spec.get("PointInTimeRecoveryEnabled")) else md.warn(True, "off")
    if pitr == "on" and pitr_spec.get("RecoveryPeriodInDays"):
        pitr += f", {intrinsics.text(pitr_spec['RecoveryPeriodInDays'])} d"
    stream = (p.get("StreamSpecification") or {}).get("StreamViewType")
    return [
        md.code(intrinsics.text(p.get("TableName", "(generated)"))),
        "<br>".join(keys),
        billing,
        encryption,
        pitr,
        "on" if _flag(p.get("DeletionProtectionEnabled")) else md.warn(True, "off"),
        md.code(intrinsics.text(stream)) if stream else "off",
        retention(resource),
    ]


def _statement_summary(statements: Any) -> str:
    lines = []
    for statement in intrinsics.as_list(statements):
        if not isinstance(statement, dict):
            continue
        who = ", ".join(iam.principals(statement.get("Principal"))) or "-"
        actions = ", ".join(intrinsics.text(a) for a in intrinsics.as_list(statement.get("Action") or statement.get("NotAction")))
        when = "; ".join(iam.conditions(statement.get("Condition")))
        line = f"{intrinsics.text(statement.get('Effect', 'Allow'))} {actions} to {who}" + (f" if {when}" if when else "")
        lines.append(md.warn(statement.get("Effect") != "Deny" and "*" in who, md.code(line)))
    return "<br>".join(lines) or "-"


def _key(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    p = _props(resource)
    rotation = "on" if _flag(p.get("EnableKeyRotation")) else md.warn(True, "off")
    window = p.get("PendingWindowInDays")
    return [
        md.text(intrinsics.text(p.get("Description", ""))),
        rotation,
        _statement_summary((p.get("KeyPolicy") or {}).get("Statement")),
        f"{intrinsics.text(window)} d" if window is not None else "30 d (default)",
        retention(resource),
    ]


def _topic(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    p = _props(resource)
    key = p.get("KmsMasterKeyId")
    return [
        md.text(intrinsics.text(p.get("TopicName", p.get("DisplayName", "")))),
        "KMS key " + md.code(intrinsics.text(key)) if key else md.warn(True, "off"),
        "yes" if _tls_only(stack, "AWS::SNS::TopicPolicy", "Topics", logical_id) else md.warn(True, "no"),
        retention(resource),
    ]


def _subscription(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    p = _props(resource)
    return [md.code(intrinsics.text(p.get("Protocol", "?"))), md.code(intrinsics.text(p.get("Endpoint", "?"))),
            md.code(intrinsics.text(p.get("TopicArn", "?")))]


def _resource_policy(target_key: str) -> Callable[[StackArtifact, str, dict[str, Any]], Row]:
    def row(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
        p = _props(resource)
        return [md.codes(intrinsics.text(t) for t in intrinsics.as_list(p.get(target_key))),
                _statement_summary((p.get("PolicyDocument") or {}).get("Statement"))]
    return row


def _pipeline(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    p = _props(resource)
    return [md.code(intrinsics.text(p.get("Name", "?"))), intrinsics.text(p.get("Activate", True)),
            str(len(intrinsics.as_list(p.get("PipelineObjects")))), str(len(intrinsics.as_list(p.get("ParameterObjects"))))]


def _role(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    p = _props(resource)
    return [md.text(intrinsics.text(p.get("Description", ""))),
            md.code(intrinsics.text(p["PermissionsBoundary"])) if p.get("PermissionsBoundary") else "none"]


def _attached_policy(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    p = _props(resource)
    return [md.codes(iam.holders(stack, logical_id)), str(len(intrinsics.as_list((p.get("PolicyDocument") or {}).get("Statement"))))]


def _profile(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    return [md.codes(intrinsics.text(r) for r in intrinsics.as_list(_props(resource).get("Roles")))]


VIEWS: dict[str, View] = {
    "AWS::S3::Bucket": (["Encryption", "Versioning", "Public access", "TLS only", "Access logs", "Lifecycle", "Retention"], _bucket),
    "AWS::DynamoDB::Table": (["Table", "Keys", "Billing", "Encryption", "PITR", "Deletion protection", "Stream", "Retention"], _table),
    "AWS::KMS::Key": (["Description", "Rotation", "Key policy", "Pending window", "Retention"], _key),
    "AWS::SNS::Topic": (["Name", "Encryption", "TLS only", "Retention"], _topic),
    "AWS::SNS::Subscription": (["Protocol", "Endpoint", "Topic"], _subscription),
    "AWS::S3::BucketPolicy": (["Bucket", "Statements"], _resource_policy("Bucket")),
    "AWS::SNS::TopicPolicy": (["Topics", "Statements"], _resource_policy("Topics")),
    "AWS::DataPipeline::Pipeline": (["Name", "Activate", "Objects", "Parameters"], _pipeline),
    "AWS::IAM::Role": (["Description", "Permissions boundary"], _role),
    "AWS::IAM::Policy": (["Attached to", "Statements"], _attached_policy),
    "AWS::IAM::ManagedPolicy": (["Attached to", "Statements"], _attached_policy),
    "AWS::IAM::InstanceProfile": (["Roles"], _profile),
}
NOTES = {
    "AWS::DataPipeline::Pipeline": "Each pipeline is described under Pipelines.",
    "AWS::IAM::Role": "Trust and permissions are in the IAM matrix.",
    "AWS::IAM::Policy": "Statements are in the IAM matrix.",
    "AWS::IAM::ManagedPolicy": "Statements are in the IAM matrix.",
}


def _generic(stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> Row:
    return [md.codes(sorted(_props(resource))), retention(resource)]


def section(stack: StackArtifact, level: int) -> str:
    reviewed = {k: v for k, v in sorted(stack.resources.items()) if v.get("Type") not in SKIPPED_TYPES}
    counts = Counter(intrinsics.text(v.get("Type", "?")) for v in reviewed.values())
    parts = [md.heading(level, "Resources"), ""]
    parts += [md.table(["Type", "Count"], ([md.code(t), str(n)] for t, n in sorted(counts.items()))), ""]
    for type_name in sorted(counts):
        headers, view = VIEWS.get(type_name, (["Properties", "Retention"], _generic))
        members = {k: v for k, v in reviewed.items() if intrinsics.text(v.get("Type", "?")) == type_name}
        parts += [md.heading(level + 1, md.text(type_name)), ""]
        if type_name in NOTES:
            parts += [NOTES[type_name], ""]
        parts += [md.table(["Resource", *headers], ([md.code(k), *view(stack, k, v)] for k, v in members.items())), ""]
    return "\n".join(parts)
