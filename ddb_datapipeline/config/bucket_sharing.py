"""Two environments writing into one existing bucket must write apart.

Every folder an environment writes in its export bucket is named after a table, never after the
environment (``definition/bucket_layout.py``), and cannot be configured. A bucket this project creates
belongs to one environment (CloudFormation names it), so only ``export_bucket.existing_bucket_name`` can
bring two environments into one bucket. S3 bucket names are global: the same name is the same bucket,
whatever the environments' accounts and regions. If both write one folder, one environment's export
pipeline, which clears its output folder before it writes (``hadoop fs -rm -r -f``), or a copy's staging
cleanup (``aws s3 rm --recursive``) removes what the other wrote, and a restore or drill may import the
other's export. So the first folder two such environments share is refused.

Why refuse instead of adding the environment's name to the folders of a shared bucket: the folder names run
through the pipelines' definitions, the node roles' grants, the native state machines' checks and the
permission model; a name that changed when a second environment starts to share the bucket would move the
first environment's exports away from its restores and drills. Environments with different tables share a
bucket as before.
"""
from __future__ import annotations

from collections.abc import Mapping

from ..definition.bucket_layout import copy_staging_folder, exports_folder, logs_folder, overlaps
from .model import EnvironmentConfig
from .reader import ConfigError, refuse


def written_folders(env: EnvironmentConfig) -> dict[str, str]:
    """Each folder the environment writes in its export bucket -> the table that writes it."""
    found: dict[str, str] = {}
    for table in env.tables:
        found[exports_folder(table.name)] = table.name  # every export; a same-account native copy stages here too
        if table.native:
            continue  # native tables write nothing else into this bucket (copies elsewhere stage in per-environment buckets)
        found[logs_folder(f"{table.name}-export")] = table.name
        found[logs_folder(f"{table.name}-restore")] = table.name
        for copy in table.copies:
            found[logs_folder(f"{table.name}-copy-{copy.label}")] = table.name
            if not copy.cross_account:  # a copy into another account stages in that account's bucket of this environment
                found[copy_staging_folder(table.name, copy.label)] = table.name
    return found


def _collision(bucket: str, earlier: EnvironmentConfig, later: EnvironmentConfig) -> ConfigError | None:
    theirs = written_folders(earlier)
    for mine, table in written_folders(later).items():
        for folder, their_table in theirs.items():
            if overlaps(mine, folder):
                return refuse(
                    f"environments.{later.name}.export_bucket.existing_bucket_name", bucket,
                    f"a bucket whose folders no other environment writes: environments.{earlier.name} writes {folder}/ there "
                    f"(tables[{their_table}]) and environments.{later.name} {mine}/ (tables[{table}]); the folders are named "
                    "after the tables and cannot be configured, so give one environment a bucket of its own (another "
                    "existing_bucket_name, or none to have one created)",
                )
    return None


def check_shared_buckets(environments: Mapping[str, EnvironmentConfig]) -> None:
    """The first folder of one existing bucket that two environments both write, as a ConfigError naming both."""
    seen: dict[str, list[EnvironmentConfig]] = {}
    for env in environments.values():
        bucket = env.bucket.existing_bucket_name
        if bucket is None:
            continue
        for earlier in seen.get(bucket, []):
            if (error := _collision(bucket, earlier, env)) is not None:
                raise error
        seen.setdefault(bucket, []).append(env)
