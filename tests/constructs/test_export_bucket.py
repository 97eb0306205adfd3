"""The export bucket with S3 Object Lock: enabled at creation, a default retention, versioning, and an unlocked
access-log bucket (S3 refuses a locked bucket as a destination of server access logs). One small stack, synthesized
once for the module."""
from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from ddb_datapipeline.constructs.export_bucket import ExportBucket, ObjectLock


def buckets(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}


def export_bucket(template: dict[str, Any]) -> dict[str, Any]:
    (bucket,) = [b for k, b in buckets(template).items() if not k.startswith("ExportBucketAccessLogs")]
    return bucket


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    app = cdk.App()
    found = {}
    for name, lock in (("Locked", ObjectLock(mode="COMPLIANCE", days=30)), ("Governed", ObjectLock(mode="GOVERNANCE", days=7)), ("Plain", None)):
        stack = cdk.Stack(app, name)
        ExportBucket(stack, "ExportBucket", retain=False, object_lock=lock)
        found[name] = stack
    return {name: app.synth().get_stack_by_name(name).template for name in found}


def test_a_locked_bucket_has_object_lock_a_default_retention_and_versioning(templates):
    bucket = export_bucket(templates["Locked"])
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}


def test_the_governance_mode_is_passed_as_given(templates):
    assert export_bucket(templates["Governed"])["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 7}


def test_the_access_log_bucket_and_an_unlocked_export_bucket_have_no_lock(templates):
    (logs,) = [b for k, b in buckets(templates["Locked"]).items() if k.startswith("ExportBucketAccessLogs")]
    assert "ObjectLockEnabled" not in logs and "ObjectLockConfiguration" not in logs
    assert all("ObjectLockEnabled" not in b and "ObjectLockConfiguration" not in b for b in buckets(templates["Plain"]).values())
