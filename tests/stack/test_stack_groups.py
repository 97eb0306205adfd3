"""A table with a stack_group of its own, and copies into another region and another account: its copy
targets follow it into stacks of that group, and every runtime call still finds its grant."""
from __future__ import annotations

import pytest

from ddb_datapipeline import limits
from ddb_datapipeline.app_builder import stack_owners
from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.permissions.assembly_view import load_world
from ddb_datapipeline.permissions.audit import denied
from local_deploy.deploy import project_context
from tests.conftest import Synthesis, synthesize

OWNED = {"partition_key": {"name": "pk", "type": "S"}}


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    base = {k: v for k, v in project_context().items() if k not in ("environments", "delivery")}
    tables = [
        {"name": "orders", "owned": OWNED},
        {"name": "payments", "owned": OWNED, "stack_group": "pay", "copies": [
            {"target_table": "payments", "region": "us-west-2", "owned": True},
            {"target_table": "payments-audit", "account": "222222222222", "region": "us-east-1", "owned": True},
        ]},
    ]
    context = {**base, "environments": {"grp": {"account": "111111111111", "region": "us-east-1", "tables": tables}}}
    return synthesize(context, tmp_path_factory.mktemp("groups"))


def test_the_group_and_its_copy_targets_are_stacks_of_their_own(grouped):
    artifacts = grouped.manifest()["artifacts"]
    stacks = {name for name, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}
    assert stacks == {
        "DdbDataPipeline-grp", "DdbDataPipeline-grp-pay",
        "DdbDataPipeline-grp-pay-copy-targets-us-west-2", "DdbDataPipeline-grp-pay-copy-targets-222222222222-us-east-1",
    }
    assert {"DdbDataPipeline-grp", "DdbDataPipeline-grp-pay-copy-targets-us-west-2",
            "DdbDataPipeline-grp-pay-copy-targets-222222222222-us-east-1"} <= set(artifacts["DdbDataPipeline-grp-pay"]["dependencies"])
    staging = grouped.template_named("DdbDataPipeline-grp-pay-copy-targets-222222222222-us-east-1")
    names = [r["Properties"].get("BucketName") for r in staging["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert "ddb-grp-pay-copies-222222222222-us-east-1" in names


def test_every_stack_is_within_every_limit_and_cdk_nag_is_clean(grouped):
    limits.check_stacks(grouped.outdir, stack_owners(grouped.stacks))
    (solutions,) = [p for p in grouped.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert [v["ruleName"] for v in solutions["violations"]] == []


def test_every_runtime_call_is_allowed(grouped):
    world = load_world(load_assembly(grouped.outdir))
    assert len(world.pipelines) == 6
    assert [o.line() for o in denied(world)] == []


def test_parliament_accepts_every_policy_and_the_model_agrees_with_aws_service_reference(grouped):
    from tests.oracles.iam import model_mismatches, parliament_findings

    assert parliament_findings(grouped.outdir) == []
    assert model_mismatches(load_world(load_assembly(grouped.outdir))) == []


def test_every_state_machine_passes_botocore_and_asl_validator(grouped):
    """The state machine oracles on this assembly: its tables are on Data Pipeline, so it has none (a native table
    added to this configuration changes the count, and the oracles then judge its machines)."""
    from tests.oracles.state_machines import check_assembly

    assert check_assembly(grouped.outdir) == 0
