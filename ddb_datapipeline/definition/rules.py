"""The tables the definition validator checks against, taken from the AWS Data Pipeline Developer Guide
(object reference pages, "Pipeline Expressions and Functions", "AWS Data Pipeline Limits") and the
CloudFormation reference for AWS::DataPipeline::Pipeline. Pure data: no logic lives here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ID = "Default"
DEFINITION = "<definition>"  # object_id of violations about the definition as a whole

# --- Limits (service quotas and field-size rules) -----------------------------------------------
MAX_ID_CHARS = 1024
MAX_KEY_BYTES = 256
MAX_OBJECTS = 100
MAX_FIELDS_PER_OBJECT = 50
MAX_FIELD_VALUE_BYTES = 10_240
MAX_OBJECT_BYTES = 15_360
MAX_PARAMETERS = 50
MAX_RETRIES = 5
MIN_RETRY_DELAY_MINUTES = 2
THROUGHPUT_MIN, THROUGHPUT_MAX = 0.1, 1.0

# --- Object types -------------------------------------------------------------------------------
ACTIVITY_TYPES = frozenset({
    "EmrActivity", "ShellCommandActivity", "CopyActivity", "HiveActivity", "HiveCopyActivity",
    "PigActivity", "SqlActivity", "RedshiftCopyActivity", "HadoopActivity",
})
DATA_NODE_TYPES = frozenset({
    "DynamoDBDataNode", "S3DataNode", "SqlDataNode", "RedshiftDataNode", "MySqlDataNode",
})
RESOURCE_TYPES = frozenset({"EmrCluster", "Ec2Resource"})
PRECONDITION_TYPES = frozenset({
    "S3PrefixNotEmpty", "S3KeyExists", "DynamoDBTableExists", "DynamoDBDataExists", "Exists",
    "ShellCommandPrecondition",
})
ACTION_TYPES = frozenset({"SnsAlarm", "Terminate"})  # "Terminate" page: the type is Terminate
DATA_FORMAT_TYPES = frozenset({
    "CSV", "TSV", "Custom", "DynamoDBDataFormat", "DynamoDBExportDataFormat", "RegEx",
})
DATABASE_TYPES = frozenset({"JdbcDatabase", "RdsDatabase", "RedshiftDatabase"})
# Helper objects the guide documents for EMR configuration, proxies and task scripts.
SUPPORT_TYPES = frozenset({"EmrConfiguration", "Property", "HttpProxy", "ShellScriptConfig"})
# EBS volumes of an EmrCluster's instance groups (masterEbsConfiguration and friends refer to them).
EBS_TYPES = frozenset({"EbsConfiguration", "EbsBlockDeviceConfig", "VolumeSpecification"})
KNOWN_TYPES = (
    frozenset({"Default", "Schedule"}) | ACTIVITY_TYPES | DATA_NODE_TYPES | RESOURCE_TYPES
    | PRECONDITION_TYPES | ACTION_TYPES | DATA_FORMAT_TYPES | DATABASE_TYPES | SUPPORT_TYPES | EBS_TYPES
)

# The Developer Guide page documenting each object type (its fields and their value rules).
GUIDE = "https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/"
_PAGE_SLUGS: dict[str, str] = {
    "Default": "dp-object-default.html",
    "Schedule": "dp-object-schedule.html",
    # EBS objects: "EmrCluster" page, example "Launch an Amazon EMR cluster with EBS volumes".
    "EbsConfiguration": "dp-object-emrcluster.html",
    "EbsBlockDeviceConfig": "dp-object-emrcluster.html",
    "VolumeSpecification": "dp-object-emrcluster.html",
}
OBJECT_PAGES: dict[str, str] = {
    name: GUIDE + _PAGE_SLUGS.get(name, f"dp-object-{name.lower()}.html") for name in sorted(KNOWN_TYPES)
}
SCHEDULED_TYPES = ACTIVITY_TYPES | DATA_NODE_TYPES | RESOURCE_TYPES  # must get a schedule unless ondemand
NODE_TYPES = ACTION_TYPES | PRECONDITION_TYPES  # where #{node.X} exists

# --- Required fields per type -------------------------------------------------------------------
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "DynamoDBDataNode": ("tableName",),
    "RedshiftDataNode": ("tableName", "database"),
    "HadoopActivity": ("jarUri",),
    "RedshiftCopyActivity": ("insertMode",),
    "Ec2Resource": ("role", "resourceRole"),
    "SnsAlarm": ("topicArn", "subject", "message", "role"),
    "S3PrefixNotEmpty": ("s3Prefix", "role"),
    "S3KeyExists": ("s3Key", "role"),
    "DynamoDBTableExists": ("tableName", "role"),
    "DynamoDBDataExists": ("tableName", "role"),
    "Schedule": ("period",),
}
# Fields the guide lists as optional but without which the object does nothing (lint, rule DP138): an EmrActivity
# page's step is an Optional Field ("One or more steps for the cluster to run").
EXPECTED_FIELDS: dict[str, tuple[str, ...]] = {"EmrActivity": ("step",)}
RUNS_ON_GROUP = ("runsOn", "workerGroup")
# Exactly one field of each group must be set (inherited values count for "at least one").
EXACTLY_ONE_OF: dict[str, tuple[tuple[str, ...], ...]] = {
    **{activity: (RUNS_ON_GROUP,) for activity in ACTIVITY_TYPES},
    "ShellCommandActivity": (("command", "scriptUri"), RUNS_ON_GROUP),
    "ShellCommandPrecondition": (("command", "scriptUri"),),
    "S3DataNode": (("directoryPath", "filePath"),),
    "Schedule": (("startAt", "startDateTime"),),
}
# At most one field of each group may be set. EmrCluster page: both are optional (without either
# the service picks its default AMI), but they exclude each other.
AT_MOST_ONE_OF: dict[str, tuple[tuple[str, ...], ...]] = {
    "EmrCluster": (("releaseLabel", "amiVersion"),),
}
FORBIDDEN_FIELDS: dict[str, tuple[str, ...]] = {
    "EmrCluster": ("runsOn", "workerGroup"),
    "Ec2Resource": ("runsOn", "workerGroup"),
}

# --- References ---------------------------------------------------------------------------------
REF_FIELDS = frozenset({
    "schedule", "runsOn", "input", "output", "onFail", "onSuccess", "onLateAction", "dependsOn",
    "precondition", "parent", "dataFormat", "database", "httpProxy", "configuration", "property",
    "preActivityTaskConfig", "postActivityTaskConfig",
    "masterEbsConfiguration", "coreEbsConfiguration", "taskEbsConfiguration", "ebsBlockDeviceConfig",
    "volumeSpecification",
})
REF_TARGET_TYPES: dict[str, frozenset[str]] = {
    "schedule": frozenset({"Schedule"}),
    "runsOn": RESOURCE_TYPES,
    "input": DATA_NODE_TYPES,
    "output": DATA_NODE_TYPES,
    "precondition": PRECONDITION_TYPES,
    "onFail": ACTION_TYPES,
    "onSuccess": ACTION_TYPES,
    "onLateAction": ACTION_TYPES,
    "dataFormat": DATA_FORMAT_TYPES,
    "database": DATABASE_TYPES,
    "masterEbsConfiguration": frozenset({"EbsConfiguration"}),
    "coreEbsConfiguration": frozenset({"EbsConfiguration"}),
    "taskEbsConfiguration": frozenset({"EbsConfiguration"}),
    "ebsBlockDeviceConfig": frozenset({"EbsBlockDeviceConfig"}),
    "volumeSpecification": frozenset({"VolumeSpecification"}),
}

# --- Scheduling and enumerations ----------------------------------------------------------------
SCHEDULE_TYPES = ("cron", "timeseries", "ondemand")
ONDEMAND = "ondemand"
SERVICE_DEFAULT_SCHEDULE_TYPE = "timeseries"
RERUN_MODES = ("none", "cascade")
S3_ENCRYPTION_TYPES = ("SERVER_SIDE_ENCRYPTION", "NONE")
THROUGHPUT_FIELDS = ("readThroughputPercent", "writeThroughputPercent")
WHOLE_NUMBER_FIELDS = ("coreInstanceCount", "taskInstanceCount", "volumesPerInstance", "iops", "sizeInGB")
# Period-typed fields without a minimum (retryDelay and Schedule.period have their own checks).
PERIOD_FIELDS = (
    "terminateAfter", "attemptTimeout", "preconditionTimeout", "lateAfterTimeout",
    "reportProgressTimeout", "initTimeout",
)

# --- Parameters ---------------------------------------------------------------------------------
PARAMETER_PREFIX = "my"
MASKED_PREFIX = "*"  # "*myPassword": the service masks the value (guide: "Creating a Pipeline Using Parametrized Templates")
PARAMETER_TYPES = ("String", "Integer", "Double", "AWS::S3::ObjectKey")
PARAMETER_ATTRIBUTES = (
    "type", "description", "default", "optional", "allowedValues", "isArray", "watermark",
    "helpText", "helpLink",
)
INTEGER = re.compile(r"^[+-]?\d+$")
DOUBLE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

# --- Expressions --------------------------------------------------------------------------------
# "Date and Time Functions" of the developer guide; inTimeZone appears in later revisions.
FUNCTIONS = frozenset({
    "day", "dayOfYear", "firstOfMonth", "format", "hour", "inTimeZone", "makeDate", "makeDateTime",
    "midnight", "minusDays", "minusHours", "minusMinutes", "minusMonths", "minusWeeks", "minusYears",
    "minute", "month", "plusDays", "plusHours", "plusMinutes", "plusMonths", "plusWeeks", "plusYears",
    "sunday", "year", "yesterday",
})
RUNTIME_FIELDS = frozenset({
    "@activeInstances", "@actualEndTime", "@actualStartTime", "@cascadeFailedOn", "@error",
    "@failureReason", "@finishedTime", "@firstActivationTime", "@healthStatus",
    "@healthStatusFromInstanceId", "@healthStatusUpdatedTime", "@id", "@lastDeactivatedTime",
    "@latestCompletedRunTime", "@latestRunTime", "@name", "@nextRunTime", "@pipelineId",
    "@resource", "@scheduledEndTime", "@scheduledStartTime", "@sphere", "@status", "@triesLeft",
    "@version", "@waitingOn", "@headAttempt", "@componentParent", "@instanceParent",
    "@attemptCount", "@reportProgressTime",
})
# Runtime slots the guide lists without '@' (readable in expressions, not settable).
PLAIN_RUNTIME_FIELDS = frozenset({
    "cancellationReason", "emrStepLog", "errorId", "errorMessage", "errorStackTrace",
    "hadoopJobLog", "hostname", "reportProgressTime", "currentRetryCount", "lastRetryTime",
})
OBJECT_SLOTS = frozenset({"id", "name", "type"})
EXPRESSION_KEYWORDS = frozenset({"true", "false", "null"})

# --- Fields -------------------------------------------------------------------------------------
USER_FIELD = re.compile(r"^my[A-Z_]")
KNOWN_FIELDS = frozenset({
    # every object
    "type", "parent",
    # scheduling, roles, logging, failure handling (Default and runnable objects)
    "schedule", "scheduleType", "role", "resourceRole", "pipelineLogUri", "failureAndRerunMode",
    "onFail", "onSuccess", "onLateAction", "lateAfterTimeout", "maximumRetries", "retryDelay",
    "attemptTimeout", "attemptStatus", "reportProgressTimeout", "maxActiveInstances", "dependsOn",
    "precondition", "input", "output", "runsOn", "workerGroup", "region", "initTimeout",
    # activities
    "step", "preStepCommand", "postStepCommand", "command", "scriptUri", "scriptArgument", "stage",
    "stdout", "stderr", "resizeClusterBeforeRunning", "resizeClusterMaxInstances", "hadoopQueue",
    "hiveScript", "scriptVariable", "script", "queue", "insertMode", "commandOptions",
    "transformSql", "filterSql", "generatedScriptsPath", "jarUri", "mainClass", "argument",
    "preActivityTaskConfig", "postActivityTaskConfig",
    # data nodes
    "tableName", "readThroughputPercent", "writeThroughputPercent", "directoryPath", "filePath",
    "manifestFilePath", "compression", "dataFormat", "s3EncryptionType", "table", "selectQuery",
    "insertQuery", "createTableSql", "schemaName", "primaryKeys", "database",
    # resources
    "releaseLabel", "amiVersion", "hadoopVersion", "applications", "bootstrapAction",
    "configuration", "masterInstanceType", "coreInstanceType", "coreInstanceCount",
    "taskInstanceType", "taskInstanceCount", "masterInstanceBidPrice", "coreInstanceBidPrice",
    "taskInstanceBidPrice", "terminateAfter", "subnetId", "keyPair",
    "emrManagedMasterSecurityGroupId", "emrManagedSlaveSecurityGroupId",
    "serviceAccessSecurityGroupId", "additionalMasterSecurityGroupIds",
    "additionalSlaveSecurityGroupIds", "actionOnResourceFailure", "actionOnTaskFailure",
    "useOnDemandOnLastAttempt", "availabilityZone", "enableDebugging", "hadoopSchedulerType",
    "httpProxy", "supportedProducts", "visibleToAllUsers", "customAmiId", "securityConfiguration",
    "masterEbsConfiguration", "coreEbsConfiguration", "taskEbsConfiguration",
    "masterGroupConfiguration", "coreGroupConfiguration", "taskGroupConfiguration",
    "instanceType", "imageId", "securityGroups", "securityGroupIds", "associatePublicIpAddress",
    "instanceCount", "minInstanceCount", "runAsUser", "spotBidPrice", "logUri", "emrLogUri",
    # EBS objects (EmrCluster page): EbsConfiguration, EbsBlockDeviceConfig, VolumeSpecification
    "ebsOptimized", "ebsBlockDeviceConfig", "volumesPerInstance", "volumeSpecification", "iops",
    "sizeInGB", "volumeType",
    # schedule
    "period", "startAt", "startDateTime", "endDateTime", "occurrences",
    # actions and preconditions
    "topicArn", "subject", "message", "s3Prefix", "s3Key", "preconditionTimeout",
    # data formats
    "column", "columnSeparator", "escapeChar", "recordSeparator", "inputRegEx", "outputFormat",
    # databases, proxies, EMR configuration
    "connectionString", "databaseName", "jdbcDriverClass", "jdbcDriverJarUri", "jdbcProperties",
    "rdsInstanceId", "clusterId", "username", "password", "hostname", "port", "windowsDomain",
    "windowsWorkgroup", "s3NoProxy", "classification", "property", "key", "value",
})


# --- EMR step jar / class pairing ---------------------------------------------------------------
@dataclass(frozen=True)
class JarRule:
    """Steps whose jar matches ``marker`` must name one of ``classes`` (export first, import second)."""

    family: str
    marker: str
    suffix_only: bool
    classes: tuple[str, str]

    def matches(self, jar: str) -> bool:
        return jar.endswith(self.marker) if self.suffix_only else self.marker in jar


JAR_RULES = (
    JarRule(
        "the emr-dynamodb-tools jar",
        "emr-dynamodb-tools",
        False,
        ("org.apache.hadoop.dynamodb.tools.DynamoDBExport", "org.apache.hadoop.dynamodb.tools.DynamoDBImport"),
    ),
    JarRule(
        "the legacy emr-ddb-2.1.0.jar",
        "emr-ddb-2.1.0.jar",
        True,
        ("org.apache.hadoop.dynamodb.tools.DynamoDbExport", "org.apache.hadoop.dynamodb.tools.DynamoDbImport"),
    ),
)


# --- Connector tool signatures ------------------------------------------------------------------
# Positional arguments of the connector's tools, after any Hadoop generic options. Source read:
# awslabs/emr-dynamodb-connector at 4.11.0 (commit cbed033c), emr-dynamodb-tools DynamoDBExport.java and
# DynamoDBImport.java: run() refuses fewer than 2 arguments, args[0] is the path, args[1] the table, args[2]
# Double.parseDouble(ratio) if given, and (export only) args[3] Integer.parseInt(segment count) if given;
# usage lines "Export <path> <table-name> [<read-ratio>] [<total-segment-count>]" and "Import <path>
# <table-name> [<write-ratio>]". The legacy closed emr-ddb-2.1.0.jar's DynamoDbExport/DynamoDbImport are taken
# to read the same order (inferred: AWS's data-pipeline-samples call them with path, table, ratio).
DIRECTORY, TABLE, RATIO, COUNT = "S3 directory", "table name", "throughput ratio", "segment count"
RATIO_LITERAL_MAX = 1.5  # a ratio literal is at most this; a larger number is something else (a numeric table name)
# DynamoDB table names: 3-255 of letters, digits, '_', '-', '.' (DynamoDB Developer Guide, "Naming rules").
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
S3_SCHEMES = ("s3://", "s3n://", "s3a://", "hdfs://")
# A table's ARN where DynamoDB takes a name (DynamoDB API Reference, TableName: "You can also provide the Amazon
# Resource Name (ARN) of the table"): arn:<partition>:dynamodb:<region>:<account>:table/<name>.
TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}")


@dataclass(frozen=True)
class ToolSignature:
    """A connector tool: its main classes (the tools' and the legacy jar's spelling) and its arguments."""

    tool: str
    main_classes: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


TOOL_SIGNATURES = (
    ToolSignature("DynamoDBExport", ("org.apache.hadoop.dynamodb.tools.DynamoDBExport",
                                     "org.apache.hadoop.dynamodb.tools.DynamoDbExport"), (DIRECTORY, TABLE), (RATIO, COUNT)),
    ToolSignature("DynamoDBImport", ("org.apache.hadoop.dynamodb.tools.DynamoDBImport",
                                     "org.apache.hadoop.dynamodb.tools.DynamoDbImport"), (DIRECTORY, TABLE), (RATIO,)),
)
# What a parameter of each type holds, for #{myX} arguments (Developer Guide, "Creating a Pipeline Using
# Parametrized Templates": AWS::S3::ObjectKey is an S3 location, Double a number).
PARAMETER_KINDS: dict[str, str] = {"AWS::S3::ObjectKey": DIRECTORY, "Double": RATIO}
# Hadoop GenericOptionsParser options that take the next argument as their value ("-D k=v" too).
HADOOP_OPTIONS_WITH_VALUE = frozenset({"-D", "-conf", "-fs", "-jt", "-files", "-libjars", "-archives"})
# What a data node field holds, for #{input.X} / #{output.X} arguments.
NODE_FIELD_KINDS: dict[tuple[str, str], str] = {
    ("S3DataNode", "directoryPath"): DIRECTORY,
    ("S3DataNode", "filePath"): DIRECTORY,
    ("DynamoDBDataNode", "tableName"): TABLE,
    ("DynamoDBDataNode", "readThroughputPercent"): RATIO,
    ("DynamoDBDataNode", "writeThroughputPercent"): RATIO,
}

# --- Previous-generation instance types ---------------------------------------------------------
# Families the EC2 "Previous generation instances" page lists; Amazon EMR's "Supported instance types"
# page marks them previous generation, and many regions no longer offer them. Value: the current family
# of the same kind to suggest instead.
EMR_INSTANCE_FIELDS = ("masterInstanceType", "coreInstanceType", "taskInstanceType")
PREVIOUS_GENERATION: dict[str, str] = {
    "m1": "m5", "m2": "r5", "m3": "m5", "c1": "c5", "c3": "c5", "cc2": "c5", "cg1": "g4dn",
    "cr1": "r5", "g2": "g4dn", "hi1": "i3", "hs1": "d3", "i2": "i3", "r3": "r5", "t1": "t3",
}
# Sizes the suggested families do not have, mapped to their smallest size.
SMALLEST_CURRENT_SIZE: dict[str, str] = {"micro": "large", "small": "large", "medium": "large"}
