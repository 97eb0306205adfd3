"""An alarm for the hand-over no state machine sees: an EventBridge rule that fails to deliver an event.

A copy into another region hands its export to the import machine there through two rules. Once an event
is on a bus, EventBridge retries its delivery for up to a day and then drops it; neither machine runs, so
neither can alarm. EventBridge counts such drops per rule (``AWS/Events`` ``FailedInvocations``, only when
not zero; a rule on a custom bus is also named by its bus), and a CloudWatch alarm on that count
publishes to the alert topic.

CloudWatch publishes as its service principal, so the topic's policy must admit it (for the alarms of
this account, named ``ddb-*``) and so must the topic's customer managed key: the CloudWatch User Guide's
encrypted-topic setup (kms:Decrypt and kms:GenerateDataKey* for cloudwatch.amazonaws.com). A topic the team
brought (``alerts.existing_topic_arn``) is not changed: its policy and key must admit CloudWatch already, and
``state_admission`` records in the template that the team says so (the runtime permission check reads it).
"""
from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..permissions.runtime_calls import STATED_POLICIES

ALARM_PREFIX = "ddb-"  # every alarm this project creates; the topic admits CloudWatch for these only
_ADMITTED = "AdmitsCloudWatchAlarms"


def _publish_statement(stack: Stack, topic_arn: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="CloudWatchAlarmsPublish", principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")], actions=["sns:Publish"],
        resources=[topic_arn],
        conditions={"ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{ALARM_PREFIX}*"},
                    "StringEquals": {"aws:SourceAccount": stack.account}},
    )


def _encrypt_statement() -> iam.PolicyStatement:
    """CloudWatch's use of the topic's key, deliberately without aws:SourceArn/aws:SourceAccount (the topic's statement
    has both): SNS calls KMS for CloudWatch's publication, and the AWS pages read (SNS Developer Guide, "Enable
    compatibility between event sources from AWS services and encrypted topics"; the CloudWatch User Guide's
    encrypted-topic setup) give this statement with no condition and say nothing of which source keys that KMS
    call carries. A key the call does not carry denies it, and an alarm that never arrives is the worse outcome;
    the topic's policy already admits only this account's ``ddb-*`` alarms (native_calls.CLOUDWATCH_SNS_KMS)."""
    return iam.PolicyStatement(
        sid="CloudWatchAlarmsEncrypt", principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
    )


def admit_alarms(topic: sns.ITopic, key: kms.IKey | None) -> None:
    """Let CloudWatch alarms of this account named ``ddb-*`` publish to ``topic`` (once per topic)."""
    if topic.node.try_find_child(_ADMITTED) is not None:
        return
    Construct(topic, _ADMITTED)
    topic.add_to_resource_policy(_publish_statement(Stack.of(topic), topic.topic_arn))
    if key is not None:
        key.add_to_resource_policy(_encrypt_statement())


def state_admission(stack: Stack, *, topic_arn: str, key_arn: str | None) -> None:
    """Records in ``stack``'s template the statements a topic the team brought (and its key) are stated to hold:
    the ones ``admit_alarms`` would add, and for the key the default delegation to the account's IAM policies.
    Nothing is deployed from it; the runtime permission check decides CloudWatch's publishing against it."""
    def document(*statements: iam.PolicyStatement) -> object:
        return stack.resolve(iam.PolicyDocument(statements=list(statements)).to_json())

    stated = [{"Resource": topic_arn, "Kind": "topic", "KeyArn": key_arn, "PolicyDocument": document(_publish_statement(stack, topic_arn))}]
    if key_arn is not None:
        delegate = iam.PolicyStatement(principals=[iam.AccountRootPrincipal()], actions=["kms:*"], resources=["*"])
        stated.append({"Resource": key_arn, "Kind": "key", "PolicyDocument": document(delegate, _encrypt_statement())})
    stack.add_metadata(STATED_POLICIES, stated)


def delivery_alarm(scope: Construct, id: str, *, rule_name: str, bus_name: str | None, topic: sns.ITopic, key: kms.IKey | None,
                   description: str) -> cloudwatch.Alarm:
    """Alarms on ``topic`` when the rule ``rule_name`` (on ``bus_name``, None: the default bus) drops an event."""
    dimensions = {"RuleName": rule_name, **({"EventBusName": bus_name} if bus_name else {})}
    alarm = cloudwatch.Alarm(
        scope, id,
        alarm_name=f"{ALARM_PREFIX}{rule_name.removeprefix(ALARM_PREFIX)}-failed-deliveries",
        alarm_description=description,
        metric=cloudwatch.Metric(namespace="AWS/Events", metric_name="FailedInvocations", dimensions_map=dimensions,
                                 statistic="Sum", period=Duration.minutes(5)),
        threshold=1, evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # EventBridge sends the count only when it is not zero
    )
    alarm.add_alarm_action(actions.SnsAction(topic))
    admit_alarms(topic, key)
    return alarm
