"""The local run's pace: the connector's units per second for a ratio of the table's capacity, held by a
pacer that waits after each batch until the average is back under the limit (a fake clock, no waiting)."""
from __future__ import annotations

import pytest

from local_deploy.drill_rate import ON_DEMAND_UNITS, Pacer, item_bytes, read_units, table_units, write_units


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_pacer_waits_until_the_average_is_under_the_limit():
    clock = FakeClock()
    pacer = Pacer(50, clock=clock, sleep=clock.sleep)
    pacer.spend(100)  # two seconds' worth at once: wait two seconds
    clock.now += 0.5  # the next page took half a second to read
    pacer.spend(25)  # due at 2.5 s: no wait
    pacer.spend(50)  # due at 3.5 s: wait one second
    assert clock.slept == [2.0, 1.0]
    assert pacer.held() == pytest.approx(50.0) and pacer.words("RCU") == "50 of 50 RCU/s"


@pytest.mark.parametrize("description, writes, units", [
    ({"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}, "ProvisionedThroughput": {"ReadCapacityUnits": 0}}, False, ON_DEMAND_UNITS),
    ({"ProvisionedThroughput": {"ReadCapacityUnits": 200, "WriteCapacityUnits": 100}}, False, 200),
    ({"ProvisionedThroughput": {"ReadCapacityUnits": 200, "WriteCapacityUnits": 100}}, True, 100),
])
def test_a_tables_units_are_its_provisioned_capacity_or_the_connectors_on_demand_figure(description, writes, units):
    assert table_units(description, writes=writes) == units


def test_reads_cost_a_unit_per_8_kib_and_writes_a_unit_per_started_kib_of_each_item():
    small, large = {"pk": {"S": "a"}}, {"pk": {"S": "a"}, "blob": {"B": b"x" * 3000}}
    assert item_bytes(large) > 4000  # binary counted as its base64
    assert read_units([small] * 8192) == pytest.approx(item_bytes(small))
    assert write_units([small, large]) == 1 + -(-item_bytes(large) // 1024)
