"""The incremental export's window, as its state machine computes it: the JSONata of the Window state
(``native_incremental.window_expression``), evaluated by jsonata-python with a fixed clock. Runs in
sequence never leave a gap or an overlap, stop short of now, cross midnight, and catch up after a pause."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

from jsonata import Jsonata

from ddb_datapipeline.constructs.native_incremental import MAX_WINDOW_MINUTES, SETTLE_MINUTES, window_expression


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def window(period: int, now: datetime, watermark: str) -> dict:
    body = window_expression(period, now=str(int(now.timestamp() * 1000))).removeprefix("{% ").removesuffix(" %}")
    states = {"input": {"table": "orders", "watermark": {"body": watermark}}}
    found = Jsonata(f"($states := {json.dumps(states)}; {body})").evaluate(None)["window"]
    return {**found, "minutes": found["milliseconds"] // 60_000}


def runs(period: int, times: list[datetime], watermark: str = "") -> list[dict]:
    """Each run at its time, the watermark moving to ``to`` after each export, as SaveWatermark does
    (a run whose window is under 15 minutes exports nothing and leaves it)."""
    found = []
    for now in times:
        computed = window(period, now, watermark)
        found.append(computed)
        if computed["minutes"] >= 15:
            watermark = computed["to"]
    return found


def test_a_first_run_starts_one_period_back_and_says_it_had_no_watermark():
    computed = window(60, at("2026-11-30T12:03:27Z"), "")
    assert computed == {"from": "2026-11-30T10:58:00.000Z", "to": "2026-11-30T11:58:00.000Z", "milliseconds": 3_600_000,
                        "minutes": 60, "resumed": False}


def test_hourly_runs_follow_each_other_without_a_gap_or_an_overlap():
    start = at("2026-11-30T21:02:10Z")
    times = [start + timedelta(hours=i, seconds=17 * i) for i in range(6)]  # the schedule's runs, each a little late
    exported = [w for w in runs(60, times) if w["minutes"] >= 15]
    assert len(exported) == 6
    for before, after in itertools.pairwise(exported):
        assert after["from"] == before["to"]  # ExportFromTime is inclusive, ExportToTime exclusive: no gap, no overlap
    for computed, now in zip(exported, times, strict=True):
        assert at(computed["to"]) <= now - timedelta(minutes=SETTLE_MINUTES)  # never in the future


def test_a_window_crosses_midnight():
    computed = window(30, at("2026-12-01T00:20:00Z"), "2026-11-30T23:50:00.000Z")
    assert (computed["from"], computed["to"], computed["minutes"], computed["resumed"]) == (
        "2026-11-30T23:50:00.000Z", "2026-12-01T00:15:00.000Z", 25, True)


def test_after_missed_runs_each_run_catches_up_a_day_at_most_until_it_is_level():
    paused = "2026-11-27T08:00:00.000Z"  # three days and a bit without a run
    now = at("2026-11-30T12:00:00Z")
    caught = runs(60, [now + timedelta(minutes=m) for m in range(0, 6 * 60, 60)], paused)
    # 27 Nov 08:00 to 30 Nov 08:00 in three days; the fourth run, at 15:00, reaches 14:55 (6 h 55 min)
    assert [w["minutes"] for w in caught[:4]] == [MAX_WINDOW_MINUTES] * 3 + [6 * 60 + 55]
    assert caught[0]["from"] == paused
    for before, after in itertools.pairwise(caught):
        assert after["from"] == before["to"]
    assert caught[4]["minutes"] == 60 and caught[5]["minutes"] == 60


def test_a_run_too_soon_after_the_last_finds_a_window_under_15_minutes():
    computed = window(60, at("2026-11-30T12:10:00Z"), "2026-11-30T11:58:00.000Z")
    assert computed["minutes"] == 7 and computed["to"] == "2026-11-30T12:05:00.000Z"
