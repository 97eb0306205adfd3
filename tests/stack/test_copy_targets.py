"""The receiving side of prod's copies: a us-west-2 table, and another account's staging bucket and table."""
from __future__ import annotations

import pytest

CROSS_REGION = "DdbDataPipeline-prod-copy-targets-us-west-2"
CROSS_ACCOUNT = "DdbDataPipeline-prod-copy-targets-222222222222-us-east-1"
NODES_PREFIX = "ddb-prod-us-east-1-nodes-"  # every node role of prod, and only those, starts with it


def of_type(template, type_name):
    return [r for r in template["Resources"].values() if r["Type"] == type_name]


@pytest.fixture(scope="module")
def cross_account(synthesis):
    return synthesis.template_named(CROSS_ACCOUNT)


def node_role_names(template):
    """Node role names by the construct path of their pipeline."""
    return {
        r["Metadata"]["aws:cdk:path"].split("/")[1]: r["Properties"]["RoleName"]
        for r in of_type(template, "AWS::IAM::Role")
        if r["Metadata"]["aws:cdk:path"].endswith("/Nodes/Role/Resource")
    }


@pytest.fixture(scope="module")
def source_nodes_role(synthesis):
    """The ARN of the cross-account copy's own node role in the source stack, not a role shared by
    every cluster of the source environment."""
    names = node_role_names(synthesis.template("prod"))
    return f"arn:aws:iam::111111111111:role/{names['Copy-orders-orders-analytics-222222222222-us-east-1']}"


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


def admits_only(role_arn, statement):
    return statement["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"} and statement["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": role_arn
    }


def test_cross_account_table_admits_exactly_the_source_nodes_role(cross_account, source_nodes_role):
    (table,) = of_type(cross_account, "AWS::DynamoDB::Table")
    assert table["Properties"]["TableName"] == "orders-analytics"
    (statement,) = table["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert admits_only(source_nodes_role, statement)
    assert sorted(statement["Action"]) == ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable"]


def test_cross_account_target_of_a_cmk_source_is_on_its_own_rotated_key_admitting_exactly_the_source_nodes_role(
        cross_account, source_nodes_role, synthesis):
    """CKV_AWS_119 / CT.DYNAMODB.PR.2: prod's orders is on a customer managed key, so its copy in 222222222222 is too,
    on a key of that stack; DynamoDB uses it as the caller, the source account's node role."""
    source = next(t for t in of_type(synthesis.template("prod"), "AWS::DynamoDB::Table") if t["Properties"]["TableName"] == "orders")
    assert source["Properties"]["SSESpecification"]["SSEType"] == "KMS"
    (table,) = of_type(cross_account, "AWS::DynamoDB::Table")
    keys = {logical: r for logical, r in cross_account["Resources"].items() if r["Type"] == "AWS::KMS::Key"}
    sse = table["Properties"]["SSESpecification"]
    assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS"
    (key_logical,) = [k for k in keys if sse["KMSMasterKeyId"] == {"Fn::GetAtt": [k, "Arn"]}]
    key = keys[key_logical]["Properties"]
    assert key["EnableKeyRotation"] is True
    admitted = {tuple(sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])): s
                for s in key["KeyPolicy"]["Statement"] if s["Principal"] != {"AWS": "arn:aws:iam::222222222222:root"}}
    assert set(admitted) == {("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"), ("kms:DescribeKey",)}
    assert all(admits_only(source_nodes_role, s) for s in admitted.values())
    write = admitted["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]["Condition"]["StringEquals"]
    assert write == {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com", "kms:EncryptionContext:aws:dynamodb:tableName": "orders-analytics"}
    assert admitted["kms:DescribeKey",]["Condition"]["StringEquals"] == {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}


def test_cross_account_staging_bucket_admits_exactly_the_source_nodes_role(cross_account, source_nodes_role):
    buckets = {r["Properties"].get("BucketName"): r for r in of_type(cross_account, "AWS::S3::Bucket")}
    staging = buckets["ddb-prod-copies-222222222222-us-east-1"]
    assert staging["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert staging["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    statements = [s for p in of_type(cross_account, "AWS::S3::BucketPolicy") for s in p["Properties"]["PolicyDocument"]["Statement"]]
    foreign = [s for s in statements if s["Effect"] == "Allow" and "AWS" in s["Principal"]]  # not the log delivery service
    assert len(foreign) == 5 and all(admits_only(source_nodes_role, s) for s in foreign)
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


def test_every_node_role_is_named_by_its_environments_prefix_and_fits_iam(synthesis):
    """The pipeline role may pass roles of the prefix only; a node role outside it could never start."""
    for environment, prefix in (("prod", NODES_PREFIX), ("dev", "ddb-dev-eu-west-1-nodes-")):
        names = node_role_names(synthesis.template(environment))
        assert len(names) == len(set(names.values())) == {"prod": 6, "dev": 7}[environment]
        assert all(name.startswith(prefix) and len(name) <= 64 for name in names.values()), names
    assert node_role_names(synthesis.template("prod"))["Export-orders"] == NODES_PREFIX + "orders-export"
    pipeline_roles = [r["Properties"].get("RoleName") for r in of_type(synthesis.template("prod"), "AWS::IAM::Role")
                      if "Nodes" not in r["Metadata"]["aws:cdk:path"]]
    assert pipeline_roles == ["ddb-prod-us-east-1-pipeline"]  # fixed, as the target account's key policies name it


def test_emr_may_run_in_every_copy_region(synthesis):
    policy = next(
        r for k, r in synthesis.template("prod")["Resources"].items() if k.startswith("RolesEmrServicePolicy")
    )
    launch = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "LaunchClusters")
    assert launch["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "us-west-2"]}}
