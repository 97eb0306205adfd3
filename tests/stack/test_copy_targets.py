"""The receiving side of prod's copies: a us-west-2 table, and another account's staging bucket and table."""
from __future__ import annotations

import pytest

CROSS_REGION = "DdbDataPipeline-prod-copy-targets-us-west-2"
CROSS_ACCOUNT = "DdbDataPipeline-prod-copy-targets-222222222222-us-east-1"
# The copy's own node role, not a role shared by every cluster of the source environment.
SOURCE_NODES_ROLE = "arn:aws:iam::111111111111:role/ddb-prod-orders-to-orders-analytics-222222222222-us-east-1-nodes"


def of_type(template, type_name):
    return [r for r in template["Resources"].values() if r["Type"] == type_name]


@pytest.fixture(scope="module")
def cross_account(synthesis):
    return synthesis.template_named(CROSS_ACCOUNT)


def test_target_stacks_deploy_in_the_target_environments_before_the_source(synthesis):
    artifacts = synthesis.manifest()["artifacts"]
    assert artifacts[CROSS_REGION]["environment"] == "aws://111111111111/us-west-2"
    assert artifacts[CROSS_ACCOUNT]["environment"] == "aws://222222222222/us-east-1"
    assert {CROSS_REGION, CROSS_ACCOUNT} <= set(artifacts["DdbDataPipeline-prod"]["dependencies"])
    assert not any("copy-targets" in name for name in artifacts if name.startswith("DdbDataPipeline-dev"))


def test_owned_targets_are_declared_with_the_source_key_schema_and_retained(synthesis):
    (table,) = of_type(synthesis.template_named(CROSS_REGION), "AWS::DynamoDB::Table")
    source = next(t for t in of_type(synthesis.template("prod"), "AWS::DynamoDB::Table") if t["Properties"]["TableName"] == "orders")
    assert table["Properties"]["TableName"] == "orders"
    assert table["Properties"]["KeySchema"] == source["Properties"]["KeySchema"]
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionPolicy"] == "Retain" and table["Properties"]["DeletionProtectionEnabled"] is True
    assert "ResourcePolicy" not in table["Properties"]  # same account: the source's identity policy suffices


def admits_only_the_source_nodes_role(statement):
    return statement["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"} and statement["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": SOURCE_NODES_ROLE
    }


def test_cross_account_table_admits_exactly_the_source_nodes_role(cross_account):
    (table,) = of_type(cross_account, "AWS::DynamoDB::Table")
    assert table["Properties"]["TableName"] == "orders-analytics"
    (statement,) = table["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert admits_only_the_source_nodes_role(statement)
    assert sorted(statement["Action"]) == ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable"]


def test_cross_account_staging_bucket_admits_exactly_the_source_nodes_role(cross_account):
    buckets = {r["Properties"].get("BucketName"): r for r in of_type(cross_account, "AWS::S3::Bucket")}
    staging = buckets["ddb-prod-copies-222222222222-us-east-1"]
    assert staging["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert staging["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    statements = [s for p in of_type(cross_account, "AWS::S3::BucketPolicy") for s in p["Properties"]["PolicyDocument"]["Statement"]]
    foreign = [s for s in statements if s["Effect"] == "Allow" and "AWS" in s["Principal"]]  # not the log delivery service
    assert len(foreign) == 5 and all(admits_only_the_source_nodes_role(s) for s in foreign)
    # Only under the copy's own staging folder, besides the exact keys EMRFS looks for and marks above it.
    folder = "copies/orders-to-orders-analytics-222222222222-us-east-1"
    for statement in foreign:
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            tail = resource["Fn::Join"][1][-1] if "Fn::Join" in resource else ""
            assert tail in ("", f"/{folder}/*", f"/{folder}", "/copies", f"/{folder}_$folder$", "/copies_$folder$"), tail
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)


def test_the_staging_bucket_outlives_its_stack_so_its_name_cannot_be_taken(cross_account):
    (staging,) = [r for r in of_type(cross_account, "AWS::S3::Bucket") if r["Properties"].get("BucketName")]
    assert staging["DeletionPolicy"] == "Retain" and staging["UpdateReplacePolicy"] == "Retain"


def test_source_roles_have_the_names_the_target_account_admits(synthesis):
    roles = [r["Properties"].get("RoleName") for r in of_type(synthesis.template("prod"), "AWS::IAM::Role")]
    assert sorted(filter(None, roles)) == [SOURCE_NODES_ROLE.rsplit("/", 1)[1], "ddb-prod-us-east-1-pipeline"]
    # dev has no cross-account copy, so its roles keep generated names.
    assert all("RoleName" not in r["Properties"] for r in of_type(synthesis.template("dev"), "AWS::IAM::Role"))


def test_emr_may_run_in_every_copy_region(synthesis):
    policy = next(
        r for k, r in synthesis.template("prod")["Resources"].items() if k.startswith("RolesEmrServicePolicy")
    )
    launch = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "LaunchClusters")
    assert launch["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}
