"""The window of an incremental copy as a run reads it: the filterSql's Data Pipeline expressions evaluated
for a scheduled start (definition/run_time.py), across midnight, a month's end and a sequence of runs."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from ddb_datapipeline.definition.filters import parse_filter
from ddb_datapipeline.definition.hive_copy import CopySelection, IncrementalWindow
from ddb_datapipeline.definition.run_time import UnknownExpression, at_run, joda_format

BOUNDS = re.compile(r"unix_timestamp\('([^']+)'\)")


def window(time_format: str, period: str, overlap: int, run: datetime) -> str:
    selection = CopySelection(incremental=IncrementalWindow("updated_at", time_format, overlap))
    return at_run(selection.filter_sql(period), run)


@pytest.mark.parametrize("run, period, overlap, lower, upper", [
    (datetime(2026, 3, 1, 0, 30), "1 hour", 45, "2026-02-28 22:45:00", "2026-03-01 00:30:00"),  # across midnight and February's end
    (datetime(2027, 1, 1, 0, 0), "1 day", 15, "2026-12-30 23:45:00", "2027-01-01 00:00:00"),  # across a year
    (datetime(2026, 3, 31, 6, 0), "1 month", 60, "2026-02-28 05:00:00", "2026-03-31 06:00:00"),  # a month back from the 31st
    (datetime(2026, 6, 8, 12, 0), "2 weeks", 1, "2026-05-25 11:59:00", "2026-06-08 12:00:00"),
])
def test_an_epoch_window_runs_from_a_period_and_the_overlap_before_the_run_to_the_run(run, period, overlap, lower, upper):
    assert window("epoch_seconds", period, overlap, run) == (
        f"`updated_at` >= unix_timestamp('{lower}') AND `updated_at` < unix_timestamp('{upper}')")


def test_an_iso_window_compares_utc_text_that_sorts_as_time():
    rendered = window("iso8601", "1 hour", 15, datetime(2026, 3, 1, 0, 5))
    assert rendered == "`updated_at` >= '2026-02-28T22:50:00' AND `updated_at` < '2026-03-01T00:05:00'"
    lower, upper = re.findall(r"'([^']+)'", rendered)
    stored = ["2026-02-28T22:49:59Z", "2026-02-28T22:50:00Z", "2026-02-28T23:59:59.999Z", "2026-03-01T00:04:59Z", "2026-03-01T00:05:00Z"]
    assert [lower <= value < upper for value in stored] == [False, True, True, True, False]


def test_consecutive_runs_leave_no_gap_and_overlap_by_the_overlap():
    """Twenty-four hourly runs across midnight: each window starts `overlap` before the previous one ended."""
    start = datetime(2026, 12, 31, 12, 0)
    windows = []
    for index in range(24):
        bounds = BOUNDS.findall(window("epoch_seconds", "1 hour", 15, start + timedelta(hours=index)))
        windows.append(tuple(datetime.fromisoformat(b).replace(tzinfo=UTC) for b in bounds))
    for (_, previous_end), (next_start, _) in zip(windows, windows[1:], strict=False):
        assert previous_end - next_start == timedelta(minutes=15)
    covered = sorted(windows)
    assert all(b[0] <= a[1] for a, b in zip(covered, covered[1:], strict=False))  # every instant in some window


def test_a_filter_joins_the_window_without_changing_it():
    selection = CopySelection(row_filter=parse_filter("status = 'OPEN'"), incremental=IncrementalWindow("updated_at", "epoch_seconds", 15))
    assert at_run(selection.filter_sql("1 hour"), datetime(2026, 1, 1)) == (
        "`updated_at` >= unix_timestamp('2025-12-31 22:45:00') AND `updated_at` < unix_timestamp('2026-01-01 00:00:00')"
        " AND (`status` = 'OPEN')")


def test_expressions_outside_the_projects_forms_are_refused():
    with pytest.raises(UnknownExpression):
        at_run("#{format(@actualStartTime, 'YYYY')}", datetime(2026, 1, 1))
    with pytest.raises(UnknownExpression):
        joda_format(datetime(2026, 1, 1), "EEE")
    assert joda_format(datetime(2026, 1, 2, 3, 4, 5), "YYYY-MM-dd'T'HH:mm:ss") == "2026-01-02T03:04:05"
