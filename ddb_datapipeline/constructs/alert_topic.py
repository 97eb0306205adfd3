"""Where pipeline failures are announced."""
from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class AlertTopic(Construct):
    """An SNS topic encrypted with its own rotating key and closed to plain HTTP, with an email
    subscription per address. Pass ``existing_topic`` (and ``existing_key`` if it is encrypted) to
    alert through a topic the team already watches."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        emails: Sequence[str],
        existing_topic: sns.ITopic | None = None,
        existing_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id)
        if existing_topic is not None:
            self.topic: sns.ITopic = existing_topic
            self.key: kms.IKey | None = existing_key
        else:
            self.key = kms.Key(self, "Key", description="Encrypts Data Pipeline failure alerts", enable_key_rotation=True)
            self.topic = sns.Topic(
                self, "Topic", display_name="DynamoDB Data Pipeline alerts", master_key=self.key, enforce_ssl=True
            )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


def alerts_or_new(scope: Construct, topic: sns.ITopic | None, key: kms.IKey | None) -> tuple[sns.ITopic, kms.IKey | None]:
    """The alert topic a construct was given (and its key), or a new encrypted one without subscribers."""
    if topic is not None:
        return topic, key
    created = AlertTopic(scope, "Alerts", emails=[])
    return created.topic, created.key
