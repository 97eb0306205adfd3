"""Reusable CDK constructs: the pipelines, and the bucket, table, topic and roles they use."""
from .alert_topic import AlertTopic
from .data_pipeline import DataPipeline
from .data_table import DataTable
from .export_bucket import ExportBucket
from .pipeline_roles import NodeRole, PipelineRoles
from .table_pipelines import CopyDestination, CopyPipeline, ExportPipeline, PipelineConfigurationError, RestorePipeline

__all__ = [
    "AlertTopic",
    "CopyDestination",
    "CopyPipeline",
    "DataPipeline",
    "DataTable",
    "ExportBucket",
    "ExportPipeline",
    "NodeRole",
    "PipelineConfigurationError",
    "PipelineRoles",
    "RestorePipeline",
]
