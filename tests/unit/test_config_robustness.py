"""Whatever a user writes into cdk.json, planning ends in a valid plan or one ConfigError line, and a valid
plan never has two environments holding one table."""
from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from ddb_datapipeline.app_builder import plan
from ddb_datapipeline.config import ConfigError, load_environments
from tests.conftest import cdk_json_context

WRONG_VALUES = (123, -1, 0.5, "zz", "", "a\nb", [], {}, True, ["x"], {"x": 1})


def leaves(node: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, path + (index,))
    yield path


def replaced(context: Any, path: tuple, value: Any) -> Any:
    """``context`` with the value at ``path`` replaced: the dicts and lists along the path are new, everything else is
    shared with ``context`` (a deep copy of the whole context per case was a third of this module's CPU). Sharing is
    safe because planning never changes the configuration it reads, which the tests below check (``unchanged``)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    changed = list(context) if isinstance(context, list) else dict(context)
    changed[head] = replaced(context[head], rest, value)
    return changed


def unchanged(context: Any, before: str) -> None:
    """Planning left ``context`` as it was (json text ``before``), so the cases that share its parts saw what they were given."""
    assert json.dumps(context, sort_keys=True) == before


USER_PART = {key: value for key, value in cdk_json_context().items() if key in ("environments", "delivery")}
PATHS = [p for p in leaves(USER_PART) if p]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: ".".join(map(str, p)))
def test_any_wrong_value_is_a_one_line_config_error(path):
    before = json.dumps(USER_PART, sort_keys=True)
    for value in WRONG_VALUES:
        try:
            plan(replaced(USER_PART, path, value))
        except ConfigError as error:
            message = str(error)
            assert "\n" not in message and message, (path, value)
            assert str(path[0]) in message or message.startswith("env"), (path, value, message)
    unchanged(USER_PART, before)


# Across environments: a third environment cloned from each shipped one into every kind of place, then
# every table name, target, region and account swapped for each other such value of the configuration.
# Planning either refuses in one line or returns environments that never hold one table twice.
PLACES = [(account, region) for account in (None, "111111111111", "222222222222") for region in ("eu-west-1", "us-east-1", "us-west-2")]
SWAPPED_KEYS = ("name", "target_table", "region", "account")


def with_clone(source: str, account: str | None, region: str, *, owned: bool, name: str = "extra") -> dict[str, Any]:
    """The shipped context plus a copy of one of its environments in another place; without ``owned``
    the copy declares none of its tables, so it only reads and writes."""
    context = copy.deepcopy(USER_PART)
    clone = copy.deepcopy(context["environments"][source])
    clone.pop("account", None)
    if account:
        clone["account"] = account
    clone["region"] = region
    if not owned:
        for table in clone["tables"]:
            table.pop("owned", None)
            for target in table.get("copies", []):
                target["owned"] = False
    context["environments"][name] = clone
    return context


def swaps(context: dict[str, Any]) -> Iterator[dict[str, Any]]:
    paths = [p for p in leaves(context) if p and p[-1] in SWAPPED_KEYS and p[0] == "environments"]
    values = {key: sorted({get(context, p) for p in paths if p[-1] == key and isinstance(get(context, p), str)}) for key in SWAPPED_KEYS}
    for path in paths:
        for value in values[path[-1]]:
            if value != get(context, path):
                yield replaced(context, path, value)


def get(context: dict[str, Any], path: tuple) -> Any:
    for key in path:
        context = context[key]
    return context


def held(env: Any) -> Iterator[tuple[str | None, str, str]]:
    """(account, region, table) of every table the environment declares or writes."""
    for table in env.tables:
        if table.owned is not None:
            yield env.account, env.region, table.name
        yield env.account, env.region, table.restore.target_table
        for target in table.copies:
            yield target.account or env.account, target.region, target.target_table


def assert_no_table_held_twice(context: dict[str, Any], delivery: Any) -> None:
    environments = load_environments(context)
    for first, second in itertools.combinations(environments.values(), 2):
        for a_account, a_region, a_table in held(first):
            for b_account, b_region, b_table in held(second):
                same_account = a_account is None or b_account is None or a_account == b_account
                assert not (same_account and a_region == b_region and a_table == b_table), (first.name, second.name, a_table, a_region)
    stack_names = [env.stack_name for env in environments.values()] + ([delivery.stack_name] if delivery else [])
    assert len(stack_names) == len(set(stack_names))


KINDS = {
    "declared twice": "declared by one environment only",
    "written twice": "one writer per table across environments",
    "written where declared": "a table no other environment declares",
    "stack name taken": "stacks are named apart",
}


def test_environments_combined_plan_or_refuse_in_one_line():
    outcomes = dict.fromkeys(["planned", *KINDS], 0)
    bases = [with_clone(source, account, region, owned=owned) for source, (account, region), owned in itertools.product(("dev", "prod"), PLACES, (True, False))]
    bases.append(with_clone("dev", "333333333333", "us-west-2", owned=True, name="delivery"))
    for base in bases:
        before = json.dumps(base, sort_keys=True)
        for context in [base, *swaps(base)]:
            try:
                result = plan(context)
            except ConfigError as error:
                message = str(error)
                assert "\n" not in message and message.startswith(("environments.", "delivery")), message
                outcomes.update({kind: outcomes[kind] + 1 for kind, text in KINDS.items() if text in message})
                continue
            outcomes["planned"] += 1
            assert_no_table_held_twice(context, result.delivery)
        unchanged(base, before)
    assert min(outcomes.values()) > 0, outcomes  # every rule was reached, and configurations passed


# load_environments keeps what it parsed of an environment (config/__init__.py, _environment_once): a repeated
# environment must still parse as its settings are now, whatever was parsed under the same name before.
def test_an_environment_changed_in_place_parses_as_it_is_now():
    context = copy.deepcopy(USER_PART)
    first = load_environments(context)["dev"]
    context["environments"]["dev"]["retain_data"] = not first.retain_data
    assert load_environments(context)["dev"].retain_data is not first.retain_data
    context["environments"]["dev"]["tables"][0]["name"] = "x"
    with pytest.raises(ConfigError, match=r"^environments\.dev\.tables\[x\]\.name: 'x' is not allowed"):
        load_environments(context)


@pytest.mark.parametrize("field, plain, lookalike, allowed", [
    ("retain_data", True, 1, "true or false"),
    ("table_stacks", 1, 1.0, "a whole number"),
    ("tables", "list", "tuple", "a list"),
])
def test_an_environment_of_lookalike_values_is_not_taken_for_one_parsed_before(field, plain, lookalike, allowed):
    """True and 1, 1 and 1.0, a list and a tuple are equal or alike in Python and parse differently."""
    context = copy.deepcopy(USER_PART)
    settings = context["environments"]["dev"]
    if plain == "list":
        plain, lookalike = list(settings["tables"]), tuple(settings["tables"])
    settings[field] = plain
    load_environments(context)
    settings[field] = lookalike
    with pytest.raises(ConfigError, match=rf"^environments\.dev\.{field}: .*expected {allowed}"):
        load_environments(context)
