"""engine: native in cdk.json: what it accepts and what it refuses, one line each."""
from __future__ import annotations

from typing import Any

import pytest

from ddb_datapipeline.app_builder import plan
from ddb_datapipeline.config import load_environments
from tests.conftest import config_error

OWNED = {"partition_key": {"name": "pk", "type": "S"}}


def env(environment_engine: str | None = "native", **table: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"region": "eu-west-1", "tables": [{"name": "orders", "owned": OWNED, **table}]}
    if environment_engine:
        settings["engine"] = environment_engine
    return {"environments": {"dev": settings}}


def test_the_default_engine_is_data_pipeline_and_a_table_may_override_it():
    assert load_environments(env(None))["dev"].tables[0].engine == "datapipeline"
    assert load_environments(env(None, engine="native"))["dev"].tables[0].native
    assert not load_environments(env("native", engine="datapipeline"))["dev"].tables[0].native


def test_a_native_table_creates_no_restore_target_and_makes_no_pipelines():
    (table,) = load_environments(env())["dev"].tables
    assert table.restore.create_target is False
    many = {"environments": {"dev": {"region": "eu-west-1", "engine": "native", "pipeline_quota": 1,
                                     "tables": [{"name": f"t-{i:03d}", "owned": OWNED} for i in range(60)]}}}
    plan(many)  # 60 native tables, a quota of 1 Data Pipeline pipeline: nothing counts against it


@pytest.mark.parametrize(
    "table, expected",
    [
        ({"copies": [{"target_table": "orders-copy", "owned": True}]}, "environments.dev.tables[orders].copies[0].target_table: 'orders-copy' is not allowed; expected target_prefix on the native engine: each copy run creates a new table <target_prefix>-<export id>"),
        ({"copies": [{"target_prefix": "orders-copy", "owned": True}]}, "environments.dev.tables[orders].copies[0].owned: true is not allowed; expected target_prefix on the native engine"),
        ({"copies": [{"target_prefix": "orders-copy", "read_ratio": 0.5}]}, "environments.dev.tables[orders].copies[0].read_ratio: 0.5 is not allowed; expected no read_ratio on the native engine"),
        ({"copies": [{"target_prefix": "orders-copy", "write_ratio": 0.5}]}, "environments.dev.tables[orders].copies[0].write_ratio: 0.5 is not allowed; expected no write_ratio on the native engine"),
        ({"copies": [{"target_prefix": "orders-copy", "region": "us-west-2"}]}, "environments.dev.tables[orders].copies[0].region: 'us-west-2' is not allowed; expected the source's region eu-west-1 for a copy from an environment without an account"),
        ({"copies": [{"target_prefix": "orders-copy", "region": "us-wset-2"}]}, "environments.dev.tables[orders].copies[0].region: 'us-wset-2' is not allowed; expected an AWS region such as us-west-2"),
        ({"copies": [{"target_prefix": "orders-copy", "account": "222222222222"}]}, "environments.dev.tables[orders].copies[0].account: '222222222222' is not allowed; expected no account for a copy from an environment without an account"),
        ({"copies": [{"target_prefix": "orders-copy", "schedule": "1 month"}]}, "environments.dev.tables[orders].copies[0].schedule: '1 month' is not allowed; expected a period in minutes, hours, days or weeks on the native engine"),
        ({"copies": [{"target_prefix": "ord"}]}, "environments.dev.tables[orders].copies[0].target_prefix: 'ord' is not allowed; expected a prefix that the source table's name 'orders' does not start with"),
        ({"copies": [{"target_prefix": "orders copy"}]}, "environments.dev.tables[orders].copies[0].target_prefix: 'orders copy' is not allowed; expected "),
        ({"copies": [{}]}, "environments.dev.tables[orders].copies[0].target_prefix: "),
        ({"restore": {"write_ratio": 0.5}}, "environments.dev.tables[orders].restore.write_ratio: 0.5 is not allowed; expected only target_prefix and drill on the native engine"),
        ({"restore": {"drill": "30 minutes"}}, "environments.dev.tables[orders].restore.drill: '30 minutes' is not allowed; expected a period of at least 1 hour"),
        ({"restore": {"drill": "1 month"}}, "environments.dev.tables[orders].restore.drill: '1 month' is not allowed; expected a period of at least 1 hour"),
        ({"restore": {"drill": "7 days", "target_prefix": "orders-drill-x"}}, "environments.dev.tables[orders].restore.target_prefix: 'orders-drill-x' is not allowed; expected a prefix apart from the drill's scratch tables orders-drill-*"),
        ({"engine": "datapipeline", "restore": {"drill": "7 days"}}, "environments.dev.tables[orders].restore.drill: '7 days' is not allowed; expected engine: native for a restore drill"),
        ({"restore": {"target_prefix": "ord"}}, "environments.dev.tables[orders].restore.target_prefix: 'ord' is not allowed; expected a prefix that no name of the source table 'orders' starts with"),
        ({"export": {"read_ratio": 0.5}}, "environments.dev.tables[orders].export.read_ratio: 0.5 is not allowed; expected no read_ratio on the native engine"),
        ({"export": {"compress": False}}, "environments.dev.tables[orders].export.compress: false is not allowed; expected true on the native engine"),
        ({"export": {"schedule": "1 month"}}, "environments.dev.tables[orders].export.schedule: '1 month' is not allowed; expected a period in minutes, hours, days or weeks on the native engine"),
        ({"owned": {**OWNED, "point_in_time_recovery": False}}, "environments.dev.tables[orders].owned.point_in_time_recovery: false is not allowed; expected true on the native engine"),
        ({"engine": "glue"}, "environments.dev.tables[orders].engine: 'glue' is not allowed; expected one of datapipeline, native"),
        ({"export": {"incremental": "10 minutes"}}, "environments.dev.tables[orders].export.incremental: '10 minutes' is not allowed; expected a period from 15 minutes to 24 hours"),
        ({"export": {"incremental": "2 days"}}, "environments.dev.tables[orders].export.incremental: '2 days' is not allowed; expected a period from 15 minutes to 24 hours"),
        ({"export": {"incremental": "soon"}}, "environments.dev.tables[orders].export.incremental: 'soon' is not allowed; expected a period from 15 minutes to 24 hours"),
        ({"engine": "datapipeline", "export": {"incremental": "1 hour"}}, "environments.dev.tables[orders].export.incremental: '1 hour' is not allowed; expected no incremental on the datapipeline engine"),
    ],
)
def test_what_a_native_table_refuses(table, expected):
    assert config_error(load_environments, env(**table)).startswith(expected)


@pytest.mark.parametrize("copies, restore", [
    ([{"target_prefix": "orders-copy"}, {"target_prefix": "orders-copy"}], {}),
    ([{"target_prefix": "orders-restore"}], {}),
    ([{"target_prefix": "orders-new"}], {"target_prefix": "orders-new"}),
])
def test_two_copies_or_a_copy_and_the_restore_never_share_a_prefix(copies, restore):
    message = config_error(load_environments, env(copies=copies, restore=restore))
    assert message.startswith(f"environments.dev.tables[orders].copies[{len(copies) - 1}].target_prefix: '{copies[-1]['target_prefix']}' "
                              "is not allowed; expected a prefix that no other copy or the restore of 'orders' names new tables with")


def test_a_native_copy_into_another_account_is_read_as_cross_account():
    context = env(copies=[{"target_prefix": "orders-analytics", "account": "222222222222"}])
    context["environments"]["dev"]["account"] = "111111111111"
    (copy,) = load_environments(context)["dev"].tables[0].copies
    assert (copy.account, copy.cross_account, copy.target_prefix) == ("222222222222", True, "orders-analytics")
    same = env(copies=[{"target_prefix": "orders-analytics", "account": "111111111111"}])
    same["environments"]["dev"]["account"] = "111111111111"
    assert not load_environments(same)["dev"].tables[0].copies[0].cross_account


def test_incremental_exports_take_a_period_of_15_minutes_to_a_day():
    for period in ("15 minutes", "1 hour", "24 hours", "1 day"):
        (table,) = load_environments(env(export={"incremental": period}))["dev"].tables
        assert table.export.incremental == period
    (table,) = load_environments(env())["dev"].tables
    assert table.export.incremental is None


def test_a_native_copy_of_a_referenced_table_is_refused():
    context = env()
    context["environments"]["dev"]["tables"][0] = {"name": "orders", "copies": [{"target_prefix": "orders-copy"}]}
    assert config_error(load_environments, context).startswith(
        "environments.dev.tables[orders].copies[0].target_prefix: 'orders-copy' is not allowed; expected a copy of an owned table")


def test_a_native_copy_is_read_with_its_prefix_and_schedule():
    (table,) = load_environments(env(copies=[{"target_prefix": "orders-staging", "schedule": "1 day"}]))["dev"].tables
    (copy,) = table.copies
    assert (copy.target_prefix, copy.region, copy.cross_account, copy.owned) == ("orders-staging", "eu-west-1", False, False)
    assert copy.schedule is not None and copy.schedule.period == "1 day"
    (table,) = load_environments(env(copies=[{"target_prefix": "orders-staging"}]))["dev"].tables
    assert table.copies[0].schedule is None  # on demand: started by hand


def test_a_native_copy_may_go_to_another_region_of_an_environment_with_an_account():
    context = env(copies=[{"target_prefix": "orders-dr", "region": "us-west-2"},
                          {"target_prefix": "orders-far", "region": "us-east-1", "account": "222222222222"}])
    context["environments"]["dev"]["account"] = "111111111111"
    (table,) = load_environments(context)["dev"].tables
    assert [(c.target_prefix, c.region, c.account, c.cross_account) for c in table.copies] == [
        ("orders-dr", "us-west-2", None, False), ("orders-far", "us-east-1", "222222222222", True)]
    # Its machine and roles are named after the prefix, whatever the region: one prefix per copy of a table.
    context["environments"]["dev"]["tables"][0]["copies"][1]["target_prefix"] = "orders-dr"
    assert config_error(load_environments, context) == (
        "environments.dev.tables[orders].copies[1].target_prefix: 'orders-dr' is not allowed; expected a prefix that no other "
        "copy or the restore of 'orders' names new tables with")


def test_a_native_environment_refuses_emr_settings():
    context = env()
    context["environments"]["dev"]["emr"] = {"core_instance_count": 2}
    assert config_error(load_environments, context).startswith(
        "environments.dev.emr: an object is not allowed; expected no emr section on the native engine")


def test_a_native_restore_names_new_tables_by_a_prefix():
    (table,) = load_environments(env())["dev"].tables
    assert table.restore.target_prefix == "orders-restore"
    (table,) = load_environments(env(restore={"target_prefix": "orders-recovered-"}))["dev"].tables
    assert table.restore.target_prefix == "orders-recovered-"


def test_the_readmes_migration_configurations_are_accepted():
    """README "Moving an environment from Data Pipeline to the native engine": side by side, then a legacy
    environment that keeps old exports restorable."""
    side_by_side = {"prod": {"account": "111111111111", "region": "us-east-1", "tables": [{"name": "orders", "owned": OWNED}]},
                    "prod-native": {"account": "111111111111", "region": "us-east-1", "engine": "native", "tables": [{"name": "orders"}]}}
    plan({"environments": side_by_side})
    legacy = {"prod": {"account": "111111111111", "region": "us-east-1", "engine": "native", "tables": [{"name": "orders", "owned": OWNED}]},
              "legacy": {"account": "111111111111", "region": "us-east-1", "tables": [{"name": "orders", "export": {"schedule": "ondemand"}}]}}
    plan({"environments": legacy})


def test_a_native_table_has_no_emr_estimate():
    """Estimates model EMR clusters: a native table stating its size gets none (and no cost-guard check)."""
    from ddb_datapipeline.config.estimates import estimate_environment

    environments = load_environments(env(size_gib=5000))
    assert estimate_environment(environments["dev"]) == []
    environments = load_environments(env(None, size_gib=5000))
    assert [e.estimate.pipeline for e in estimate_environment(environments["dev"])] == ["export", "restore"]


def test_a_restore_drill_is_read_with_its_period_and_refused_for_a_referenced_table():
    (table,) = load_environments(env(restore={"drill": "7 days"}))["dev"].tables
    assert table.restore.drill == "7 days"
    context = env()
    context["environments"]["dev"]["tables"][0] = {"name": "orders", "restore": {"drill": "1 day"}}
    assert config_error(load_environments, context).startswith(
        "environments.dev.tables[orders].restore.drill: '1 day' is not allowed; expected an owned table")
