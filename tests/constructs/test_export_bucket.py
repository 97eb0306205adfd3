"""The export bucket with S3 Object Lock: enabled at creation, a default retention, versioning, and an unlocked
access-log bucket (S3 refuses a locked bucket as a destination of server access logs). One small stack, synthesized
once for the module (the project's environments without a lock are checked in tests/stack/test_unusual_config.py,
where only the export bucket is locked)."""
from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from ddb_datapipeline.constructs.export_bucket import ExportBucket, ObjectLock


def buckets(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}


def export_bucket(template: dict[str, Any], name: str) -> dict[str, Any]:
    (bucket,) = [b for k, b in buckets(template).items() if k.startswith(name) and not k.startswith(f"{name}AccessLogs")]
    return bucket


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    app = cdk.App()
    stack = cdk.Stack(app, "Buckets")
    ExportBucket(stack, "Locked", retain=False, object_lock=ObjectLock(mode="COMPLIANCE", days=30))
    ExportBucket(stack, "Governed", retain=False, object_lock=ObjectLock(mode="GOVERNANCE", days=7))
    return app.synth().get_stack_by_name("Buckets").template


def test_a_locked_bucket_has_object_lock_a_default_retention_and_versioning(template):
    bucket = export_bucket(template, "Locked")
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}}}
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}


def test_the_governance_mode_is_passed_as_given(template):
    assert export_bucket(template, "Governed")["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 7}


def test_the_access_log_buckets_have_no_lock(template):
    logs = [b for k, b in buckets(template).items() if "AccessLogs" in k]
    assert len(logs) == 2 and all("ObjectLockEnabled" not in b and "ObjectLockConfiguration" not in b for b in logs)
