"""The local runner's reading of a stored filterSql (local_deploy/hive_filter.py) against the configuration's
own reading (the predicate and the window worked out in Python, local_deploy/drill.py ``selected``): they
must keep the same generated items, or the drill's verification of a filtered copy would prove nothing."""
from __future__ import annotations

import pytest

from ddb_datapipeline.acceptance.items import generate_items
from ddb_datapipeline.definition.common import ScheduleSpec
from ddb_datapipeline.definition.filters import parse_filter, to_hive
from ddb_datapipeline.definition.hive_copy import CopySelection, IncrementalWindow
from ddb_datapipeline.definition.run_time import at_run
from local_deploy.drill import SCHEDULED_START, selected
from local_deploy.hive_filter import UnreadableFilter, holds, keeps

ITEMS = generate_items(200, partition_key=("pk", "S"), sort_key=("sk", "S"))
FILTERS = [
    "status in ('OPEN', 'PENDING') and total >= 100",
    "status <> 'CLOSED' or total < 10.5",
    "updated_at is null",
    "(status = 'OPEN' or status = 'PENDING') and (total > 0 and total <= 500)",
    "status = 'it''s'",
]


@pytest.mark.parametrize("text", FILTERS)
def test_the_stored_filter_keeps_what_the_predicate_keeps(text):
    predicate = parse_filter(text)
    kept = [keeps(to_hive(predicate), item) for item in ITEMS]
    assert kept == [holds(predicate, item) for item in ITEMS]
    if text != "status = 'it''s'":
        assert 0 < sum(kept) < len(ITEMS) or text == "updated_at is null"


@pytest.mark.parametrize("period, overlap", [("1 hour", 15), ("1 day", 60), ("6 hours", 1)])
def test_a_window_of_the_stored_filter_keeps_what_the_configuration_says(period, overlap):
    selection = CopySelection(incremental=IncrementalWindow("updated_at", "epoch_seconds", overlap),
                              row_filter=parse_filter("total >= 0"))
    sql = at_run(selection.filter_sql(period), SCHEDULED_START)
    kept = [keeps(sql, item) for item in ITEMS]
    assert kept == [selected(selection, ScheduleSpec(period), item) for item in ITEMS]
    assert 0 < sum(kept) < len(ITEMS)


def test_a_number_attribute_read_by_a_string_column_is_null_as_in_hive():
    item = {"pk": {"S": "a"}, "total": {"N": "5"}, "status": {"S": "5"}}
    assert keeps("`total` = 5", item) and keeps("`status` = '5'", item)
    assert not keeps("`total` = '5'", item) and not keeps("`status` = 5", item)


def test_sql_this_project_does_not_render_is_refused():
    with pytest.raises(UnreadableFilter):
        keeps("`status` LIKE 'O%'", ITEMS[0])
