"""A large environment as the app builds it: generated environments of 1 and 24 tables, one synth each.

200 and 500 tables take 30-80 s to synthesize here, too long for ``make test``; they are checked by
``make scale TABLES="200 500"`` (README "Large environments"), and here by what the 24-table synth
measures: no stack of their generated configurations may hold more tables than that measurement allows.

Why 24: few tables that the generated configuration still spreads over table stacks nearly as full as those of
200 and 500 tables, at most 15 each (two table stacks of 11 and 13 tables next to the environment stack; 50 tables made five stacks
of 7 to 13). A stack's own overhead counts against its tables in the per-table measurement, so fuller stacks
measure each table's cost at least as closely as 50 tables did, for half the synth (the module alone: 16.7 CPU-s
with 50, 12.0 with 24).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ddb_datapipeline import limits
from ddb_datapipeline.app_builder import stack_owners
from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.config.stack_groups import automatic_group
from ddb_datapipeline.permissions.assembly_view import load_world
from ddb_datapipeline.permissions.audit import denied, outcomes
from local_deploy.deploy import project_context
from local_deploy.generated import ENVIRONMENT, generated_context, generated_environment, table_names
from tests.conftest import Synthesis, synthesize

TABLES = 24  # spread over two table stacks (docstring above)


@pytest.fixture(scope="module")
def spread(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    # Without the app's DataPipelineChecks (its cluster isolation compares every pair of pipelines: about 6 CPU-s on
    # 50 tables, measured); test_every_runtime_call_is_allowed_across_stacks decides one table stack's calls instead.
    return synthesize(generated_context(TABLES, project_context()), tmp_path_factory.mktemp(f"scale-{TABLES}"), plugin=False)


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    return synthesize(generated_context(1, project_context()), tmp_path_factory.mktemp("scale-1"))


def stack_names(synthesis: Synthesis) -> list[str]:
    return sorted(stack.stack_name for stack in synthesis.stacks[ENVIRONMENT].stacks())


def test_one_table_is_one_stack_that_holds_everything(one):
    assert stack_names(one) == ["DdbDataPipeline-scale"]
    limits.check_stacks(one.outdir, stack_owners(one.stacks))


def test_tables_spread_over_table_stacks_that_share_the_environment_stack(spread):
    names = stack_names(spread)
    table_stacks = generated_environment(TABLES)["table_stacks"]
    assert names == ["DdbDataPipeline-scale", *(f"DdbDataPipeline-scale-tables-{i:02d}" for i in range(1, table_stacks + 1))]
    shared = spread.template_named("DdbDataPipeline-scale")
    assert not any(r["Type"] in ("AWS::DynamoDB::Table", "AWS::DataPipeline::Pipeline") for r in shared["Resources"].values())
    for name in names[1:]:
        resources = spread.template_named(name)["Resources"].values()
        kinds = Counter(r["Type"] for r in resources)
        assert not kinds["AWS::S3::Bucket"] and not kinds["AWS::SNS::Topic"] and not kinds["AWS::IAM::ManagedPolicy"]
        assert kinds["AWS::DataPipeline::Pipeline"] >= 2
        # The bucket, topic and roles are the environment stack's, read from its outputs.
        assert '"Fn::GetStackOutput": {"StackName": "DdbDataPipeline-scale"' in json.dumps(list(resources))


def test_each_table_lives_in_the_stack_its_name_hashes_to(spread):
    settings = generated_environment(TABLES)
    for name in table_names(TABLES):
        group = automatic_group(name, settings["table_stacks"], assignment=settings["stack_assignment"])
        template = spread.template_named(f"DdbDataPipeline-scale-{group}")
        assert any(r["Type"] == "AWS::DynamoDB::Table" and r["Properties"]["TableName"] == name for r in template["Resources"].values())


def test_every_stack_is_within_every_limit(spread):
    limits.check_stacks(spread.outdir, stack_owners(spread.stacks))


def test_cdk_nag_is_clean_across_stacks(spread):
    """Acknowledgments of wildcards on the environment stack's bucket follow the reference into its
    Fn::GetStackOutput form, which is how cdk-nag names them."""
    (solutions,) = [p for p in spread.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert [v["ruleName"] for v in solutions["violations"]] == []


def test_every_runtime_call_is_allowed_across_stacks(spread):
    """The permission model follows references between stacks (the node roles' managed policy and the
    bucket live in the environment stack). All 60 pipelines are read; the calls of one table stack's
    are decided here (every stack's are alike; make scale decides them all)."""
    world = load_world(load_assembly(spread.outdir))
    assert len(world.pipelines) == TABLES * 2 + TABLES // 2
    world.pipelines = [p for p in world.pipelines if p.stack == "DdbDataPipeline-scale-tables-01"]
    assert len(world.pipelines) >= 10
    assert len(outcomes(world)) > 100 * len(world.pipelines)
    assert [o.line() for o in denied(world)] == []


def test_parliament_accepts_every_policy_of_the_environment_stack_and_a_table_stack(spread, one):
    """The one-table environment whole; of the spread tables, the environment stack and one table stack (every table
    stack's policies are alike but for the names of its tables; parliament on all of them costs a second of CPU)."""
    from tests.oracles.iam import parliament_findings

    assert parliament_findings(one.outdir) == []
    assert parliament_findings(spread.outdir, stacks={"DdbDataPipeline-scale", "DdbDataPipeline-scale-tables-01"}) == []


def per_table(spread: Synthesis) -> tuple[float, float]:
    """The most template bytes and resources one table costs in the 24-table synth (a stack's whole
    size over its tables: the stack's own overhead counts against the tables, so this is an upper bound)."""
    settings = generated_environment(TABLES)
    counts = Counter(automatic_group(name, settings["table_stacks"], assignment=settings["stack_assignment"]) for name in table_names(TABLES))
    size = resources = 0.0
    for group, tables in counts.items():
        path = Path(spread.outdir) / f"DdbDataPipeline-scale-{group}.template.json"
        template = json.loads(path.read_text())
        size = max(size, path.stat().st_size / tables)
        resources = max(resources, len(template["Resources"]) / tables)
    return size, resources


@pytest.mark.parametrize("tables", [200, 500])
def test_larger_environments_fit_by_the_measured_cost_per_table(spread, tables):
    size, resources = per_table(spread)
    settings = generated_environment(tables)
    fullest = max(Counter(automatic_group(name, settings["table_stacks"], assignment=settings["stack_assignment"])
                          for name in table_names(tables)).values())
    assert fullest * size <= limits.MAX_TEMPLATE_BYTES * limits.TEMPLATE_MARGIN
    assert fullest * resources <= limits.MAX_RESOURCES_PER_STACK
    assert settings["pipeline_quota"] >= tables * 2 + tables // 2


def test_every_state_machine_passes_botocore_and_asl_validator(spread, one):
    """The state machine oracles on both assemblies: the generated tables are on Data Pipeline, so they have none (a
    native table added to the generated configuration changes the counts, and the oracles then judge its machines)."""
    from tests.oracles.state_machines import check_assembly

    assert (check_assembly(one.outdir), check_assembly(spread.outdir)) == (0, 0)
