"""Issue 30: every field as strict as the first ones. Each test names a plausible mistake and the one line it gets."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from ddb_datapipeline.config import load_environments
from ddb_datapipeline.config.planning import plan
from tests.conftest import config_error

KEY = {"partition_key": {"name": "pk", "type": "S"}}
TABLE = {"name": "orders", "owned": KEY}


def env(*tables: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"environments": {"dev": {"region": "eu-west-1", "account": "111111111111", "tables": list(tables) or [TABLE], **fields}}}


def native(*tables: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return env(*tables, engine="native", **fields)


def copy_of(**fields: Any) -> dict[str, Any]:
    return env({**TABLE, "copies": [{"target_table": "orders-copy", "owned": True, "schedule": "1 day", **fields}]})


# --- Types named, fields guessed ----------------------------------------------------------------------
@pytest.mark.parametrize(("context", "expected"), [
    (env(emr={"core_instance_count": "2"}), "environments.dev.emr.core_instance_count: '2' (a string) is not allowed; expected a whole number from 1 to 50"),
    (env(retain_data="true"), "environments.dev.retain_data: 'true' (a string) is not allowed; expected true or false"),
    (env(region=1), "environments.dev.region: 1 (a number) is not allowed; expected an AWS region such as eu-west-1"),
    (env({**TABLE, "export": {"read_ratio": True}}),
     "environments.dev.tables[orders].export.read_ratio: true (a boolean) is not allowed; expected a number from 0.1 to 1.0"),
])
def test_a_value_of_the_wrong_type_is_named_with_its_type(context, expected):
    assert config_error(load_environments, context) == expected


def test_a_value_of_the_right_type_out_of_range_says_no_type():
    assert config_error(load_environments, env(emr={"core_instance_count": 51})) == (
        "environments.dev.emr.core_instance_count: 51 is not allowed; expected a whole number from 1 to 50")


def test_an_unknown_field_gets_the_closest_known_name():
    message = config_error(load_environments, env({**TABLE, "export": {"shedule": "1 day"}}))
    assert message.startswith("environments.dev.tables[orders].export.shedule: unknown field; did you mean schedule? known fields here: ")
    message = config_error(load_environments, env({**TABLE, "export": {"zzz": 1}}))
    assert "did you mean" not in message


# --- Values as written ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("export", "field"), [
    ({"schedule": "1 day\n"}, "schedule"),
    ({"schedule": " 1 day"}, "schedule"),
    ({"schedule": "1 day", "late_after": "6 hours\n"}, "late_after"),
    ({"schedule": "1 day", "start": "\uff12\uff10\uff12\uff16-01-31T10:00:00"}, "start"),
    ({"schedule": "1 day", "start": "2026-01-31T10:00:00\n"}, "start"),
])
def test_pasted_whitespace_and_full_width_digits_are_refused(export, field):
    message = config_error(load_environments, env({**TABLE, "export": export}))
    assert message.startswith(f"environments.dev.tables[orders].export.{field}: "), message


def test_a_pasted_line_break_in_an_overlap_or_a_drill_is_refused():
    message = config_error(load_environments, copy_of(incremental={"attribute": "updated_at", "format": "iso8601", "overlap": "15 minutes\n"}))
    assert message.startswith("environments.dev.tables[orders].copies[0].incremental.overlap: '15 minutes\\n' is not allowed")
    message = config_error(load_environments, native({**TABLE, "restore": {"drill": "1 day\n"}}))
    assert message.startswith("environments.dev.tables[orders].restore.drill: '1 day\\n' is not allowed")


@pytest.mark.parametrize("email", ["a@.com", "a@b..com", "a@-b.com", "a b@c.com", "a@example.c0m", "a@example.com\n", "@example.com"])
def test_an_email_address_with_an_empty_or_odd_domain_label_is_refused(email):
    assert config_error(load_environments, env(alarm_emails=[email])).startswith("environments.dev.alarm_emails[0]: ")


def test_plain_email_addresses_pass():
    load_environments(env(alarm_emails=["on.call+ddb@mail.example.co.uk", "x_y@example.com"]))


# --- Resources of the right place ------------------------------------------------------------------------
TOPIC = "arn:{partition}:sns:{region}:111111111111:alerts"
KMS = "arn:{partition}:kms:{region}:111111111111:key/12345678-1234-1234-1234-123456789012"


@pytest.mark.parametrize(("fields", "field"), [
    ({"alarm_topic_arn": TOPIC.format(partition="aws-cn", region="eu-west-1")}, "alarm_topic_arn"),
    ({"alarm_topic_arn": TOPIC.format(partition="aws", region="eu-west-1"),
      "alarm_topic_key_arn": KMS.format(partition="aws-us-gov", region="eu-west-1")}, "alarm_topic_key_arn"),
    ({"export_bucket": {"existing_bucket_name": "team-bucket", "existing_key_arn": KMS.format(partition="aws-cn", region="eu-west-1")}},
     "export_bucket.existing_key_arn"),
])
def test_a_topic_or_key_of_another_partition_or_region_is_refused(fields, field):
    assert config_error(load_environments, env(**fields)).startswith(f"environments.dev.{field}: ")


def test_a_topic_of_another_region_is_refused_where_native_machines_publish_to_it():
    """Step Functions' SDK integration calls SNS in the machine's region, and CloudWatch alarms name a topic of
    their own region; a Data Pipeline environment keeps the topics of other regions it always took."""
    other = {"alarm_topic_arn": TOPIC.format(partition="aws", region="us-east-1"), "alarm_topic_admits_cloudwatch": True}
    message = config_error(load_environments, native(**other))
    assert message.startswith("environments.dev.alarm_topic_arn: 'arn:aws:sns:us-east-1:111111111111:alerts' is not allowed; "
                              "expected an SNS topic ARN in eu-west-1, the environment's region, as tables[")
    load_environments(env(**other))


def test_a_topic_and_key_of_the_environments_region_pass():
    load_environments(env(alarm_topic_arn=TOPIC.format(partition="aws", region="eu-west-1"),
                          alarm_topic_key_arn=KMS.format(partition="aws", region="eu-west-1")))


def test_a_native_late_after_the_machine_never_reaches_is_refused():
    message = config_error(load_environments, native({**TABLE, "export": {"schedule": "1 week", "late_after": "24 hours"}}))
    assert message == ("environments.dev.tables[orders].export.late_after: '24 hours' is not allowed; expected a period shorter than 24 "
                       "hours on the native engine (its state machine gives up waiting after 24 hours and alarms then; a later late "
                       "alarm would never come)")
    load_environments(native({**TABLE, "export": {"schedule": "1 week", "late_after": "23 hours"}}))
    load_environments(env({**TABLE, "export": {"schedule": "1 week", "late_after": "2 days"}}))  # Data Pipeline waits that long


def test_a_native_copy_refuses_the_late_after_it_would_ignore():
    context = native({**TABLE, "copies": [{"target_prefix": "orders-copy", "schedule": "1 day", "late_after": "1 hour"}]})
    assert config_error(load_environments, context).startswith("environments.dev.tables[orders].copies[0].late_after: '1 hour' is not allowed")


# --- Types that must agree ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("key_type", "fields", "expected"), [
    ("S", {"filter": "pk = 5"}, "copies[0].filter: 'pk = 5' is not allowed; expected 'pk', a key of type S (a string), compared with a string only"),
    ("N", {"filter": "pk = 'a'"}, "copies[0].filter: 'pk = 'a'' is not allowed; expected 'pk', a key of type N (a number), compared with a number only"),
    ("B", {"filter": "pk = 'a'"}, "copies[0].filter: 'pk = 'a'' is not allowed; expected a filter that does not name the binary key 'pk'"),
    ("S", {"incremental": {"attribute": "pk", "format": "epoch_seconds"}},
     "copies[0].incremental.format: 'epoch_seconds' is not allowed; expected a format whose type is the key's: 'pk' is a key of type S"),
    ("N", {"filter": "total > 1", "attribute_types": {"pk": "S"}},
     "copies[0].attribute_types.pk: 'S' is not allowed; expected N, the type of the table's key 'pk'"),
    ("S", {"filter": "total > 1", "attribute_types": {"totl": "N"}},
     "copies[0].attribute_types.totl: 'N' is not allowed; expected a type for an attribute the filter names"),
    ("S", {"incremental": {"attribute": "at", "format": "iso8601"}, "attribute_types": {"at": "N"}},
     "copies[0].attribute_types.at: 'N' is not allowed; expected S, the type incremental.format iso8601 reads"),
    ("S", {"filter": "ddb_item = 'x'"}, "copies[0].filter: 'ddb_item = 'x'' is not allowed; expected no attribute named 'ddb_item'"),
])
def test_types_that_cannot_agree_are_refused(key_type, fields, expected):
    context = copy_of(**fields)
    context["environments"]["dev"]["tables"][0]["owned"] = {"partition_key": {"name": "pk", "type": key_type}}
    assert config_error(load_environments, context).startswith(f"environments.dev.tables[orders].{expected}")


def test_types_that_agree_pass_and_a_key_tested_for_null_needs_no_declaration():
    load_environments(copy_of(filter="pk = 'a' and total > 1"))
    load_environments(copy_of(filter="pk is not null"))
    load_environments(copy_of(filter="status is null", attribute_types={"status": "S"}))
    load_environments(copy_of(incremental={"attribute": "pk", "format": "iso8601"}))


# --- Generated names -----------------------------------------------------------------------------------------
def test_a_native_copy_prefix_too_long_for_its_tables_is_refused():
    prefix = "p" * 232
    message = config_error(load_environments, native({**TABLE, "copies": [{"target_prefix": prefix}]}))
    assert message == (f"environments.dev.tables[orders].copies[0].target_prefix: '{prefix}' is not allowed; expected at most 231 characters "
                       "(each run creates <target_prefix>-<export id>, 23 characters more, and DynamoDB table names have at most 255)")
    load_environments(native({**TABLE, "copies": [{"target_prefix": prefix[:-1]}]}))


def test_a_drill_on_a_table_whose_scratch_name_is_too_long_is_refused():
    name = "o" * 226
    message = config_error(load_environments, native({**TABLE, "name": name, "restore": {"drill": "1 day"}}))
    assert message.startswith(f"environments.dev.tables[{name}].restore.drill: '1 day' is not allowed; expected no drill on a table whose "
                              "name has more than 225 characters (this one has 226)")
    load_environments(native({**TABLE, "name": name[:-1], "restore": {"drill": "1 day"}}))


def test_a_restore_prefix_of_the_longest_table_name_is_refused():
    context = native({**TABLE, "restore": {"target_prefix": "r" * 255}})
    assert config_error(load_environments, context).startswith("environments.dev.tables[orders].restore.target_prefix: ")


def test_a_prefix_that_covers_a_declared_table_or_another_prefix_is_refused_across_environments():
    other = {"name": "orders-copy-1", "owned": KEY}
    context = native({**TABLE, "copies": [{"target_prefix": "orders-copy"}]})
    context["environments"]["prod"] = {"region": "eu-west-1", "account": "111111111111", "tables": [other]}
    assert config_error(load_environments, context) == (
        "environments.prod.tables[orders-copy-1].name: 'orders-copy-1' is not allowed; expected a table outside the run-time tables of "
        "environments.dev.tables[orders].copies[0].target_prefix's copy tables (orders-copy-*) in eu-west-1, account 111111111111")
    context["environments"]["prod"]["account"] = "222222222222"  # another account: apart
    load_environments(context)


def test_a_prefix_that_covers_a_drills_scratch_tables_is_refused():
    tables = [{**TABLE, "restore": {"drill": "1 day"}}, {"name": "ord", "owned": KEY, "restore": {"target_prefix": "orders-dr"}}]
    assert config_error(load_environments, native(*tables)) == (
        "environments.dev.tables[ord].restore.target_prefix: 'orders-dr' is not allowed; expected a value whose restore tables (orders-dr*) "
        "and the right to create and delete them stay apart from environments.dev.tables[orders].restore.drill's drill scratch tables "
        "(orders-drill-*) in eu-west-1, account 111111111111")
    tables[1]["restore"]["target_prefix"] = "orders-re"  # apart from orders-drill-*, but it covers orders-restore*
    assert "orders-restore*" in config_error(load_environments, native(*tables))
    tables[1]["restore"]["target_prefix"] = "ord-re"
    load_environments(native(*tables))


def test_two_state_machines_of_one_name_are_refused():
    context = {"environments": {"a-b": {"region": "eu-west-1", "engine": "native", "tables": [{"name": "ccc", "owned": KEY}]},
                                "a": {"region": "eu-west-1", "engine": "native", "tables": [{"name": "b-ccc", "owned": KEY}]}}}
    assert config_error(load_environments, context).startswith(
        "environments.a.tables[b-ccc].name: 'b-ccc' is not allowed; expected a value whose state machine (ddb-a-b-ccc-native-export) is "
        "named apart from environments.a-b.tables[ccc].name's export state machine")


def test_an_environment_name_whose_node_roles_pass_iams_limit_is_refused_in_that_region_only():
    long = {"region": "ap-northeast-1", "tables": [TABLE]}
    message = config_error(load_environments, {"environments": {"e" * 19: long}})
    assert message.startswith(f"environments.{'e' * 19}: '{'e' * 19}' is not allowed; expected an environment name of at most 18 characters "
                              "in ap-northeast-1 with Data Pipeline tables")
    load_environments({"environments": {"e" * 18: long}})
    load_environments({"environments": {"e" * 20: {**long, "region": "eu-west-1"}}})
    load_environments({"environments": {"e" * 20: {**long, "engine": "native"}}})


def test_the_shipped_configuration_still_plans():
    from tests.conftest import cdk_json_context

    planned = plan(copy.deepcopy(cdk_json_context()))
    assert [env.name for env in planned.environments] == ["dev", "analytics", "prod"]


# --- Sizes in the configuration's words --------------------------------------------------------------------------
LONG_VALUES = ", ".join("'" + f"v{index:03d}" * 200 + "'" for index in range(20))


@pytest.mark.parametrize(("extra", "where"), [({}, "CopyActivity.filterSql"), ({"attributes": ["status"]}, "CopyActivity.hiveScript")])
def test_a_filter_over_a_definition_fields_size_is_refused_at_the_filter(extra, where):
    message = config_error(load_environments, copy_of(filter=f"status in ({LONG_VALUES})", **extra))
    assert message.startswith("environments.dev.tables[orders].copies[0].filter: 'status in (")
    assert f"expected a filter that fits Data Pipeline's 10,240 bytes per field value (the copy's {where} would hold " in message


def test_a_filter_within_the_size_passes():
    load_environments(copy_of(filter=f"status in ({LONG_VALUES.split(', ')[0]})", attributes=["status"]))


def test_a_number_written_longer_is_measured_as_written():
    """The size check is cached per selection, and ``total > 1`` equals ``total > 1.0`` as a predicate (Decimal), but
    the filterSql writes them as given: a filter exactly at the limit with ``1`` passes, and two bytes more (``1.0``)
    are refused, whichever was read first."""
    def written(last: int, number: str) -> dict[str, Any]:
        values = ", ".join(["'" + "v" * 1000 + "'"] * 10 + ["'" + "w" * last + "'"])
        return copy_of(filter=f"status in ({values}) and total > {number}")

    over = config_error(load_environments, written(1000, "1"))
    excess = int(over.split(" would hold ")[1].split(" bytes")[0].replace(",", "")) - 10_240
    load_environments(written(1000 - excess, "1"))
    message = config_error(load_environments, written(1000 - excess, "1.0"))
    assert "(the copy's CopyActivity.filterSql would hold 10,242 bytes)" in message
