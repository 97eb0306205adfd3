"""A valid but unusual environment, built without cdk.json's feature flags: the constructs must not
depend on the flags, and every choice the configuration allows must synthesize clean."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import synthesize

CONTEXT = {
    "environments": {
        "qa": {
            "region": "ap-southeast-2",
            "retain_data": False,
            "emr": {"subnet_id": "subnet-0123456789abcdef0", "core_instance_count": 3, "release_label": "emr-6.15.0"},
            "export_bucket": {"transition_after_days": 30, "transition_storage_class": "STANDARD_IA", "export_retention_days": 60,
                              "object_lock": {"mode": "COMPLIANCE", "days": 60}},
            "tables": [
                {
                    "name": "orders.v2",
                    "owned": {
                        "partition_key": {"name": "id", "type": "N"},
                        "billing_mode": "PROVISIONED",
                        "read_capacity": 5,
                        "write_capacity": 5,
                        "encryption": "AWS_OWNED",
                        "point_in_time_recovery": False,
                    },
                    "export": {"schedule": "15 minutes", "start": "2027-01-01T00:00:00", "late_after": "1 hour", "compress": False},
                    "restore": {"target_table": "orders.v2", "allow_into_source": True},
                    "copies": [
                        {"target_table": "orders_v2", "region": "ap-southeast-1", "owned": True, "schedule": "1 week", "late_after": "2 days"},
                        {"target_table": "orders-x"},
                    ],
                },
                {"name": "legacy_table", "export": {"schedule": "ondemand"}, "restore": {"target_table": "legacy_restore"},
                 "copies": [{"target_table": "legacy_copy", "region": "us-east-1"}]},
            ],
        }
    }
}


@pytest.fixture(scope="module")
def synthesis(tmp_path_factory):
    return synthesize(CONTEXT, tmp_path_factory.mktemp("unusual"))


def test_synthesizes_cdk_nag_clean_with_the_pitr_choice_acknowledged(synthesis):
    (solutions,) = [p for p in synthesis.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert solutions["violations"] == []
    ddb3 = sorted(s["reason"] for s in solutions["suppressedViolations"] if s["ruleName"] == "AwsSolutions-DDB3")
    # The source and its owned copy target (which takes the source's shape) both have PITR off, by choice.
    assert len(ddb3) == 2 and "of orders.v2 " in ddb3[0] and "of orders_v2 " in ddb3[1]
    assert all("point_in_time_recovery: false" in reason for reason in ddb3)


def test_cfn_lint_reports_nothing(synthesis, cfn_lint):
    templates = sorted(str(p) for p in synthesis.outdir.glob("*.template.json"))
    assert [Path(t).name for t in templates] == [
        "DdbDataPipeline-qa-copy-targets-ap-southeast-1.template.json",
        "DdbDataPipeline-qa.template.json",
    ]
    assert cfn_lint(synthesis.outdir) == []


def test_the_choices_reach_the_template(synthesis):
    template = synthesis.template("qa")
    (table,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert table["Properties"]["TableName"] == "orders.v2"
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert table["DeletionPolicy"] == "Delete"
    pipelines = {r["Properties"]["Name"].rsplit("-", 1)[0]: r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::DataPipeline::Pipeline"}
    export = pipelines["ddb-qa-orders.v2-export"]
    schedule = next(o for o in export["PipelineObjects"] if o["Id"] == "DefaultSchedule")
    assert {"Key": "startDateTime", "StringValue": "2027-01-01T00:00:00"} in schedule["Fields"]
    assert any(o["Id"] == "LateAlarm" for o in export["PipelineObjects"])
    cluster = next(o for o in export["PipelineObjects"] if o["Id"] == "EmrClusterForBackup")
    assert {"Key": "subnetId", "StringValue": "subnet-0123456789abcdef0"} in cluster["Fields"]
    assert set(pipelines) >= {"ddb-qa-orders.v2-restore", "ddb-qa-legacy_table-copy-legacy_copy-us-east-1"}


def test_the_object_lock_reaches_the_export_bucket_only(synthesis):
    buckets = {k: r["Properties"] for k, r in synthesis.template("qa")["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}
    locked = {k: b["ObjectLockConfiguration"] for k, b in buckets.items() if b.get("ObjectLockEnabled") is True}
    assert list(locked.values()) == [{"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 60}}}]
    (name,) = locked
    assert name.startswith("ExportBucket") and buckets[name]["VersioningConfiguration"] == {"Status": "Enabled"}


def test_every_runtime_call_is_allowed(synthesis):
    """A subnet, a referenced table, AWS-owned keys, a copy to another region: the runtime model still passes."""
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from ddb_datapipeline.permissions.audit import denied

    world = load_world(load_assembly(synthesis.outdir))
    assert len(world.pipelines) == 7  # two exports, two restores, three copies
    assert [o.line() for o in denied(world)] == []


def test_parliament_accepts_every_policy_and_the_model_agrees_with_aws_service_reference(synthesis):
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from tests.oracles.iam import model_mismatches, parliament_findings

    assert parliament_findings(synthesis.outdir) == []
    assert model_mismatches(load_world(load_assembly(synthesis.outdir))) == []
