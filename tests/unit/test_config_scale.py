"""Large environments, before anything is synthesized: which stack a table lives in, and the limits
the configuration alone shows (the table cap, Data Pipeline's pipeline quota)."""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ddb_datapipeline.app_builder import plan
from ddb_datapipeline.config import load_environments
from ddb_datapipeline.config.stack_groups import automatic_group
from tests.conftest import config_error

OWNED = {"partition_key": {"name": "pk", "type": "S"}}


def tables(names: list[str], **extra: Any) -> list[dict[str, Any]]:
    return [{"name": name, "owned": OWNED, **extra} for name in names]


def environment(names: list[str], **settings: Any) -> dict[str, Any]:
    return {"environments": {"big": {"account": "111111111111", "region": "eu-west-1", "tables": tables(names), **settings}}}


def groups(context: dict[str, Any]) -> dict[str, str]:
    return {table.name: table.stack_group for table in load_environments(context)["big"].tables}


NAMES = [f"table-{i:03d}" for i in range(60)]


def test_one_table_stack_keeps_every_table_in_the_environments_stack():
    assert set(groups(environment(NAMES[:5])).values()) == {"main"}


@pytest.mark.parametrize("assignment", ["rendezvous", "modulo"])
def test_tables_spread_over_the_stated_number_of_stacks(assignment):
    found = Counter(groups(environment(NAMES, table_stacks=4, stack_assignment=assignment)).values())
    assert set(found) == {"tables-01", "tables-02", "tables-03", "tables-04"}
    assert sum(found.values()) == 60 and min(found.values()) >= 5  # a hash, not a fill: no stack is left nearly empty here


@pytest.mark.parametrize("assignment", ["rendezvous", "modulo"])
def test_adding_or_removing_a_table_moves_no_other_table(assignment):
    before = groups(environment(NAMES, table_stacks=8, stack_assignment=assignment))
    added = groups(environment(NAMES[:30] + ["new-table-in-the-middle"] + NAMES[30:], table_stacks=8, stack_assignment=assignment))
    removed = groups(environment(NAMES[:10] + NAMES[11:], table_stacks=8, stack_assignment=assignment))
    assert {name: added[name] for name in NAMES} == before
    assert removed == {name: group for name, group in before.items() if name != NAMES[10]}


def test_the_assignment_is_a_pure_function_of_the_name():
    """The same on every machine and run (sha256, not Python's salted hash)."""
    assert automatic_group("orders", 1, assignment="modulo") == automatic_group("orders", 1, assignment="rendezvous") == "main"
    import hashlib

    documented = int.from_bytes(hashlib.sha256(b"orders").digest()[:8], "big") % 10 + 1  # the README's rule
    assert automatic_group("orders", 10, assignment="modulo") == f"tables-{documented:02d}"


def test_a_stated_stack_group_wins_over_the_hash():
    context = environment(NAMES[:6], table_stacks=3, stack_assignment="rendezvous")
    context["environments"]["big"]["tables"][0]["stack_group"] = "payments"
    context["environments"]["big"]["tables"][1]["stack_group"] = "main"
    found = groups(context)
    assert (found[NAMES[0]], found[NAMES[1]]) == ("payments", "main")
    assert all(found[name].startswith("tables-") for name in NAMES[2:6])


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"table_stacks": 0}, "environments.big.table_stacks: 0 is not allowed; expected a whole number from 1 to 99"),
        ({"table_stacks": "4"}, "environments.big.table_stacks: '4' (a string) is not allowed; expected a whole number from 1 to 99"),
        ({"pipeline_quota": 0}, "environments.big.pipeline_quota: 0 is not allowed; expected a whole number from 1 to 100000"),
    ],
)
def test_environment_fields_are_checked(change, expected):
    assert config_error(load_environments, environment(NAMES[:2], **change)) == expected


@pytest.mark.parametrize("group", ["Payments", "9lives", "a" * 13, "", "x y"])
def test_a_stack_group_is_a_short_lower_case_name(group):
    context = environment(NAMES[:2])
    context["environments"]["big"]["tables"][0]["stack_group"] = group
    assert config_error(load_environments, context) == (
        f"environments.big.tables[{NAMES[0]}].stack_group: '{group}' is not allowed; "
        "expected 1-12 characters of a-z 0-9 -, starting with a letter"
    )


def test_the_table_cap_is_what_the_project_deploys():
    load_environments(environment([f"t-{i:03d}" for i in range(500)], pipeline_quota=1000))
    assert config_error(load_environments, environment([f"t-{i:03d}" for i in range(501)])) == (
        "environments.big.tables: 501 tables is not allowed; expected 1 to 500 tables"
    )


def test_pipelines_over_the_account_quota_are_one_line():
    """51 tables make 102 pipelines (an export and a restore each) against the default quota of 100."""
    assert config_error(plan, environment([f"t-{i:03d}" for i in range(51)])) == (
        "environments.big.tables: 102 pipelines in 111111111111, eu-west-1 (big 102); expected at most 100, Data Pipeline's "
        "quota of pipelines per account and region: ask AWS to raise it and state the new quota as pipeline_quota, "
        "or move tables to another account or region"
    )
    plan(environment([f"t-{i:03d}" for i in range(50)]))  # 100: at the quota


def test_the_quota_counts_every_environment_of_an_account_and_region_and_a_raised_quota_is_stated_once():
    context = environment([f"t-{i:03d}" for i in range(30)])
    context["environments"]["other"] = {"account": "111111111111", "region": "eu-west-1",
                                        "tables": tables([f"u-{i:03d}" for i in range(21)])}
    assert config_error(plan, context).startswith("environments.other.tables: 102 pipelines in 111111111111, eu-west-1 (big 60, other 42)")
    context["environments"]["big"]["pipeline_quota"] = 200
    plan(context)
    context["environments"]["other"]["region"] = "us-west-2"  # another region has a quota of its own
    del context["environments"]["big"]["pipeline_quota"]
    plan(context)
