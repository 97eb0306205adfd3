"""CloudFormation's per-stack resource quota, said in one line before CDK fails with a traceback."""
from __future__ import annotations

import aws_cdk as cdk
import pytest

from ddb_datapipeline.app_builder import MAX_RESOURCES_PER_STACK, build, check_resource_counts, plan
from ddb_datapipeline.config import ConfigError


def test_the_quota_is_cloudformations():
    assert MAX_RESOURCES_PER_STACK == 500


def test_an_environment_over_the_quota_is_one_configuration_line(context, synthesis):
    stacks = build(cdk.App(context=context), plan(context))
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
