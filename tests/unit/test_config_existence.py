"""Values that look right but do not exist are refused: regions, EMR releases and instance types,
calendar dates, S3 bucket names, repeated addresses, empty names. Each is one line naming the field,
the value and what is allowed (with the nearest valid value where one is close)."""
from __future__ import annotations

import itertools
from typing import Any

import pytest

from ddb_datapipeline.app_builder import plan
from ddb_datapipeline.config import ConfigError, load_environments
from ddb_datapipeline.config.emr_catalog import INSTANCE_FAMILIES, RELEASES, offered_types
from ddb_datapipeline.config.names import branch_rule, bucket_name_rule
from ddb_datapipeline.config.regions import AWS_REGIONS, DATA_PIPELINE_REGIONS
from tests.conftest import config_error

OWNED = {"partition_key": {"name": "pk", "type": "S"}}


def environment(**settings: Any) -> dict[str, Any]:
    table = settings.pop("table", {"name": "orders", "owned": OWNED})
    return {"environments": {"dev": {"region": "eu-west-1", "tables": [table], **settings}}}


def error_of(context: dict[str, Any]) -> str:
    return config_error(plan, context)


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"region": "eu-west-9"}, "environments.dev.region: 'eu-west-9' is not allowed; expected an AWS region where AWS Data Pipeline is offered: us-east-1, us-west-2, eu-west-1, ap-northeast-1, ap-southeast-2"),
        ({"region": "eu-central-1"}, "environments.dev.region: 'eu-central-1' is not allowed; expected an AWS region where AWS Data Pipeline is offered"),
        ({"region": "cn-north-1"}, "environments.dev.region: 'cn-north-1' is not allowed"),
    ],
)
def test_an_environment_lives_where_data_pipeline_is_offered(settings, expected):
    assert expected in error_of(environment(**settings))


@pytest.mark.parametrize("region", DATA_PIPELINE_REGIONS)
def test_every_data_pipeline_region_is_accepted(region):
    assert load_environments(environment(region=region))["dev"].region == region


def test_a_copy_may_target_any_region_but_only_a_real_one():
    copy = {"target_table": "orders-dr", "owned": True}
    table = {"name": "orders", "owned": OWNED, "copies": [{**copy, "region": "eu-central-2"}]}
    assert load_environments(environment(table=table))["dev"].tables[0].copies[0].region == "eu-central-2"
    table["copies"] = [{**copy, "region": "eu-centrall-2"}]
    assert "copies[0].region: 'eu-centrall-2' is not allowed; expected an AWS region such as eu-central-2 (the nearest)" in error_of(environment(table=table))


def test_a_copy_region_must_offer_the_clusters_release():
    table = {"name": "orders", "owned": OWNED, "copies": [{"target_table": "orders-dr", "region": "ap-south-2", "owned": True}]}
    message = error_of(environment(table=table, emr={"release_label": "emr-5.30.0"}))
    assert "copies[0].region: 'ap-south-2' is not allowed; expected a region that offers emr.release_label 'emr-5.30.0' (ap-south-2 offers 5.x releases from emr-5.36.0 on)" in message
    assert load_environments(environment(table=table))["dev"].emr.release_label == "emr-5.36.2"


def test_the_delivery_region_must_be_a_real_region(context):
    context["delivery"]["region"] = "us-esat-1"
    assert "delivery.region: 'us-esat-1' is not allowed; expected an AWS region such as us-east-1 (the nearest)" in error_of(context)


@pytest.mark.parametrize(
    "emr, expected",
    [
        ({"release_label": "emr-5.36.3"}, "environments.dev.emr.release_label: 'emr-5.36.3' is not allowed; expected an existing EMR release from emr-5.0.0 to emr-7.14.0, such as 'emr-5.36.2' (the nearest)"),
        ({"release_label": "emr-8.0.0"}, "emr.release_label: 'emr-8.0.0' is not allowed; expected an existing EMR release"),
        ({"release_label": 5.36}, "emr.release_label: 5.36 (a number) is not allowed; expected an EMR release label such as emr-5.36.2"),
        ({"core_instance_type": "m5.xlarg"}, "environments.dev.emr.core_instance_type: 'm5.xlarg' is not allowed; expected an instance type emr-5.36.2 offers, such as 'm5.xlarge' (the nearest)"),
        ({"master_instance_type": "m5.large"}, "emr.master_instance_type: 'm5.large' is not allowed; expected an instance type emr-5.36.2 offers, such as 'm5.xlarge' (the nearest)"),
        ({"master_instance_type": "t3.micro"}, "emr.master_instance_type: 't3.micro' is not allowed; expected an instance type emr-5.36.2 offers"),
        ({"master_instance_type": "m7g.xlarge", "release_label": "emr-5.30.0"}, "emr.master_instance_type: 'm7g.xlarge' is not allowed; expected an instance type emr-5.30.0 offers (m7g needs emr-5.36.1 or later)"),
        ({"core_instance_type": "p5.48xlarge"}, "emr.core_instance_type: 'p5.48xlarge' is not allowed; expected an instance type emr-5.36.2 offers (no 5.x release offers p5)"),
    ],
)
def test_emr_releases_and_instance_types_must_exist(emr, expected):
    assert expected in error_of(environment(emr=emr))


@pytest.mark.parametrize(
    "emr",
    [
        {},
        {"release_label": "emr-6.15.0", "master_instance_type": "m6g.xlarge", "core_instance_type": "r7g.2xlarge"},
        {"release_label": "emr-7.14.0", "core_instance_type": "m8g.4xlarge"},
        {"release_label": "emr-5.36.2", "core_instance_type": "i3en.2xlarge"},
    ],
)
def test_current_families_are_offered(emr):
    assert load_environments(environment(emr=emr))["dev"].emr.release_label == emr.get("release_label", "emr-5.36.2")


def test_the_catalog_is_consistent():
    assert RELEASES[0] == "emr-5.0.0" and "emr-5.36.2" in RELEASES and len(set(RELEASES)) == len(RELEASES)
    assert set(DATA_PIPELINE_REGIONS) <= set(AWS_REGIONS)
    # The families in use today, and the default, on the default release.
    default = set(offered_types("emr-5.36.2"))
    for family in ("m5", "m6i", "m6g", "m7g", "c5", "c6i", "r5", "r6g", "i3"):
        assert f"{family}.xlarge" in default and family in INSTANCE_FAMILIES
    # A later release of one line never offers fewer types than an earlier one.
    for earlier, later in itertools.pairwise(RELEASES):
        if earlier[4] == later[4]:
            assert set(offered_types(earlier)) <= set(offered_types(later)), (earlier, later)


@pytest.mark.parametrize("start", ["2027-02-30T00:00:00", "2027-02-29T00:00:00", "2027-04-31T12:00:00", "0000-01-01T00:00:00"])
def test_a_start_that_is_not_in_the_calendar_is_refused(start):
    table = {"name": "orders", "export": {"schedule": "1 day", "start": start}}
    assert f"export.start: '{start}' is not allowed; expected FIRST_ACTIVATION_DATE_TIME or a UTC time YYYY-MM-DDTHH:MM:SS on a date of the calendar" in error_of(environment(table=table))


def test_a_leap_day_start_is_accepted():
    table = {"name": "orders", "export": {"schedule": "1 day", "start": "2028-02-29T23:59:59"}}
    assert load_environments(environment(table=table))["dev"].tables[0].export.schedule.start == "2028-02-29T23:59:59"


@pytest.mark.parametrize(
    "name, why",
    [
        ("192.168.5.4", "not an IP address"),
        ("ab..cd", "without '..', '.-' or '-.'"),
        ("ab.-cd", "without '..', '.-' or '-.'"),
        ("xn--bucket", "not starting with the prefix S3 reserves 'xn--'"),
        ("sthree-bucket", "not starting with the prefix S3 reserves 'sthree-'"),
        ("amzn-s3-demo-bucket", "not starting with the prefix S3 reserves 'amzn-s3-demo-'"),
        ("exports-s3alias", "not ending with the suffix S3 reserves '-s3alias'"),
        ("exports--ol-s3", "not ending with the suffix S3 reserves '--ol-s3'"),
        ("exports.mrap", "not ending with the suffix S3 reserves '.mrap'"),
        ("exports--x-s3", "not ending with the suffix S3 reserves '--x-s3'"),
        ("exports--table-s3", "not ending with the suffix S3 reserves '--table-s3'"),
        ("Exports", "starting and ending with a letter or digit"),
        ("ab", "3-63 characters"),
        ("a" * 64, "3-63 characters"),
    ],
)
def test_bucket_names_s3_or_cdk_would_refuse(name, why):
    message = error_of(environment(export_bucket={"existing_bucket_name": name}))
    assert message.startswith(f"environments.dev.export_bucket.existing_bucket_name: '{name}' is not allowed; expected an S3 bucket name")
    assert why in message


def test_a_delivery_source_bucket_follows_the_same_rules(context):
    context["delivery"]["source"] = {"kind": "s3", "bucket": "10.0.0.1", "object_key": "source.zip"}
    assert "delivery.source.bucket: '10.0.0.1' is not allowed; expected an S3 bucket name" in error_of(context)


@pytest.mark.parametrize("name", ["my.exports", "exports-123", "a-b.c-d", "123"])
def test_valid_bucket_names_pass(name):
    assert bucket_name_rule(name) is None


def test_each_alarm_address_once_whatever_its_case():
    message = error_of(environment(alarm_emails=["oncall@example.com", "team@example.com", "OnCall@example.com"]))
    assert message == "environments.dev.alarm_emails[2]: 'OnCall@example.com' is not allowed; expected each address once (alarm_emails[0] is the same address)"


@pytest.mark.parametrize("branch", ["", " ", "main branch", "feature..x", "-x", "x/", "x.lock", "a\nb", "refs@{1}"])
def test_a_branch_git_would_refuse_is_refused(context, branch):
    context["delivery"]["source"]["branch"] = branch
    message = error_of(context)
    assert message.startswith("delivery.source.branch: ") and "expected a git branch name such as main" in message


@pytest.mark.parametrize("branch", ["main", "release/2026.1", "feature/ABC-12_x"])
def test_ordinary_branches_pass(branch):
    assert branch_rule(branch) is None


@pytest.mark.parametrize("repository", ["..", "repo.git", "répo", ""])
def test_codecommit_repository_names(context, repository):
    context["delivery"]["source"] = {"kind": "codecommit", "repository": repository}
    assert "delivery.source.repository: " in error_of(context)


def test_a_sort_key_may_not_repeat_the_partition_key():
    table = {"name": "orders", "owned": {**OWNED, "sort_key": {"name": "pk", "type": "N"}}}
    assert error_of(environment(table=table)) == (
        "environments.dev.tables[orders].owned.sort_key.name: 'pk' is not allowed; expected a name other than the partition key's"
    )


@pytest.mark.parametrize("name", ["", "é" * 128])
def test_key_attribute_names_are_1_to_255_bytes(name):
    table = {"name": "orders", "owned": {"partition_key": {"name": name, "type": "S"}}}
    assert "owned.partition_key.name: " in error_of(environment(table=table))
    assert "expected an attribute name of 1-255 bytes" in error_of(environment(table=table))


def test_a_storage_class_needs_a_transition():
    message = error_of(environment(export_bucket={"transition_storage_class": "GLACIER"}))
    assert message == "environments.dev.export_bucket.transition_storage_class: 'GLACIER' is not allowed; expected no storage class without transition_after_days"
    bucket = load_environments(environment(export_bucket={"transition_storage_class": "GLACIER", "transition_after_days": 7}))["dev"].bucket
    assert (bucket.transition_storage_class, bucket.transition_after_days) == ("GLACIER", 7)


def test_control_characters_never_break_the_line():
    context = environment()
    context["environments"]["dev"]["tables"][0]["name"] = "bad\nname"
    assert error_of(context).startswith("environments.dev.tables[bad\\nname].name: 'bad\\nname' is not allowed")
    assert error_of({"environments": {"a\nb": {}}}).startswith("environments.a\\nb: invalid environment name")
    context = environment()
    context["environments"]["dev"]["colour\n"] = "blue"
    assert error_of(context).startswith("environments.dev.colour\\n: unknown field")


def test_a_previous_generation_instance_type_is_refused_with_its_current_counterpart():
    """EMR may still offer m3, but the validator warns about it and the deployed definitions are kept
    lint-clean: the configuration says so in one line instead of synth failing later."""
    from ddb_datapipeline.app_builder import plan
    from tests.conftest import cdk_json_context

    context = cdk_json_context()
    context["environments"]["prod"]["emr"]["core_instance_type"] = "m3.xlarge"
    with pytest.raises(ConfigError, match=r"^environments\.prod\.emr\.core_instance_type: 'm3\.xlarge' is not allowed; "
                                          r"expected a current-generation instance type \(m3 is a previous generation\), such as 'm5\.xlarge'$"):
        plan(context)
