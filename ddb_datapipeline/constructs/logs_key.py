"""The customer managed key the native engine's state machine log groups are encrypted with: one per stack,
made by the first machine at the stack's root under the fixed id ``LogsKey`` and found there by the next
(as ``AlertTopic.of`` does for the alert topic).

Why a key of its own rather than the alert topic's: a team may give the constructs its own topic with no key
or with a key whose policy this project cannot change, and CloudWatch Logs needs a statement in the key's
policy. A dedicated key keeps that statement off every other key of the stack.

The key policy (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS Key Management
Service", step "Set permissions on the key"): the regional service principal ``logs.<region>.amazonaws.com``
may use the key only when the request's encryption context ``kms:EncryptionContext:aws:logs:arn`` is a log
group of this account and region. The page's example grants ``kms:Encrypt*``, ``kms:Decrypt*``,
``kms:ReEncrypt*``, ``kms:GenerateDataKey*`` and ``kms:Describe*`` under that one condition; here the
actions are those patterns' members that apply to a symmetric key (``GenerateDataKeyPair*`` is refused on
one), and ``kms:Describe*`` is left out: DescribeKey carries no encryption context (KMS API Reference,
GrantConstraints), so under that condition the page's statement can never allow it either. The effect is
the page's statement, without an action that could never be used.

The page writes the condition with ``ArnLike``/``ArnEquals``; the Service Authorization Reference types
``kms:EncryptionContext:${EncryptionContextKey}`` as a String, so it is written here with ``StringLike``, which
matches the same values for a pattern whose only wildcard is the trailing name.

Why a pattern rather than each log group's ARN: the log groups have names CloudFormation generates, and their
``KmsKeyId`` names this key, so a policy naming their ARNs would depend on them while they depend on it.
"""
from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .props import PipelineConfigurationError

STACK_LOGS_KEY_ID = "LogsKey"
# Members of the CloudWatch Logs page's kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey* that a symmetric key accepts
# (Service Authorization Reference, AWS KMS, for the action names).
LOGS_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:ReEncryptFrom", "kms:ReEncryptTo")
LOGS_CONTEXT_KEY = "kms:EncryptionContext:aws:logs:arn"


def log_groups_pattern(stack: Stack) -> str:
    """Every log group of ``stack``'s account and region, as ``kms:EncryptionContext:aws:logs:arn`` names one."""
    return f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"


def logs_key(scope: Construct) -> kms.Key:
    """The stack's key for its state machines' log groups: made with rotation on and the CloudWatch Logs
    statement on first use, found again later."""
    stack = Stack.of(scope)
    found = stack.node.try_find_child(STACK_LOGS_KEY_ID)
    if isinstance(found, kms.Key):
        return found
    if found is not None:
        raise PipelineConfigurationError(
            f"{found.node.path}: the id '{STACK_LOGS_KEY_ID}' at the stack root is the state machine logs' key; this is a "
            f"{type(found).__name__}: give it another id")
    key = kms.Key(stack, STACK_LOGS_KEY_ID, description="Encrypts the logs of the DynamoDB backup state machines",
                  enable_key_rotation=True)
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="CloudWatchLogsOfThisAccountAndRegion",
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=list(LOGS_KEY_ACTIONS),
        resources=["*"],
        conditions={"StringLike": {LOGS_CONTEXT_KEY: log_groups_pattern(stack)}},
    ))
    return key
