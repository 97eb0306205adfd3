"""A DynamoDB table this stack owns, declared with the project's safe defaults."""
from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .acknowledge import acknowledge

_ENCRYPTION = {
    "CUSTOMER_MANAGED": dynamodb.TableEncryption.CUSTOMER_MANAGED,
    "AWS_MANAGED": dynamodb.TableEncryption.AWS_MANAGED,
    "AWS_OWNED": dynamodb.TableEncryption.DEFAULT,
}


def _attribute(name: str, type_: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=getattr(dynamodb.AttributeType, {"S": "STRING", "N": "NUMBER", "B": "BINARY"}[type_]))


class DataTable(Construct):
    """With ``retain`` the table survives a stack deletion or a replacement and refuses deletion
    through the API as well (deletion protection); point-in-time recovery is on unless turned off."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table_name: str,
        partition_key: tuple[str, str],
        sort_key: tuple[str, str] | None = None,
        billing_mode: str = "PAY_PER_REQUEST",
        read_capacity: int | None = None,
        write_capacity: int | None = None,
        point_in_time_recovery: bool = True,
        encryption: str = "CUSTOMER_MANAGED",
        stream: str | None = None,
        resource_policy: iam.PolicyDocument | None = None,
        retain: bool,
    ) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.key: kms.IKey | None = None
        if encryption == "CUSTOMER_MANAGED":
            self.key = kms.Key(
                self, "Key", description=f"Encrypts DynamoDB table {table_name}", enable_key_rotation=True, removal_policy=removal
            )
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=_attribute(*partition_key),
            sort_key=_attribute(*sort_key) if sort_key else None,
            billing_mode=getattr(dynamodb.BillingMode, billing_mode),
            read_capacity=read_capacity,
            write_capacity=write_capacity,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=point_in_time_recovery
            ),
            encryption=_ENCRYPTION[encryption],
            encryption_key=self.key,
            stream=getattr(dynamodb.StreamViewType, stream) if stream else None,
            resource_policy=resource_policy,
            deletion_protection=retain,
            removal_policy=removal,
        )
        if not point_in_time_recovery:
            # A deliberate, visible choice (it appears in the review report with this reason).
            acknowledge(
                self.table,
                "DDB3",
                f"Point-in-time recovery of {table_name} is turned off in the configuration "
                "(owned.point_in_time_recovery: false); this project's exports are its backups.",
            )
