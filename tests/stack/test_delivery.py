"""The delivery pipeline: source, test+synth, self-mutation, dev then prod with an approval, checks."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from ddb_datapipeline.app_builder import plan
from ddb_datapipeline.config import ConfigError
from ddb_datapipeline.stacks.delivery_stack import CDK_CLI_VERSION, generated_grant_reason
from tests.conftest import ROOT

DELIVERY = "DdbDataPipeline-delivery"


def of_type(template: dict[str, Any], type_name: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_name}


@pytest.fixture(scope="module")
def delivery(synthesis) -> dict[str, Any]:
    return synthesis.template_named(DELIVERY)


@pytest.fixture(scope="module")
def stages(delivery) -> dict[str, list[tuple[str, str, int]]]:
    (pipeline,) = of_type(delivery, "AWS::CodePipeline::Pipeline").values()
    assert pipeline["Properties"]["PipelineType"] == "V2"
    return {
        stage["Name"]: [(a["Name"], a["ActionTypeId"]["Category"], a["RunOrder"]) for a in stage["Actions"]]
        for stage in pipeline["Properties"]["Stages"]
    }


def buildspec(delivery: dict[str, Any], project_prefix: str) -> dict[str, Any]:
    (project,) = [r for k, r in of_type(delivery, "AWS::CodeBuild::Project").items() if k.startswith(project_prefix)]
    return json.loads(project["Properties"]["Source"]["BuildSpec"])


def test_stages_run_source_build_self_mutation_then_the_environments_in_order(stages):
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "dev", "analytics", "prod"]
    assert stages["Source"] == [("example-org_ddb-datapipeline", "Source", 1)]
    assert [a[0] for a in stages["UpdatePipeline"]] == ["SelfMutate"]


def test_only_the_protected_environment_waits_for_an_approval(stages):
    assert all(category != "Approval" for _, category, _ in stages["dev"])
    first, *rest = sorted(stages["prod"], key=lambda action: action[2])
    assert first == ("Approve-prod", "Approval", 1)
    assert all(order > 1 for _, _, order in rest)


def test_each_stage_deploys_the_workstation_stacks_then_checks_them(stages):
    def deployed(stage: str) -> list[str]:
        return sorted(name.rsplit(".", 1)[0] for name, category, _ in stages[stage] if name.endswith(".Deploy"))

    assert deployed("dev") == ["DdbDataPipeline-dev"]
    assert deployed("analytics") == ["DdbDataPipeline-analytics"]
    assert deployed("prod") == [
        "DdbDataPipeline-prod",
        "DdbDataPipeline-prod-copy-targets-222222222222-us-east-1",
        "DdbDataPipeline-prod-copy-targets-us-west-2",
    ]
    for stage in ("dev", "analytics", "prod"):
        last = max(stages[stage], key=lambda action: action[2])
        assert last[:2] == (f"Check-{stage}", "Build")


def test_synth_runs_the_readme_commands(delivery):
    spec = buildspec(delivery, "PipelineBuildSynth")
    assert spec["phases"]["build"]["commands"] == ["make test", "make synth"]
    assert spec["artifacts"]["base-directory"] == "cdk.out"
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make synth" in readme


def test_post_deploy_checks_are_read_only_through_the_lookup_role(delivery):
    checked = (("dev", "111111111111", "eu-west-1"), ("analytics", "111111111111", "eu-west-1"), ("prod", "111111111111", "us-east-1"))
    for stage, account, region in checked:
        commands = buildspec(delivery, f"Pipeline{stage}Check")["phases"]["build"]["commands"]
        role = f"arn:aws:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-{region}"
        assert commands[-1] == (
            f".venv/bin/python -m ddb_datapipeline check-deployed --stack DdbDataPipeline-{stage} --region {region} --role-arn {role}"
        )
    assume = [
        s
        for p in of_type(delivery, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRole" and "lookup-role" in json.dumps(s["Resource"])
    ]
    assert len(assume) == len(checked)  # one per stage's check


def test_artifacts_are_encrypted_with_a_rotating_key_and_access_logged(delivery, synthesis):
    keys = of_type(delivery, "AWS::KMS::Key")
    assert keys and all(k["Properties"]["EnableKeyRotation"] is True for k in keys.values())
    buckets = of_type(delivery, "AWS::S3::Bucket")
    (artifacts,) = [b for k, b in buckets.items() if k.startswith("PipelineArtifactsBucket")]
    encryption = artifacts["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption["SSEAlgorithm"] == "aws:kms"
    assert artifacts["Properties"]["LoggingConfiguration"]["LogFilePrefix"] == "artifacts/"
    for region in ("eu-west-1", "us-west-2"):
        support = synthesis.template_named(f"cross-region-stack-111111111111_{region}")
        replication = [b for k, b in of_type(support, "AWS::S3::Bucket").items() if k.startswith("CrossRegionCodePipelineReplicationBucket")]
        assert replication[0]["Properties"]["LoggingConfiguration"]["LogFilePrefix"] == f"replication-{region}/"


def test_a_wildcard_of_an_unreviewed_kind_is_not_acknowledged():
    assert generated_grant_reason("Resource::arn:aws:dynamodb:us-east-1:111111111111:table/*") is None
    assert generated_grant_reason("Action::dynamodb:*") is None
    assert generated_grant_reason("Action::s3:List*") is not None


def test_self_mutation_uses_the_pinned_cli():
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert CDK_CLI_VERSION == pinned


def test_generated_grants_are_acknowledged_on_the_code_pipeline_construct_only(synthesis):
    (solutions,) = [p for p in synthesis.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    stage_paths = (f"{DELIVERY}/dev/", f"{DELIVERY}/analytics/", f"{DELIVERY}/prod/")  # the environments' own acknowledgments
    on_delivery = [
        s for s in solutions["suppressedViolations"] if s["acknowledgedAt"].startswith(DELIVERY) and not s["acknowledgedAt"].startswith(stage_paths)
    ]
    assert on_delivery
    assert {s["acknowledgedAt"] for s in on_delivery} == {f"{DELIVERY}/Pipeline"}
    assert {s["ruleName"].split("[")[0] for s in on_delivery} == {"AwsSolutions-IAM5"}
    assert len({s["reason"] for s in on_delivery}) == 7  # one reason per kind of generated grant


def delivery_context(context: dict[str, Any], **changes: Any) -> dict[str, Any]:
    context["delivery"] = {**context["delivery"], **changes}
    return context


def test_the_pipeline_is_planned_only_with_delivery_config_and_no_environment_selected(context):
    assert plan(context).delivery is not None and plan(context).selected is False
    assert plan({**context, "env": "dev"}).selected is True  # build() then leaves the pipeline out
    del context["delivery"]
    assert plan(context).delivery is None


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"stages": [{"environment": "staging"}]}, "delivery.stages[0].environment: 'staging' is not allowed; expected one of dev, analytics, prod"),
        ({"stages": [{"environment": "dev"}, {"environment": "dev"}]}, "delivery.stages[1].environment: 'dev' is not allowed; expected each environment once"),
        ({"stages": []}, "delivery.stages: 0 stages is not allowed"),
        ({"account": "1234"}, "delivery.account: '1234' is not allowed"),
        ({"source": {"kind": "github"}}, "delivery.source.kind: 'github' is not allowed; expected one of connection, codecommit, s3"),
        ({"source": {"repository": "org/repo"}}, "delivery.source.connection_arn: missing"),
        ({"source": {"kind": "s3", "bucket": "my-bucket", "object_key": "repo.tar"}}, "delivery.source.object_key: 'repo.tar' is not allowed"),
    ],
)
def test_delivery_mistakes_are_one_line(context, changes, expected):
    with pytest.raises(ConfigError) as caught:
        plan(delivery_context(context, **changes))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_the_lookup_role_follows_the_bootstrap_qualifier(context, tmp_path):
    """Accounts bootstrapped with --qualifier: CDK's context key names their roles, the check's included."""
    from tests.conftest import synthesize

    context["@aws-cdk/core:bootstrapQualifier"] = "team42"
    context["environments"] = {"dev": context["environments"]["dev"]}
    context["delivery"]["stages"] = [{"environment": "dev"}]
    synthesis = synthesize(context, tmp_path)
    template = synthesis.template_named("DdbDataPipeline-delivery")
    commands = buildspec(template, "PipelinedevCheck")["phases"]["build"]["commands"]
    assert commands[-1].endswith("--role-arn arn:aws:iam::111111111111:role/cdk-team42-lookup-role-111111111111-eu-west-1")
    from tests.oracles.iam import parliament_findings

    assert parliament_findings(synthesis.outdir, *sorted(synthesis.outdir.glob("assembly-*"))) == []


def install_commands(template: dict[str, Any]) -> list[str]:
    """Every command of every CodeBuild step of the delivery that installs a tool."""
    found = []
    for project in of_type(template, "AWS::CodeBuild::Project").values():
        spec = project["Properties"]["Source"]["BuildSpec"]
        if isinstance(spec, dict):  # a step that names resources: Fn::Join of text and references (none in a command here)
            spec = "".join(part if isinstance(part, str) else "REF" for part in spec["Fn::Join"][1])
        for phase in json.loads(spec)["phases"].values():
            found += [c for c in phase["commands"] if re.search(r"\b(npm (install|i|ci)|pip3? install|make setup)\b", c)]
    return found


def locked_npm_version(name: str) -> str:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    return str(lock["packages"][f"node_modules/{name}"]["version"])


def test_every_tool_the_build_steps_install_is_pinned(delivery):
    """The self-mutation step's CLI is the one package-lock.json installs; everything else comes from make setup."""
    commands = install_commands(delivery)
    assert f"npm install -g aws-cdk@{locked_npm_version('aws-cdk')}" in commands
    for command in commands:
        assert command == "make setup" or re.fullmatch(r"npm install -g (@?[a-z0-9/-]+)@\d+\.\d+\.\d+", command), command


def test_the_synth_step_installs_from_the_lock_files_only(delivery):
    spec = buildspec(delivery, "PipelineBuildSynth")
    assert spec["phases"]["install"]["commands"] == ["make setup"]


def test_make_setup_installs_from_pins_only():
    recipe = (ROOT / "Makefile").read_text()
    assert re.search(r"pip (--python \S+ )?install .*\buv==\d+\.\d+\.\d+ &&", recipe)
    assert re.search(r'uv pip install .*-r "\$\$PROJECT_DIR/requirements-dev\.txt" &&', recipe)
    assert re.search(r"&& npm ci\b", recipe) and "npm install" not in recipe
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            if line.strip() and not line.startswith(("#", "-r ")):
                assert re.fullmatch(r"[A-Za-z0-9_.\[\]-]+==[0-9][0-9A-Za-z.]*", line.split("#")[0].strip()), f"{name}: {line}"


def test_asset_publishing_installs_the_pinned_cdk_assets(context, tmp_path):
    """The app has no assets today; a stage with one shows the step CDK Pipelines adds for it installs cdk-assets at
    the pinned version, not `latest` (its default)."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3_assets as s3_assets

    from ddb_datapipeline.stacks.delivery_stack import CDK_ASSETS_CLI_VERSION, DeliveryStack

    (tmp_path / "asset.txt").write_text("an asset\n")

    def with_an_asset(scope: Any, config: Any) -> cdk.Stack:
        stack = cdk.Stack(scope, config.stack_name)
        s3_assets.Asset(stack, "Asset", path=str(tmp_path / "asset.txt"))
        cdk.CfnWaitConditionHandle(stack, "Placeholder")  # a template needs a resource
        return stack

    app = cdk.App(outdir=str(tmp_path / "out"))
    delivery = plan(context).delivery
    assert delivery is not None
    stack = DeliveryStack(app, "Delivery", delivery=delivery, build_environment=with_an_asset,
                          env=cdk.Environment(account=delivery.account, region=delivery.region))
    template = app.synth().get_stack_by_name(stack.stack_name).template
    assert re.fullmatch(r"\d+\.\d+\.\d+", CDK_ASSETS_CLI_VERSION)
    assert f"npm install -g cdk-assets@{CDK_ASSETS_CLI_VERSION}" in install_commands(template)
    assert test_every_tool_the_build_steps_install_is_pinned(template) is None
