"""The export bucket's configuration: environments sharing an existing bucket write apart, Object Lock on a bucket
the project creates (and only there), and KMS keys in the region of the resource they encrypt. One line each."""
from __future__ import annotations

from typing import Any

import pytest

from ddb_datapipeline.config import LockConfig, load_environments
from ddb_datapipeline.definition.bucket_layout import overlaps
from tests.conftest import config_error

SHARED = "team-backups"
KEY = "arn:aws:kms:{region}:333333333333:key/0f0e0d0c-0b0a-0908-0706-050403020100"
TOPIC = "arn:aws:sns:{region}:333333333333:data-oncall"


def env(region: str = "eu-west-1", tables: tuple[str, ...] = ("orders",), bucket: dict[str, Any] | None = None, **settings: Any) -> dict[str, Any]:
    return {"account": "333333333333", "region": region, "export_bucket": bucket or {}, "tables": [{"name": name} for name in tables], **settings}


def shared(region: str = "eu-west-1", tables: tuple[str, ...] = ("orders",), **settings: Any) -> dict[str, Any]:
    return env(region, tables, {"existing_bucket_name": SHARED}, **settings)


def test_two_environments_writing_one_folder_of_a_shared_bucket_are_refused():
    message = config_error(load_environments, {"environments": {"blue": shared("eu-west-1"), "green": shared("us-east-1")}})
    assert message == (
        "environments.green.export_bucket.existing_bucket_name: 'team-backups' is not allowed; expected a bucket whose folders "
        "no other environment writes: environments.blue writes exports/orders/ there (tables[orders]) and environments.green "
        "exports/orders/ (tables[orders]); the folders are named after the tables and cannot be configured, so give one "
        "environment a bucket of its own (another existing_bucket_name, or none to have one created)"
    )


def test_environments_with_different_tables_share_a_bucket():
    found = load_environments({"environments": {"blue": shared(tables=("orders",)), "green": shared("us-east-1", tables=("orders-archive",))}})
    assert [e.bucket.existing_bucket_name for e in found.values()] == [SHARED, SHARED]


def test_the_same_tables_in_buckets_of_their_own_are_apart():
    load_environments({"environments": {"blue": shared(), "green": env("us-east-1")}})  # green's bucket is created for it
    load_environments({"environments": {"blue": shared(), "green": env("us-east-1", bucket={"existing_bucket_name": "other-backups"})}})


def test_folders_collide_by_name_not_by_table():
    """Table aaa copied into bbb-copy-ccc and table aaa-copy-bbb copied into ccc log into one folder."""
    blue = env(tables=(), bucket={"existing_bucket_name": SHARED})
    blue["tables"] = [{"name": "aaa", "copies": [{"target_table": "bbb-copy-ccc"}]}]
    green = env(tables=(), bucket={"existing_bucket_name": SHARED})
    green["tables"] = [{"name": "aaa-copy-bbb", "copies": [{"target_table": "ccc"}]}]
    message = config_error(load_environments, {"environments": {"blue": blue, "green": green}})
    assert "environments.blue writes logs/aaa-copy-bbb-copy-ccc-eu-west-1/ there (tables[aaa])" in message
    assert "environments.green logs/aaa-copy-bbb-copy-ccc-eu-west-1/ (tables[aaa-copy-bbb])" in message


@pytest.mark.parametrize("one, other, expected", [
    ("exports/orders", "exports/orders", True),
    ("exports/orders", "exports/orders/incremental", True),
    ("exports/orders/incremental", "exports/orders", True),
    ("exports/orders", "exports/orders-archive", False),
    ("logs/orders-export", "logs/orders-restore", False),
])
def test_folders_overlap_when_one_holds_the_other(one, other, expected):
    assert overlaps(one, other) is expected


def test_the_layout_is_the_one_the_pipelines_write():
    from ddb_datapipeline.constructs.export_bucket import exports_prefix, logs_prefix
    from ddb_datapipeline.constructs.table_pipelines import copy_staging_prefix
    from ddb_datapipeline.definition.bucket_layout import copy_staging_folder, exports_folder, logs_folder

    assert (exports_prefix("t"), logs_prefix("t-export"), copy_staging_prefix("t", "l")) == (
        exports_folder("t"), logs_folder("t-export"), copy_staging_folder("t", "l")) == ("exports/t", "logs/t-export", "copies/t-to-l")


def test_an_object_lock_is_read():
    found = load_environments({"environments": {"blue": env(bucket={"object_lock": {"mode": "COMPLIANCE", "days": 30}})}})
    assert found["blue"].bucket.object_lock == LockConfig(mode="COMPLIANCE", days=30)
    assert load_environments({"environments": {"blue": env()}})["blue"].bucket.object_lock is None


@pytest.mark.parametrize("bucket, expected", [
    ({"existing_bucket_name": SHARED, "object_lock": {"mode": "GOVERNANCE", "days": 7}},
     "environments.blue.export_bucket.object_lock: an object is not allowed; expected no object_lock with existing_bucket_name "
     "(that bucket's Object Lock is its owner's to set)"),
    ({"object_lock": {"mode": "governance", "days": 7}},
     "environments.blue.export_bucket.object_lock.mode: 'governance' is not allowed; expected one of GOVERNANCE, COMPLIANCE"),
    ({"object_lock": {"mode": "GOVERNANCE", "days": 0}},
     "environments.blue.export_bucket.object_lock.days: 0 is not allowed; expected a whole number from 1 to 36500"),
    ({"object_lock": {"mode": "GOVERNANCE"}}, "environments.blue.export_bucket.object_lock.days: missing; this field is required"),
    ({"object_lock": {"mode": "GOVERNANCE", "days": 7, "years": 1}},
     "environments.blue.export_bucket.object_lock.years: unknown field; known fields here: days, mode"),
    ({"object_lock": {"mode": "COMPLIANCE", "days": 36}},
     "environments.blue.export_bucket.object_lock.days: 36 is not allowed; expected at most export_retention_days (35): expiry "
     "cannot remove a locked export, it only hides it behind a delete marker until the lock ends; raise export_retention_days "
     "to at least the lock's days"),
])
def test_object_lock_mistakes(bucket, expected):
    assert config_error(load_environments, {"environments": {"blue": env(bucket=bucket)}}) == expected


def test_a_lock_as_long_as_the_retention_is_allowed():
    bucket = {"export_retention_days": 90, "object_lock": {"mode": "GOVERNANCE", "days": 90}}
    assert load_environments({"environments": {"blue": env(bucket=bucket)}})["blue"].bucket.object_lock == LockConfig("GOVERNANCE", 90)


def test_a_bucket_key_of_another_region_is_refused():
    bucket = {"existing_bucket_name": SHARED, "existing_key_arn": KEY.format(region="us-east-1")}
    assert config_error(load_environments, {"environments": {"blue": env(bucket=bucket)}}) == (
        f"environments.blue.export_bucket.existing_key_arn: '{KEY.format(region='us-east-1')}' is not allowed; expected a key of "
        "the bucket's region eu-west-1 (this key is in us-east-1; SSE-KMS uses a key of the resource's own region)"
    )
    bucket["existing_key_arn"] = KEY.format(region="eu-west-1")
    load_environments({"environments": {"blue": env(bucket=bucket)}})


def test_a_topic_key_of_another_region_than_the_topic_is_refused():
    topic = {"alarm_topic_arn": TOPIC.format(region="eu-west-1"), "alarm_topic_key_arn": KEY.format(region="eu-central-1")}
    assert config_error(load_environments, {"environments": {"blue": env(**topic)}}) == (
        f"environments.blue.alarm_topic_key_arn: '{KEY.format(region='eu-central-1')}' is not allowed; expected a key of "
        "the topic's region eu-west-1 (this key is in eu-central-1; SSE-KMS uses a key of the resource's own region)"
    )
    topic["alarm_topic_key_arn"] = KEY.format(region="eu-west-1")
    load_environments({"environments": {"blue": env(**topic)}})
