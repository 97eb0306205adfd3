"""The public pipeline constructs on a bare Stack, without cdk.json: with a team's existing table and
bucket, with resources the app declares, and the mistakes they refuse."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Capture, Match, Template
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from ddb_datapipeline import (
    CopyDestination,
    CopyPipeline,
    DataTable,
    ExportBucket,
    ExportPipeline,
    PipelineConfigurationError,
    RestorePipeline,
)
from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.permissions.assembly_view import load_world
from ddb_datapipeline.permissions.audit import denied, outcomes

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
KEY = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)


@dataclass
class Built:
    stack: cdk.Stack
    template: Template
    outdir: Path

    def nag_violations(self) -> list[str]:
        report = json.loads((self.outdir / "validation-report.json").read_text())
        return [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]]


def synthesize(tmp_path: Path, build) -> Built:
    app = cdk.App(outdir=str(tmp_path), context={"@aws-cdk/core:failSynthOnValidationErrors": False, "aws:cdk:enable-path-metadata": True})
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "Team", env=ENV)
    build(stack)
    app.synth()
    return Built(stack, Template.from_json(json.loads((tmp_path / "Team.template.json").read_text())), tmp_path)


@pytest.fixture(scope="module")
def existing(tmp_path_factory) -> Built:
    """One export of a team's existing table into its existing bucket: nothing else given."""
    def build(stack: cdk.Stack) -> None:
        table = dynamodb.Table.from_table_name(stack, "Orders", "orders")
        bucket = s3.Bucket.from_bucket_name(stack, "Backups", "team-backups")
        ExportPipeline(stack, "Export", table=table, bucket=bucket)

    return synthesize(tmp_path_factory.mktemp("existing"), build)


def build_declared(stack: cdk.Stack) -> None:
    """Export, restore and copy of a table the app declares, in two parents that share the roles (the session's
    ``declared_pipelines``, tests/constructs/conftest.py, which the modules of the three constructs read too)."""
    orders = DataTable(stack, "Orders", table_name="orders", partition_key=KEY, retain=False).table
    staging = DataTable(stack, "Staging", table_name="orders-staging", partition_key=KEY, retain=False).table
    bucket = ExportBucket(stack, "Bucket", retain=False).bucket
    ExportPipeline(stack, "Export", table=orders, bucket=bucket, alarm_emails=["oncall@example.com"])
    RestorePipeline(stack, "Restore", source=orders, target=staging, bucket=bucket)
    for parent in (Construct(stack, "TeamA"), Construct(stack, "TeamB")):
        CopyPipeline(parent, "Copy", source=orders, destination=CopyDestination(table_name=f"copy-of-orders-{parent.node.id}"),
                     bucket=bucket)


@pytest.fixture(scope="module")
def declared(declared_pipelines) -> Built:
    return declared_pipelines


def test_an_existing_table_and_bucket_need_nothing_else_and_nag_is_clean(existing):
    assert existing.nag_violations() == []
    template = existing.template
    template.resource_count_is("AWS::DataPipeline::Pipeline", 1)
    template.resource_count_is("AWS::IAM::Role", 2)  # the shared pipeline role and the export's node role
    template.resource_count_is("AWS::IAM::InstanceProfile", 1)
    template.resource_count_is("AWS::SNS::Topic", 1)  # an encrypted alarm topic, created
    template.has_resource_properties("AWS::DataPipeline::Pipeline", {
        "Name": Match.string_like_regexp("^ddb-default-orders-export-[0-9a-f]{8}$"),
        # Literals in the objects, no parameters: a value given at activation never reaches the step.
        "PipelineObjects": Match.array_with([
            Match.object_like({"Id": "DDBSourceTable", "Fields": Match.array_with([{"Key": "tableName", "StringValue": "orders"}])}),
            Match.object_like({"Id": "S3BackupLocation", "Fields": Match.array_with([
                {"Key": "directoryPath", "StringValue": Match.string_like_regexp("^s3://team-backups/exports/orders/#")}])}),
        ]),
        "ParameterObjects": [], "ParameterValues": [],
    })


def test_an_existing_table_may_use_a_key_so_its_grant_is_limited_to_dynamodb_and_the_table(existing):
    """Decrypt under the table's encryption context; DescribeKey, which carries no encryption context, under
    kms:ViaService alone (a DescribeKey under the context could never be allowed)."""
    decrypt, describe = Capture(), Capture()
    existing.template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([
            Match.object_like({
                "Action": "kms:Decrypt",
                "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com",
                                               "kms:EncryptionContext:aws:dynamodb:tableName": "orders"}},
                "Resource": decrypt,
            }),
            Match.object_like({
                "Action": "kms:DescribeKey",
                "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}},
                "Resource": describe,
            }),
        ])},
    })
    assert "key/*" in json.dumps(decrypt.as_object()) and "key/*" in json.dumps(describe.as_object())


def test_every_runtime_call_is_allowed_for_constructs_used_alone(existing, declared):
    for built, pipelines in ((existing, 1), (declared, 4)):
        world = load_world(load_assembly(built.outdir))
        assert len(world.pipelines) == pipelines
        assert len(outcomes(world)) > 100 * pipelines
        assert [o.line() for o in denied(world)] == []


def test_parliament_accepts_every_policy_and_the_model_agrees_with_aws_service_reference(existing, declared):
    from tests.oracles.iam import model_mismatches, parliament_findings

    assert parliament_findings(existing.outdir, declared.outdir) == []
    for built in (existing, declared):
        assert model_mismatches(load_world(load_assembly(built.outdir))) == []


def test_pipelines_in_two_parents_share_one_roles_construct_and_keep_their_own_nodes(declared):
    assert declared.nag_violations() == []
    roles = declared.template.find_resources("AWS::IAM::Role")
    assert len(roles) == 1 + 4  # one pipeline role, a node role per pipeline
    passable = Capture()
    declared.template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Sid": "PassTheRolesToEmrAndEc2", "Resource": passable})])},
    })
    # The pipeline role and, by their shared name prefix (the stack's name and region), the node roles:
    # one statement however many pipelines the stack has.
    pipeline_role, node_roles = passable.as_array()
    assert node_roles["Fn::Join"][1][-1] == ":role/Team-eu-west-1-*"
    names = [r["Properties"]["RoleName"] for r in roles.values() if "RoleName" in r["Properties"]]
    assert len(names) == 4 and all(n.startswith("Team-eu-west-1-") for n in names), names


def test_a_node_role_outside_the_prefix_is_refused():
    from aws_cdk import App, Stack

    from ddb_datapipeline.constructs.pipeline_roles import NodeRole, PipelineRoles

    stack = Stack(App(), "Team")
    roles = PipelineRoles(stack, "Roles", node_role_prefix="team-nodes-")
    roles.admit(NodeRole(stack, "Good", description="d", role_name="team-nodes-orders-export"))
    with pytest.raises(ValueError, match=r"^Team/Bad: the node role's name 'other-orders' must start with 'team-nodes-'"):
        roles.admit(NodeRole(stack, "Bad", description="d", role_name="other-orders"))
    with pytest.raises(ValueError, match=r"node_role_prefix: 'a b' is not allowed"):
        PipelineRoles(stack, "Roles2", node_role_prefix="a b")
    # The name is also the value of the cluster tag, and IAM's tag values have no comma (role names may).
    with pytest.raises(ValueError, match=r"^Team/Comma: the node role's name 'team-nodes-a,b' is not allowed; it is also the value "
                                         r"of the tag ddb-datapipeline:nodes, which allows only letters"):
        roles.admit(NodeRole(stack, "Comma", description="d", role_name="team-nodes-a,b"))


def test_a_declared_tables_key_is_granted_by_its_arn(declared):
    keys = declared.template.find_resources("AWS::KMS::Key")
    orders_key = next(k for k, v in keys.items() if "orders" in v["Properties"]["Description"] and "staging" not in v["Properties"]["Description"])
    declared.template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([
            Match.object_like({"Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": [orders_key, "Arn"]}}),
            Match.object_like({"Action": "kms:DescribeKey", "Resource": {"Fn::GetAtt": [orders_key, "Arn"]}}),
        ])},
    })


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Mistakes", env=ENV)


def test_a_copy_destination_is_one_table():
    stack = _stack()
    source = dynamodb.Table.from_table_name(stack, "S", "orders")
    bucket = s3.Bucket.from_bucket_name(stack, "B", "team-backups")
    with pytest.raises(PipelineConfigurationError, match="^Mistakes/Copy: destination: give exactly one of table"):
        CopyPipeline(stack, "Copy", source=source, destination=CopyDestination(), bucket=bucket)
    with pytest.raises(PipelineConfigurationError, match="^Mistakes/Cross: a copy into account 222222222222 needs destination.staging_bucket"):
        CopyPipeline(stack, "Cross", source=source, destination=CopyDestination(table_name="orders-copy", account="222222222222"), bucket=bucket)
    assert stack.node.try_find_child("Copy") is None and stack.node.try_find_child("Cross") is None  # refused before joining the tree


@pytest.mark.parametrize("name", ["token", 42, "x"])
def test_a_copy_destination_named_by_a_token_or_not_a_table_name_is_refused_in_one_line(name):
    """A token (another stack's table.table_name) cannot name the copy's staging folder, roles and pipeline: refused
    naming the prop, where it used to surface as a node role name that is not allowed."""
    stack = _stack()
    source = dynamodb.Table.from_table_name(stack, "S", "orders")
    bucket = s3.Bucket.from_bucket_name(stack, "B", "team-backups")
    if name == "token":
        other = cdk.Stack(stack.node.root, "Other", env=ENV)
        name = dynamodb.Table(other, "Target", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)).table_name
    with pytest.raises(PipelineConfigurationError) as caught:
        CopyPipeline(stack, "Copy", source=source, destination=CopyDestination(table_name=name), bucket=bucket)
    message = str(caught.value)
    assert message.startswith(f"Mistakes/Copy: destination.table_name: {name!r} is not allowed; expected the table's name written out")
    assert "\n" not in message and "cannot name the copy's staging folder, roles and pipeline" in message
    assert stack.node.try_find_child("Copy") is None


def test_a_teams_own_pipeline_role_receives_the_policies_by_name(tmp_path):
    from aws_cdk import aws_iam as iam

    from ddb_datapipeline import PipelineRoles

    def build(stack: cdk.Stack) -> None:
        role = iam.Role.from_role_arn(stack, "TeamRole", "arn:aws:iam::111111111111:role/team-datapipeline")
        roles = PipelineRoles(stack, "Roles", pipeline_role=role)
        table = dynamodb.Table.from_table_name(stack, "Orders", "orders")
        ExportPipeline(stack, "Export", table=table, bucket=s3.Bucket.from_bucket_name(stack, "B", "team-backups"), roles=roles)

    built = synthesize(tmp_path, build)
    assert built.nag_violations() == []
    from tests.oracles.iam import parliament_findings

    assert parliament_findings(built.outdir) == []
    built.template.resource_count_is("AWS::IAM::Role", 1)  # only the export's node role is created
    for policy_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        attached = [p["Properties"].get("Roles", []) for p in built.template.find_resources(policy_type).values()]
        assert ["team-datapipeline"] in attached, policy_type
    built.template.has_resource_properties("AWS::DataPipeline::Pipeline", {
        "PipelineObjects": Match.array_with([Match.object_like({"Id": "Default", "Fields": Match.array_with([
            {"Key": "role", "StringValue": "team-datapipeline"}])})]),
    })


def test_a_filtered_copy_into_another_region_lets_emr_run_in_the_source_region_only():
    """A filtered copy runs one cluster, in the source's region, writing the target across regions; a copy
    through staging also starts the import's cluster in the target's region, so only it widens the
    pipeline role's regions."""
    from ddb_datapipeline.definition.filters import parse_filter
    from ddb_datapipeline.definition.hive_copy import CopySelection

    def regions(selection: CopySelection | None) -> set[str]:
        stack = _stack()
        source = dynamodb.Table.from_table_name(stack, "S", "orders")
        bucket = s3.Bucket.from_bucket_name(stack, "B", "team-backups")
        CopyPipeline(stack, "Copy", source=source, destination=CopyDestination(table_name="orders", region="us-west-2"), bucket=bucket,
                     selection=selection)
        found = set()
        template = Template.from_stack(stack)
        policies = [*template.find_resources("AWS::IAM::Policy").values(), *template.find_resources("AWS::IAM::ManagedPolicy").values()]
        for policy in policies:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                requested = statement.get("Condition", {}).get("StringEquals", {}).get("aws:RequestedRegion")
                if requested:
                    found.update([requested] if isinstance(requested, str) else requested)
        return found

    assert regions(CopySelection(row_filter=parse_filter("status = 'OPEN'"))) == {"eu-west-1"}
    assert regions(None) == {"eu-west-1", "us-west-2"}


def test_a_hive_copy_only_scans_its_source_as_its_cluster_turns_pushdown_off():
    """With pushdown on, the storage handler turns a WHERE's key conditions into a Query (the permission model's
    "filters" row); every Hive cluster of this project turns it off (definition/emr.py), so a filtered copy scans
    like one that keeps every row and is granted no Query (least privilege; the model asks for none)."""
    from ddb_datapipeline.definition.filters import parse_filter
    from ddb_datapipeline.definition.hive_copy import CopySelection

    def source_actions(selection: CopySelection) -> set[str]:
        stack = _stack()
        source = dynamodb.Table.from_table_name(stack, "S", "orders")
        bucket = s3.Bucket.from_bucket_name(stack, "B", "team-backups")
        CopyPipeline(stack, "Copy", source=source, destination=CopyDestination(table_name="orders-slim"), bucket=bucket,
                     selection=selection)
        template = Template.from_stack(stack)
        found: set[str] = set()
        for policy in [*template.find_resources("AWS::IAM::Policy").values(), *template.find_resources("AWS::IAM::ManagedPolicy").values()]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if "table/orders" in json.dumps(statement.get("Resource")) and "orders-slim" not in json.dumps(statement.get("Resource")):
                    actions = statement["Action"]
                    found.update([actions] if isinstance(actions, str) else actions)
        return found

    assert source_actions(CopySelection(attributes=("pk", "status"))) == {"dynamodb:DescribeTable", "dynamodb:Scan"}
    assert source_actions(CopySelection(row_filter=parse_filter("status = 'OPEN'"), attributes=("pk", "status"))) == {
        "dynamodb:DescribeTable", "dynamodb:Scan"}


def test_a_counted_copy_may_scan_its_target():
    """The count after the run reads the target (hive_verify); without it the node role only writes there."""
    from ddb_datapipeline.definition.common import ScheduleSpec
    from ddb_datapipeline.definition.hive_copy import CopySelection, IncrementalWindow

    def target_actions(selection: CopySelection) -> set[str]:
        stack = _stack()
        source = dynamodb.Table.from_table_name(stack, "S", "orders")
        bucket = s3.Bucket.from_bucket_name(stack, "B", "team-backups")
        CopyPipeline(stack, "Copy", source=source, destination=CopyDestination(table_name="orders-recent"), bucket=bucket,
                     selection=selection, schedule=ScheduleSpec(period="1 hour"))
        template = Template.from_stack(stack)
        found: set[str] = set()
        for policy in [*template.find_resources("AWS::IAM::Policy").values(), *template.find_resources("AWS::IAM::ManagedPolicy").values()]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if "table/orders-recent" in json.dumps(statement.get("Resource")):
                    actions = statement["Action"]
                    found.update([actions] if isinstance(actions, str) else actions)
        return found

    window = IncrementalWindow("updated_at", "epoch_seconds", 15)
    assert target_actions(CopySelection(incremental=window)) == {"dynamodb:DescribeTable", "dynamodb:BatchWriteItem"}
    assert target_actions(CopySelection(incremental=window, verify_keys=("pk",))) == {
        "dynamodb:DescribeTable", "dynamodb:BatchWriteItem", "dynamodb:Scan"}


def test_tags_a_scope_adds_count_against_the_pipelines_ten():
    """The pipeline's own five tags (its node role's cluster tag among them) and what Tags.of adds above it."""
    app = cdk.App()
    stack = cdk.Stack(app, "Team", env=ENV)
    ExportPipeline(stack, "Export", table=dynamodb.Table.from_table_name(stack, "Orders", "orders"),
                   bucket=s3.Bucket.from_bucket_name(stack, "Backups", "team-backups"))
    for index in range(5):
        cdk.Tags.of(stack).add(f"team:{index}", "x")
    app.synth()  # ten: allowed
    cdk.Tags.of(stack).add("team:5", "x")
    with pytest.raises(RuntimeError, match=r"\[Team/Export/Pipeline\] ddb-default-orders-export: 11 pipeline tags \(ddb-datapipeline:environment, "
                                           r"ddb-datapipeline:kind, ddb-datapipeline:nodes, .*team:5\); the service allows at most 10"):
        app.synth(force=True)
