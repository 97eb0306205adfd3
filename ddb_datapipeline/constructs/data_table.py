"""A DynamoDB table this stack owns, declared with the project's safe defaults."""
from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .acknowledge import acknowledge


class DataTable(Construct):
    """A table with the project's defaults: a customer managed key with rotation, point-in-time
    recovery, and with ``retain`` (the default) a table that survives a stack deletion or a
    replacement and refuses deletion through the API as well (deletion protection).

    ``table_name``: None lets CloudFormation name the table (the pipelines and state machines then take its name as
    a token, and name their folders and resources after the table's construct path)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table_name: str | None = None,
        partition_key: dynamodb.Attribute,
        sort_key: dynamodb.Attribute | None = None,
        billing_mode: dynamodb.BillingMode = dynamodb.BillingMode.PAY_PER_REQUEST,
        read_capacity: int | None = None,
        write_capacity: int | None = None,
        point_in_time_recovery: bool = True,
        encryption: dynamodb.TableEncryption = dynamodb.TableEncryption.CUSTOMER_MANAGED,
        stream: dynamodb.StreamViewType | None = None,
        resource_policy: iam.PolicyDocument | None = None,
        retain: bool = True,
    ) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        called = table_name if table_name is not None else self.node.path
        self.key: kms.IKey | None = None
        if encryption == dynamodb.TableEncryption.CUSTOMER_MANAGED:
            self.key = kms.Key(
                self, "Key", description=f"Encrypts DynamoDB table {called}", enable_key_rotation=True, removal_policy=removal
            )
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=partition_key,
            sort_key=sort_key,
            billing_mode=billing_mode,
            read_capacity=read_capacity,
            write_capacity=write_capacity,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=point_in_time_recovery
            ),
            encryption=encryption,
            encryption_key=self.key,
            stream=stream,
            resource_policy=resource_policy,
            deletion_protection=retain,
            removal_policy=removal,
        )
        if not point_in_time_recovery:
            # A deliberate, visible choice (it appears in the review report with this reason).
            acknowledge(
                self.table,
                "DDB3",
                f"Point-in-time recovery of {called} is turned off in the configuration "
                "(owned.point_in_time_recovery: false); this project's exports are its backups.",
            )
