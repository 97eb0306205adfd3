"""Where an environment's pipelines and state machines write in its export bucket: the folders named here.

One place for the layout, read by the constructs that write (``constructs/export_bucket.py``,
``constructs/table_pipelines.py``) and by the configuration check that refuses two environments writing the
same folder of one shared bucket (``config/bucket_sharing.py``). Source: the constructs of this project.

Every folder is ``<top>/<name>`` with a name made of a table name (no ``/``) and fixed words, and every grant
is on ``<folder>/*`` (``constructs/pipeline_roles.py``), so two folders touch each other's objects only when
one is the other or lies under it.
"""
from __future__ import annotations

EXPORTS_PREFIX = "exports"  # exports/<table>/: every export of a table (and a native copy's), incremental ones under it
LOGS_PREFIX = "logs"  # logs/<table>-<export|restore|copy-<label>>/: Data Pipeline's pipeline logs
COPIES_PREFIX = "copies"  # copies/<table>-to-<label>/: a Data Pipeline copy's staging runs


def exports_folder(table_name: str) -> str:
    return f"{EXPORTS_PREFIX}/{table_name}"


def logs_folder(pipeline: str) -> str:
    return f"{LOGS_PREFIX}/{pipeline}"


def copy_staging_folder(table_name: str, label: str) -> str:
    return f"{COPIES_PREFIX}/{table_name}-to-{label}"


def overlaps(one: str, other: str) -> bool:
    """Whether two folders share objects: the same folder, or one under the other."""
    return one == other or one.startswith(other + "/") or other.startswith(one + "/")
