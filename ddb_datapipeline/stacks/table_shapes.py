"""Configuration words -> CDK enums: the constructs take CDK's types, the configuration its own."""
from __future__ import annotations

from typing import Any

from aws_cdk import aws_dynamodb as dynamodb

from ..config import KeyAttribute, OwnedTable

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER, "B": dynamodb.AttributeType.BINARY}
_ENCRYPTION = {
    "CUSTOMER_MANAGED": dynamodb.TableEncryption.CUSTOMER_MANAGED,
    "AWS_MANAGED": dynamodb.TableEncryption.AWS_MANAGED,
    "AWS_OWNED": dynamodb.TableEncryption.DEFAULT,
}


def attribute(key: KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_TYPES[key.type])


def encryption(word: str) -> dynamodb.TableEncryption:
    return _ENCRYPTION[word]


def table_props(shape: OwnedTable) -> dict[str, Any]:
    """The DataTable keyword arguments an owned table's configuration gives."""
    return dict(
        partition_key=attribute(shape.partition_key),
        sort_key=attribute(shape.sort_key) if shape.sort_key else None,
        billing_mode=getattr(dynamodb.BillingMode, shape.billing_mode),
        read_capacity=shape.read_capacity,
        write_capacity=shape.write_capacity,
        point_in_time_recovery=shape.point_in_time_recovery,
        encryption=encryption(shape.encryption),
        stream=getattr(dynamodb.StreamViewType, shape.stream) if shape.stream else None,
    )
