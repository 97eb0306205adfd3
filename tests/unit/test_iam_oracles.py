"""The IAM oracles (tests/oracles/iam.py) fail on what they exist to catch, on small hand-made policies and
requests, no synth: parliament on a condition key the action does not have and on an action AWS does not
have; the acknowledgments accept only what they name; the model rules on an invented context key, an
unknown action and a resource given to an action that has no resource type."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddb_datapipeline.permissions.assembly_view import StateMachine
from ddb_datapipeline.permissions.evaluator import Request
from ddb_datapipeline.permissions.expand import Expected
from ddb_datapipeline.permissions.runtime_calls import RuntimeCall
from ddb_datapipeline.permissions.service_reference import mismatches
from tests.oracles.iam import Document, analyse, policy_documents, sar, unaccepted

KEY = "arn:aws:kms:eu-west-1:111111111111:key/0f0e0d0c-0b0a-0908-0706-050403020100"
VIA_DYNAMODB = {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}
TABLE_CONTEXT = {"kms:EncryptionContext:aws:dynamodb:tableName": "orders"}


def document(statements: list[dict], *, kind: str = "identity", path: str = "Team/Export/NodePermissions/Resource") -> Document:
    return Document("Team", "Policy", path, "AWS::IAM::Policy", "PolicyDocument", kind,
                    {"Version": "2012-10-17", "Statement": statements}, "")


def issues(doc: Document) -> list[tuple[str, str]]:
    return [(f.issue, f.detail) for f in analyse(doc)]


def test_parliament_finds_describe_key_under_an_encryption_context():
    broken = document([{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": KEY,
                        "Condition": {"StringEquals": {**VIA_DYNAMODB, **TABLE_CONTEXT}}}])
    assert issues(broken) == [("UNKNOWN_CONDITION_FOR_ACTION",
                               "Unknown condition kms:EncryptionContext:aws:dynamodb:tableName for action kms:DescribeKey")]
    assert len(unaccepted(analyse(broken))) == 1  # no acknowledgment covers it
    fixed = document([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY, "Condition": {"StringEquals": {**VIA_DYNAMODB, **TABLE_CONTEXT}}},
                      {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": KEY, "Condition": {"StringEquals": VIA_DYNAMODB}}])
    assert issues(fixed) == []


def test_parliament_finds_an_action_aws_does_not_have():
    doc = document([{"Effect": "Allow", "Action": "dynamodb:ScanTable", "Resource": "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"}])
    assert [issue for issue, _ in issues(doc)] == ["UNKNOWN_ACTION"]
    assert unaccepted(analyse(doc))


def test_a_trust_policy_is_linted_with_its_role_as_the_resource():
    """A trust policy has no Resource element; the oracle gives it the role's ARN, so parliament checks its
    action and conditions instead of calling it malformed (and sts:AssumeRole there is accepted as what it is)."""
    trust = Document("Team", "Role", "Team/Role/Resource", "AWS::IAM::Role", "AssumeRolePolicyDocument", "trust", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "states.amazonaws.com"},
                       "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}}]},
        "arn:aws:iam::111111111111:role/team-role")
    assert [issue for issue, _ in issues(trust)] == ["CREDENTIALS_EXPOSURE"]
    assert unaccepted(analyse(trust)) == []
    wrong = Document(*[getattr(trust, f) for f in ("stack", "logical_id", "path", "resource_type", "where", "kind")], {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "states.amazonaws.com"},
                       "Condition": {"StringEquals": {"states:StateMachineArn": "x"}}}]}, trust.resource_arn)
    assert "UNKNOWN_CONDITION_FOR_ACTION" in [issue for issue, _ in issues(wrong)]


def test_acknowledgments_accept_only_the_kind_and_resource_they_name():
    everything = [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"}]
    key_policy = document(everything, kind="key", path="Team/Key/Resource")
    assert {issue for issue, _ in issues(key_policy)} == {"RESOURCE_STAR", "PERMISSIONS_MANAGEMENT_ACTIONS"}
    assert unaccepted(analyse(key_policy)) == []  # Resource "*" is the key itself; kms:* for the root delegates to IAM
    # The same statements as an identity policy: nothing accepts them.
    identity = document([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}])
    assert {line.split(": ")[1] for line in unaccepted(analyse(identity))} == {"RESOURCE_STAR", "PERMISSIONS_MANAGEMENT_ACTIONS"}
    # EC2 on "*" is accepted on the EMR service policy only, and only for EC2's actions.
    ec2 = [{"Effect": "Allow", "Action": ["ec2:TerminateInstances"], "Resource": "*"}]
    assert unaccepted(analyse(document(ec2, path="Team/Roles/EmrServicePolicy/Resource"))) == []
    assert unaccepted(analyse(document(ec2, path="Team/Export/NodePermissions/Resource")))
    with_s3 = [{"Effect": "Allow", "Action": ["ec2:TerminateInstances", "s3:GetObject"], "Resource": "*"}]
    assert unaccepted(analyse(document(with_s3, path="Team/Roles/EmrServicePolicy/Resource")))


def test_codestar_connections_on_a_codeconnections_arn_is_accepted_only_beside_the_matching_grant():
    arn = "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000"
    path = "DdbDataPipeline-delivery/Pipeline/Pipeline/Source/org_repo/CodePipelineActionRole/DefaultPolicy/Resource"
    old_only = document([{"Effect": "Allow", "Action": "codestar-connections:UseConnection", "Resource": arn}], path=path)
    assert [issue for issue, _ in issues(old_only)] == ["RESOURCE_MISMATCH"]
    assert unaccepted(analyse(old_only))
    both = document([{"Effect": "Allow", "Action": ["codeconnections:UseConnection", "codestar-connections:UseConnection"], "Resource": arn}],
                    path=path)
    assert unaccepted(analyse(both)) == []


def test_the_walk_finds_policies_in_any_property_and_a_bus_policy_statement(tmp_path):
    """A hand-made assembly: an event bus policy (one statement), a queue policy and a role's inline policy."""
    template = {"Resources": {
        "Bus": {"Type": "AWS::Events::EventBusPolicy", "Properties": {"EventBusName": "b", "StatementId": "s", "Statement": {
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "events:PutEvents",
            "Resource": "arn:aws:events:eu-west-1:111111111111:event-bus/b"}}},
        "Queue": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": ["q"], "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
             "Resource": "arn:aws:sqs:eu-west-1:111111111111:q"}]}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": {"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:key/k"},
                 "Condition": {"StringEquals": TABLE_CONTEXT}}]}}]}},
    }}
    (tmp_path / "Hand.template.json").write_text(json.dumps(template))
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"Hand": {
        "type": "aws:cloudformation:stack", "environment": "aws://111111111111/eu-west-1", "properties": {"templateFile": "Hand.template.json"}}}}))
    found = {(d.logical_id, d.where, d.kind) for d in policy_documents(Path(tmp_path))}
    assert found == {("Bus", "Statement", "bus"), ("Queue", "PolicyDocument", "queue"), ("Role", "AssumeRolePolicyDocument", "trust"),
                     ("Role", "Policies[0].PolicyDocument", "identity")}
    lines = unaccepted(f for d in policy_documents(Path(tmp_path)) for f in analyse(d))
    assert lines == ["Hand/Role Policies[0].PolicyDocument [Hand/Role] (identity): UNKNOWN_CONDITION_FOR_ACTION: "
                     "Unknown condition kms:EncryptionContext:aws:dynamodb:tableName for action kms:DescribeKey"]


MACHINE = StateMachine("Team", "Machine", "restore", "arn:aws:states:eu-west-1:111111111111:stateMachine:restore", "111111111111",
                       "eu-west-1", "arn:aws:iam::111111111111:role/machine", {}, False, False)


def expected(action: str, resource: str, context: dict[str, str]) -> Expected:
    call = RuntimeCall("test", "a hand-made row", "machine", (action,), resource, "test", "inferred", context)
    return Expected(MACHINE, call, Request(MACHINE.role_arn, action, resource, {"aws:SecureTransport": "true", **context}), {})


@pytest.mark.parametrize(
    "request_, expected_line",
    [
        # An invented context key: DescribeKey carries no encryption context.
        (expected("kms:DescribeKey", KEY, {**VIA_DYNAMODB, **TABLE_CONTEXT}),
         "Team/restore: kms:DescribeKey carries kms:EncryptionContext:aws:dynamodb:tableName, which AWS lists for no resource of the action "
         "[a hand-made row]"),
        # A key of another service.
        (expected("s3:GetObject", "arn:aws:s3:::b/k", {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}),
         "Team/restore: s3:GetObject carries kms:ViaService, which AWS lists for no resource of the action [a hand-made row]"),
        # An action AWS does not have.
        (expected("dynamodb:ScanTable", "arn:aws:dynamodb:eu-west-1:111111111111:table/orders", {}),
         "Team/restore: dynamodb:ScanTable is not an action AWS lists [a hand-made row]"),
        # An action without a resource type, modelled on one log group.
        (expected("logs:DescribeLogGroups", "arn:aws:logs:eu-west-1:111111111111:log-group:/aws-dynamodb/imports", {}),
         "Team/restore: logs:DescribeLogGroups acts on arn:aws:logs:eu-west-1:111111111111:log-group:/aws-dynamodb/imports, "
         "but the action has no resource type (only \"*\" grants it) [a hand-made row]"),
    ],
)
def test_the_model_rules_refuse_a_request_aws_contradicts(request_, expected_line):
    assert [m.line() for m in mismatches([request_], sar())] == [expected_line]


def test_the_model_rules_accept_listed_keys_patterns_and_global_keys():
    fine = [
        expected("kms:Decrypt", KEY, {**VIA_DYNAMODB, **TABLE_CONTEXT, "kms:CallerAccount": "111111111111"}),
        expected("kms:DescribeKey", KEY, VIA_DYNAMODB),
        expected("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "exports/", "s3:ResourceAccount": "111111111111", "aws:RequestedRegion": "eu-west-1"}),
        expected("logs:DescribeLogGroups", "*", {}),
        expected("iam:PassRole", "arn:aws:iam::111111111111:role/r", {"iam:PassedToService": "ec2.amazonaws.com"}),
    ]
    assert mismatches(fine, sar()) == []


def test_every_acknowledgment_names_a_finding_parliament_has_a_reason_and_its_evidence():
    import yaml

    from tests.oracles.acknowledged import ACCEPTED, RULES
    from tests.oracles.iam import parliament

    module = parliament()
    community = yaml.safe_load((Path(module.__file__).parent / "community_auditors" / "config_override.yaml").read_text())
    for entry in (*RULES, *ACCEPTED):
        assert entry.issue in {*module.config, *community}, entry
        assert len(entry.reason) > 80 and entry.evidence.split(":")[0] in ("doc", "source", "inferred"), entry
