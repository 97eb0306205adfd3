"""How tables without a stack_group are spread over table stacks (issue 27 item 5): rendezvous hashing moves only
the tables a change of table_stacks must move, modulo keeps deployed environments where they are, an environment
of several table stacks must say which, and ``plan-stacks`` prints the moves and the lines that prevent them.
No synth: configuration only."""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ddb_datapipeline.__main__ import main
from ddb_datapipeline.config import load_environments
from ddb_datapipeline.config.stack_groups import MAX_TABLE_STACKS, automatic_group, table_stacks_needed
from tests.conftest import config_error

OWNED = {"partition_key": {"name": "pk", "type": "S"}}
GENERATED = [f"table-{index:04d}" for index in range(200)]  # as local_deploy/generated.py names them


def rendezvous(name: str, count: int) -> str:
    """The documented rule, restated here apart from the product's code: the group among tables-01..tables-NN with
    the highest first 8 bytes (big-endian) of SHA-256("<table>/<group>")."""
    weights = {f"tables-{i:02d}": int.from_bytes(hashlib.sha256(f"{name}/tables-{i:02d}".encode()).digest()[:8], "big")
               for i in range(1, count + 1)}
    return max(weights, key=lambda group: weights[group])


def spread(names: list[str], count: int, assignment: str = "rendezvous") -> dict[str, str]:
    return {name: automatic_group(name, count, assignment=assignment) for name in names}


def moved(before: dict[str, str], after: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}


# --- rendezvous: what moves when table_stacks changes ---------------------------------------------------------------

def test_rendezvous_is_the_documented_rule():
    assert spread(GENERATED[:40], 7) == {name: rendezvous(name, 7) for name in GENERATED[:40]}
    assert spread(GENERATED[:5], 1) == dict.fromkeys(GENERATED[:5], "main")  # one table stack: the environment's own


def test_raising_4_to_5_moves_at_most_a_quarter_and_only_into_the_new_stack():
    moves = moved(spread(GENERATED, 4), spread(GENERATED, 5))
    assert {to for _from, to in moves.values()} == {"tables-05"}
    assert 0 < len(moves) <= len(GENERATED) // 4  # expected 200/5 = 40; modulo moves about 4 in 5


def test_lowering_5_to_4_moves_only_the_removed_stacks_tables():
    before, after = spread(GENERATED, 5), spread(GENERATED, 4)
    assert set(moved(before, after)) == {name for name, group in before.items() if group == "tables-05"}


@pytest.mark.parametrize("count", range(2, 13))
def test_every_step_up_or_down_moves_only_into_or_out_of_the_last_stack(count):
    before, after = spread(GENERATED, count), spread(GENERATED, count + 1)
    new = f"tables-{count + 1:02d}"
    assert moved(before, after) == {name: (group, new) for name, group in before.items() if after[name] == new}
    assert moved(after, before) == {name: (new, before[name]) for name, group in after.items() if group == new}


def test_table_stacks_needed_counts_the_spread_a_synth_would_make():
    """The incremental search (one hash a table per count) agrees with assigning every table at every count."""
    for names, fits in ((GENERATED, 15), (GENERATED[:50], 15), (GENERATED[:120], 9), (GENERATED[:30], 4)):
        direct = next(count for count in range(2, MAX_TABLE_STACKS + 1) if max(Counter(spread(names, count).values()).values()) <= fits)
        assert table_stacks_needed(names, fits, 1, assignment="rendezvous") == direct
        assert table_stacks_needed(names, fits, direct, assignment="rendezvous") > direct  # more than now
    assert table_stacks_needed(GENERATED, 2, 1, assignment="rendezvous") is None  # 99 stacks of 2 hold 198 at best


# --- modulo: deployed environments keep their stacks ----------------------------------------------------------------

def test_modulo_keeps_the_stacks_of_the_assignment_before_it_had_a_name():
    """Groups the code before stack_assignment gave (computed with it, main at 5f6c6f8): a deployed environment that
    states modulo keeps every table where it is."""
    names = ["orders", "customers", "payments", "ledger", "events", "sessions"]
    assert spread(names, 4, "modulo") == {"orders": "tables-01", "customers": "tables-02", "payments": "tables-01",
                                          "ledger": "tables-04", "events": "tables-04", "sessions": "tables-04"}
    assert spread(names, 7, "modulo") == {"orders": "tables-07", "customers": "tables-06", "payments": "tables-02",
                                          "ledger": "tables-06", "events": "tables-04", "sessions": "tables-02"}


# --- the switch: an environment of several table stacks states its assignment ---------------------------------------

def environment(names: list[str], **settings: Any) -> dict[str, Any]:
    tables = [{"name": name, "owned": OWNED} for name in names]
    return {"environments": {"big": {"account": "111111111111", "region": "eu-west-1", "tables": tables, **settings}}}


def test_several_table_stacks_without_an_assignment_are_refused_naming_the_value_that_keeps_todays_stacks():
    assert config_error(load_environments, environment(GENERATED[:8], table_stacks=4)) == (
        'environments.big.stack_assignment: missing with table_stacks 4 is not allowed; expected "modulo" (keeps every '
        'table in the stack it is deployed in today) or "rendezvous" (for a new environment: a later change of '
        "table_stacks moves only the tables it must)"
    )


def test_one_table_stack_needs_no_assignment_and_any_stated_one_keeps_the_environments_stack():
    for settings in ({}, {"stack_assignment": "modulo"}, {"stack_assignment": "rendezvous"}):
        env = load_environments(environment(GENERATED[:8], **settings))["big"]
        assert {table.stack_group for table in env.tables} == {"main"}


@pytest.mark.parametrize("value, shown", [("hash", "'hash'"), ("Rendezvous", "'Rendezvous'"), (2, "2")])
def test_an_unknown_assignment_is_one_line(value, shown):
    message = config_error(load_environments, environment(GENERATED[:8], table_stacks=2, stack_assignment=value))
    assert re.fullmatch(rf"environments\.big\.stack_assignment: {shown}( \(.*\))? is not allowed; expected one of rendezvous, modulo",
                        message), message


def test_the_stated_assignment_decides():
    for assignment in ("modulo", "rendezvous"):
        env = load_environments(environment(GENERATED[:40], table_stacks=5, stack_assignment=assignment))["big"]
        assert env.stack_assignment == assignment
        assert {table.name: table.stack_group for table in env.tables} == spread(GENERATED[:40], 5, assignment)
    assert spread(GENERATED[:40], 5, "modulo") != spread(GENERATED[:40], 5, "rendezvous")  # else this test proves nothing


# --- plan-stacks --------------------------------------------------------------------------------------------------

SMALL = ["orders", "customers", "payments", "ledger", "events", "sessions", "invoices", "carts"]


def write_cdk_json(path: Path, settings: dict[str, Any], tables: list[dict[str, Any]]) -> Path:
    other = {"region": "us-east-1", "tables": [{"name": "audit"}]}  # another environment, left alone
    context = {"environments": {"shop": {"account": "111111111111", "region": "eu-west-1", **settings, "tables": tables},
                                "other": other}}
    path.write_text(json.dumps({"app": "python3 app.py", "context": context}, indent=1))
    return path


def small_tables() -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = [{"name": name, "owned": OWNED} for name in SMALL]
    tables[2]["stack_group"] = "pay"  # payments states its stack: it never moves
    tables[5] = {"name": "sessions"}  # referenced, not declared: it declares no table
    return tables


def plan_stacks(capsys: pytest.CaptureFixture[str], cdk_json: Path, *args: str) -> tuple[int, list[str], str]:
    code = main(["plan-stacks", "--cdk-json", str(cdk_json), "--env", "shop", *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def apply_pins(cdk_json: Path, lines: list[str], settings: dict[str, Any]) -> None:
    """Does what the output says: paste each ``"stack_group": ...`` line into its table's object, and the
    environment's fields into the environment."""
    data = json.loads(cdk_json.read_text())
    env = data["context"]["environments"]["shop"]
    start = next(i for i, line in enumerate(lines) if line.startswith("to keep them where they are"))
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        table, pasted = line.split(maxsplit=1)
        (entry,) = [t for t in env["tables"] if t["name"] == table]
        entry.update(json.loads("{" + pasted.rstrip(",") + "}"))
    env.update(settings)
    cdk_json.write_text(json.dumps(data))


def test_plan_stacks_prints_each_move_and_the_lines_that_keep_the_tables_where_they_are(tmp_path, capsys):
    cdk_json = write_cdk_json(tmp_path / "cdk.json", {"table_stacks": 2, "stack_assignment": "rendezvous"}, small_tables())
    code, lines, err = plan_stacks(capsys, cdk_json, "--table-stacks", "3")
    hashed = [name for name in SMALL if name != "payments"]
    before = {name: rendezvous(name, 2) for name in hashed}
    after = {name: rendezvous(name, 3) for name in hashed}
    moving = [name for name in hashed if before[name] != after[name]]
    assert moving and all(after[name] == "tables-03" for name in moving)  # the example shows a move, into the new stack only
    width = max(map(len, moving))
    declares = {name: "" if name == "sessions" else f"  declares {name}, {name}-restore" for name in moving}

    def count(groups: dict[str, str], group: str) -> int:
        return list(groups.values()).count(group)

    groups = ("tables-01", "tables-02", "tables-03")  # pay holds payments now and planned: not a change
    per_stack = ", ".join(f"{g} {count(before, g)} -> {count(after, g)}" for g in groups if count(before, g) != count(after, g))
    fullest = max(groups, key=lambda g: (count(after, g), -groups.index(g)))
    assert (code, err) == (0, "")
    assert lines == [
        "shop: table_stacks 2 -> 3, stack_assignment rendezvous -> rendezvous",
        f"tables per stack, now -> planned: {per_stack}; the fullest planned is {fullest} with {count(after, fullest)}",
        f"{len(moving)} of 8 tables move (from-stack -> to-stack):",
        *(f"  {name:<{width}}  DdbDataPipeline-shop-{before[name]} -> DdbDataPipeline-shop-tables-03{declares[name]}" for name in moving),
        "to keep them where they are, add each line to that table's object in environments.shop.tables:",
        *(f'  {name:<{width}}  "stack_group": "{before[name]}",' for name in moving),
        "and in environments.shop:",
        '  "table_stacks": 3,',
    ]
    # Doing what it says keeps every table where it is, and a second plan finds nothing to move.
    groups_now = {t.name: t.stack_group for t in load_environments(json.loads(cdk_json.read_text())["context"])["shop"].tables}
    apply_pins(cdk_json, lines, {"table_stacks": 3})
    groups_then = {t.name: t.stack_group for t in load_environments(json.loads(cdk_json.read_text())["context"])["shop"].tables}
    assert groups_then == groups_now
    code, lines, _err = plan_stacks(capsys, cdk_json, "--table-stacks", "3")
    assert lines[2:] == ["no table moves (8 tables)"]


def test_plan_stacks_for_a_first_split_and_for_a_switch_of_assignment(tmp_path, capsys):
    """From one stack every hashed table leaves the environment's stack, and the environment must state its
    assignment; from modulo to rendezvous at the same count, the tables the two rules place apart move."""
    cdk_json = write_cdk_json(tmp_path / "cdk.json", {}, small_tables())
    code, lines, _err = plan_stacks(capsys, cdk_json, "--table-stacks", "2")
    assert code == 0 and lines[0] == "shop: table_stacks 1 -> 2, stack_assignment (none) -> rendezvous"
    assert lines[2] == "7 of 8 tables move (from-stack -> to-stack):"
    assert lines[-2:] == ["and in environments.shop:", '  "table_stacks": 2, "stack_assignment": "rendezvous",']
    assert [line.split()[1] for line in lines[11:18]] == ['"stack_group":'] * 7 and all(line.endswith('"main",') for line in lines[11:18])

    cdk_json = write_cdk_json(tmp_path / "cdk.json", {"table_stacks": 4, "stack_assignment": "modulo"}, small_tables())
    code, lines, _err = plan_stacks(capsys, cdk_json, "--table-stacks", "4", "--assignment", "rendezvous")
    hashed = [name for name in SMALL if name != "payments"]
    apart = [name for name in hashed if automatic_group(name, 4, assignment="modulo") != rendezvous(name, 4)]
    assert code == 0 and lines[2] == f"{len(apart)} of 8 tables move (from-stack -> to-stack):" and apart
    assert lines[-2:] == ["and in environments.shop:", '  "stack_assignment": "rendezvous",']
    before = {t.name: t.stack_group for t in load_environments(json.loads(cdk_json.read_text())["context"])["shop"].tables}
    apply_pins(cdk_json, lines, {"stack_assignment": "rendezvous"})
    assert {t.name: t.stack_group for t in load_environments(json.loads(cdk_json.read_text())["context"])["shop"].tables} == before


@pytest.mark.parametrize("args, settings, expected", [
    (["--table-stacks", "0"], {}, "error: --table-stacks: 0 is not allowed; expected a whole number from 1 to 99"),
    (["--table-stacks", "100"], {}, "error: --table-stacks: 100 is not allowed; expected a whole number from 1 to 99"),
    (["--table-stacks", "3", "--env", "nope"], {},
     "configuration error: --env: 'nope' is not a configured environment; expected one of shop, other"),
    (["--table-stacks", "3"], {"table_stacks": 2},
     'configuration error: environments.shop.stack_assignment: missing with table_stacks 2 is not allowed; expected "modulo" '
     '(keeps every table in the stack it is deployed in today) or "rendezvous" (for a new environment: a later change of '
     "table_stacks moves only the tables it must)"),
])
def test_plan_stacks_refuses_in_one_line(tmp_path, capsys, args, settings, expected):
    cdk_json = write_cdk_json(tmp_path / "cdk.json", settings, small_tables())
    code, lines, err = plan_stacks(capsys, cdk_json, *args)
    assert (code, lines, err) == (2, [], expected + "\n")


def test_plan_stacks_refuses_a_cdk_json_that_repeats_an_environment(tmp_path, capsys):
    cdk_json = write_cdk_json(tmp_path / "cdk.json", {}, small_tables())
    text = cdk_json.read_text()
    cdk_json.write_text(text.replace('"other": {', '"shop": {"region": "us-east-1", "tables": []}, "other": {', 1))
    code, lines, err = plan_stacks(capsys, cdk_json, "--table-stacks", "2")
    assert (code, lines, err) == (2, [], 'configuration error: cdk.json: key "shop" appears twice in context.environments; '
                                         "expected each key once (the CDK CLI would silently keep only the last)\n")
