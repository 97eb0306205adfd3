"""DataTable on a bare Stack: the project's defaults (a rotating customer managed key, point-in-time recovery, kept
on deletion and protected from it) and what ``retain=False`` and a turned-off recovery change. One synth."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match, Template

from ddb_datapipeline import DataTable
from tests.constructs.test_props import ENV, PK, SK


@pytest.fixture(scope="module")
def built() -> tuple[cdk.Stack, Template]:
    stack = cdk.Stack(cdk.App(), "Tables", env=ENV)
    DataTable(stack, "Kept", table_name="kept", partition_key=PK)
    DataTable(stack, "Scratch", table_name="scratch", partition_key=PK, sort_key=SK, retain=False, point_in_time_recovery=False,
              encryption=dynamodb.TableEncryption.AWS_MANAGED)
    return stack, Template.from_stack(stack)


def test_defaults_a_kept_protected_table_on_its_own_rotating_key_with_recovery(built):
    stack, template = built
    template.has_resource("AWS::DynamoDB::Table", {
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": Match.object_like({
            "TableName": "kept", "BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": True,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS",
                                                   "KMSMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^KeptKey"), "Arn"]}}),
        }),
    })
    template.resource_properties_count_is("AWS::KMS::Key", {"EnableKeyRotation": True}, 1)
    assert stack.node.find_child("Kept").key is not None


def test_retain_false_recovery_off_and_an_aws_managed_key_are_what_they_say(built):
    stack, template = built
    template.has_resource("AWS::DynamoDB::Table", {
        "DeletionPolicy": "Delete",
        "Properties": Match.object_like({"TableName": "scratch", "DeletionProtectionEnabled": False,
                                         "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": False},
                                         "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]}),
    })
    scratch = stack.node.find_child("Scratch")
    assert scratch.key is None
