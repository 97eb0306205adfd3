"""The rate a local run may read or write a table at, as the connector sets it, and a pacer that holds it.

The connector spends ``ratio`` of the table's capacity per second: provisioned read or write capacity
units, or a fixed 40,000 on an on-demand table (connector 4.8.0 and later). A scan is eventually
consistent, so one read unit reads 8 KiB; a write unit writes 1 KiB of one item (reference page
``aws-data-pipeline.md`` section 8, from the connector's ``ReadIopsCalculator``/``WriteIopsCalculator``).
The local run uses the same rates, so a drill shows how long a table of its size takes at the
configured ratio, and the row reports the rate the run held.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ON_DEMAND_UNITS = 40_000
READ_UNIT_BYTES = 8 * 1024
WRITE_UNIT_BYTES = 1024


def item_bytes(item: Mapping[str, Any]) -> int:
    """About an item's size as DynamoDB counts it: names and values (its JSON, binary as base64)."""
    return len(json.dumps(item, default=lambda value: "x" * math.ceil(len(value) * 4 / 3)).encode())


def read_units(items: list[Mapping[str, Any]]) -> float:
    return sum(item_bytes(item) for item in items) / READ_UNIT_BYTES


def write_units(items: list[Mapping[str, Any]]) -> float:
    return float(sum(math.ceil(item_bytes(item) / WRITE_UNIT_BYTES) for item in items))


def table_units(description: Mapping[str, Any], *, writes: bool) -> int:
    """The table's capacity units per second: provisioned, or the connector's figure for on-demand."""
    if (description.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST":
        return ON_DEMAND_UNITS
    throughput = description.get("ProvisionedThroughput") or {}
    units = int(throughput.get("WriteCapacityUnits" if writes else "ReadCapacityUnits") or 0)
    return units or ON_DEMAND_UNITS  # moto reports 0 for a table created per request


@dataclass
class Pacer:
    """Spends ``limit`` units per second at most: after each batch it waits until the average is back
    under the limit. ``clock`` and ``sleep`` are injectable so a test runs without waiting."""

    limit: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    spent: float = 0.0
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def spend(self, units: float) -> None:
        self.spent += units
        due = self.started + self.spent / self.limit
        now = self.clock()
        if due > now:
            self.sleep(due - now)

    def held(self) -> float:
        elapsed = self.clock() - self.started
        return self.spent / elapsed if elapsed > 0 else 0.0

    def words(self, unit: str) -> str:
        return f"{self.held():,.0f} of {self.limit:,.0f} {unit}/s"
