"""The EMR side of a DynamoDB transfer: the cluster object and the connector's job step.

The jar is AWS's build of the open-source emr-dynamodb-connector tools, published per region in
``dynamodb-dpl-<region>``; its classes are spelled ``DynamoDBExport``/``DynamoDBImport``. The legacy
``emr-ddb-2.1.0.jar`` uses other spellings and cannot read on-demand tables, so it is not offered.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import PipelineObject

CONNECTOR_VERSION = "4.11.0"
EXPORT_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBExport"
IMPORT_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBImport"


def connector_jar(region: str) -> str:
    return (
        f"s3://dynamodb-dpl-{region}/emr-ddb-storage-handler/{CONNECTOR_VERSION}/"
        f"emr-dynamodb-tools-{CONNECTOR_VERSION}-SNAPSHOT-jar-with-dependencies.jar"
    )


def connector_step(region: str, main_class: str, arguments: Sequence[str]) -> str:
    """A step is one string: jar, class, then arguments, comma-separated; commas inside an argument
    are escaped so the service does not split them."""
    escaped = [arg.replace(",", "\\,") for arg in arguments]
    return ",".join([connector_jar(region), main_class, *escaped])


@dataclass(frozen=True)
class ClusterSpec:
    """Size and cost guard of the transient EMR cluster a run launches.

    ``resizeClusterBeforeRunning`` is deliberately never set: with a DynamoDB node it forces m3.xlarge,
    which many regions no longer offer."""

    release_label: str = "emr-5.36.2"  # Hadoop 2, as the connector jar was built for
    master_instance_type: str = "m5.xlarge"
    core_instance_type: str = "m5.xlarge"
    core_instance_count: int = 1
    terminate_after: str = "6 hours"
    subnet_id: str | None = None

    def to_object(self, object_id: str, *, region: str) -> PipelineObject:
        return PipelineObject.build(
            object_id,
            type="EmrCluster",
            releaseLabel=self.release_label,
            masterInstanceType=self.master_instance_type,
            coreInstanceType=self.core_instance_type,
            coreInstanceCount=str(self.core_instance_count),
            terminateAfter=self.terminate_after,
            region=region,
            subnetId=self.subnet_id,
        )
