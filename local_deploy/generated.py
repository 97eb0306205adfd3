"""A generated environment of many tables, to see a large environment deploy (``make deploy-local
TABLES=100``) and to test the limits at scale. The shape is the one issue 17 measured: owned on-demand
tables, daily exports, a same-region copy of every second table."""
from __future__ import annotations

import json
from typing import Any

from ddb_datapipeline.config.quotas import DEFAULT_PIPELINE_QUOTA
from ddb_datapipeline.config.stack_groups import RENDEZVOUS, table_stacks_needed

ENVIRONMENT = "scale"
TABLES_PER_STACK = 15  # well within 500 resources and 1 MB in this shape (about 48 KB and 15 resources a table)


def table_names(count: int) -> list[str]:
    return [f"table-{index:04d}" for index in range(count)]


def generated_environment(count: int, *, names: list[str] | None = None) -> dict[str, Any]:
    names = names if names is not None else table_names(count)
    tables: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        table: dict[str, Any] = {
            "name": name,
            "owned": {"partition_key": {"name": "pk", "type": "S"}, "sort_key": {"name": "sk", "type": "S"}},
            "export": {"schedule": "1 day", "read_ratio": 0.25},
        }
        if index % 2 == 0:
            table["copies"] = [{"target_table": f"{name}-copy", "owned": True, "schedule": "1 day"}]
        tables.append(table)
    pipelines = sum(2 + len(t.get("copies", [])) for t in tables)
    spread = {} if len(names) <= TABLES_PER_STACK else {
        "table_stacks": table_stacks_needed(names, TABLES_PER_STACK, 1, assignment=RENDEZVOUS), "stack_assignment": RENDEZVOUS}
    return {
        "account": "111111111111",
        "region": "us-east-1",
        "retain_data": False,
        "alarm_emails": ["data-platform@example.com"],
        "table_stacks": 1,
        **spread,
        # A 100-pipeline account cannot hold this; a team with this many tables asks AWS to raise the quota.
        "pipeline_quota": max(DEFAULT_PIPELINE_QUOTA, pipelines),
        "tables": tables,
    }


def generated_context(count: int, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` (cdk.json's context) with its environments replaced by the generated one."""
    return {**{k: v for k, v in base.items() if k not in ("environments", "delivery", "env")},
            "environments": {ENVIRONMENT: generated_environment(count)}}


if __name__ == "__main__":  # python -m local_deploy.generated 100 > big.json: look at what is generated
    import sys

    print(json.dumps(generated_environment(int(sys.argv[1])), indent=2))
