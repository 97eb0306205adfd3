"""Which IAM statements the review marks, and why (review/attention.py), on small hand-written statements;
who a policy is attached to (review/iam.py holders); the order of the stacks (review/report.py order);
the first screen's list. No synthesis: each case is a few statements or resources."""
from __future__ import annotations

import json

import pytest

from ddb_datapipeline.assembly import StackArtifact
from ddb_datapipeline.review import attention, iam, report
from ddb_datapipeline.review.iam import Statement


def statement(actions, resources, *, conditions=(), label="#1", effect="Allow", not_action=False) -> Statement:
    return Statement("Role", "Policy", label, effect, tuple(actions), tuple(resources), tuple(conditions), not_action=not_action)


def reasons(s: Statement, *, siblings=(), own=("Bucket",), account="111111111111") -> list[str]:
    return [m.reason for m in attention.statement_marks(s, account=account, own=own, siblings=siblings)]


def stack(resources: dict, name: str = "S", account: str | None = "111111111111") -> StackArtifact:
    template = {"Resources": resources}
    return StackArtifact(name, name, f"{name}.template.json", account, "eu-west-1", template, json.dumps(template))


def test_the_service_reference_is_installed_for_the_review():
    assert attention.service_reference() is not None  # parliament, requirements-dev.txt


def test_star_is_not_marked_where_the_action_has_no_resource_type():
    # Service Authorization Reference: datapipeline:PollForTask and elasticmapreduce:RunJobFlow have no resource type.
    assert reasons(statement(["datapipeline:PollForTask", "elasticmapreduce:RunJobFlow"], ["*"])) == []


def test_star_is_marked_on_an_action_that_has_a_resource_type_and_names_it():
    (reason,) = reasons(statement(["ec2:DescribeInstances", "ec2:CreateSecurityGroup"], ["*"]))
    assert reason == "Resource * on actions that have a resource type: ec2:CreateSecurityGroup"


def test_an_action_wildcard_is_marked_with_what_it_matches():
    (reason,) = reasons(statement(["kms:GenerateDataKey*", "kms:Decrypt"], ["${Key.Arn}"]))
    assert reason == "action wildcard kms:GenerateDataKey* (matches 4 today)"


@pytest.mark.parametrize("pattern", ["kms:GenerateDataKey*", "S3:Get*Tagging", "*:Describe*", "ec2:?escribeVpc*",
                                     "s3:[gp]utObject*", "dynamodb:*", "*", "s3*:get*", "nosuchservice:*"])
def test_a_pattern_matches_what_matching_it_against_every_action_of_the_reference_gives(pattern):
    """The review looks a pattern's matches up in a sorted slice of the reference, kept per pattern; the plain
    way (fnmatch against every action, as IAM's wildcards read) must give the same actions in the same order."""
    import fnmatch

    sar = attention.service_reference()
    assert sar is not None
    every = tuple(sorted(name for name in sar.actions if fnmatch.fnmatchcase(name, pattern.lower())))
    assert attention._expand(pattern) == every
    assert every or pattern == "nosuchservice:*"


@pytest.mark.parametrize("resource", [
    "${Bucket.Arn}/exports/orders/*",
    "${Other.Arn}/logs/orders-export/*",
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ddb-dev-eu-west-1-nodes-*",
    "arn:${AWS::Partition}:s3:::dynamodb-dpl-eu-west-1/emr-ddb-storage-handler/*",
    "${Bucket.Arn}/*",  # every object of a bucket of this stack
    "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/codebuild/${Bucket}:*",
])
def test_a_wildcard_under_a_documented_prefix_or_a_resource_of_the_stack_is_not_marked(resource):
    assert reasons(statement(["s3:GetObject"], [resource])) == []


@pytest.mark.parametrize("resource, expected", [
    ("arn:aws:s3:::someone-elses-bucket/*", ["wildcard resource arn:aws:s3:::someone-elses-bucket/* without a condition"]),
    ("${Elsewhere.Arn}/*", ["wildcard resource ${Elsewhere.Arn}/* without a condition"]),  # not a resource of the stack
    ("arn:aws:dynamodb:eu-west-1:222222222222:table/orders", ["resource in account 222222222222, not the stack's"]),
    ("arn:${AWS::Partition}:kms:eu-west-1:222222222222:key/k", ["resource in account 222222222222, not the stack's"]),
])
def test_other_wildcards_and_other_accounts_are_marked(resource, expected):
    assert reasons(statement(["s3:GetObject"], [resource])) == expected


def test_a_condition_narrows_an_account_wide_wildcard():
    wide = statement(["kms:Decrypt"], ["arn:aws:kms:eu-west-1:111111111111:key/*"])
    narrowed = statement(["kms:Decrypt"], ["arn:aws:kms:eu-west-1:111111111111:key/*"],
                         conditions=["StringEquals kms:ViaService = dynamodb.eu-west-1.amazonaws.com"])
    assert reasons(wide) and reasons(narrowed) == []


def test_a_condition_a_sibling_statement_has_is_marked_when_missing():
    region = "StringEquals aws:RequestedRegion = eu-west-1"
    with_it = statement(["ec2:DescribeInstances"], ["*"], conditions=[region], label="A")
    without = statement(["ec2:DescribeInstances"], ["*"], label="B")
    other_actions = statement(["datapipeline:PollForTask"], ["*"], label="C")
    siblings = (with_it, without, other_actions)
    assert reasons(without, siblings=siblings) == ["no aws:requestedregion condition, which statement A of the same policy has"]
    assert reasons(other_actions, siblings=siblings) == [] and reasons(with_it, siblings=siblings) == []
    # a key about the resources' owner belongs to those resources, not to the grant
    owner = statement(["ec2:DescribeInstances"], ["*"], conditions=["StringEquals aws:ResourceAccount = 2"], label="D")
    assert reasons(without, siblings=(owner, without)) == []


def test_deny_is_never_marked_and_not_action_always_is():
    assert reasons(statement(["*"], ["*"], effect="Deny")) == []
    assert reasons(statement(["iam:PassRole"], ["${Bucket.Arn}"], not_action=True)) == [
        "NotAction: allows every action it does not list"]


def test_a_principal_of_another_account_or_a_wildcard_principal_is_marked():
    assert [m.reason for m in attention.principal_marks("AWS arn:aws:iam::222222222222:root", "111111111111")] == [
        "principal in account 222222222222, not the stack's"]
    assert attention.principal_marks("AWS arn:aws:iam::111111111111:root", "111111111111") == ()
    assert attention.principal_marks("Service ec2.amazonaws.com", "111111111111") == ()
    assert [m.reason for m in attention.principal_marks("AWS *", "111111111111")] == ["wildcard principal *"]


def test_a_policy_is_attached_to_the_roles_that_name_it_whichever_side_names_it():
    role = {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": [{"Ref": "Shared"}]}}
    other = {"Type": "AWS::IAM::Role", "Properties": {}}
    resources = {
        "RoleA": role, "RoleB": role, "RoleC": other,
        "Shared": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {}, "Roles": [{"Ref": "RoleC"}]}},
        "Inline": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {}, "Roles": [
            {"Ref": "RoleA"}, {"Fn::GetAtt": ["RoleB", "Arn"]}, {"Fn::ImportValue": "OtherStackRole"}]}},
    }
    s = stack(resources)
    assert iam.holders(s, "Shared") == ("RoleC", "RoleA", "RoleB")
    assert iam.holders(s, "Inline") == ("RoleA", "RoleB", "${Import:OtherStackRole}")


def test_data_stacks_come_first_each_followed_by_its_copy_targets_then_delivery():
    pipeline = {"P": {"Type": "AWS::CodePipeline::Pipeline"}}
    stacks = [stack({}, "App-delivery-support-eu-west-1"), stack(pipeline, "App-delivery"), stack({}, "App-prod-copy-targets-us-west-2"),
              stack({}, "App-prod"), stack({}, "App-dev"), stack({}, "App-prod-copy-targets-222222222222-us-east-1")]
    assert [s.name for s in report.order(stacks)] == [
        "App-dev", "App-prod", "App-prod-copy-targets-222222222222-us-east-1", "App-prod-copy-targets-us-west-2",
        "App-delivery", "App-delivery-support-eu-west-1"]


def test_a_table_or_bucket_a_stack_deletion_would_delete_is_named():
    resources = {
        "Kept": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {"TableName": "kept", "DeletionProtectionEnabled": True}},
        "Unprotected": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {"TableName": "unprotected"}},
        "Deleted": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "KeptBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
    }
    assert report.unprotected(stack(resources)) == ("Deleted", "unprotected")


def test_the_first_screen_lists_at_most_fifteen_items_and_counts_the_rest():
    from ddb_datapipeline.review import lint, nag

    finding = nag.NagEntry("AwsSolutions", "AwsSolutions-S1", "B/Resource", "B", "error", "no access logs", "")
    reviews = tuple(report.StackReview(stack({}, f"App-{i:02d}"), (), (), nag.NagResult(True, (), (finding,), ()),
                                       lint.LintResult("1.0", "eu-west-1", ())) for i in range(20))
    screen = report._first_screen(reviews, 0, "", None, (), report.Checks(), [])
    items = [line for line in screen.splitlines() if line.startswith("- ")]
    assert len(items) == report.MAX_LOOK_AT + 1
    assert items[0] == "- \u26a0 1 open cdk-nag finding in [App-00](#stack-app-00)"
    assert items[-1] == "- and 5 more, each in its section below"
    assert "| To look at | \u26a0 20 (listed below) |" in screen
