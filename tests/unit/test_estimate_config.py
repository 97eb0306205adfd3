"""Table facts in the configuration, the synth-time duration check and the ``estimate`` command."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ddb_datapipeline.__main__ import main
from ddb_datapipeline.app_builder import plan
from ddb_datapipeline.config import ConfigError, load_environments
from ddb_datapipeline.config.estimates import MARGIN, check_durations, estimate_environment
from tests.conftest import config_error


def single(table: dict[str, Any], **env: Any) -> dict[str, Any]:
    return {"environments": {"dev": {"region": "us-east-1", **env, "tables": [{"name": "orders", **table}]}}}


def refusal(context: dict[str, Any]) -> str:
    return config_error(plan, context)


PROVISIONED = {"billing_mode": "PROVISIONED", "read_capacity": 1000, "write_capacity": 100,
               "partition_key": {"name": "id", "type": "S"}}


def test_facts_are_optional_and_read_when_given(context):
    assert all(t.size_gib is None and t.item_count is None for e in load_environments(context).values() for t in e.tables)
    table = load_environments(single({"size_gib": 120, "item_count": 5_000_000}))["dev"].tables[0]
    assert (table.size_gib, table.item_count) == (120.0, 5_000_000)


@pytest.mark.parametrize(("facts", "expected"), [
    ({"size_gib": 0}, "environments.dev.tables[orders].size_gib: 0 is not allowed; expected a number of GiB above 0"),
    ({"size_gib": "120"}, "size_gib: '120' is not allowed"),
    ({"size_gib": True}, "size_gib: true is not allowed"),
    ({"item_count": 1.5}, "item_count: 1.5 is not allowed; expected a whole number"),
    ({"item_count": 0}, "item_count: 0 is not allowed"),
    ({"size_gib": 1, "item_count": 10}, "item_count: 10 is not allowed; expected at least 2622 items for size_gib 1"),
])
def test_wrong_facts_are_one_line(facts, expected):
    with pytest.raises(ConfigError) as caught:
        load_environments(single(facts))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_shipped_config_has_no_facts_and_passes(context):
    plan(context)
    assert all(not estimate_environment(env) for env in load_environments(context).values())


def test_terminate_after_too_short_for_the_stated_size_fails_with_one_line():
    """100 GiB at floor(1,000 x 0.25) = 250 RCU/s takes 14.81 h (test_estimate); x1.5 = 22.2 h > 6 h."""
    message = refusal(single({"owned": PROVISIONED, "size_gib": 100, "export": {"schedule": "ondemand"}}))
    assert message.startswith("environments.dev.emr.terminate_after: '6 hours' is not allowed; expected at least '23 hours' for table 'orders'")
    assert "export is estimated at 14.8 h" in message and "100 GiB at 250 RCU/s" in message
    assert "set emr.terminate_after to '23 hours' (emr.core_instance_count 1 is enough) or raise tables[orders].export.read_ratio" in message


def test_the_suggestion_passes():
    plan(single({"owned": PROVISIONED, "size_gib": 100, "export": {"schedule": "ondemand"}}, emr={"terminate_after": "23 hours"}))


def test_the_margin_applies():
    """14.81 h fits '15 hours' without a margin, not with one."""
    assert MARGIN > 15 / 14.82
    refusal(single({"owned": PROVISIONED, "size_gib": 100, "export": {"schedule": "ondemand"}}, emr={"terminate_after": "15 hours"}))


def test_a_scheduled_export_must_end_before_the_next_starts():
    """14.81 h x 1.5 = 22.2 h fits a 1-day terminate_after but not a 12-hour schedule."""
    message = refusal(single({"owned": PROVISIONED, "size_gib": 100, "export": {"schedule": "12 hours"}}, emr={"terminate_after": "1 day"}))
    assert message.startswith("environments.dev.tables[orders].export.schedule: '12 hours' is not allowed; expected a period of at least 23 hours")
    assert "raise tables[orders].export.read_ratio" in message


def test_a_copy_is_checked_per_cluster_and_as_a_whole():
    table = {"owned": PROVISIONED, "size_gib": 100, "export": {"schedule": "ondemand"},
             "copies": [{"target_table": "orders-copy", "owned": True, "schedule": "12 hours"}]}
    message = refusal(single(table, emr={"terminate_after": "1 day"}))
    assert message.startswith("environments.dev.tables[orders].copies[0].schedule: '12 hours' is not allowed")


def test_a_small_table_passes_and_the_check_sees_every_environment(context):
    context["environments"]["prod"]["tables"][0]["size_gib"] = 1
    plan(context)
    context["environments"]["prod"]["tables"][0]["size_gib"] = 100
    context["env"] = "dev"  # another environment selected: the whole configuration is still checked
    assert "environments.prod.emr.terminate_after" in refusal(context)


def test_check_durations_alone_refuses_nothing_without_facts(context):
    check_durations(load_environments(context).values())


def test_estimate_command_prints_every_pipeline_as_json(tmp_path, capsys, context):
    context["environments"]["prod"]["tables"][0]["size_gib"] = 100
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "x", "context": context}))
    assert main(["estimate", "--cdk-json", str(path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    pipelines = {(r["environment"], r["table"], r["pipeline"]) for r in rows}
    assert ("prod", "orders", "export") in pipelines and ("dev", "orders", "copy:orders-staging-eu-west-1") in pipelines
    assert len(rows) == 13  # 4 tables x (export + restore) + 5 copies
    export = next(r for r in rows if (r["environment"], r["table"], r["pipeline"]) == ("prod", "orders", "export"))
    assert export["stages"][0]["units_per_second"] == 50  # floor(200 x 0.25)
    assert export["hours"] == pytest.approx(0.25 + 100 * 1024**3 / (50 * 8192) / 3600, abs=1e-3)
    assert export["fits_terminate_after"] is False
    for key in ("instance_hours", "useful_core_nodes", "estimated_cost_per_run", "estimated_storage_cost_per_month"):
        assert export[key] is not None
    unsized = next(r for r in rows if r["environment"] == "dev")
    assert unsized["hours"] is None and unsized["stages"][0]["transfer_hours_per_gib"] > 0


def test_estimate_command_text_and_errors(tmp_path, capsys):
    assert main(["estimate", "--cdk-json", str(Path(__file__).parents[2] / "cdk.json")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("environment/table") and "costs are estimates" in out
    assert main(["estimate", "--cdk-json", str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.endswith("missing.json: no such file\n")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"context": single({"size_gib": -1})}))
    assert main(["estimate", "--cdk-json", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("configuration error: environments.dev.tables[orders].size_gib")


def test_the_readme_shows_the_refusal_as_synth_prints_it():
    readme = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = readme.split("## Estimate duration and cost", 1)[1].split("\n## ", 1)[0]
    message = refusal(single({"owned": PROVISIONED, "size_gib": 100, "export": {"schedule": "ondemand"}}))
    assert f"configuration error: {message}\n" in section


def test_a_counted_copy_is_refused_for_its_one_cluster_copy_then_count():
    """An incremental copy runs one cluster: the copy, then the count after it (verify, on by default); the
    refusal states that whole time, which is what terminate_after must cover."""
    owned = {**PROVISIONED, "read_capacity": 2000}
    window = {"attribute": "updated_at", "format": "epoch_seconds"}
    copy = {"target_table": "orders-recent", "owned": True, "schedule": "1 day", "incremental": window, "read_ratio": 0.1}
    context = single({"owned": owned, "size_gib": 100, "export": {"read_ratio": 1.0}, "copies": [copy]}, account="111111111111")
    message = refusal(context)
    assert message.startswith("environments.dev.emr.terminate_after: '6 hours' is not allowed; expected at least '")
    assert "its copy:orders-recent-us-east-1 is estimated at " in message and " h on one cluster (" in message
    assert " h copying 100 GiB at 200 RCU/s with the 15 min start-up then " in message and " h counting the copy, x1.5 margin)" in message
    counted = [f.estimate for f in estimate_environment(load_environments(context)["dev"]) if f.estimate.pipeline.startswith("copy:")][0]
    assert counted.after and counted.longest_stage_hours > max(stage.hours for stage in counted.stages)
    uncounted = single({"owned": owned, "size_gib": 100, "export": {"read_ratio": 1.0}, "copies": [{**copy, "verify": False}]},
                       account="111111111111")
    (plain,) = [f.estimate for f in estimate_environment(load_environments(uncounted)["dev"]) if f.estimate.pipeline.startswith("copy:")]
    assert not plain.after and plain.hours < counted.hours
