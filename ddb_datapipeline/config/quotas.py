"""Data Pipeline's quota of pipelines per account and region, checked on the whole configuration.

AWS Data Pipeline Developer Guide, "AWS Data Pipeline Limits": 100 pipelines per account (per region),
adjustable on request. Every table makes an export and a restore pipeline and one per copy, all in its
environment's account and region. CloudFormation would create pipelines until the quota refuses one and
then roll the stack back, so the count is checked before anything is synthesized.
"""
from __future__ import annotations

from collections.abc import Iterable

from .model import EnvironmentConfig
from .reader import ConfigError

DEFAULT_PIPELINE_QUOTA = 100
MAX_PIPELINE_QUOTA = 100_000
UNKNOWN_ACCOUNT = "the deploying account"  # an environment without an account


def pipeline_count(env: EnvironmentConfig) -> int:
    """Data Pipeline pipelines only: a table on the native engine makes none."""
    return sum(2 + len(table.copies) for table in env.tables if not table.native)


def check_pipeline_quotas(environments: Iterable[EnvironmentConfig]) -> None:
    """Per account and region, the pipelines of all its environments within the largest quota any of
    them states (a raised quota is the account's: stating it once is enough)."""
    places: dict[tuple[str, str], list[EnvironmentConfig]] = {}
    for env in environments:
        places.setdefault((env.account or UNKNOWN_ACCOUNT, env.region), []).append(env)
    for (account, region), envs in places.items():
        quota = max(env.pipeline_quota for env in envs)
        count = sum(pipeline_count(env) for env in envs)
        if count > quota:
            last = envs[-1]
            where = ", ".join(f"{env.name} {pipeline_count(env)}" for env in envs)
            raise ConfigError(
                f"environments.{last.name}.tables: {count} pipelines in {account}, {region} ({where}); expected at most {quota}, "
                "Data Pipeline's quota of pipelines per account and region: ask AWS to raise it and state the new quota "
                "as pipeline_quota, or move tables to another account or region"
            )
