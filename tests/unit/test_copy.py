"""Copies: the definition wires export -> import -> cleanup across regions; config refuses unsafe copies."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ddb_datapipeline.config import ConfigError, load_environments
from ddb_datapipeline.definition.common import PipelineSettings, ScheduleSpec
from ddb_datapipeline.definition.copy import CopySpec, build_copy_definition
from ddb_datapipeline.definition.emr import ClusterSpec, remove_output_step
from ddb_datapipeline.definition.validator import validate

SETTINGS = PipelineSettings(
    region="eu-west-1",
    role="PipelineRole",
    resource_role="ResourceRole",
    log_uri="s3://bucket/logs/orders-copy/",
    alarm_topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts",
)
SPEC = CopySpec(
    source_table_name="orders",
    target_table="orders-dr",
    target_region="us-west-2",
    staging_uri="s3://bucket/copies/orders-to-orders-dr-us-west-2",
    read_ratio=0.25,
    write_ratio=0.6,
    cluster=ClusterSpec(subnet_id="subnet-0123456789abcdef0"),
    schedule=ScheduleSpec("1 day"),
)


@pytest.fixture(scope="module")
def copy():
    return build_copy_definition(SPEC, SETTINGS)


def refs(definition, object_id):
    return {f.key: f.value for f in definition.object(object_id).refs()}


def test_copy_definitions_pass_the_validator(copy):
    assert validate(copy) == ()
    assert validate(build_copy_definition(replace(SPEC, schedule=None, cross_account=True), SETTINGS)) == ()


def test_export_then_import_then_cleanup(copy):
    assert refs(copy, "ExportActivity") == {"input": "SourceTable", "output": "StagingFolder", "runsOn": "SourceRegionCluster", "onFail": "FailureAlarm"}
    assert refs(copy, "ImportActivity") == {
        "input": "StagingFolder", "output": "TargetTable", "runsOn": "TargetRegionCluster", "dependsOn": "ExportActivity", "onFail": "FailureAlarm",
    }
    cleanup = copy.object("CleanupActivity")
    assert cleanup.type == "ShellCommandActivity"
    # Only after the import succeeded: a failed import keeps its staging folder for a retry.
    assert refs(copy, "CleanupActivity")["dependsOn"] == "ImportActivity"
    assert cleanup.value("stage") == "false"
    assert cleanup.value("command").startswith("aws s3 rm --recursive") and cleanup.value("command").endswith("#{input.directoryPath}")
    for activity in ("ExportActivity", "ImportActivity", "CleanupActivity"):
        assert copy.object(activity).value("maximumRetries") == "2"


def test_each_side_runs_in_its_region_with_the_pipelines_jar(copy):
    assert (copy.object("SourceTable").value("region"), copy.object("TargetTable").value("region")) == ("eu-west-1", "us-west-2")
    assert copy.object("SourceRegionCluster").value("region") == "eu-west-1"
    assert copy.object("TargetRegionCluster").value("region") == "us-west-2"
    removal, export = copy.object("ExportActivity").values("step")
    assert removal == remove_output_step()  # each attempt starts from no staging folder (test_definitions)
    export_step, import_step = export.split(","), copy.object("ImportActivity").value("step").split(",")
    assert export_step[0].startswith("s3://dynamodb-dpl-eu-west-1/") and export_step[1].endswith(".DynamoDBExport")
    # The import cluster runs in the target's region and reads the jar from the pipeline's region: a
    # dynamodb-dpl bucket is known only where Data Pipeline runs (definition/emr.py).
    assert import_step[0].startswith("s3://dynamodb-dpl-eu-west-1/") and import_step[1].endswith(".DynamoDBImport")
    for cluster in ("SourceRegionCluster", "TargetRegionCluster"):
        assert copy.object(cluster).value("terminateAfter") == SPEC.cluster.terminate_after
    # The configured subnet exists in the source region only.
    assert copy.object("SourceRegionCluster").value("subnetId") == "subnet-0123456789abcdef0"
    assert copy.object("TargetRegionCluster").value("subnetId") is None


def test_staging_folder_is_per_run_and_cross_account_exports_set_no_acl(copy):
    folder = copy.object("StagingFolder").value("directoryPath")
    assert folder.startswith(f"{SPEC.staging_uri}/") and "@scheduledStartTime" in folder
    cross = build_copy_definition(replace(SPEC, cross_account=True, target_table="arn:aws:dynamodb:us-west-2:222222222222:table/x"), SETTINGS)
    # The staging bucket enforces bucket-owner ownership: an ACL is redundant and needs s3:PutObjectAcl.
    assert "canned.acl" not in cross.object("ExportActivity").value("step")
    assert cross.object("TargetTable").value("tableName") == "arn:aws:dynamodb:us-west-2:222222222222:table/x"


OWNED = {"partition_key": {"name": "pk", "type": "S"}}


def env_with(*copies, account="111111111111", owned=True, extra_tables=()):
    table = {"name": "orders", "copies": list(copies)}
    if owned:
        table["owned"] = OWNED
    return {"environments": {"prod": {"account": account, "region": "eu-west-1", "tables": [table, *extra_tables]}}}


def error_of(context):
    with pytest.raises(ConfigError) as caught:
        load_environments(context)
    return str(caught.value)


def test_copy_config_defaults_and_kinds():
    tables = load_environments(
        env_with(
            {"target_table": "orders-staging"},
            {"target_table": "orders", "region": "us-west-2", "owned": True, "schedule": "1 day"},
            {"target_table": "orders", "account": "222222222222", "owned": True},
        )
    )["prod"].tables
    same, cross_region, cross_account = tables[0].copies
    assert (same.region, same.schedule, same.owned, same.cross_account) == ("eu-west-1", None, False, False)
    assert (same.read_ratio, same.write_ratio) == (0.25, 0.5)
    assert cross_region.schedule.period == "1 day" and not cross_region.cross_account
    assert cross_account.cross_account and cross_account.account == "222222222222"
    assert len({c.label for c in tables[0].copies}) == 3


@pytest.mark.parametrize(
    "copies, kwargs, expected",
    [
        ([{"target_table": "orders"}], {}, "copies[0].target_table: 'orders' is not allowed; expected a table other than its own source"),
        (
            [{"target_table": "drx"}, {"target_table": "drx"}],
            {},
            "copies[1].target_table: 'drx' in eu-west-1 is already the target of a copy of 'orders'; expected one writer per table",
        ),
        ([{"target_table": "xyz", "account": "222222222222"}], {}, "copies[0].owned: false is not allowed; expected true for a cross-account copy"),
        (
            [{"target_table": "xyz", "account": "222222222222", "owned": True}],
            {"account": None},
            "copies[0].account: '222222222222' is not allowed; expected no account for a copy from an environment without an account",
        ),
        ([{"target_table": "xyz", "owned": True}], {"owned": False}, "copies[0].owned: true is not allowed; expected false when the source table is not owned"),
        ([{"target_table": "orders-restore", "owned": True}], {}, "'orders-restore' is already declared in this environment"),
        ([{"target_table": "xyz", "schedule": "5 minutes"}], {}, "copies[0].schedule: '5 minutes' is not allowed"),
        ([{"target_table": "xyz", "write_ratio": 2}], {}, "copies[0].write_ratio: 2 is not allowed; expected a number from 0.1 to 1.0"),
        ([{"target_table": "dr-copy"}, {"target_table": "dr_copy"}], {}, "copies[1].target_table: 'dr_copy' is not allowed; expected a target that differs from 'dr-copy'"),
    ],
)
def test_unsafe_copies_are_refused(copies, kwargs, expected):
    assert expected in error_of(env_with(*copies, **kwargs))


def test_a_copy_may_not_write_the_table_another_pipeline_restores_into():
    context = env_with({"target_table": "shared"})
    context["environments"]["prod"]["tables"].append({"name": "customers", "restore": {"target_table": "shared"}})
    assert "customers].restore.target_table: 'shared' is already the target of a copy of 'orders'" in error_of(context)


def test_a_copy_may_land_on_a_table_that_is_itself_backed_up():
    context = env_with({"target_table": "customers"}, extra_tables=[{"name": "customers"}])
    assert load_environments(context)["prod"].tables[0].copies[0].target_table == "customers"
