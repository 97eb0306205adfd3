"""Rules across environments: in any account and region a table has one environment that declares or
writes it, and every stack of the app has a name of its own. Each mistake is one line naming both places."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from ddb_datapipeline.app_builder import plan
from ddb_datapipeline.config import ConfigError, load_environments

OWNED = {"partition_key": {"name": "pk", "type": "S"}}


def env(region: str = "us-east-1", account: str | None = "111111111111", **table: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"region": region, "tables": [{"name": "orders", **table}]}
    if account:
        settings["account"] = account
    return settings


def error_of(environments: dict[str, Any], **context: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        plan({"environments": environments, **context})
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_two_environments_may_not_declare_one_table():
    message = error_of({"prod": env(owned=OWNED), "staging": env(owned=OWNED)})
    assert message == (
        "environments.staging.tables[orders].name: 'orders' is not allowed; expected each table declared by one environment only: "
        "environments.prod.tables[orders].name already declares it in us-east-1, account 111111111111"
    )


def test_an_environment_without_an_account_shares_every_account_of_its_region():
    message = error_of({"dev": env(account=None, owned=OWNED), "prod": env(owned=OWNED)})
    assert message.startswith("environments.prod.tables[orders].name: 'orders' is not allowed; expected each table declared by one environment only")
    assert message.endswith("environments.dev.tables[orders].name already declares it in us-east-1 (dev names no account, so it shares every account there)")


@pytest.mark.parametrize(
    "other",
    [
        env(account="222222222222", owned=OWNED),  # another account
        env(region="us-west-2", owned=OWNED),  # another region
        env(account=None, region="eu-west-1", owned=OWNED),  # no account, another region
    ],
)
def test_the_same_name_elsewhere_is_another_table(other):
    assert set(load_environments({"environments": {"prod": env(owned=OWNED), "other": other}})) == {"prod", "other"}


def test_a_created_restore_target_counts_as_declared():
    prod = env(owned=OWNED)  # creates orders-restore
    staging = {"account": "111111111111", "region": "us-east-1", "tables": [{"name": "orders-restore", "owned": OWNED}]}
    message = error_of({"prod": prod, "staging": staging})
    assert "environments.staging.tables[orders-restore].name: 'orders-restore' is not allowed; expected each table declared by one environment only" in message
    assert "environments.prod.tables[orders].restore.target_table already declares and restores into it in us-east-1" in message


def test_an_owned_copy_target_counts_as_declared():
    prod = env(owned=OWNED, copies=[{"target_table": "orders", "region": "us-west-2", "owned": True}])
    dr = env(region="us-west-2", owned=OWNED)
    message = error_of({"prod": prod, "dr": dr})
    assert message.startswith("environments.dr.tables[orders].name: 'orders' is not allowed; expected each table declared by one environment only")
    assert "environments.prod.tables[orders].copies[0].target_table already declares and copies into it in us-west-2, account 111111111111" in message


def test_an_environment_may_not_write_a_table_another_one_declares():
    dr = env(region="us-west-2", owned=OWNED)
    prod = env(owned=OWNED, copies=[{"target_table": "orders", "region": "us-west-2"}])
    message = error_of({"dr": dr, "prod": prod})
    assert message == (
        "environments.prod.tables[orders].copies[0].target_table: 'orders' is not allowed; expected a table no other environment declares "
        "(another environment may only read it): environments.dr.tables[orders].name already declares it in us-west-2, account 111111111111"
    )


def test_restoring_into_a_table_another_environment_declares_is_refused():
    prod = env(owned=OWNED)
    staging = env(restore={"target_table": "orders", "allow_into_source": True})
    assert "environments.staging.tables[orders].restore.target_table: 'orders' is not allowed; expected a table no other environment declares" in error_of(
        {"prod": prod, "staging": staging}
    )


def test_one_writer_per_table_across_environments():
    prod = env(copies=[{"target_table": "reporting", "region": "us-west-2"}])
    # A cross-account copy from another environment into the same table (it declares its target).
    staging = env(account="222222222222", owned=OWNED, copies=[{"target_table": "reporting", "region": "us-west-2", "account": "111111111111", "owned": True}])
    message = error_of({"prod": prod, "staging": staging})
    assert message == (
        "environments.staging.tables[orders].copies[0].target_table: 'reporting' is not allowed; expected one writer per table across "
        "environments: environments.prod.tables[orders].copies[0].target_table already copies into it in us-west-2, account 111111111111"
    )
    # Two restores into one existing table, from environments that share a region:
    two = {"a": env(account=None, restore={"target_table": "scratch"}), "b": env(restore={"target_table": "scratch"})}
    assert "expected one writer per table across environments: environments.a.tables[orders].restore.target_table already restores into it" in error_of(two)


def test_reading_a_table_another_environment_declares_is_fine():
    # dr exports the table prod's copy declares and fills; its restore goes to a table of its own.
    prod = env(owned=OWNED, copies=[{"target_table": "orders", "region": "us-west-2", "owned": True}])
    dr = env(region="us-west-2")
    assert set(load_environments({"environments": {"prod": prod, "dr": dr}})) == {"prod", "dr"}


def test_the_shipped_environments_pass_and_a_clone_of_one_collides(context):
    environments = load_environments(context)
    assert list(environments) == ["dev", "analytics", "prod"]
    context["environments"]["prod2"] = copy.deepcopy(context["environments"]["prod"])
    with pytest.raises(ConfigError, match=r"^environments\.prod2\.tables\[orders\]\.name: 'orders' is not allowed; expected each table declared by one environment only"):
        load_environments(context)


def test_an_environment_named_like_another_stack_is_refused(context):
    context["environments"]["delivery"] = context["environments"].pop("dev")
    context["delivery"]["stages"] = [{"environment": "prod"}, {"environment": "delivery"}]
    message = error_of(context["environments"], delivery=context["delivery"])
    assert message == (
        "environments.delivery: 'delivery' is not allowed; expected an environment name whose stacks are named apart from the app's "
        "other stacks (delivery makes the stack DdbDataPipeline-delivery)"
    )
    # Without a delivery pipeline the name is free.
    assert [e.name for e in plan({"environments": context["environments"]}).environments] == ["analytics", "prod", "delivery"]


def test_one_environments_node_roles_may_not_fall_under_anothers_prefix():
    """prod's pipeline role may pass ddb-prod-us-east-1-nodes-*: a second environment's node roles may not
    start that way in the same account, and may in another account."""
    tricky = "prod-us-east-1-nodes"  # its node roles: ddb-prod-us-east-1-nodes-us-east-1-nodes-...
    message = error_of({"prod": env(), tricky: env(region="eu-west-1")})
    assert message == (
        f"environments.{tricky}: '{tricky}' is not allowed; expected an environment name whose node roles "
        f"(ddb-{tricky}-eu-west-1-nodes-*) are apart from environments.prod's (ddb-prod-us-east-1-nodes-*) in one account"
    )
    plan({"environments": {"prod": env(), tricky: env(region="eu-west-1", account="222222222222")}})
