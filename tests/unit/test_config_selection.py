"""Filtered and incremental copies in cdk.json: what a copy's incremental, filter and attribute_types
accept, and each mistake refused in one line naming the field."""
from __future__ import annotations

from typing import Any

import pytest

from ddb_datapipeline.config import load_environments
from tests.conftest import config_error

OWNED = {"partition_key": {"name": "pk", "type": "S"}}
WHERE = "environments.dev.tables[orders].copies[0]"


def env(account: str | None = "111111111111", engine: str | None = None, **copy: Any) -> dict[str, Any]:
    table: dict[str, Any] = {"name": "orders", "owned": OWNED,
                             "copies": [{"target_table": "orders-recent", "owned": True, "schedule": "1 hour", **copy}]}
    settings: dict[str, Any] = {"region": "eu-west-1", "tables": [table]}
    if account:
        settings["account"] = account
    if engine:
        settings["engine"] = engine
        table["copies"][0].pop("target_table")
        table["copies"][0].pop("owned")
        table["copies"][0]["target_prefix"] = "orders-recent"
    return {"environments": {"dev": settings}}


def selection_of(context: dict[str, Any]) -> Any:
    (table,) = load_environments(context)["dev"].tables
    return table.copies[0].selection


def test_a_copy_of_some_attributes_always_copies_the_key_first():
    selection = selection_of(env(attributes=["status", "pk", "total"]))
    assert selection.attributes == ("pk", "status", "total") and selection.row_filter is None and selection.incremental is None
    assert selection.words(None) == "only attributes pk, status, total"


def test_attributes_need_the_sources_key_schema():
    context = env(attributes=["status"])
    table = context["environments"]["dev"]["tables"][0]
    table.pop("owned")
    table["copies"][0]["owned"] = False
    assert config_error(load_environments, context) == (
        f"{WHERE}.attributes: a list is not allowed; expected no attributes on a copy of a referenced table (its key schema is "
        "not known here): the key attributes are always copied")


def test_a_copy_without_a_selection_copies_whole_tables():
    assert selection_of(env()) is None


def test_an_incremental_copy_with_a_filter_is_read_with_its_columns_and_words():
    selection = selection_of(env(incremental={"attribute": "updated_at", "format": "epoch_seconds", "overlap": "10 minutes"},
                                 filter="status in ('OPEN', 'PENDING') and total >= 100"))
    assert (selection.incremental.attribute, selection.incremental.time_format, selection.incremental.overlap_minutes) == (
        "updated_at", "epoch_seconds", 10)
    assert selection.columns() == {"status": "STRING", "total": "DOUBLE", "updated_at": "DOUBLE"}
    sql = selection.filter_sql("1 hour")
    assert sql.startswith("`updated_at` >= unix_timestamp('#{format(minusMinutes(minusHours(@scheduledStartTime, 1), 10), ")
    assert sql.endswith(" AND (`status` IN ('OPEN', 'PENDING') AND `total` >= 100)")
    assert selection_of(env(incremental={"attribute": "updated_at", "format": "iso8601"})).incremental.overlap_minutes == 15


def test_declared_attribute_types_let_a_filter_test_an_attribute_for_absence():
    selection = selection_of(env(filter="deleted_at is null", attribute_types={"deleted_at": "N"}))
    assert selection.columns() == {"deleted_at": "DOUBLE"}


@pytest.mark.parametrize("copy, expected", [
    ({"incremental": {"attribute": "updated_at", "format": "epoch_seconds", "overlap": "1 hour"}},
     f"{WHERE}.incremental.overlap: '1 hour' is not allowed; expected a period shorter than the schedule's 1 hour"),
    ({"incremental": {"attribute": "updated_at", "format": "epoch_millis"}},
     f"{WHERE}.incremental.format: 'epoch_millis' is not allowed; expected one of epoch_seconds, iso8601"),
    ({"incremental": {"attribute": "updated at", "format": "iso8601"}}, f"{WHERE}.incremental.attribute: 'updated at' is not allowed"),
    ({"incremental": {"attribute": "updated_at", "format": "iso8601", "since": "yesterday"}},
     f"{WHERE}.incremental.since: unknown field"),
    ({"schedule": "ondemand", "incremental": {"attribute": "updated_at", "format": "iso8601"}},
     f"{WHERE}.incremental: an object is not allowed; expected a copy with a schedule"),
    ({"filter": "status = "}, f"{WHERE}.filter: 'status = ' is not allowed; expected "),
    ({"filter": "total > 'high' and total < 5"}, f"{WHERE}.filter: 'total > 'high' and total < 5' is not allowed"),
    ({"filter": "deleted_at is null"}, f"{WHERE}.filter: 'deleted_at is null' is not allowed"),
    ({"filter": "updated_at = 'x'", "incremental": {"attribute": "updated_at", "format": "epoch_seconds"}},
     f"{WHERE}.filter: 'updated_at = 'x'' is not allowed"),
    ({"attribute_types": {"deleted_at": "BOOL"}}, f"{WHERE}.attribute_types.deleted_at: 'BOOL' is not allowed; expected one of S, N"),
    ({"attributes": "status"}, f"{WHERE}.attributes: 'status' is not allowed; expected a list of one or more attribute names"),
    ({"attributes": []}, f"{WHERE}.attributes: a list is not allowed; expected a list of one or more attribute names"),
    ({"attributes": ["status", "status"]}, f"{WHERE}.attributes[1]: 'status' is not allowed; expected each attribute once "
                                           "(attributes[0] is the same)"),
    ({"attributes": ["total", "2nd"]}, f"{WHERE}.attributes[1]: '2nd' is not allowed; expected an attribute name of letters"),
    ({"attributes": ["a-b"]}, f"{WHERE}.attributes[0]: 'a-b' is not allowed; expected an attribute name of letters"),
])
def test_a_mistake_in_a_selection_is_one_line_naming_the_field(copy, expected):
    assert config_error(load_environments, env(**copy)).startswith(expected)


def test_a_selection_is_refused_into_another_account_and_on_the_native_engine():
    context = env(filter="total > 0", account="111111111111")
    context["environments"]["dev"]["tables"][0]["copies"][0]["account"] = "222222222222"
    assert config_error(load_environments, context).startswith(
        f"{WHERE}.filter: 'total > 0' is not allowed; expected no filter on a copy into another account")
    assert config_error(load_environments, env(engine="native", filter="total > 0")).startswith(
        f"{WHERE}.filter: 'total > 0' is not allowed; expected no filter on the native engine")


def test_an_incremental_copy_of_an_owned_table_is_counted_by_default():
    window = {"attribute": "updated_at", "format": "epoch_seconds"}
    assert selection_of(env(incremental=window)).verify_keys == ("pk",)
    assert selection_of(env(incremental=window, verify=False)).verify_keys == ()
    assert selection_of(env(filter="status = 'OPEN'")).verify_keys == ()  # a filter on attributes that change can miss by a race
    assert selection_of(env(filter="status = 'OPEN'", verify=True)).verify_keys == ("pk",)


@pytest.mark.parametrize("copy, expected", [
    ({"verify": True}, f"{WHERE}.verify: true is not allowed; expected false or absent on a copy without incremental, filter or "
                       "attributes"),
    ({"filter": "status = 'OPEN'", "verify": "yes"}, f"{WHERE}.verify: 'yes' (a string) is not allowed"),
])
def test_a_mistake_in_verify_is_one_line(copy, expected):
    assert config_error(load_environments, env(**copy)).startswith(expected)


def test_a_referenced_table_cannot_be_counted():
    context = env(filter="status = 'OPEN'", verify=True)
    table = context["environments"]["dev"]["tables"][0]
    table.pop("owned")
    table["copies"][0]["owned"] = False
    assert config_error(load_environments, context).startswith(f"{WHERE}.verify: true is not allowed; expected false on a copy of a "
                                                                "referenced table")
    context["environments"]["dev"]["tables"][0]["copies"][0].pop("verify")
    assert selection_of(context).verify_keys == ()


def test_a_whole_table_copy_may_say_verify_false():
    assert selection_of(env(verify=False)) is None


def test_a_key_a_hive_script_cannot_name_turns_the_count_off_and_refuses_attributes():
    """Owned keys may be any 1 to 255 bytes; the Hive scripts name attributes of letters, digits and _ only."""
    window = {"attribute": "updated_at", "format": "epoch_seconds"}

    def keyed(**copy: Any) -> dict[str, Any]:
        context = env(**copy)
        context["environments"]["dev"]["tables"][0]["owned"] = {"partition_key": {"name": "order-id", "type": "S"}}
        return context

    assert selection_of(keyed(incremental=window)).verify_keys == ()  # synthesizes, uncounted, as before the count existed
    assert config_error(load_environments, keyed(incremental=window, verify=True)) == (
        f"{WHERE}.verify: true is not allowed; expected false on a copy of a table keyed 'order-id' (a Hive script names attributes "
        "of letters, digits and _ only): the count looks each item up in the target by key")
    assert config_error(load_environments, keyed(attributes=["status"])).startswith(
        f"{WHERE}.attributes: a list is not allowed; expected no attributes on a copy of a table keyed 'order-id'")
