"""A native-engine environment on the session's moto server: it deploys, and the smoke check finds each
table's state machine exporting that table into its own prefix (and names one that does not)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from local_deploy import emulator
from local_deploy.deploy import Options, deploy, project_context
from local_deploy.smoke import smoke_check

OWNED = {"partition_key": {"name": "pk", "type": "S"}}


def native_context() -> dict[str, Any]:
    base = {k: v for k, v in project_context().items() if k not in ("environments", "delivery")}
    tables = [{"name": "orders", "owned": OWNED, "export": {"schedule": "6 hours", "late_after": "2 hours"}}]
    return {**base, "environments": {"nat": {"account": "111111111111", "region": "eu-west-1", "engine": "native",
                                             "retain_data": False, "tables": tables}}}


@pytest.fixture(scope="module")
def deployed(moto_server: emulator.Emulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[Options, Any]:
    workdir = tmp_path_factory.mktemp("native")
    options = Options(endpoint=moto_server.endpoint, context=native_context(), assembly_dir=workdir / "cdk.out.local",
                      state_dir=workdir / "state", out=lambda line: None)
    return options, deploy(options)


def test_a_native_environment_deploys_with_its_state_machine(deployed, moto_server):
    options, result = deployed
    assert result.report.ok, result.report.differences
    client = boto3.client("stepfunctions", region_name="eu-west-1", endpoint_url=moto_server.endpoint,
                          aws_access_key_id="test", aws_secret_access_key="test")
    names = [m["name"] for m in client.list_state_machines()["stateMachines"]]
    assert {"ddb-nat-orders-native-export", "ddb-nat-orders-native-restore"} <= set(names)
    assert not [row for row in result.report.pipelines]  # no Data Pipeline at all


def test_the_smoke_check_names_a_state_machine_for_another_table(deployed, moto_server):
    from ddb_datapipeline.config import load_environments, select_environments

    options, _ = deployed
    context = native_context()
    context["environments"]["nat"]["tables"][0]["name"] = "invoices"
    environments = select_environments(load_environments(context), None)
    report = smoke_check(moto_server.endpoint, Path(options.assembly_dir), environments)
    assert any("expected one state machine named ddb-nat-invoices-native-export in eu-west-1, found 0" in str(d) for d in report.differences)


def test_the_smoke_check_names_a_restore_prefix_other_than_configured(deployed, moto_server):
    from ddb_datapipeline.config import load_environments, select_environments

    options, _ = deployed
    context = native_context()
    context["environments"]["nat"]["tables"][0]["restore"] = {"target_prefix": "orders-recovered-"}
    environments = select_environments(load_environments(context), None)
    report = smoke_check(moto_server.endpoint, Path(options.assembly_dir), environments)
    assert any("creates tables orders-restore*, configuration says orders-recovered-*" in str(d) for d in report.differences)
