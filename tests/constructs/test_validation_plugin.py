"""DataPipelineChecks, the policy validation plugin a team adds to its own app: on a bare Stack with one table and an
ExportPipeline, a removed grant fails the synth naming the denied call, as cdk-nag's findings do; the same app with the
grant passes. The checks behind it (synth_checks.check_templates) are then run on edited copies of that synthesized
template, without another synth: a stack over a limit, a definition the validator refuses, a team's own state machine
and a policy on a role the app only references."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3

from ddb_datapipeline import DataPipelineChecks, ExportPipeline
from ddb_datapipeline.synth_checks import check_templates

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
NODE_ROLE = "arn:aws:iam::111111111111:role/TeamBackups-eu-west-1-orders-export"


def team_app(outdir: Path, *, strip_grant: bool) -> tuple[cdk.App, DataPipelineChecks]:
    """The library's example app with the plugin, added the way the issue names it (App(policy_validation_beta1=...));
    ``strip_grant`` removes the export's node permissions (the grants on the table, the bucket and the folder)."""
    checks = DataPipelineChecks(summary=False)
    # CDK decides "fail the synth by raising" from PYTEST_CURRENT_TEST (in memory, as here) or the CLI (exit 1); this
    # test reads the raised message, so it states the mode rather than relying on the runner.
    app = cdk.App(outdir=str(outdir), policy_validation_beta1=[checks], context={"@aws-cdk/core:appMode": "inmemory"})
    stack = cdk.Stack(app, "TeamBackups", env=ENV)
    table = dynamodb.Table.from_table_name(stack, "Orders", "orders")
    bucket = s3.Bucket.from_bucket_name(stack, "Backups", "team-backups-111111111111")
    export = ExportPipeline(stack, "Export", table=table, bucket=bucket)
    if strip_grant:
        assert export.node.try_remove_child("NodePermissions")
    return app, checks


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, DataPipelineChecks]:
    outdir = tmp_path_factory.mktemp("clean")
    app, checks = team_app(outdir, strip_grant=False)
    app.synth()  # raises on any error finding
    return outdir, checks


def test_a_clean_app_passes_and_the_plugin_says_what_it_checked(clean):
    """The fixture's app.synth() did not raise (the same app without the grant does, below)."""
    _, checks = clean
    report = checks.last_report
    assert report is not None and report.findings == () and report.success
    assert report.pipelines == 1 and report.calls > 100
    assert report.summary[0] == f"1 pipelines, {report.calls} runtime calls checked, 0 denied"


def test_a_removed_grant_fails_the_synth_naming_the_denied_call(tmp_path):
    app, _ = team_app(tmp_path, strip_grant=True)
    with pytest.raises(RuntimeError) as raised:
        app.synth()
    message = str(raised.value)
    assert message.startswith("ValidationFailed")
    # cdk-nag's shape: the rule (acknowledgeable by its id), the construct and logical id, the call, the fix.
    assert "Acknowledge with 'DdbDataPipeline::RuntimePermission'" in message
    assert "TeamBackups/Export/Pipeline/Resource (ExportPipeline" in message
    assert f"resourceRole {NODE_ROLE} may not dynamodb:Scan on arn:aws:dynamodb:eu-west-1:111111111111:table/orders" in message
    assert f"Suggested fix: allow dynamodb:Scan on arn:aws:dynamodb:eu-west-1:111111111111:table/orders to {NODE_ROLE}" in message


def edited(clean_dir: Path, tmp_path: Path, change) -> list[str]:
    """A copy of the clean assembly whose template ``change`` edits in place; the template paths to check."""
    shutil.copytree(clean_dir, tmp_path / "out")
    path = tmp_path / "out" / "TeamBackups.template.json"
    template = json.loads(path.read_text())
    change(template["Resources"])
    path.write_text(json.dumps(template))
    return [str(path)]


def pipeline_of(resources) -> dict:
    return next(r for r in resources.values() if r["Type"] == "AWS::DataPipeline::Pipeline")


def test_a_stack_over_cloudformations_resource_quota_is_a_finding_naming_the_stack(clean, tmp_path):
    def crowd(resources):
        for i in range(500):
            resources[f"Topic{i}"] = {"Type": "AWS::SNS::Topic", "Properties": {}}

    report = check_templates(edited(clean[0], tmp_path, crowd))
    (finding,) = [f for f in report.findings if f.rule == "StackLimit"]
    resources = json.loads(Path(finding.template_path).read_text())["Resources"].values()
    count = sum(1 for r in resources if r["Type"] != "AWS::CDK::Metadata")  # what CloudFormation counts
    assert finding.description == (f"stack TeamBackups would hold {count} resources; expected at most 500 "
                                   "(CloudFormation's quota of resources per stack)")
    assert finding.logical_id == "TeamBackups" and not report.success


def test_a_definition_the_validator_refuses_is_a_finding_with_the_validators_rule_id(clean, tmp_path):
    def break_ratio(resources):
        for obj in pipeline_of(resources)["Properties"]["PipelineObjects"]:
            for field in obj["Fields"]:
                if field["Key"] == "readThroughputPercent":
                    field["StringValue"] = "5.0"

    report = check_templates(edited(clean[0], tmp_path, break_ratio))
    found = [f for f in report.findings if f.rule.startswith("Definition-")]
    assert found and all(f.severity == "error" and "readThroughputPercent" in f.description for f in found), report.findings
    assert found[0].logical_id.startswith("ExportPipeline")


def test_a_teams_own_state_machine_and_a_policy_on_a_referenced_role_are_not_its_business(clean, tmp_path):
    """A state machine without a DynamoDB export or import is not the native engine's: no 'not checked' finding; a
    policy attached to a role the app does not declare (Role.from_role_arn) is skipped, not a crash."""
    def add_others(resources):
        resources["TeamMachine"] = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::111111111111:role/team", "DefinitionString": json.dumps(
                {"StartAt": "Go", "States": {"Go": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}})}}
        resources["TeamPolicy"] = {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "team", "Roles": ["someone-elses-role"],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}}

    report = check_templates(edited(clean[0], tmp_path, add_others))
    assert report.findings == () and report.pipelines == 1


def test_a_pipeline_the_model_cannot_follow_is_reported_not_passed(clean, tmp_path):
    def unknown_object(resources):
        objects = pipeline_of(resources)["Properties"]["PipelineObjects"]
        odd = copy.deepcopy(next(o for o in objects if any(f.get("StringValue") == "EmrActivity" for f in o["Fields"])))
        odd["Id"] = odd["Name"] = "Odd"
        for field in odd["Fields"]:
            if field["Key"] == "type":
                field["StringValue"] = "SqlActivity"
        objects.append(odd)

    report = check_templates(edited(clean[0], tmp_path, unknown_object))
    assert any(f.rule == "NotChecked" and "cannot be checked" in f.description for f in report.findings), report.findings
    assert not report.success


def test_the_checks_behind_the_plugin_import_no_cdk():
    """synth_checks is the plugin's CDK-free core (typed with mypy --strict, usable on any cdk.out): it may read the
    permission model, the limits and the validator, never aws_cdk, the constructs or the stacks."""
    import ast

    import ddb_datapipeline.synth_checks as core

    tree = ast.parse(Path(core.__file__).read_text())
    names = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not [n for n in names if n.split(".")[0] in ("aws_cdk", "constructs", "jsii", "stacks") or n.startswith(("constructs", "stacks"))]
