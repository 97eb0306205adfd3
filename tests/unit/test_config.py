"""Configuration parsing: the example config loads, and every kind of mistake is one clear line."""
from __future__ import annotations

from typing import Any

import pytest

from ddb_datapipeline.config import ConfigError, load_environments, select_environments
from ddb_datapipeline.definition.periods import START_AT_FIRST_ACTIVATION
from tests.conftest import config_error


def minimal(**table: Any) -> dict[str, Any]:
    return {"environments": {"dev": {"region": "eu-west-1", "tables": [{"name": "orders", **table}]}}}


def error_of(context: dict[str, Any]) -> str:
    return config_error(load_environments, context)


def test_example_config_loads_with_the_documented_choices(context):
    environments = load_environments(context)
    assert list(environments) == ["dev", "analytics", "prod"]
    prod = environments["prod"]
    assert prod.account == "111111111111" and prod.region == "us-east-1" and prod.retain_data is True
    orders = prod.tables[0]
    assert orders.owned is not None and orders.owned.billing_mode == "PROVISIONED"
    assert (orders.owned.read_capacity, orders.owned.write_capacity) == (200, 100)
    assert orders.export.schedule is not None and orders.export.schedule.period == "1 day"
    assert orders.export.schedule.late_after == "6 hours"
    assert orders.restore.target_table == "orders-restore" and orders.restore.create_target is True
    customers = prod.tables[1]
    assert customers.owned is None and customers.restore.create_target is False
    assert environments["dev"].retain_data is False
    assert environments["dev"].tables[1].export.schedule is None  # ondemand
    (events,) = environments["analytics"].tables  # the native engine's example: export, restore, a same-region copy
    assert events.native and events.owned is not None and events.owned.point_in_time_recovery is True
    assert events.restore.target_prefix == "events-restore"
    assert [(c.target_prefix, c.region, c.cross_account, c.schedule) for c in events.copies] == [("events-staging", "eu-west-1", False, None)]


def test_defaults_are_the_safe_ones():
    env = load_environments(minimal(owned={"partition_key": {"name": "pk", "type": "S"}}))["dev"]
    table = env.tables[0]
    assert env.account is None
    assert env.retain_data is True
    assert table.owned.point_in_time_recovery is True
    assert table.owned.encryption == "CUSTOMER_MANAGED"
    assert table.export.schedule.period == "1 day"
    assert table.export.schedule.start == START_AT_FIRST_ACTIVATION
    assert table.export.read_ratio == 0.25
    assert table.export.compress is True
    assert table.restore.target_table == "orders-restore"
    assert table.restore.allow_into_source is False
    assert table.restore.create_target is True


@pytest.mark.parametrize(
    "table, expected",
    [
        ({"export": {"read_ratio": 1.5}}, "environments.dev.tables[orders].export.read_ratio: 1.5 is not allowed; expected a number from 0.1 to 1.0"),
        ({"export": {"read_ratio": "0.5"}}, "export.read_ratio: '0.5' (a string) is not allowed"),
        ({"restore": {"write_ratio": 0.05}}, "restore.write_ratio: 0.05 is not allowed"),
        ({"export": {"schedule": "10 minutes"}}, "export.schedule: '10 minutes' is not allowed; expected 'ondemand' or a period of at least 15 minutes"),
        ({"export": {"schedule": "1 fortnight"}}, "export.schedule: '1 fortnight'"),
        ({"export": {"schedule": "1 day", "start": "2026-13-01T00:00:00"}}, "export.start: '2026-13-01T00:00:00' is not allowed"),
        ({"export": {"schedule": "ondemand", "start": "FIRST_ACTIVATION_DATE_TIME"}}, "export.start: 'FIRST_ACTIVATION_DATE_TIME' is not allowed; expected no start with schedule 'ondemand'"),
        ({"restore": {"target_table": "orders"}}, "restore.target_table: 'orders' is not allowed; expected a table other than the source"),
        ({"export": {"schedule": "ondemand", "late_after": "2 hours"}}, "export.late_after: '2 hours' is not allowed; expected no late_after with schedule 'ondemand'"),
        ({"export": {"late_after": "10 minutes"}}, "export.late_after: '10 minutes' is not allowed; expected a period of at least 30 minutes"),
        ({"restore": {"create_target": True}}, "restore.create_target: true is not allowed; expected false for a table this stack does not own"),
        ({"exprot": {}}, "environments.dev.tables[orders].exprot: unknown field"),
        ({"owned": {"partition_key": {"name": "pk", "type": "X"}}}, "owned.partition_key.type: 'X' is not allowed; expected one of S, N, B"),
        ({"owned": {"partition_key": {"name": "pk", "type": "S"}, "billing_mode": "PROVISIONED"}}, "owned.read_capacity: missing"),
        ({"owned": {"partition_key": {"name": "pk", "type": "S"}, "read_capacity": 5}}, "owned.read_capacity: 5 is not allowed; expected no capacity with billing_mode PAY_PER_REQUEST"),
        ({"owned": {"partition_key": {"name": "pk", "type": "S"}, "encryption": "NONE"}}, "owned.encryption: 'NONE' is not allowed; expected one of CUSTOMER_MANAGED, AWS_MANAGED, AWS_OWNED"),
        ({"owned": {}}, "owned.partition_key.name: missing"),
    ],
)
def test_table_mistakes_name_the_field_the_value_and_what_is_allowed(table, expected):
    assert expected in error_of(minimal(**table))


@pytest.mark.parametrize(
    "name", ["ab", "orders!", "x" * 256, "my table"],
)
def test_table_names_dynamodb_would_refuse_are_rejected(name):
    context = {"environments": {"dev": {"region": "eu-west-1", "tables": [{"name": name}]}}}
    message = error_of(context)
    assert f".name: '{name}' is not allowed; expected 3-255 characters of A-Z a-z 0-9 _ . -" in message


def test_a_default_restore_target_too_long_for_dynamodb_is_refused():
    context = {"environments": {"dev": {"region": "eu-west-1", "tables": [{"name": "t" * 250}]}}}
    assert "restore.target_table: '" + "t" * 250 + "-restore' is not allowed; expected 3-255 characters" in error_of(context)


def test_restoring_into_the_source_needs_an_explicit_yes():
    env = load_environments(minimal(restore={"target_table": "orders", "allow_into_source": True}))["dev"]
    assert env.tables[0].restore.target_table == "orders"
    assert env.tables[0].restore.create_target is False


@pytest.mark.parametrize(
    "environment, expected",
    [
        ({"account": "12345"}, "environments.dev.account: '12345' is not allowed; expected a 12-digit AWS account id"),
        ({"region": "europe"}, "environments.dev.region: 'europe' is not allowed; expected an AWS region"),
        ({"alarm_emails": ["not-an-email"]}, "environments.dev.alarm_emails[0]: 'not-an-email' is not allowed; expected an email address"),
        ({"retain_data": "yes"}, "environments.dev.retain_data: 'yes' (a string) is not allowed; expected true or false"),
        ({"emr": {"terminate_after": "10 minutes"}}, "environments.dev.emr.terminate_after: '10 minutes' is not allowed; expected a period of at least 30 minutes"),
        ({"emr": {"release_label": "emr-3.11.0"}}, "environments.dev.emr.release_label: 'emr-3.11.0' is not allowed"),
        ({"emr": {"core_instance_count": 0}}, "environments.dev.emr.core_instance_count: 0 is not allowed; expected a whole number from 1 to 50"),
        ({"emr": {"subnet_id": "subnet-xyz"}}, "environments.dev.emr.subnet_id: 'subnet-xyz' is not allowed"),
        ({"export_bucket": {"export_retention_days": 30, "transition_after_days": 30}}, "export_bucket.transition_after_days: 30 is not allowed; expected fewer days than export_retention_days (30)"),
        ({"export_bucket": {"transition_storage_class": "STANDARD_IA", "transition_after_days": 7}}, "export_bucket.transition_after_days: 7 is not allowed; expected a whole number from 30"),
        ({"tables": []}, "environments.dev.tables: 0 tables is not allowed; expected 1 to 500 tables"),
        ({"colour": "blue"}, "environments.dev.colour: unknown field"),
    ],
)
def test_environment_mistakes_are_one_line_each(environment, expected):
    context = minimal()
    context["environments"]["dev"].update(environment)
    assert expected in error_of(context)


def test_duplicate_tables_are_rejected():
    context = minimal()
    context["environments"]["dev"]["tables"].append({"name": "orders"})
    assert "name 'orders' is already used as the name of a table" in error_of(context)


def test_tables_whose_output_names_would_collide_are_rejected():
    context = minimal()
    context["environments"]["dev"]["tables"].append({"name": "Orders"})
    assert "tables[Orders].name: 'Orders' is not allowed; expected a name that differs from 'orders'" in error_of(context)


def test_a_created_restore_target_may_not_collide_with_another_table():
    owned = {"partition_key": {"name": "pk", "type": "S"}}
    context = minimal(owned=owned)
    context["environments"]["dev"]["tables"].append({"name": "orders-restore"})
    assert "name 'orders-restore' is already used as the restore target of 'orders'" in error_of(context)


def test_missing_environments_and_bad_environment_names():
    assert error_of({}).startswith("environments: missing or empty")
    assert "environments.Prod: invalid environment name" in error_of({"environments": {"Prod": {}}})


def test_selecting_an_environment(context):
    environments = load_environments(context)
    assert [e.name for e in select_environments(environments, None)] == ["dev", "analytics", "prod"]
    assert [e.name for e in select_environments(environments, "prod")] == ["prod"]
    with pytest.raises(ConfigError, match=r"^env: 'staging' is not a configured environment; expected one of dev, analytics, prod$"):
        select_environments(environments, "staging")
    with pytest.raises(ConfigError, match=r"^env: '\['dev'\]' is not a configured environment"):
        select_environments(environments, ["dev"])  # a list in cdk.json's context, never a traceback
