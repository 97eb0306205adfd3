"""Where failure alerts are announced: one topic per stack, shared by every construct of this project in it.

A construct given no ``alert_topic`` alerts through its stack's shared ``AlertTopic``, made by the first such
construct at the stack's root under the fixed id ``Alerts`` and found there by the next (``AlertTopic.of``).
Two pipelines in a stack thus share one topic, and an address given as ``alarm_emails`` to any of them
is subscribed to it once. The project's own stacks make their topic the same way, so their templates keep
the logical ids ``AlertsTopic...``/``AlertsKey...`` they always had (a replaced topic would lose its confirmed
subscriptions). A shared topic this project created that ends up with no subscription in its stack adds a
synth warning on the topic, once per stack: its alarms would reach nobody.
"""
from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Annotations, Aspects, IAspect, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct, IConstruct

from .props import PipelineConfigurationError, check_emails, refuse

STACK_ALERTS_ID = "Alerts"  # the shared topic's id at the stack root: the project's stacks have always used it
NO_SUBSCRIBER_WARNING = "ddb-datapipeline:alertsReachNobody"
_SUBSCRIBED = "AlarmEmail"  # marker children on a topic: an address subscribed once, however many constructs ask


class AlertTopic(Construct):
    """An SNS topic encrypted with its own rotating key and closed to plain HTTP, with an email
    subscription per address. Pass ``existing_topic`` (and ``existing_key`` if it is encrypted) to
    alert through a topic the team already watches.

    ``AlertTopic.of(scope)`` is the stack's shared one, which every construct of this package uses when
    it is given no ``alert_topic``.

    :param emails: addresses subscribed to the topic (each confirms by email before it receives anything).
    :param existing_topic: a topic someone already watches; nothing is created.
    :param existing_key: that topic's KMS key, when it is encrypted (the publishers need a grant on it).
    """

    topic: sns.ITopic
    key: kms.IKey | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        emails: Sequence[str] = (),
        existing_topic: sns.ITopic | None = None,
        existing_key: kms.IKey | None = None,
    ) -> None:
        emails = check_emails(f"{scope.node.path}/{id}" if scope.node.path else id, "emails", emails)
        super().__init__(scope, id)
        self.given = existing_topic is not None
        if existing_topic is not None:
            self.topic = existing_topic
            self.key = existing_key
        else:
            self.key = kms.Key(self, "Key", description="Encrypts Data Pipeline failure alerts", enable_key_rotation=True)
            self.topic = sns.Topic(
                self, "Topic", display_name="DynamoDB Data Pipeline alerts", master_key=self.key, enforce_ssl=True
            )
        self.users: list[str] = []  # the constructs alerting through it, named in the warning
        subscribe_emails(self.topic, emails)

    @classmethod
    def of(
        cls,
        scope: Construct,
        *,
        emails: Sequence[str] = (),
        existing_topic: sns.ITopic | None = None,
        existing_key: kms.IKey | None = None,
        user: str | None = None,
    ) -> AlertTopic:
        """The shared alert topic of ``scope``'s stack: made on first use (the topic ``existing_topic`` when
        given, otherwise a new encrypted one that warns at synth if nobody subscribes), found again later.
        ``emails`` are subscribed to it (an address already subscribed is kept once); ``user`` is the path
        of the construct that alerts through it."""
        stack = Stack.of(scope)
        found = stack.node.try_find_child(STACK_ALERTS_ID)
        if found is None:
            found = cls(stack, STACK_ALERTS_ID, emails=emails, existing_topic=existing_topic, existing_key=existing_key)
            if not found.given:
                Aspects.of(found).add(_WarnWithoutSubscriber(found))
        elif not isinstance(found, AlertTopic):
            raise PipelineConfigurationError(
                f"{found.node.path}: the id '{STACK_ALERTS_ID}' at the stack root is the shared alert topic's; this is a "
                f"{type(found).__name__}: give it another id, or pass alert_topic= to the constructs")
        else:
            if existing_topic is not None and existing_topic is not found.topic:
                raise PipelineConfigurationError(
                    f"{found.node.path}: the stack's alert topic exists already; a second existing_topic "
                    f"{existing_topic.node.path} cannot replace it (pass it as alert_topic= instead)")
            subscribe_emails(found.topic, check_emails(found.node.path, "emails", emails))
        if user is not None:
            found.users.append(user)
        return found


def subscribe_emails(topic: sns.ITopic, emails: Sequence[str]) -> None:
    """An email subscription on ``topic`` per address not yet subscribed through this function (ignoring case,
    as cdk.json's alarm_emails does): two constructs that name the same address subscribe it once."""
    for email in emails:
        marker = f"{_SUBSCRIBED} {email.lower()}".replace("/", "|")
        if topic.node.try_find_child(marker) is not None:
            continue
        Construct(topic, marker)
        topic.add_subscription(subscriptions.EmailSubscription(email))


def alerts_for(
    scope: Construct, *, topic: sns.ITopic | None, key: kms.IKey | None, emails: Sequence[str]
) -> tuple[sns.ITopic, kms.IKey | None]:
    """The alert topic (and key) a construct was given, with ``emails`` subscribed to it, or else its
    stack's shared ``AlertTopic`` with ``emails`` subscribed there."""
    if topic is not None:
        subscribe_emails(topic, emails)
        return topic, key
    shared = AlertTopic.of(scope, emails=emails, user=scope.node.path)
    return shared.topic, shared.key


def _subscribed_in_stack(topic: sns.ITopic) -> bool:
    """Whether any subscription of ``topic``'s stack (an email's under the topic, a queue's under the queue)
    names the topic."""
    stack = Stack.of(topic)
    arn = stack.resolve(topic.topic_arn)
    return any(
        isinstance(child, sns.CfnSubscription) and stack.resolve(child.topic_arn) == arn
        for child in stack.node.find_all()
    )


@jsii.implements(IAspect)
class _WarnWithoutSubscriber:
    """Decides at synth, once every construct has subscribed what it will, whether the shared topic reaches anyone.
    An aspect rather than a check in the constructor: a subscription may be added after the constructs
    (``construct.alert_topic.add_subscription(...)``)."""

    def __init__(self, alerts: AlertTopic) -> None:
        self.alerts = alerts

    def visit(self, node: IConstruct) -> None:
        if node is not self.alerts or _subscribed_in_stack(self.alerts.topic):
            return
        users = f" (alarms of {', '.join(self.alerts.users)})" if self.alerts.users else ""
        Annotations.of(self.alerts).add_warning_v2(
            NO_SUBSCRIBER_WARNING,
            f"{self.alerts.node.path}: the stack's alert topic{users} has no subscription, so its alarms reach nobody; pass "
            "alarm_emails=['you@example.com'] to one of the constructs, subscribe to its alert_topic, or give them "
            "alert_topic= (a topic someone watches)",
        )


def check_alerts(where: str, *, topic: sns.ITopic | None, key: kms.IKey | None, emails: object) -> tuple[str, ...]:
    """The alerting props every public construct takes, checked before anything is built: the addresses to subscribe
    (``alarm_emails``), and a key for a topic this app declares encrypted (``alert_key``): whoever publishes must be
    granted ``kms:GenerateDataKey`` on it, and without the grant every alarm is denied at run time."""
    if topic is not None and key is None and topic.master_key is not None:
        raise refuse(where, "alert_key", None, f"the KMS key alert_topic {topic.node.path} is encrypted with (publishing an alarm "
                                               "needs kms:GenerateDataKey on it)")
    return check_emails(where, "alarm_emails", emails)
