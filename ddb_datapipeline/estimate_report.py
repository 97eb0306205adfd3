"""``python -m ddb_datapipeline estimate``: every pipeline's estimate as a table or as JSON.

Reads the ``cdk.json`` context the app reads (no synthesis, no AWS call), so a team can size
``emr.core_instance_count`` and ``emr.terminate_after`` before the first run. Tables without
``size_gib`` show their rates and hours per GiB only. Every cost is an estimate from the dated price
table in ``definition/prices.py``.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from .config import EnvironmentConfig
from .config.estimates import MARGIN, Estimated, estimate_environment
from .definition.estimate import STARTUP_MINUTES
from .definition.periods import period_minutes
from .definition.prices import CURRENCY, PRICES_AS_OF

MIB = 1024 * 1024


# Where the app writes a pipeline's estimate into its template resource, for the review report.
ESTIMATE_METADATA = "ddb-datapipeline:estimate"

def read_context(cdk_json: Path) -> dict[str, Any]:
    """The ``context`` object of a ``cdk.json`` file."""
    data = json.loads(cdk_json.read_text(encoding="utf-8"))
    context = data.get("context") if isinstance(data, dict) else None
    if not isinstance(context, dict):
        raise ValueError(f"{cdk_json}: no context object")
    return context


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def as_record(env: EnvironmentConfig, found: Estimated) -> dict[str, Any]:
    """One pipeline as JSON: every field of the estimate, durations null without size_gib."""
    estimate = found.estimate
    table = next(t for t in env.tables if t.name == estimate.table)
    limit_hours = (period_minutes(env.emr.terminate_after) or 0) / 60
    sized = found.sized
    stages = []
    for index, stage in enumerate((*estimate.stages, *estimate.after)):
        if index >= len(estimate.stages):  # the count after the copy: its cluster is already up, no start-up of its own
            share = stage.transfer_hours / stage.hours
            stage = replace(stage, hours=stage.transfer_hours, instance_hours=stage.instance_hours * share,
                            cluster_cost=None if stage.cluster_cost is None else stage.cluster_cost * share)
        record = {key: (_round(value) if isinstance(value, float) else value) for key, value in asdict(stage).items()}
        record["transfer_hours_per_gib"] = _round(stage.transfer_hours / (table.size_gib or 1.0), 6)
        if not sized:
            for key in ("transfer_hours", "hours", "instance_hours", "request_units", "cluster_cost", "request_cost"):
                record[key] = None
        record["capacity"] = "on-demand (connector assumes 40000 units)" if stage.on_demand else "provisioned"
        record["after_copy"] = index >= len(estimate.stages)  # the count after the copy, on the same cluster
        stages.append(record)
    cost = estimate.cost_per_run
    return {
        "environment": env.name,
        "region": env.region,
        "table": estimate.table,
        "pipeline": estimate.pipeline,
        "size_gib": table.size_gib,
        "item_count": table.item_count,
        "capacity_assumed": found.capacity_assumed,
        "stages": stages,
        "hours": _round(estimate.hours) if sized else None,
        "longest_cluster_hours": _round(estimate.longest_stage_hours) if sized else None,
        "instance_hours": _round(estimate.instance_hours) if sized else None,
        "useful_core_nodes": estimate.useful_core_nodes,
        "core_instance_count": env.emr.core_instance_count,
        "terminate_after": env.emr.terminate_after,
        "fits_terminate_after": estimate.longest_stage_hours * MARGIN <= limit_hours if sized else None,
        "period_hours": _round(estimate.period_hours),
        "estimated_cost_per_run": _round(cost, 2) if sized else None,
        "estimated_storage_cost_per_month": _round(estimate.storage_cost_per_month, 2) if sized else None,
        "currency": CURRENCY,
        "prices_as_of": PRICES_AS_OF,
    }


def records(environments: Iterable[EnvironmentConfig]) -> list[dict[str, Any]]:
    return [as_record(env, found) for env in environments for found in estimate_environment(env, include_unsized=True)]


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def as_text(rows: list[dict[str, Any]]) -> str:
    """One line per pipeline; figures from the slowest stage; costs marked as estimates (~$)."""
    header = f"{'environment/table':28} {'pipeline':44} {'units/s':>8} {'MiB/s':>7} {'hours':>7} {'nodes':>5} {'inst-h':>7} {'~$/run':>8}"
    lines = [header]
    for row in rows:
        slowest = max(row["stages"], key=lambda s: s["transfer_hours_per_gib"])
        lines.append(
            f"{row['environment'] + '/' + row['table']:28} {row['pipeline']:44} {slowest['units_per_second']:>8} "
            f"{slowest['bytes_per_second'] / MIB:>7.2f} {_cell(row['hours'], '.2f'):>7} {row['useful_core_nodes']:>5} "
            f"{_cell(row['instance_hours'], '.1f'):>7} {_cell(row['estimated_cost_per_run'], '.2f'):>8}"
        )
    lines.append(
        f"hours include {STARTUP_MINUTES} min EMR start-up; '-': no size_gib in the table entry; nodes: core nodes beyond which "
        f"more do not help; costs are estimates in {CURRENCY} from prices of {PRICES_AS_OF}"
    )
    return "\n".join(lines)
