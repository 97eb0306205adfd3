"""An alarm for the hand-over no state machine sees: an EventBridge rule that fails to deliver an event.

A copy into another region hands its export to the import machine there through two rules. Once an event
is on a bus, EventBridge retries its delivery for up to a day and then drops it; neither machine runs, so
neither can alarm. EventBridge counts such drops per rule (``AWS/Events`` ``FailedInvocations``, only when
not zero; a rule on a custom bus is also named by its bus), and a CloudWatch alarm on that count
publishes to the alert topic.

CloudWatch publishes as its service principal, so the topic's policy must admit it (for the alarms of
this account, named ``ddb-*``) and so must the topic's customer managed key: the CloudWatch User Guide's
encrypted-topic setup (kms:Decrypt and kms:GenerateDataKey* for cloudwatch.amazonaws.com). A topic the team
brought (``alerts.existing_topic_arn``) is not changed: its policy and key must admit CloudWatch already.
"""
from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

ALARM_PREFIX = "ddb-"  # every alarm this project creates; the topic admits CloudWatch for these only
_ADMITTED = "AdmitsCloudWatchAlarms"


def admit_alarms(topic: sns.ITopic, key: kms.IKey | None) -> None:
    """Let CloudWatch alarms of this account named ``ddb-*`` publish to ``topic`` (once per topic)."""
    if topic.node.try_find_child(_ADMITTED) is not None:
        return
    Construct(topic, _ADMITTED)
    stack = Stack.of(topic)
    cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")
    topic.add_to_resource_policy(iam.PolicyStatement(
        sid="CloudWatchAlarmsPublish", principals=[cloudwatch_service], actions=["sns:Publish"], resources=[topic.topic_arn],
        conditions={"ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{ALARM_PREFIX}*"},
                    "StringEquals": {"aws:SourceAccount": stack.account}},
    ))
    if key is not None:
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="CloudWatchAlarmsEncrypt", principals=[cloudwatch_service], actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
        ))


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
