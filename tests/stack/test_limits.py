"""CloudFormation's per-stack resource quota, said in one line before CDK fails with a traceback."""
from __future__ import annotations

import aws_cdk as cdk
import pytest

from ddb_datapipeline.app_builder import MAX_RESOURCES_PER_STACK, build, check_resource_counts, plan
from ddb_datapipeline.config import ConfigError


def test_the_quota_is_cloudformations():
    assert MAX_RESOURCES_PER_STACK == 500


def test_an_environment_over_the_quota_is_one_configuration_line(synthesis):
    """On the session's synthesis: the stacks keep their construct tree after the synth."""
    stacks = synthesis.stacks
    template = synthesis.template("prod")
    declared = sum(1 for r in template["Resources"].values() if r["Type"] != "AWS::CDK::Metadata")
    check_resource_counts(stacks, limit=declared)  # exactly at the limit: allowed
    with pytest.raises(ConfigError) as error:
        check_resource_counts(stacks, limit=declared - 1)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"environments.prod.tables: 2 tables make stack DdbDataPipeline-prod hold {declared} resources; expected at most {declared - 1}")


def test_building_the_app_checks_the_quota(context, monkeypatch):
    from ddb_datapipeline import app_builder

    monkeypatch.setattr(app_builder, "MAX_RESOURCES_PER_STACK", 10)
    with pytest.raises(ConfigError, match=r"^environments\.dev\.tables: 2 tables make stack DdbDataPipeline-dev hold \d+ resources; expected at most 10"):
        build(cdk.App(context=context), plan(context))


def test_a_template_over_the_size_quota_is_one_configuration_line(synthesis):
    from aws_cdk import cx_api

    from ddb_datapipeline.app_builder import MAX_TEMPLATE_BYTES, check_template_sizes

    assert MAX_TEMPLATE_BYTES == 1_000_000
    stacks = synthesis.stacks
    assembly = cx_api.CloudAssembly(str(synthesis.outdir))
    size = (synthesis.outdir / "DdbDataPipeline-dev.template.json").stat().st_size
    check_template_sizes(assembly, {"dev": stacks["dev"]}, limit=size)  # exactly at the limit: allowed
    with pytest.raises(ConfigError) as error:
        check_template_sizes(assembly, {"dev": stacks["dev"]}, limit=size - 1)
    assert str(error.value) == (
        f"environments.dev.tables: 2 tables make the template of DdbDataPipeline-dev {size} bytes; "
        f"expected at most {size - 1} (CloudFormation's quota): move tables into another environment"
    )


def test_the_app_checks_template_sizes_after_its_synth(context, tmp_path, monkeypatch, capsys):
    import app as entry  # app.py at the repository root, as the CDK CLI runs it
    from ddb_datapipeline import app_builder

    monkeypatch.setattr(app_builder, "MAX_TEMPLATE_BYTES", 1000)
    context.pop("delivery")
    assert entry.main(cdk.App(context=context, outdir=str(tmp_path))) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith("configuration error: environments.dev.tables: 2 tables make the template of DdbDataPipeline-dev ")
    assert line.endswith("expected at most 1000 (CloudFormation's quota): move tables into another environment")
