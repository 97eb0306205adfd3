"""PipelineRoles on a bare Stack: the pipeline role Data Pipeline and EMR assume, the policy that passes and reads only
the node roles of its prefix, a name of the team's choice, and a wrong prefix refused in one line. One synth."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from ddb_datapipeline import PipelineConfigurationError, PipelineRoles
from tests.constructs.test_props import ENV


@pytest.fixture(scope="module")
def built() -> tuple[cdk.Stack, Template]:
    stack = cdk.Stack(cdk.App(), "Roles", env=ENV)
    PipelineRoles(stack, "Default")
    PipelineRoles(stack, "Named", role_name="team-pipeline", node_role_prefix="team-nodes-")
    return stack, Template.from_stack(stack)


def test_the_pipeline_role_is_assumed_by_data_pipeline_and_by_emr_for_this_account_only(built):
    _, template = built
    roles = template.find_resources("AWS::IAM::Role")
    assert len(roles) == 2 and sorted(r["Properties"].get("RoleName", "") for r in roles.values()) == ["", "team-pipeline"]
    for role in roles.values():
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"]["Service"] for s in trust] == ["datapipeline.amazonaws.com", "elasticmapreduce.amazonaws.com"]
        assert trust[1]["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_it_passes_and_reads_only_the_node_roles_of_its_prefix(built):
    _, template = built
    (named,) = [p["Properties"]["PolicyDocument"]["Statement"] for k, p in template.find_resources("AWS::IAM::Policy").items()
                if k.startswith("NamedPipelinePolicy")]
    passing = next(s for s in named if s["Sid"] == "PassTheRolesToEmrAndEc2")
    assert passing["Resource"][1] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":role/team-nodes-*"]]}
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": ["elasticmapreduce.amazonaws.com", "ec2.amazonaws.com"]}}


def test_the_default_prefix_is_the_stack_and_region(built):
    stack, _ = built
    assert stack.node.find_child("Default").node_role_prefix == "Roles-eu-west-1-"


def test_a_wrong_prefix_is_refused_in_one_line_naming_it():
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    with pytest.raises(PipelineConfigurationError) as caught:
        PipelineRoles(stack, "Roles", node_role_prefix="bad prefix!")
    assert str(caught.value).startswith("Team/Roles: node_role_prefix: 'bad prefix!' is not allowed; expected 1-") and "\n" not in str(caught.value)
    assert stack.node.try_find_child("Roles") is None  # refused before it joined the tree
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Roles: scratch_tables: 'yes' is not allowed; expected True or False$"):
        PipelineRoles(stack, "Roles", scratch_tables="yes")


def test_a_folders_arn_is_the_one_the_bucket_itself_gives():
    """pipeline_roles.objects_arn writes a folder's ARN from the bucket's ARN read once, instead of asking the bucket
    (a round trip per folder); it must give the very text ``arn_for_objects`` gives, for a bucket of the stack and an
    imported one, so the templates stay the same (a CDK upgrade that built it otherwise would fail here)."""
    from aws_cdk import aws_s3 as s3

    from ddb_datapipeline.constructs.pipeline_roles import objects_arn

    stack = cdk.Stack(cdk.App(), "Buckets", env=ENV)
    declared = s3.Bucket(stack, "Declared")
    imported = s3.Bucket.from_bucket_name(stack, "Imported", "team-backups")
    for bucket in (declared, imported):
        for pattern in ("exports/orders/*", "exports/orders_$folder$", "exports"):
            assert objects_arn(bucket.bucket_arn, pattern) == bucket.arn_for_objects(pattern)
    assert stack.resolve(objects_arn(imported.bucket_arn, "exports/*")) == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::team-backups/exports/*"]]}


def test_read_once_reads_each_property_of_an_object_once():
    """constructs/reads.read_once keeps what the constructs read of a CDK object (a round trip each): asked again for the
    same object and name it answers without reading; another name or another object is read."""
    from ddb_datapipeline.constructs.reads import read_once

    class Owner:  # any object jsii hands over: weakly referenced, by identity
        pass

    first, second = Owner(), Owner()
    reads: list[str] = []

    def read(answer: str):
        return lambda: reads.append(answer) or answer

    assert [read_once(first, "name", read("a")), read_once(first, "name", read("b")), read_once(first, "arn", read("c")),
            read_once(second, "name", read("d"))] == ["a", "a", "c", "d"]
    assert reads == ["a", "c", "d"]
