"""Duration, capacity and cost of a DynamoDB transfer, computed before it runs.

Pure arithmetic (no CDK, no clock, no network) so the CLI, the synth-time check and the tests share one
model. The physics are the EMR DynamoDB connector's (awslabs/emr-dynamodb-connector, emr-dynamodb-hadoop):

- ``read/ReadIopsCalculator.java``: the job may use ``floor(capacity x ratio)`` units per second in
  total, split over the tasks by their share of scan segments; for an on-demand table ``capacity`` is
  ``DynamoDBConstants.DEFAULT_CAPACITY_FOR_ON_DEMAND`` (40,000). ``write/WriteIopsCalculator.java`` does
  the same for writes.
- ``DynamoDBConstants.java``: a read unit is 4,096 bytes and the scan is eventually consistent
  (``READ_EVENTUALLY_TO_STRONGLY_CONSISTENT_FACTOR`` 2), so one read unit moves 8 KiB per second; a write
  unit is 1,024 bytes, so an item costs ``ceil(item bytes / 1 KiB)`` write units.
- ``read/AbstractDynamoDBInputFormat.java``: the job starts ``min(cluster map slots, floor(rate / 100))``
  mappers (``MIN_READ_THROUGHPUT_PER_MAP``); the rate is shared out among whatever mappers run, so
  nodes beyond those that hold the useful mappers add cost, not speed.

What the model leaves out (docs/configuration.md says so too): throttling by the application's own traffic, hot
partitions, auto scaling changing the capacity mid-run, and any per-mapper I/O ceiling. It is an
estimate of the planned rate, not a measurement.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .emr import ClusterSpec
from .prices import REGION_PRICES, instance_hour_price

GIB = 1024**3
ON_DEMAND_ASSUMED_UNITS = 40_000  # DynamoDBConstants.DEFAULT_CAPACITY_FOR_ON_DEMAND (connector >= 4.8.0)
BYTES_PER_READ_UNIT = 4096 * 2  # 4 KiB per unit, doubled for an eventually consistent scan
BYTES_PER_WRITE_UNIT = 1024
UNITS_PER_MAPPER = 100  # AbstractDynamoDBInputFormat.MIN_READ_THROUGHPUT_PER_MAP
# EMR provisions and bootstraps the cluster before the step runs: 10-20 minutes even for an empty
# table (the reference's section 8); the middle of that range.
STARTUP_MINUTES = 15
# Without item_count, items are assumed to fill their write unit (1 KiB): the fastest a write can be,
# so a refusal based on it is never a false alarm.
ASSUMED_ITEM_BYTES = BYTES_PER_WRITE_UNIT


@dataclass(frozen=True)
class TableFacts:
    """What the user states about a table; the connector itself reads these from DescribeTable."""

    size_bytes: int
    item_count: int | None = None

    @property
    def item_bytes(self) -> float:
        return self.size_bytes / self.item_count if self.item_count else ASSUMED_ITEM_BYTES


@dataclass(frozen=True)
class Side:
    """One table as the job sees it: its provisioned capacity (None: on-demand) and the ratio."""

    table: str
    region: str
    capacity: int | None
    ratio: float

    @property
    def on_demand(self) -> bool:
        return self.capacity is None


@dataclass(frozen=True)
class StageEstimate:
    """One job on one cluster: a scan of the source (read) or an import into the target (write)."""

    operation: str  # "read" or "write"
    table: str
    on_demand: bool
    units_per_second: int
    bytes_per_second: float
    items_per_second: float
    transfer_hours: float
    hours: float  # including the cluster's start-up
    useful_core_nodes: int  # more core nodes than this do not make the job faster
    instance_hours: float
    request_units: float  # units consumed; billed as request units on an on-demand table
    cluster_cost: float | None  # USD estimate; None without a price for the instance types
    request_cost: float  # USD estimate; 0 for a provisioned table (its capacity is paid anyway)


@dataclass(frozen=True)
class PipelineEstimate:
    pipeline: str  # export, restore or copy:<label>
    table: str
    stages: tuple[StageEstimate, ...]
    period_hours: float | None  # the schedule's period; None on demand
    storage_cost_per_month: float | None  # USD estimate for the retained exports
    # One cluster runs the stages together (a HiveCopyActivity reads and writes in one job): the run lasts
    # as long as its longest stage and pays one cluster for it.
    concurrent: bool = False
    # A job run after the stages on the same (concurrent) cluster, its stages together: the count after a
    # copy (hive_verify) reading the source and the target. It adds its transfer time, not a second start-up.
    after: tuple[StageEstimate, ...] = ()

    @property
    def after_hours(self) -> float:
        return max((stage.transfer_hours for stage in self.after), default=0.0)

    @property
    def hours(self) -> float:
        return self.longest_stage_hours if self.concurrent else sum(stage.hours for stage in self.stages) + self.after_hours

    @property
    def longest_stage_hours(self) -> float:
        """Each stage runs on its own cluster, so terminateAfter bounds each stage, not their sum; a job
        after the stages runs on the same cluster, so it counts towards that cluster's bound."""
        return max(stage.hours for stage in self.stages) + self.after_hours

    def _after_share(self, value: float | None) -> float | None:
        """The part of a whole-stage figure (instance-hours, cluster cost) the after job's transfer takes."""
        if not self.after or value is None:
            return 0.0 if value is not None else None
        slowest = max(self.after, key=lambda stage: stage.transfer_hours)
        return value / slowest.hours * slowest.transfer_hours

    @property
    def useful_core_nodes(self) -> int:
        return max(stage.useful_core_nodes for stage in self.stages)

    @property
    def instance_hours(self) -> float:
        slowest_after = max(self.after, key=lambda stage: stage.transfer_hours).instance_hours if self.after else 0.0
        after = self._after_share(slowest_after) or 0.0
        if self.concurrent:
            return max(self.stages, key=lambda stage: stage.hours).instance_hours + after
        return sum(stage.instance_hours for stage in self.stages) + after

    @property
    def cost_per_run(self) -> float | None:
        cluster = [max(self.stages, key=lambda stage: stage.hours).cluster_cost] if self.concurrent else [s.cluster_cost for s in self.stages]
        if self.after:
            cluster.append(self._after_share(max(self.after, key=lambda stage: stage.transfer_hours).cluster_cost))
        if any(cost is None for cost in cluster):
            return None
        return sum(cost for cost in cluster if cost is not None) + sum(stage.request_cost for stage in (*self.stages, *self.after))


def units_per_second(side: Side) -> int:
    """The connector's total rate: floor(capacity x ratio) in double arithmetic, at least 1."""
    capacity = ON_DEMAND_ASSUMED_UNITS if side.capacity is None else side.capacity
    return max(int(math.floor(capacity * side.ratio)), 1)


def map_slots_per_node(instance_type: str) -> int:
    """Concurrent map tasks a core node runs: EMR's defaults give one per vCPU on general-purpose
    types (m5.xlarge: 12,288 MiB of YARN memory / 3,072 MiB per map = 4). Read from the size name."""
    size = instance_type.partition(".")[2]
    if size == "large":
        return 2
    multiple = size.removesuffix("xlarge")
    if size.endswith("xlarge"):
        return 4 * (int(multiple) if multiple.isdigit() else 1)
    return 4


def useful_core_nodes(units: int, cluster: ClusterSpec) -> int:
    mappers = max(units // UNITS_PER_MAPPER, 1)
    return math.ceil(mappers / map_slots_per_node(cluster.core_instance_type))


def stage(operation: str, side: Side, facts: TableFacts, cluster: ClusterSpec) -> StageEstimate:
    """One read or write job; ``cluster.core_instance_count`` sets its cost, not its speed."""
    units = units_per_second(side)
    if operation == "read":
        bytes_per_second = float(units * BYTES_PER_READ_UNIT)
        request_units = facts.size_bytes / BYTES_PER_READ_UNIT
        prices_per_million = REGION_PRICES[side.region].read_request_units_per_million if side.region in REGION_PRICES else None
    elif operation == "write":
        units_per_item = max(math.ceil(facts.item_bytes / BYTES_PER_WRITE_UNIT), 1)
        bytes_per_second = units / units_per_item * facts.item_bytes
        request_units = facts.size_bytes / facts.item_bytes * units_per_item
        prices_per_million = REGION_PRICES[side.region].write_request_units_per_million if side.region in REGION_PRICES else None
    else:
        raise ValueError(f"operation {operation!r} is not read or write")
    transfer_hours = facts.size_bytes / bytes_per_second / 3600
    hours = STARTUP_MINUTES / 60 + transfer_hours
    master_price = instance_hour_price(side.region, cluster.master_instance_type)
    core_price = instance_hour_price(side.region, cluster.core_instance_type)
    cluster_cost = None if master_price is None or core_price is None else hours * (master_price + cluster.core_instance_count * core_price)
    request_cost = request_units / 1e6 * prices_per_million if side.on_demand and prices_per_million is not None else 0.0
    return StageEstimate(
        operation=operation,
        table=side.table,
        on_demand=side.on_demand,
        units_per_second=units,
        bytes_per_second=bytes_per_second,
        items_per_second=bytes_per_second / facts.item_bytes,
        transfer_hours=transfer_hours,
        hours=hours,
        useful_core_nodes=useful_core_nodes(units, cluster),
        instance_hours=hours * (1 + cluster.core_instance_count),
        request_units=request_units,
        cluster_cost=cluster_cost,
        request_cost=request_cost,
    )


def retained_runs(period_minutes: int | None, retention_days: int) -> int:
    """How many export folders the bucket holds at once: one per period over the retention."""
    if period_minutes is None:
        return 1
    return max(math.ceil(retention_days * 1440 / period_minutes), 1)


def storage_cost_per_month(facts: TableFacts, region: str, runs: int) -> float | None:
    """S3 Standard for the retained exports, counted at the table's size (gzip makes it smaller,
    the export's JSON framing larger; transitions to colder classes are not modelled)."""
    prices = REGION_PRICES.get(region)
    return None if prices is None else facts.size_bytes / GIB * runs * prices.s3_standard_per_gb_month


def suggested_terminate_after(hours: float, margin: float) -> str:
    """A ``terminate_after`` that holds the estimate with the margin, in whole hours."""
    return f"{max(math.ceil(hours * margin), 1)} hours"
