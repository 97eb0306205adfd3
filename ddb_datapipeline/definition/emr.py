"""The EMR side of a DynamoDB transfer: the cluster object, the connector's job step, the step that empties
an export's folder before each attempt, and the Hive settings of a cluster that runs Hive.

The jar is AWS's build of the open-source emr-dynamodb-connector tools, published per region in
``dynamodb-dpl-<region>``; its classes are spelled ``DynamoDBExport``/``DynamoDBImport``. The legacy
``emr-ddb-2.1.0.jar`` uses other spellings and cannot read on-demand tables, so it is not offered.

Which region's bucket: always the pipeline's own region (``connector_jar(settings.region)``), also for the
import cluster of a copy into another region. The console template reads the jar from
``dynamodb-dpl-#{myDDBRegion}``, a region where Data Pipeline runs; no AWS page lists these buckets, so one in
a region without Data Pipeline (a copy may run a cluster in any region of the partition) is not known to
exist (inferred). S3 serves an object to a reader in another region, so the import reads it from there.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import PipelineDefinition, PipelineObject, Ref

CONNECTOR_VERSION = "4.11.0"
EXPORT_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBExport"
IMPORT_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBImport"


def connector_jar(region: str) -> str:
    return (
        f"s3://dynamodb-dpl-{region}/emr-ddb-storage-handler/{CONNECTOR_VERSION}/"
        f"emr-dynamodb-tools-{CONNECTOR_VERSION}-SNAPSHOT-jar-with-dependencies.jar"
    )


# Data Pipeline removes one backslash from a step before it splits the step at its unescaped commas: the
# EmrActivity page's script-runner example passes "a,b,c" as one argument with the field value
# ``a\\,b\\,c`` ("a\\\\,b\\\\,c" in its JSON). So a comma inside an argument is written with two backslashes; one
# would be removed and the comma would split the argument (AWS Data Pipeline Developer Guide, "EmrActivity").
STEP_COMMA = "\\\\,"


def connector_step(region: str, main_class: str, arguments: Sequence[str]) -> str:
    """A step is one string: jar, class, then arguments, comma-separated; a comma inside an argument is
    escaped (``STEP_COMMA``) so the service does not split it."""
    return ",".join([connector_jar(region), main_class, *(arg.replace(",", STEP_COMMA) for arg in arguments)])


# --- The step that empties the output folder before each attempt --------------------------------------------
# Why: DynamoDBExport writes through ExportOutputFormat, an org.apache.hadoop.mapred.FileOutputFormat whose
# record writer creates each map task's file straight under the output path (``FileOutputFormat.getOutputPath``),
# not under ``_temporary`` (emr-dynamodb-connector 4.11.0, emr-dynamodb-tools ExportOutputFormat.java), and
# Hadoop's ``FileOutputFormat.checkOutputSpecs`` refuses a job whose output directory exists. The folder is
# ``<prefix>/<scheduled start>``, the same for every attempt of one scheduled instance, so once an attempt wrote a
# file, each retry (maximumRetries) and each rerun of that instance fails with
# ``org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory s3://... already exists``.
# So the export activity's first step removes its own output folder (``#{output.directoryPath}``): every
# step of an EmrActivity runs again, in order, on each attempt. A removal of a folder that does not exist
# succeeds (``-f``); ``-skipTrash`` deletes instead of moving the files into a trash folder of the bucket.
# How: EMR's command-runner.jar runs a command on the cluster with the step's arguments as its arguments (EMR
# Release Guide, "Run commands and scripts on an Amazon EMR cluster"); no shell reads them (AWS's examples
# pass "bash,-c,..." when they want one, inferred), so the folder's text is never code. The jar is named as that
# page says, "command-runner.jar" without a path: it is on the cluster's AMI, so no bucket is read for it.
COMMAND_RUNNER = "command-runner.jar"
REMOVE_FOLDER = ("hadoop", "fs", "-rm", "-r", "-f", "-skipTrash")
OUTPUT_FOLDER = "#{output.directoryPath}"


def remove_output_step() -> str:
    """The step that removes the activity's output folder, written before the export's step."""
    return ",".join([COMMAND_RUNNER, *REMOVE_FOLDER, OUTPUT_FOLDER])


def removed_folder(step: str) -> str | None:
    """The folder a step removes when it is ``remove_output_step``'s shape (any folder argument), else None."""
    parts = step.split(",")
    if len(parts) == len(REMOVE_FOLDER) + 2 and parts[0] == COMMAND_RUNNER and tuple(parts[1:-1]) == REMOVE_FOLDER:
        return parts[-1]
    return None


# --- Hive on the cluster ---------------------------------------------------------------------------------------
# Each EmrCluster that runs a HiveCopyActivity or HiveActivity references one EmrConfiguration (classification
# hive-site) with these properties (AWS Data Pipeline Developer Guide, "EmrConfiguration", "Property": an
# EmrCluster's ``configuration`` refers to it, its ``property`` fields to Property objects of key and value).
# - hive.execution.engine=mr: EMR 5.x and later run Hive on Tez by default, and the EMR Release Guide ("Set up a
#   Hive table to run Hive commands", "Configure Hive to use MapReduce") recommends MapReduce for Hive with
#   DynamoDB because errors occur on Tez. HiveCopyActivity's script is generated by the service, so the
#   cluster's configuration is the one place that reaches every Hive job of the cluster.
# - dynamodb.filter.pushdown=false: with pushdown on (the default), the storage handler turns a WHERE with ``=`` on
#   the hash key of a global secondary index (or on the table's hash key plus a local index's range key) into a
#   Query of that index when the index holds the attributes of the table's dynamodb.column.mapping
#   (emr-dynamodb-hive DynamoDBFilterPushdown.getDynamoDBQueryFilter and indexIncludesAllMappedAttributes, in the
#   connector since 4.16.0, "Add GSI/LSI pushdown support for Hive", 2020). Hive jobs use the connector the EMR
#   release installs, not the 4.11.0 jar of the steps, so recent releases have it (inferred). The item column of
#   this project's scripts and of HiveCopyActivity's format is not in that mapping, so with an index projection
#   other than ALL each item read holds only the index's attributes, and the copy writes those partial items over
#   whole target items; a count reading the same index agrees. ``DynamoDBStorageHandler.decomposePredicate``
#   pushes nothing down when the job's ``dynamodb.filter.pushdown`` is false (the property is in every release of
#   the connector, from its first open-source one in 2016); the job reads the hive-site settings. Every filtered
#   read is then a Scan with Hive applying the WHERE: slower for a filter on the key, never partial. Chosen over
#   refusing such filters at synth time: an index added to the table later, or one of a table only referenced,
#   is not known at synth time.
HIVE_SITE = "hive-site"
HIVE_SETTINGS = (("hive.execution.engine", "mr"), ("dynamodb.filter.pushdown", "false"))
HIVE_CONFIGURATION_ID = "HiveSiteConfiguration"


def pushdown_off(definition: PipelineDefinition, cluster: PipelineObject) -> bool:
    """Whether the cluster's hive-site configuration turns the storage handler's filter pushdown off, so that no
    filter of a Hive job on it becomes a Query (``DynamoDBStorageHandler.decomposePredicate``)."""
    for configuration in (definition.object(ref) for ref in cluster.values("configuration")):
        if configuration.type != "EmrConfiguration" or configuration.value("classification") != HIVE_SITE:
            continue
        for prop in (definition.object(ref) for ref in configuration.values("property")):
            if prop.value("key") == "dynamodb.filter.pushdown" and (prop.value("value") or "").lower() == "false":
                return True
    return False


def hive_configuration() -> list[PipelineObject]:
    """The EmrConfiguration a cluster running Hive refers to, then its Property objects."""
    properties = [PipelineObject.build(f"HiveSiteProperty{i + 1}", type="Property", key=key, value=value)
                  for i, (key, value) in enumerate(HIVE_SETTINGS)]
    return [PipelineObject.build(HIVE_CONFIGURATION_ID, type="EmrConfiguration", classification=HIVE_SITE,
                                 property=[Ref(p.id) for p in properties]), *properties]


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

    def to_object(self, object_id: str, *, region: str, configuration: str | None = None) -> PipelineObject:
        """``configuration``: the id of an EmrConfiguration the cluster applies (``hive_configuration``)."""
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
            configuration=Ref(configuration) if configuration else None,
        )
