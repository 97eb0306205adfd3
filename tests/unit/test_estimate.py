"""The estimator: worked examples computed by hand, and the properties any rate model must keep."""
from __future__ import annotations

import pytest

from ddb_datapipeline.definition.emr import ClusterSpec
from ddb_datapipeline.definition.estimate import (
    GIB,
    STARTUP_MINUTES,
    Side,
    TableFacts,
    map_slots_per_node,
    retained_runs,
    stage,
    storage_cost_per_month,
    units_per_second,
)
from ddb_datapipeline.definition.prices import instance_hour_price, m5_size_factor

CLUSTER = ClusterSpec()  # 1 master + 1 core, m5.xlarge
STARTUP_HOURS = STARTUP_MINUTES / 60


def test_provisioned_1000_rcu_at_a_quarter_on_100_gib():
    """By hand: floor(1,000 x 0.25) = 250 RCU/s. An eventually consistent read unit moves 8,192 bytes, so
    250 x 8,192 = 2,048,000 B/s (1.95 MiB/s). 100 GiB = 107,374,182,400 B / 2,048,000 B/s = 52,428.8 s
    = 14.5636 h of transfer, plus 0.25 h start-up = 14.8136 h. 250 // 100 = 2 mappers fit in one
    m5.xlarge (4 map slots): 1 useful core node. 2 instances x 14.8136 h = 29.627 instance-hours, at
    $0.192 + $0.048 (us-east-1) = $7.11. Provisioned reads are paid by the hour anyway: no request cost."""
    result = stage("read", Side("orders", "us-east-1", 1000, 0.25), TableFacts(100 * GIB), CLUSTER)
    assert result.units_per_second == 250
    assert result.bytes_per_second == 2_048_000
    assert result.transfer_hours == pytest.approx(52_428.8 / 3600)
    assert result.hours == pytest.approx(14.8136, abs=1e-4)
    assert result.useful_core_nodes == 1
    assert result.instance_hours == pytest.approx(29.627, abs=1e-3)
    assert result.cluster_cost == pytest.approx(7.11, abs=0.01)
    assert result.request_cost == 0.0


def test_on_demand_uses_the_connectors_40000_units():
    """By hand: floor(40,000 x 0.25) = 10,000 RCU/s x 8,192 B = 81,920,000 B/s. 107,374,182,400 B /
    81,920,000 B/s = 1,310.72 s = 0.36409 h, plus 0.25 h = 0.61409 h. 10,000 // 100 = 100 mappers /
    4 slots = 25 useful m5.xlarge core nodes. Reads billed: 107,374,182,400 / 8,192 = 13,107,200 read
    request units x $0.125 per million (us-east-1) = $1.6384."""
    result = stage("read", Side("orders", "us-east-1", None, 0.25), TableFacts(100 * GIB), CLUSTER)
    assert result.units_per_second == 10_000
    assert result.hours == pytest.approx(0.61409, abs=1e-5)
    assert result.useful_core_nodes == 25
    assert result.request_units == 13_107_200
    assert result.request_cost == pytest.approx(1.6384)


def test_tiny_table_is_dominated_by_start_up():
    """By hand: 1 MiB on 5 RCU at 0.5: floor(2.5) = 2 RCU/s x 8,192 = 16,384 B/s; 1,048,576 / 16,384 =
    64 s = 0.01778 h of transfer against 0.25 h of start-up: 0.26778 h, 93% of it start-up."""
    result = stage("read", Side("tiny", "eu-west-1", 5, 0.5), TableFacts(1024 * 1024), CLUSTER)
    assert result.units_per_second == 2
    assert result.transfer_hours == pytest.approx(64 / 3600)
    assert result.hours == pytest.approx(0.26778, abs=1e-5)
    assert STARTUP_HOURS / result.hours > 0.9


def test_write_costs_whole_write_units_per_item():
    """By hand: 100 GiB in 100,000,000 items = 1,073.7 B per item, so 2 WCU each. On-demand target at
    0.5: 20,000 WCU/s = 10,000 items/s; 100,000,000 / 10,000 = 10,000 s = 2.7778 h + 0.25 h."""
    result = stage("write", Side("orders-restore", "us-east-1", None, 0.5), TableFacts(100 * GIB, 100_000_000), CLUSTER)
    assert result.units_per_second == 20_000
    assert result.items_per_second == pytest.approx(10_000)
    assert result.hours == pytest.approx(10_000 / 3600 + STARTUP_HOURS)
    assert result.request_units == pytest.approx(200_000_000)


def test_the_ratio_is_floored_as_the_connector_does_and_never_below_one():
    assert units_per_second(Side("t", "us-east-1", 3, 0.1)) == 1  # floor(0.3) = 0, raised to 1
    assert units_per_second(Side("t", "us-east-1", 999, 0.5)) == 499


CAPACITIES = (1, 5, 99, 100, 250, 1000, 4000, 39_999, None)  # None: on-demand, 40,000 assumed
RATIOS = (0.1, 0.15, 0.25, 0.29, 0.5, 0.75, 0.9, 1.0)


@pytest.mark.parametrize("operation", ["read", "write"])
@pytest.mark.parametrize("size_gib", [0.001, 1, 100, 5000])
def test_more_capacity_or_a_higher_ratio_is_never_slower(operation, size_gib):
    facts = TableFacts(int(size_gib * GIB), 1000)
    for ratio in RATIOS:
        hours = [stage(operation, Side("t", "us-east-1", c, ratio), facts, CLUSTER).hours for c in CAPACITIES]
        assert hours == sorted(hours, reverse=True), (ratio, hours)
    for capacity in CAPACITIES:
        hours = [stage(operation, Side("t", "us-east-1", capacity, r), facts, CLUSTER).hours for r in RATIOS]
        assert hours == sorted(hours, reverse=True), (capacity, hours)


@pytest.mark.parametrize("operation", ["read", "write"])
@pytest.mark.parametrize("capacity", [1, 200, 1000, None])
def test_duration_beyond_start_up_scales_linearly_with_size(operation, capacity):
    side = Side("t", "us-east-1", capacity, 0.25)
    base = stage(operation, side, TableFacts(10 * GIB), CLUSTER)
    for factor in (2, 3, 10, 1000):
        scaled = stage(operation, side, TableFacts(10 * GIB * factor), CLUSTER)
        assert scaled.transfer_hours == pytest.approx(base.transfer_hours * factor)
        assert scaled.hours - STARTUP_HOURS == pytest.approx((base.hours - STARTUP_HOURS) * factor)


@pytest.mark.parametrize("count", [1, 2, 5, 50])
def test_core_nodes_change_cost_not_speed(count):
    side, facts = Side("t", "us-east-1", 1000, 0.25), TableFacts(100 * GIB)
    one = stage("read", side, facts, CLUSTER)
    many = stage("read", side, facts, ClusterSpec(core_instance_count=count))
    assert many.hours == one.hours
    assert many.instance_hours == pytest.approx(one.hours * (1 + count))


def test_map_slots_and_prices_come_from_the_size_name():
    assert [map_slots_per_node(t) for t in ("m5.large", "m5.xlarge", "m5.4xlarge", "r6g.16xlarge")] == [2, 4, 16, 64]
    assert m5_size_factor("m5.2xlarge") == 2.0 and m5_size_factor("c5.xlarge") is None
    assert instance_hour_price("us-east-1", "m5.xlarge") == pytest.approx(0.24)
    assert instance_hour_price("us-east-1", "r5.xlarge") is None
    assert stage("read", Side("t", "us-east-1", 10, 1.0), TableFacts(GIB), ClusterSpec(core_instance_type="r5.xlarge")).cluster_cost is None


def test_retained_exports_and_their_storage():
    """35 days of daily exports: 35 folders; 120 GiB each at $0.023 per GB-month = $96.60 a month."""
    assert retained_runs(1440, 35) == 35
    assert retained_runs(None, 35) == 1
    assert retained_runs(720, 14) == 28
    assert storage_cost_per_month(TableFacts(120 * GIB), "us-east-1", 35) == pytest.approx(96.6)


def test_an_unknown_operation_is_refused():
    with pytest.raises(ValueError):
        stage("delete", Side("t", "us-east-1", 1, 1.0), TableFacts(GIB), CLUSTER)


def test_a_filtered_copy_runs_one_cluster_as_long_as_its_longest_stage():
    """A copy through staging runs two clusters one after the other; a HiveCopyActivity reads and writes in
    one job on one cluster: its hours and instance-hours are those of the longer stage, not their sum."""
    from ddb_datapipeline.definition.estimate import PipelineEstimate

    facts = TableFacts(size_bytes=100 * GIB, item_count=None)
    read = stage("read", Side("orders", "us-east-1", 1000, 0.25), facts, CLUSTER)
    write = stage("write", Side("orders-open", "us-east-1", None, 0.5), facts, CLUSTER)
    staged = PipelineEstimate("copy:x", "orders", (read, write), None, None)
    together = PipelineEstimate("copy:x", "orders", (read, write), None, None, concurrent=True)
    assert staged.hours == pytest.approx(read.hours + write.hours)
    assert together.hours == pytest.approx(max(read.hours, write.hours)) and together.hours < staged.hours
    assert together.instance_hours == pytest.approx(max((read, write), key=lambda s: s.hours).instance_hours)
    assert together.cost_per_run is not None and staged.cost_per_run is not None and together.cost_per_run < staged.cost_per_run


def test_the_count_after_a_copy_adds_its_transfer_on_the_same_cluster():
    """The count reads the source again and the target in one job after the copy, on the copy's cluster:
    its transfer time (not a second start-up) adds to the run and to the cluster's terminateAfter bound,
    its instance-hours and cluster cost in proportion, and both reads' request charges."""
    from ddb_datapipeline.definition.estimate import STARTUP_MINUTES, PipelineEstimate

    facts = TableFacts(size_bytes=100 * GIB, item_count=None)
    read = stage("read", Side("orders", "us-east-1", 1000, 0.25), facts, CLUSTER)
    write = stage("write", Side("orders-recent", "us-east-1", None, 0.5), facts, CLUSTER)
    target_read = stage("read", Side("orders-recent", "us-east-1", None, 0.25), facts, CLUSTER)
    copy = PipelineEstimate("copy:x", "orders", (read, write), None, None, concurrent=True)
    counted = PipelineEstimate("copy:x", "orders", (read, write), None, None, concurrent=True, after=(read, target_read))
    assert counted.hours == pytest.approx(copy.hours + read.transfer_hours)  # the provisioned source's read is the slower
    assert counted.longest_stage_hours == pytest.approx(copy.longest_stage_hours + read.transfer_hours)
    assert counted.hours < copy.hours + read.hours  # no second start-up of STARTUP_MINUTES
    assert STARTUP_MINUTES > 0
    per_hour = read.instance_hours / read.hours
    assert counted.instance_hours == pytest.approx(copy.instance_hours + per_hour * read.transfer_hours)
    assert copy.cost_per_run is not None and counted.cost_per_run is not None
    assert counted.cost_per_run == pytest.approx(copy.cost_per_run + read.cluster_cost / read.hours * read.transfer_hours
                                                 + read.request_cost + target_read.request_cost)
    assert target_read.request_cost > 0  # the on-demand target's read is billed
