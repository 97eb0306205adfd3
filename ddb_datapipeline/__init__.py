"""Back up, restore and copy DynamoDB tables with AWS Data Pipeline, declared with the AWS CDK.

The public constructs are importable from here: ``from ddb_datapipeline import ExportPipeline``.
They load lazily, so the definition model, the validator and the command line do not start the CDK.
"""
from __future__ import annotations

import importlib
from typing import Any

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
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ddb_datapipeline' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
