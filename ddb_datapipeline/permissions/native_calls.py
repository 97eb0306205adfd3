"""What the native engine calls at run time, and as whom: rows like ``runtime_calls.py``'s, for the
Step Functions state machines and EventBridge Scheduler schedules that replace Data Pipeline.

A row's ``trigger`` is what in a synthesized state machine makes the call: a Task state's ``Resource``
(``aws-sdk:dynamodb:exportTableToPointInTime``, ``sns:publish``), ``logging`` (the machine logs to
CloudWatch Logs), ``tracing`` (X-Ray), ``machine`` (every machine), or ``schedule`` (a schedule whose
target is the machine). Principals: ``machine`` is the state machine's role, ``scheduler`` the
schedule's role, ``service:<host>`` a service assuming a role, ``logs`` CloudWatch Logs' regional service
principal (``logs.<region>.amazonaws.com``, as a key policy names it).

Placeholders filled by ``native_expand.py``: ``{account}``, ``{region}``, ``{machine_arn}``,
``{machine_role}``, ``{scheduler_role}``, ``{schedule_group_arn}``; ``{log_group_arn}`` (the machine's log group, as
the encryption context names it: without the ``:*`` of its Fn::GetAtt Arn) and ``{log_key_arn}`` (its KMS key); from a Task's parameters
``{table_arn}``, ``{table}``, ``{table_key_arn}`` (when the table has a customer managed key),
``{bucket_arn}``, ``{object_arn}`` (a sample file under the prefix), ``{key_arn}``,
``{topic_arn}``, ``{topic_key_arn}``; ``{export_arn}`` (a sample export of the table); ``{listed_machine_arn}``
(the machine whose runs a ListExecutions task lists); ``{assumed_role}`` (a Task's Credentials role, whose
rows that Task's calls are then made as, in that role's account); ``{event_bus_arn}`` (the bus a PutEvents
task sends to). An event's route (``route``, ``start``: an EventBridge rule matching the event forwards it
to a bus or starts a state machine) fills ``{rule_arn}``, ``{rule_role}``, ``{rule_account}``,
``{target_arn}``; ``rule`` is the rule's role. A rule's delivery alarm, a machine's execution alarms and the alarms of
its schedule's group (``alarm``: CloudWatch publishes to the alert topic) fill ``{alarm_arn}``, ``{topic_arn}`` and ``{topic_key_arn}``.
"""
from __future__ import annotations

from .runtime_calls import KMS_METADATA, S3_KMS, SNS_KMS, RuntimeCall

MACHINE = "machine"
LOGS = "logs"  # CloudWatch Logs as logs.<region>.amazonaws.com (filled by native_expand.py)
SCHEDULER = "scheduler"
RULE = "rule"

DDB_EXPORT = ("DynamoDB Developer Guide, 'Requesting a table export in DynamoDB' (dynamodb:ExportTableToPointInTime on the table; "
              "s3:AbortMultipartUpload, s3:PutObject, s3:PutObjectAcl on the destination); DynamoDB writes the files as the caller")
DDB_EXPORT_KMS = ("DynamoDB Developer Guide (2023 revision), export to S3: the table key's policy must let DynamoDB use it for the "
                  "role that starts the export; the actions are not named, so the reading actions of 'How Amazon DynamoDB uses "
                  "AWS KMS' are assumed")
DDB_DESCRIBE_EXPORT = "Service Authorization Reference, Amazon DynamoDB: DescribeExport, resource type export (table/<name>/export/<id>)"
SFN_SDK = "Step Functions Developer Guide, 'AWS SDK service integrations': the execution role needs the IAM action of the called API"
SFN_ROLE = ("Step Functions Developer Guide, 'Creating an IAM role for your state machine' (trust states.amazonaws.com; its section "
            "'Prevent cross-service confused deputy issue': aws:SourceArn a state machine's ARN, aws:SourceAccount its account)")
SFN_LOGS = ("Step Functions Developer Guide, 'Logging using CloudWatch Logs': logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, "
            "DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups on '*'")
CWL_KMS = ("CloudWatch Logs User Guide, 'Encrypt log data in CloudWatch Logs using AWS Key Management Service': the key policy "
           "must let logs.<region>.amazonaws.com use the key, with kms:EncryptionContext:aws:logs:arn the log group's ARN; "
           "CloudWatch Logs encrypts newly ingested data with the key and decrypts it whenever it is requested. Which KMS "
           "calls it makes is not named: a data key to write and Decrypt to read are inferred")
SFN_XRAY = "Step Functions Developer Guide, 'AWS X-Ray and Step Functions': xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets"
SFN_SNS = "Step Functions Developer Guide, 'Publish messages to an Amazon SNS topic' (sns:Publish on the topic)"
SCHEDULER_ROLE = ("EventBridge Scheduler User Guide, 'Set up the execution role' (trust scheduler.amazonaws.com with aws:SourceAccount; "
                  "states:StartExecution on the state machine for a Step Functions target)")

LOG_DELIVERY = ("logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery")
TRACING = ("xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments")
EXPORT_TASK = "aws-sdk:dynamodb:exportTableToPointInTime"
DESCRIBE_EXPORT_TASK = "aws-sdk:dynamodb:describeExport"
PUBLISH_TASK = "sns:publish"
IMPORT_TASK = "aws-sdk:dynamodb:importTable"
DESCRIBE_IMPORT_TASK = "aws-sdk:dynamodb:describeImport"
DDB_IMPORT = ("DynamoDB Developer Guide, 'Requesting a table import in DynamoDB' (dynamodb:ImportTable, DescribeImport on the new "
              "table; s3:GetObject, s3:ListBucket on the source; logs:CreateLogGroup, CreateLogStream, DescribeLogGroups, "
              "DescribeLogStreams, PutLogEvents, PutRetentionPolicy on /aws-dynamodb/*)")
DDB_IMPORT_KMS = ("DynamoDB Developer Guide, import from S3: kms:Decrypt for SSE-KMS source objects, and for a new table on a "
                  "customer managed key the key actions DynamoDB uses on the caller's behalf (Encrypt, Decrypt, ReEncrypt*, "
                  "GenerateDataKey*, DescribeKey, CreateGrant; which data-key action is not stated, so both symmetric ones are requested)")
WATERMARK_READ_TASK = "aws-sdk:s3:getObject"
WATERMARK_FIND_TASK = "aws-sdk:s3:listObjectsV2"
WATERMARK_WRITE_TASK = "aws-sdk:s3:putObject"
RUNS_TASK = "aws-sdk:sfn:listExecutions"
S3_OBJECTS = ("Service Authorization Reference, Amazon S3: GetObject and PutObject on the object; a bucket with default "
              "SSE-KMS encryption needs kms:GenerateDataKey to write and kms:Decrypt to read (S3 User Guide, 'Using SSE-KMS')")
SFN_LIST = "Service Authorization Reference, AWS Step Functions: ListExecutions, resource type statemachine"
SFN_CREDENTIALS = ("Step Functions Developer Guide, 'Accessing resources in other AWS accounts': a Task's Credentials role is "
                   "assumed by the execution role, which needs sts:AssumeRole on it, and whose trust policy must name the execution role")
CREDENTIALS = "credentials"
PUT_EVENTS_TASK = "events:putEvents"
ROUTE = "route"
START = "start"
SFN_EVENTS = ("Step Functions Developer Guide, 'Send custom events to EventBridge': the execution role needs events:PutEvents "
              "on the event bus")
EVENTS_ROLE = ("EventBridge User Guide, 'Using IAM roles for targets' (the rule's role trusts events.amazonaws.com), "
               "'Permissions for event buses' (a rule sending to a bus of another account or Region uses its role, which needs "
               "events:PutEvents on that bus; another account's bus must admit it, e.g. by aws:SourceArn of the rule)")
EVENTS_TRUST = ("EventBridge User Guide, 'Using IAM roles for targets' (the rule's role trusts events.amazonaws.com) and "
                "'Cross-service confused deputy prevention in Amazon EventBridge' (for event bus rule targets aws:SourceArn is the "
                "rule's ARN; aws:SourceAccount the rule's account)")
EVENTS_SFN = "EventBridge User Guide, 'Event bus targets': a Step Functions target needs states:StartExecution on the machine"
LIST_EXPORTS_TASK = "aws-sdk:dynamodb:listExports"
DELETE_TABLE_TASK = "aws-sdk:dynamodb:deleteTable"
DDB_LIST_EXPORTS = "Service Authorization Reference, Amazon DynamoDB: ListExports has no resource type (granted on '*')"
DDB_DELETE_TABLE = "Service Authorization Reference, Amazon DynamoDB: DeleteTable, resource type table"
ALARM = "alarm"
CLOUDWATCH_SNS = ("CloudWatch User Guide, alarm actions to SNS: CloudWatch publishes as cloudwatch.amazonaws.com, which the topic's "
                  "access policy must allow (aws:SourceArn is the alarm)")
CLOUDWATCH_SNS_KMS = ("CloudWatch User Guide (re:Post 'CloudWatch alarm with an encrypted SNS topic'): the topic's customer managed key "
                      "must allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*; an AWS managed key cannot. SNS Developer "
                      "Guide, 'Enable compatibility between event sources from AWS services and encrypted topics': the key statement, "
                      "with no condition; no AWS page read says which source keys this call carries, so the model sends none")
IMPORT_LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:PutRetentionPolicy")
LOGS_LIST = "Service Authorization Reference, Amazon CloudWatch Logs: DescribeLogGroups has no resource type (granted on '*')"
S3_CONTEXT = {"s3:ResourceAccount": "{account}"}
# Error semantics: a Task that catches a "not found" error must be able to receive it. Each error a Catch may name
# maps to the trigger of the rows that make the service answer with it rather than with AccessDenied, or to None
# where the Task's own call rows suffice. A Catch naming another error that reads as "not found" (NOT_FOUND_WORDS)
# is a gap of the model, not skipped.
S3_NOT_FOUND = ("S3 API Reference, GetObject, 'Permissions': if the object does not exist, S3 answers 404 NoSuchKey to a "
                "caller with s3:ListBucket on the bucket, 403 AccessDenied to one without (doc); no AWS page names an s3:prefix "
                "for that implied listing, so the model sends none and only an unconditioned listing grant receives the error")
S3_LIST_PREFIX = ("S3 User Guide, bucket policy examples with condition keys: s3:prefix is the Prefix of a ListObjects/"
                  "ListObjectsV2 request, which needs s3:ListBucket on the bucket")
DDB_NOT_FOUND = ("IAM User Guide, 'Policy evaluation logic': a request is authorized before the service acts on it, so a "
                 "caller allowed the call receives DynamoDB's not-found error (inferred from the evaluation order)")
NOT_FOUND_S3_KEY = "catch:S3.NoSuchKeyException"
NOT_FOUND_ERRORS: dict[str, str | None] = {
    "S3.NoSuchKeyException": NOT_FOUND_S3_KEY,
    "DynamoDb.ResourceNotFoundException": None,  # DDB_NOT_FOUND
    "DynamoDb.ExportNotFoundException": None,  # DDB_NOT_FOUND
    "DynamoDb.ImportNotFoundException": None,  # DDB_NOT_FOUND
}
NOT_FOUND_WORDS = ("NotFound", "NoSuch", "DoesNotExist")

CALLS: tuple[RuntimeCall, ...] = (
    RuntimeCall("machine", "Step Functions assumes the state machine's role", "service:states.amazonaws.com",
                ("sts:AssumeRole",), "{machine_role}", SFN_ROLE, "doc",
                {"aws:SourceAccount": "{account}", "aws:SourceArn": "{machine_arn}"}),
    RuntimeCall("logging", "Step Functions sets up the machine's log delivery", MACHINE, LOG_DELIVERY, "*", SFN_LOGS, "doc"),
    RuntimeCall("logging", "CloudWatch Logs encrypts the machine's log events with the log group's key as it stores them, "
                "and decrypts them when they are read", LOGS, ("kms:GenerateDataKey", "kms:Decrypt"), "{log_key_arn}", CWL_KMS,
                "inferred", {"kms:EncryptionContext:aws:logs:arn": "{log_group_arn}"}, "log_kms"),
    RuntimeCall("tracing", "Step Functions sends the machine's traces to X-Ray", MACHINE, TRACING, "*", SFN_XRAY, "doc"),
    RuntimeCall(EXPORT_TASK, "the machine starts the export", MACHINE,
                ("dynamodb:ExportTableToPointInTime",), "{table_arn}", DDB_EXPORT + "; " + SFN_SDK, "doc"),
    RuntimeCall(EXPORT_TASK, "DynamoDB writes the export's files as the caller", MACHINE,
                ("s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"), "{object_arn}", DDB_EXPORT, "doc", S3_CONTEXT),
    RuntimeCall(EXPORT_TASK, "the files are encrypted with the key the export names", MACHINE,
                ("kms:GenerateDataKey", "kms:Decrypt"), "{key_arn}", S3_KMS, "doc",
                {"kms:ViaService": "s3.{region}.amazonaws.com"}, "export_kms"),
    RuntimeCall(EXPORT_TASK, "DynamoDB reads the table's customer managed key for the export, on the caller's behalf", MACHINE,
                ("kms:Decrypt",), "{table_key_arn}", DDB_EXPORT_KMS, "inferred",
                {"kms:ViaService": "dynamodb.{region}.amazonaws.com", "kms:EncryptionContext:aws:dynamodb:tableName": "{table}"}, "table_cmk"),
    RuntimeCall(EXPORT_TASK, "DynamoDB reads the table key's metadata for the export, on the caller's behalf (no encryption context)",
                MACHINE, ("kms:DescribeKey",), "{table_key_arn}", DDB_EXPORT_KMS + "; " + KMS_METADATA, "inferred",
                {"kms:ViaService": "dynamodb.{region}.amazonaws.com"}, "table_cmk"),
    RuntimeCall(DESCRIBE_EXPORT_TASK, "the machine follows the export, or the drill reads where an export of the table was written "
                "(bucket, prefix) and its item count", MACHINE,
                ("dynamodb:DescribeExport",), "{export_arn}", DDB_DESCRIBE_EXPORT + "; " + SFN_SDK, "doc"),
    RuntimeCall(PUBLISH_TASK, "the machine publishes an alarm", MACHINE, ("sns:Publish",), "{topic_arn}", SFN_SNS, "doc"),
    RuntimeCall(PUBLISH_TASK, "SNS encrypts the alarm with the topic's key", MACHINE,
                ("kms:GenerateDataKey", "kms:Decrypt"), "{topic_key_arn}", SNS_KMS, "doc",
                {"kms:ViaService": "sns.{region}.amazonaws.com"}, "topic_kms"),
    RuntimeCall(IMPORT_TASK, "the machine starts the import into a new table", MACHINE,
                ("dynamodb:ImportTable",), "{import_table_arn}", DDB_IMPORT + "; " + SFN_SDK, "doc"),
    RuntimeCall(IMPORT_TASK, "DynamoDB reads the export's files as the caller", MACHINE,
                ("s3:GetObject",), "{object_arn}", DDB_IMPORT, "doc", S3_CONTEXT),
    RuntimeCall(IMPORT_TASK, "DynamoDB lists the export's folder as the caller", MACHINE,
                ("s3:ListBucket",), "{bucket_arn}", DDB_IMPORT, "doc", {**S3_CONTEXT, "s3:prefix": "{folder}"}),
    RuntimeCall(IMPORT_TASK, "the files were encrypted with the bucket's key", MACHINE,
                ("kms:Decrypt",), "{key_arn}", DDB_IMPORT_KMS, "doc", {"kms:ViaService": "s3.{region}.amazonaws.com"}, "export_kms"),
    RuntimeCall(IMPORT_TASK, "the import writes its log stream", MACHINE, IMPORT_LOGS, "{import_log_arn}", DDB_IMPORT, "doc"),
    RuntimeCall(IMPORT_TASK, "the import looks up its log group", MACHINE, ("logs:DescribeLogGroups",), "*", DDB_IMPORT + "; " + LOGS_LIST, "doc"),
    RuntimeCall(IMPORT_TASK, "DynamoDB creates the new table on its customer managed key", MACHINE,
                ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
                 "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"), "{table_key_arn}", DDB_IMPORT_KMS, "doc",
                {"kms:ViaService": "dynamodb.{region}.amazonaws.com"},
                "table_cmk"),
    RuntimeCall(DESCRIBE_IMPORT_TASK, "the machine follows the import", MACHINE,
                ("dynamodb:DescribeImport",), "{import_arn}", DDB_IMPORT + "; " + SFN_SDK, "doc"),
    RuntimeCall(WATERMARK_READ_TASK, "the machine reads its watermark", MACHINE, ("s3:GetObject",), "{object_arn}",
                S3_OBJECTS + "; " + SFN_SDK, "doc", S3_CONTEXT),
    RuntimeCall(WATERMARK_READ_TASK, "the watermark was encrypted with the bucket's key", MACHINE, ("kms:Decrypt",), "{key_arn}",
                S3_OBJECTS, "doc", {"kms:ViaService": "s3.{region}.amazonaws.com"}, "export_kms"),
    RuntimeCall(NOT_FOUND_S3_KEY, "S3 answers a missing object 404 NoSuchKey, the error the Task catches, only to a caller "
                "that may list it; to any other it answers 403 AccessDenied (S3.AccessDeniedException), which the catch does not "
                "handle", MACHINE, ("s3:ListBucket",), "{bucket_arn}", S3_NOT_FOUND, "doc", S3_CONTEXT),
    RuntimeCall(WATERMARK_FIND_TASK, "the machine looks for its watermark by listing its own key", MACHINE, ("s3:ListBucket",),
                "{bucket_arn}", S3_LIST_PREFIX + "; " + SFN_SDK, "doc", {**S3_CONTEXT, "s3:prefix": "{object_key}"}),
    RuntimeCall(WATERMARK_WRITE_TASK, "the machine moves its watermark", MACHINE, ("s3:PutObject",), "{object_arn}",
                S3_OBJECTS + "; " + SFN_SDK, "doc", S3_CONTEXT),
    RuntimeCall(WATERMARK_WRITE_TASK, "S3 encrypts the watermark with the bucket's key", MACHINE, ("kms:GenerateDataKey",), "{key_arn}",
                S3_OBJECTS, "doc", {"kms:ViaService": "s3.{region}.amazonaws.com"}, "export_kms"),
    RuntimeCall(RUNS_TASK, "the machine looks for another run of itself", MACHINE, ("states:ListExecutions",), "{listed_machine_arn}",
                SFN_LIST + "; " + SFN_SDK, "doc"),
    RuntimeCall(CREDENTIALS, "the machine assumes the role a Task runs as", MACHINE, ("sts:AssumeRole",), "{assumed_role}",
                SFN_CREDENTIALS, "doc"),
    RuntimeCall(LIST_EXPORTS_TASK, "the drill lists the table's exports to find the newest ones", MACHINE, ("dynamodb:ListExports",), "*",
                DDB_LIST_EXPORTS + "; " + SFN_SDK, "doc"),
    RuntimeCall(DELETE_TABLE_TASK, "the drill deletes its scratch table", MACHINE, ("dynamodb:DeleteTable",), "{import_table_arn}",
                DDB_DELETE_TABLE + "; " + SFN_SDK, "doc"),
    RuntimeCall(PUT_EVENTS_TASK, "the machine announces an event on its bus", MACHINE, ("events:PutEvents",), "{event_bus_arn}",
                SFN_EVENTS, "doc"),
    RuntimeCall(ROUTE, "EventBridge assumes the role of a rule that forwards the event", "service:events.amazonaws.com",
                ("sts:AssumeRole",), "{rule_role}", EVENTS_TRUST, "doc", {"aws:SourceAccount": "{rule_account}", "aws:SourceArn": "{rule_arn}"}),
    RuntimeCall(ROUTE, "the rule forwards the event to a bus in another region or account", RULE, ("events:PutEvents",), "{target_arn}",
                EVENTS_ROLE, "doc", {"aws:SourceArn": "{rule_arn}"}),
    RuntimeCall(START, "EventBridge assumes the role of a rule that starts a machine", "service:events.amazonaws.com",
                ("sts:AssumeRole",), "{rule_role}", EVENTS_TRUST, "doc", {"aws:SourceAccount": "{rule_account}", "aws:SourceArn": "{rule_arn}"}),
    RuntimeCall(START, "the rule starts the machine the event is for", RULE, ("states:StartExecution",), "{target_arn}", EVENTS_SFN, "doc"),
    RuntimeCall(ALARM, "CloudWatch publishes the alarm of a rule that dropped the event, of a machine's failed, timed-out or "
                "aborted run, or of a schedule group whose schedule could not start its machine", "service:cloudwatch.amazonaws.com",
                ("sns:Publish",), "{topic_arn}", CLOUDWATCH_SNS, "doc", {"aws:SourceArn": "{alarm_arn}", "aws:SourceAccount": "{account}"}),
    RuntimeCall(ALARM, "SNS encrypts CloudWatch's alarm with the topic's key", "service:cloudwatch.amazonaws.com",
                ("kms:GenerateDataKey", "kms:Decrypt"), "{topic_key_arn}", CLOUDWATCH_SNS_KMS, "doc", {}, "topic_kms"),
    RuntimeCall("schedule", "EventBridge Scheduler assumes the schedule's role", "service:scheduler.amazonaws.com",
                ("sts:AssumeRole",), "{scheduler_role}", SCHEDULER_ROLE, "doc",
                {"aws:SourceAccount": "{account}", "aws:SourceArn": "{schedule_group_arn}"}),
    RuntimeCall("schedule", "the schedule starts the machine", SCHEDULER,
                ("states:StartExecution",), "{machine_arn}", SCHEDULER_ROLE, "doc"),
)
