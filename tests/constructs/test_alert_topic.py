"""AlertTopic and the stack's shared topic: one per stack however many constructs alert through it, every
address subscribed once, every construct exposing the topic it alerts, and a synth warning when nobody
would receive an alarm. One app of two bare stacks, synthesized once for the module."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

from ddb_datapipeline import AlertTopic, ExportPipeline, NativeExport, NativeRestore, PipelineConfigurationError, RestorePipeline
from ddb_datapipeline.constructs.alert_topic import NO_SUBSCRIBER_WARNING

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
PK = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)


def _table_and_bucket(stack: cdk.Stack) -> tuple[dynamodb.ITable, s3.IBucket]:
    return dynamodb.Table.from_table_name(stack, "Orders", "orders"), s3.Bucket.from_bucket_name(stack, "Backups", "team-backups")


@dataclass
class Built:
    watched: cdk.Stack
    unwatched: cdk.Stack
    constructs: dict[str, Any]
    template: Template
    unwatched_template: Template


@pytest.fixture(scope="module")
def built() -> Built:
    """Stack Watched: two exports, a restore and a native export and restore, none given a topic; two name
    addresses (one address twice, in another case). Stack Unwatched: an export and a restore, nobody subscribed."""
    app = cdk.App()
    watched = cdk.Stack(app, "Watched", env=ENV)
    table, bucket = _table_and_bucket(watched)
    declared = dynamodb.Table(watched, "Declared", table_name="declared", partition_key=PK,
                              point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True))
    made = {
        "export": ExportPipeline(watched, "Export", table=table, bucket=bucket, alarm_emails=["oncall@example.com"]),
        "again": ExportPipeline(watched, "ExportAgain", table=declared, bucket=bucket, alarm_emails=["OnCall@example.com", "lead@example.com"]),
        "restore": RestorePipeline(watched, "Restore", source=table, target=table, bucket=bucket),
        "native": NativeExport(watched, "NativeExport", table=declared, bucket=bucket, schedule=None),
        "native_restore": NativeRestore(watched, "NativeRestore", source=declared, bucket=bucket),
    }
    unwatched = cdk.Stack(app, "Unwatched", env=ENV)
    table, bucket = _table_and_bucket(unwatched)
    ExportPipeline(unwatched, "Export", table=table, bucket=bucket)
    RestorePipeline(unwatched, "Restore", source=table, target=table, bucket=bucket)
    return Built(watched, unwatched, made, Template.from_stack(watched), Template.from_stack(unwatched))


def test_one_topic_per_stack_at_the_root_id_alerts_however_many_constructs(built):
    topics = built.template.find_resources("AWS::SNS::Topic")
    assert [k.startswith("AlertsTopic") for k in topics] == [True]
    assert built.watched.node.find_child("Alerts").topic is built.constructs["export"].alert_topic
    for made in built.constructs.values():
        assert made.alert_topic is built.constructs["export"].alert_topic


def test_each_address_is_subscribed_once_ignoring_case(built):
    subscriptions = built.template.find_resources("AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Endpoint"] for s in subscriptions.values()) == ["lead@example.com", "oncall@example.com"]
    (topic,) = built.template.find_resources("AWS::SNS::Topic")
    built.template.all_resources_properties("AWS::SNS::Subscription", {"Protocol": "email", "TopicArn": {"Ref": topic}})


def test_every_alarm_of_the_stack_publishes_to_the_shared_topic(built):
    (topic,) = built.template.find_resources("AWS::SNS::Topic")
    alarms = built.template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 6  # three execution alarms for each native machine
    built.template.all_resources_properties("AWS::CloudWatch::Alarm", {"AlarmActions": [{"Ref": topic}]})
    # The Data Pipeline alarms are SnsAlarm objects of the definitions, published by the pipeline role.
    for pipeline in built.template.find_resources("AWS::DataPipeline::Pipeline").values():
        fields = [f for o in pipeline["Properties"]["PipelineObjects"] for f in o["Fields"] if f["Key"] == "topicArn"]
        assert fields and all(f["StringValue"] == {"Ref": topic} for f in fields)


def test_a_topic_that_reaches_someone_warns_nobody(built):
    Annotations.from_stack(built.watched).has_no_warning("*", Match.any_value())


def test_a_shared_topic_without_a_subscription_warns_once_naming_its_constructs_and_the_fix(built):
    warnings = Annotations.from_stack(built.unwatched).find_warning("*", Match.string_like_regexp("reach nobody"))
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning.id == "/Unwatched/Alerts"
    text = warning.entry.data
    assert text.startswith("Unwatched/Alerts: the stack's alert topic (alarms of Unwatched/Export, Unwatched/Restore) has no subscription")
    assert "alarm_emails=" in text and "alert_topic=" in text and f"[ack: {NO_SUBSCRIBER_WARNING}]" in text


def test_a_subscription_added_after_the_constructs_silences_the_warning():
    """The check runs at synth: a team may subscribe through a construct's alert_topic afterwards."""
    from aws_cdk import aws_sns_subscriptions as subscriptions
    from aws_cdk import aws_sqs as sqs

    app = cdk.App()
    stack = cdk.Stack(app, "Later", env=ENV)
    table, bucket = _table_and_bucket(stack)
    export = ExportPipeline(stack, "Export", table=table, bucket=bucket)
    export.alert_topic.add_subscription(subscriptions.SqsSubscription(sqs.Queue(stack, "Inbox", enforce_ssl=True)))
    Annotations.from_stack(stack).has_no_warning("*", Match.any_value())


def test_a_given_topic_is_used_as_is_with_the_addresses_subscribed_to_it():
    app = cdk.App()
    stack = cdk.Stack(app, "Given", env=ENV)
    table, bucket = _table_and_bucket(stack)
    mine = sns.Topic.from_topic_arn(stack, "Mine", "arn:aws:sns:eu-west-1:111111111111:mine")
    export = ExportPipeline(stack, "Export", table=table, bucket=bucket, alert_topic=mine, alarm_emails=["me@example.com"])
    template = Template.from_stack(stack)
    assert export.alert_topic is mine and stack.node.try_find_child("Alerts") is None
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.has_resource_properties("AWS::SNS::Subscription", {"Endpoint": "me@example.com", "TopicArn": "arn:aws:sns:eu-west-1:111111111111:mine"})
    Annotations.from_stack(stack).has_no_warning("*", Match.any_value())


@pytest.mark.parametrize(("emails", "message"), [
    ("oncall@example.com", "Team/Export: alarm_emails: 'oncall@example.com' is not allowed; expected a list of email addresses such as "
                           "['oncall@example.com']"),
    (["oncall"], "Team/Export: alarm_emails[0]: 'oncall' is not allowed; expected an email address such as oncall@example.com"),
    (["a@example.com", "A@example.com"], "Team/Export: alarm_emails[1]: 'A@example.com' is not allowed; expected each address once "
                                         "(alarm_emails[0] is the same address)"),
])
def test_wrong_addresses_are_refused_in_one_line_naming_the_prop(emails, message):
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    table, bucket = _table_and_bucket(stack)
    with pytest.raises(PipelineConfigurationError) as caught:
        ExportPipeline(stack, "Export", table=table, bucket=bucket, alarm_emails=emails)
    assert str(caught.value) == message


def test_another_construct_on_the_shared_id_is_refused_naming_it():
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    table, bucket = _table_and_bucket(stack)
    sns.Topic(stack, "Alerts")
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Alerts: the id 'Alerts' at the stack root is the shared alert topic's; "
                                                         r"this is a Topic: give it another id, or pass alert_topic= to the constructs$"):
        ExportPipeline(stack, "Export", table=table, bucket=bucket)


def test_a_second_existing_topic_for_the_stack_is_refused():
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    first = sns.Topic.from_topic_arn(stack, "First", "arn:aws:sns:eu-west-1:111111111111:first")
    second = sns.Topic.from_topic_arn(stack, "Second", "arn:aws:sns:eu-west-1:111111111111:second")
    assert AlertTopic.of(stack, existing_topic=first).topic is first
    assert AlertTopic.of(stack).topic is first  # found again
    with pytest.raises(PipelineConfigurationError, match="^Team/Alerts: the stack's alert topic exists already; a second existing_topic Team/Second"):
        AlertTopic.of(stack, existing_topic=second)
