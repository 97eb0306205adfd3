"""One environment's stacks: the environment stack (bucket, topic, roles, and the tables of group
``main``) and, for a large environment, table stacks that hold the other groups' tables."""
from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..config import EnvironmentConfig
from ..config.stack_groups import MAIN_GROUP
from ..constructs.alert_topic import AlertTopic
from ..constructs.delivery_alarm import state_admission
from ..constructs.export_bucket import ExportBucket, ObjectLock
from ..constructs.pipeline_roles import PipelineRoles
from ..constructs.table_pipelines import CopyPipeline, ExportPipeline, RestorePipeline
from . import naming
from .table_set import Shared, TableSet


def _tag(stack: Stack, config: EnvironmentConfig) -> None:
    Tags.of(stack).add("project", "ddb-datapipeline")
    Tags.of(stack).add("environment", config.name)


class BackupStack(Stack):
    """One environment, composed of the public constructs: the same ones a team uses in its own app."""

    def __init__(self, scope: Construct, id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        _tag(self, config)

        bucket = config.bucket
        if bucket.existing_bucket_name:
            existing_key = kms.Key.from_key_arn(self, "ExistingBucketKey", bucket.existing_key_arn) if bucket.existing_key_arn else None
            self.bucket: s3.IBucket = s3.Bucket.from_bucket_attributes(
                self, "ExistingBucket", bucket_name=bucket.existing_bucket_name, encryption_key=existing_key
            )
        else:
            self.bucket = ExportBucket(
                self,
                "ExportBucket",
                retain=config.retain_data,
                export_retention_days=bucket.export_retention_days,
                transition_after_days=bucket.transition_after_days,
                transition_storage_class=bucket.transition_storage_class,
                log_retention_days=bucket.log_retention_days,
                object_lock=ObjectLock(mode=bucket.object_lock.mode, days=bucket.object_lock.days) if bucket.object_lock else None,
            ).bucket
        alerts = config.alerts
        # The stack's shared topic (AlertTopic.of, id "Alerts"): the one a team's constructs find, made here first.
        self.alerts = AlertTopic.of(
            self,
            emails=alerts.emails,
            existing_topic=sns.Topic.from_topic_arn(self, "ExistingAlerts", alerts.existing_topic_arn) if alerts.existing_topic_arn else None,
            existing_key=kms.Key.from_key_arn(self, "ExistingAlertsKey", alerts.existing_key_arn) if alerts.existing_key_arn else None,
        )
        if alerts.existing_topic_arn and alerts.admits_cloudwatch:
            state_admission(self, topic_arn=alerts.existing_topic_arn, key_arn=alerts.existing_key_arn)
        # Data Pipeline's roles only where a table uses it: a native-only environment has no pipeline role.
        self.roles = PipelineRoles(
            self,
            "Roles",
            regions=[copy.region for table in config.tables if not table.native for copy in table.copies],
            role_name=naming.pipeline_role_name(config),
            node_role_prefix=naming.nodes_prefix(config),
            scratch_tables=config.acceptance,
        ) if any(not table.native for table in config.tables) else None
        CfnOutput(self, "ExportBucketName", value=self.bucket.bucket_name)
        CfnOutput(self, "AlertTopicArn", value=self.alerts.topic.topic_arn)

        self.shared = Shared(bucket=self.bucket, alert_topic=self.alerts.topic, alert_key=self.alerts.key, roles=self.roles)
        main = TableSet(self, config=config, group=MAIN_GROUP, tables=config.groups().get(MAIN_GROUP, ()), shared=self.shared)
        self.tables: dict[str, dynamodb.ITable] = dict(main.tables)
        self.pipelines: dict[str, ExportPipeline | RestorePipeline | CopyPipeline] = dict(main.pipelines)
        self.table_stacks: list[TableStack] = []

    def stacks(self) -> dict[Stack, int]:
        """Every stack of the environment (its own, its table stacks, their copy targets) and how many of
        the environment's tables each holds or receives copies of."""
        found: dict[Stack, int] = {self: len(self.config.groups().get(MAIN_GROUP, ()))}
        for stack in self.table_stacks:
            found[stack] = len(self.config.groups()[stack.group])
        for holder in list(found):
            for dependency in holder.dependencies:
                if isinstance(dependency, Stack) and dependency not in found:
                    found[dependency] = len(getattr(dependency, "source_tables", ()))
        return found

    def add_table_stack(self, stack: TableStack) -> None:
        """A table stack of this environment: its tables and pipelines count as the environment's."""
        self.table_stacks.append(stack)
        self.tables.update(stack.table_set.tables)
        self.pipelines.update(stack.table_set.pipelines)


class TableStack(Stack):
    """The tables of one stack group and their pipelines, using the environment stack's bucket, topic
    and roles (CloudFormation references between the two stacks, in one account and region)."""

    def __init__(self, scope: Construct, id: str, *, environment: BackupStack, group: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = environment.config
        self.group = group
        _tag(self, self.config)
        self.table_set = TableSet(self, config=self.config, group=group, tables=self.config.groups()[group], shared=environment.shared)
