"""Estimates of every pipeline of an environment, and the synth-time check built on them.

Configuration turns into the estimator's inputs here (which capacity a job sees, which region it runs
in); the arithmetic lives in ``definition/estimate.py``. Tables without ``size_gib`` get no estimate and
are never refused: a guess about a table's size would refuse good configurations.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..definition.estimate import (
    GIB,
    PipelineEstimate,
    Side,
    StageEstimate,
    TableFacts,
    retained_runs,
    stage,
    storage_cost_per_month,
    suggested_terminate_after,
)
from ..definition.periods import period_minutes
from .model import EnvironmentConfig, TableConfig
from .reader import ConfigError

# The estimate is the planned rate held from start to end. Real runs are slower: start-up takes 10-20
# minutes (15 assumed), the connector's rate limiter averages over 5-second windows and backs off after
# throttling, and hot partitions or the application's own traffic lower what a scan gets. A run must fit
# its limit with half its estimate again to spare; less would let an ordinary slow day kill the export.
MARGIN = 1.5
MAX_CORE_INSTANCES = 50  # the configuration's own bound on emr.core_instance_count


@dataclass(frozen=True)
class Estimated:
    environment: str
    estimate: PipelineEstimate
    capacity_assumed: bool  # a table this stack only references: its billing mode is unknown, on-demand assumed
    sized: bool = True  # False: no size_gib, estimated for 1 GiB so rates and per-GiB hours still show


def _facts(table: TableConfig, include_unsized: bool) -> TableFacts | None:
    if table.size_gib is None:
        return TableFacts(size_bytes=GIB) if include_unsized else None
    return TableFacts(size_bytes=int(table.size_gib * GIB), item_count=table.item_count)


def _source(env: EnvironmentConfig, table: TableConfig, ratio: float) -> tuple[Side, bool]:
    """The table as a scan sees it; a referenced table's capacity is unknown, so the connector's
    on-demand assumption stands in (the fastest case: a refusal is never a false alarm)."""
    capacity = table.owned.read_capacity if table.owned else None
    return Side(table.name, env.region, capacity, ratio), table.owned is None


def estimate_environment(env: EnvironmentConfig, *, include_unsized: bool = False) -> list[Estimated]:
    """Every pipeline of every table that states ``size_gib`` (of every table with ``include_unsized``,
    those per GiB), in configuration order."""
    found: list[Estimated] = []
    for table in env.tables:
        if table.native:
            continue  # the estimates model EMR clusters; a native export uses none
        facts = _facts(table, include_unsized)
        if facts is None:
            continue
        sized = table.size_gib is not None
        source, assumed = _source(env, table, table.export.read_ratio)
        export_period = period_minutes(table.export.schedule.period) if table.export.schedule else None
        runs = retained_runs(export_period, env.bucket.export_retention_days)
        found.append(Estimated(env.name, PipelineEstimate(
            pipeline="export", table=table.name, stages=(stage("read", source, facts, env.emr),),
            period_hours=None if export_period is None else export_period / 60,
            storage_cost_per_month=storage_cost_per_month(facts, env.region, runs),
        ), assumed, sized))
        restore = table.restore
        # A created target is on-demand; restoring into an owned source uses its write capacity.
        into_source = restore.target_table == table.name and table.owned is not None
        write_capacity = table.owned.write_capacity if into_source and table.owned else None
        found.append(Estimated(env.name, PipelineEstimate(
            pipeline="restore", table=table.name,
            stages=(stage("write", Side(restore.target_table, env.region, write_capacity, restore.write_ratio), facts, env.emr),),
            period_hours=None, storage_cost_per_month=None,
        ), not (restore.create_target or into_source), sized))
        for copy in table.copies:
            source, assumed = _source(env, table, copy.read_ratio)
            copy_period = period_minutes(copy.schedule.period) if copy.schedule else None
            stages: tuple[StageEstimate, ...] = (
                stage("read", source, facts, env.emr),
                stage("write", Side(copy.target_table, copy.region, None, copy.write_ratio), facts, env.emr),
            )
            # The count after the run reads the source again and the target (taken as large as the source, the
            # most a copy can hold; an on-demand target reads at the connector's assumed 40,000 units), in one job.
            counted = copy.selection is not None and bool(copy.selection.verify_keys)
            after = (stage("read", source, facts, env.emr),
                     stage("read", Side(copy.target_table, copy.region, None, copy.read_ratio), facts, env.emr)) if counted else ()
            found.append(Estimated(env.name, PipelineEstimate(
                pipeline=f"copy:{copy.label}", table=table.name, stages=stages,
                period_hours=None if copy_period is None else copy_period / 60, storage_cost_per_month=None,
                concurrent=copy.selection is not None,  # one Hive job; its write assumes every item (an upper bound)
                after=after,
            ), assumed or not copy.owned, sized))
    return found


def _longest(estimate: PipelineEstimate) -> StageEstimate:
    return max(estimate.stages, key=lambda stage: stage.hours)


def _describe(estimate: PipelineEstimate, size_gib: float) -> str:
    """What the estimate rests on, for the one-line refusal."""
    longest = _longest(estimate)
    unit = "RCU" if longest.operation == "read" else "WCU"
    if estimate.concurrent:  # one cluster: its copy, then the count after it if there is one
        count = f" then {estimate.after_hours:.1f} h counting the copy" if estimate.after else ""
        return (f"its {estimate.pipeline} is estimated at {estimate.longest_stage_hours:.1f} h on one cluster ({longest.hours:.1f} h "
                f"copying {size_gib:g} GiB at {longest.units_per_second} {unit}/s with the 15 min start-up{count}, x{MARGIN:g} margin)")
    total = f", {estimate.hours:.1f} h for both clusters" if len(estimate.stages) > 1 else ""
    return (
        f"its {estimate.pipeline} is estimated at {longest.hours:.1f} h per cluster{total} "
        f"({size_gib:g} GiB at {longest.units_per_second} {unit}/s + 15 min start-up, x{MARGIN:g} margin)"
    )


def _ratio_setting(env: EnvironmentConfig, estimate: PipelineEstimate) -> str:
    longest = _longest(estimate)
    if estimate.pipeline == "export":
        return f"tables[{estimate.table}].export.read_ratio"
    if estimate.pipeline == "restore":
        return f"tables[{estimate.table}].restore.write_ratio"
    return f"tables[{estimate.table}].copies[{_copy_index(env, estimate)}].{longest.operation}_ratio"


def check_durations(environments: Iterable[EnvironmentConfig]) -> None:
    """Refuses a configuration whose cost guard would kill a run, or whose scheduled runs would
    overlap, by the estimate with ``MARGIN``; only for tables that state ``size_gib``."""
    for env in environments:
        limit_minutes = period_minutes(env.emr.terminate_after) or 0
        sizes = {table.name: table.size_gib or 0.0 for table in env.tables}
        for found in estimate_environment(env):
            estimate = found.estimate
            described = _describe(estimate, sizes[estimate.table])
            if estimate.longest_stage_hours * MARGIN * 60 > limit_minutes:
                needed = suggested_terminate_after(estimate.longest_stage_hours, MARGIN)
                nodes = min(estimate.useful_core_nodes, MAX_CORE_INSTANCES)
                raise ConfigError(
                    f"environments.{env.name}.emr.terminate_after: '{env.emr.terminate_after}' is not allowed; expected at "
                    f"least '{needed}' for table '{estimate.table}': {described}; set emr.terminate_after to '{needed}' "
                    f"(emr.core_instance_count {nodes} is enough) or raise {_ratio_setting(env, estimate)}"
                )
            if estimate.period_hours is not None and estimate.hours * MARGIN > estimate.period_hours:
                where = "export" if estimate.pipeline == "export" else f"copies[{_copy_index(env, estimate)}]"
                needed_hours = math.ceil(estimate.hours * MARGIN)
                raise ConfigError(
                    f"environments.{env.name}.tables[{estimate.table}].{where}.schedule: '{_period(env, estimate)}' is not "
                    f"allowed; expected a period of at least {needed_hours} hours, so a run ends before the next starts: "
                    f"{described}; lengthen the schedule or raise {_ratio_setting(env, estimate)}"
                )


def _copy_index(env: EnvironmentConfig, estimate: PipelineEstimate) -> int:
    table = next(t for t in env.tables if t.name == estimate.table)
    return next(i for i, copy in enumerate(table.copies) if f"copy:{copy.label}" == estimate.pipeline)


def _period(env: EnvironmentConfig, estimate: PipelineEstimate) -> str:
    table = next(t for t in env.tables if t.name == estimate.table)
    schedule = table.export.schedule if estimate.pipeline == "export" else table.copies[_copy_index(env, estimate)].schedule
    return schedule.period if schedule else "ondemand"
