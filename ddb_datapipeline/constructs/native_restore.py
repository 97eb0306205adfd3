"""A restore without Data Pipeline: DynamoDB's ImportTable from one native export into a new table, run
by a Step Functions state machine started by hand with the export and the new table's name.

ImportTable always creates its table (the service's rule), so a restore never writes into the source or
any existing table. The machine accepts only an export of its own table (``exports/<table>/AWSDynamoDB/...``)
and a new table named ``<target_prefix>...``; its role may create only tables of that prefix.

Start it with ``{"export": "exports/orders/AWSDynamoDB/<export id>/data/", "table": "orders-restore-1"}``.
"""
from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from .alert_topic import alerts_or_new
from .export_bucket import exports_prefix
from .native_export import GIVE_UP_AFTER_MINUTES, POLL_EVERY, alarm, state_machine, wildcard_reason
from .table_pipelines import PipelineConfigurationError, physical_table_name

# The DynamoDB guide's import policy: the import writes its own log stream under /aws-dynamodb/.
IMPORT_LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
               "logs:PutLogEvents", "logs:PutRetentionPolicy")
# The API's names of the key types (CDK's AttributeType says STRING where DynamoDB says S).
SCALAR_TYPES = {"STRING": "S", "NUMBER": "N", "BINARY": "B"}
# What DynamoDB needs of the caller to create a table on a customer managed key.
NEW_TABLE_KEY = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
                 "kms:ReEncryptTo")


def _key_schema(table: dynamodb.ITable, partition_key: dynamodb.Attribute | None,
                sort_key: dynamodb.Attribute | None) -> tuple[dynamodb.Attribute, dynamodb.Attribute | None]:
    if partition_key is not None:
        return partition_key, sort_key
    if isinstance(table, dynamodb.Table):
        schema = table.schema_v2()
        partitions, sorts = list(schema.partition_keys or []), list(schema.sort_keys or [])
        if len(partitions) == 1 and len(sorts) <= 1:
            return partitions[0], sorts[0] if sorts else None
    raise PipelineConfigurationError(f"{table.node.path}: a restore creates a table with the source's key schema; give partition_key (and sort_key)")


def _wildcard_reason(finding: str) -> str | None:
    if finding == "Resource::*":
        return wildcard_reason(finding)
    if "/import/*" in finding:
        return "DescribeImport of this machine's imports only: an import's ARN exists once the import has started."
    if ":table/" in finding and finding.endswith("*"):
        return "ImportTable creates a table named at run time; the grant is limited to the restore prefix of this table."
    if "/exports/" in finding and finding.endswith("/*"):
        return "Reads this table's own exports, in folders DynamoDB named at export time."
    if "/aws-dynamodb/" in finding:
        return "The import writes its own log stream under the /aws-dynamodb/ log group, named by the service."
    return None


class NativeRestore(Construct):
    """Restores one native export of ``source`` into a new table named ``<target_prefix>...`` (default
    ``<source>-restore``), billed per request, on ``table_key`` (default: an AWS owned key).

    ``partition_key``/``sort_key``: the source's key schema, needed for a table this app only references."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: dynamodb.ITable,
        bucket: s3.IBucket,
        bucket_key: kms.IKey | None = None,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        target_prefix: str | None = None,
        table_key: kms.IKey | None = None,
        alert_topic: sns.ITopic | None = None,
        alert_key: kms.IKey | None = None,
        environment: str = "default",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        name = physical_table_name(source)
        partition, sort = _key_schema(source, partition_key, sort_key)
        self.target_prefix = target_prefix or f"{name}-restore"
        key = bucket_key if bucket_key is not None else bucket.encryption_key
        alert_topic, alert_key = alerts_or_new(self, alert_topic, alert_key)
        self.prefix = exports_prefix(name)
        machine_name = f"ddb-{environment}-{name}-native-restore"
        targets = f"arn:{stack.partition}:dynamodb:{stack.region}:{stack.account}:table/{self.target_prefix}"

        failed = alarm(self, "Failed", alert_topic, f"FAILED: {machine_name}", "The restore of {} into {} failed: {}",
                       "$.export", "$.table", "$.error.Cause").next(sfn.Fail(self, "RestoreFailed", error="RestoreFailed"))
        refused = sfn.Fail(self, "Refused", error="InvalidInput",
                           cause=f"expected export: {self.prefix}/AWSDynamoDB/<export id>/data/ and table: {self.target_prefix}<suffix>")
        attributes = [partition, *([sort] if sort else [])]
        importing = tasks.CallAwsService(
            self, "Import", service="dynamodb", action="importTable", iam_action="dynamodb:ImportTable", iam_resources=[f"{targets}*"],
            parameters={
                "S3BucketSource": {"S3Bucket": bucket.bucket_name, "S3KeyPrefix.$": "$.export"},
                "InputFormat": "DYNAMODB_JSON",
                "InputCompressionType": "GZIP",
                "TableCreationParameters": {
                    "TableName.$": "$.table",
                    "KeySchema": [{"AttributeName": partition.name, "KeyType": "HASH"},
                                  *([{"AttributeName": sort.name, "KeyType": "RANGE"}] if sort else [])],
                    "AttributeDefinitions": [{"AttributeName": a.name, "AttributeType": SCALAR_TYPES[a.type.name]} for a in attributes],
                    "BillingMode": "PAY_PER_REQUEST",
                    **({"SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": table_key.key_arn}} if table_key else {}),
                },
            },
            result_selector={"arn.$": "$.ImportTableDescription.ImportArn"},
            result_path="$.import",
        )
        importing.add_catch(failed, result_path="$.error")
        wait = sfn.Wait(self, "WaitForImport", time=sfn.WaitTime.duration(POLL_EVERY))
        describe = tasks.CallAwsService(
            self, "DescribeImport", service="dynamodb", action="describeImport", iam_action="dynamodb:DescribeImport",
            iam_resources=[f"{targets}*/import/*"], parameters={"ImportArn.$": "$.import.arn"},
            result_selector={"status.$": "$.ImportTableDescription.ImportStatus"}, result_path="$.progress",
        )
        describe.add_retry(errors=["DynamoDb.LimitExceededException", "DynamoDb.InternalServerErrorException"])
        describe.add_catch(failed, result_path="$.error")
        count = sfn.Pass(self, "CountPolls", parameters={"value.$": "States.MathAdd($.polls.value, 1)"}, result_path="$.polls")
        gave_up = alarm(self, "GaveUp", alert_topic, f"STUCK: {machine_name}", "The restore into {} has not finished after {} polls",
                        "$.table", "$.polls.value").next(sfn.Fail(self, "RestoreStuck", error="RestoreStuck"))
        reported = sfn.Pass(self, "ImportReportedFailure", parameters={"Cause.$": "$.progress.status"}, result_path="$.error").next(failed)
        decide = (
            sfn.Choice(self, "Finished?")
            .when(sfn.Condition.string_equals("$.progress.status", "COMPLETED"), sfn.Succeed(self, "Restored"))
            .when(sfn.Condition.or_(*(sfn.Condition.string_equals("$.progress.status", s) for s in ("FAILED", "CANCELLED"))), reported)
            .when(sfn.Condition.number_greater_than_equals("$.polls.value", GIVE_UP_AFTER_MINUTES // 5), gave_up)
            .otherwise(wait)
        )
        start = sfn.Pass(self, "Start", parameters={"export.$": "$.export", "table.$": "$.table", "polls": {"value": 0}})
        check = (
            sfn.Choice(self, "OwnExportAndNewTable?")
            .when(sfn.Condition.and_(sfn.Condition.string_matches("$.export", f"{self.prefix}/AWSDynamoDB/*"),
                                     sfn.Condition.string_matches("$.table", f"{self.target_prefix}*")),
                  importing.next(wait).next(describe).next(count).next(decide))
            .otherwise(refused)
        )
        self.log_group, self.state_machine = state_machine(
            self, start.next(check), machine_name, f"Restores a native export of DynamoDB table {name} into a new table", log_retention,
            alert_key=alert_key, wildcard_reason=_wildcard_reason)
        machine = self.state_machine
        machine.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{self.prefix}/*")]))
        machine.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                                                    conditions={"StringLike": {"s3:prefix": [f"{self.prefix}/*"]}}))
        if key is not None:
            machine.add_to_role_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[key.key_arn],
                                                        conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}}))
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=list(IMPORT_LOGS), resources=[f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:/aws-dynamodb/*"]))
        if table_key is not None:
            machine.add_to_role_policy(iam.PolicyStatement(actions=list(NEW_TABLE_KEY), resources=[table_key.key_arn],
                                                        conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{stack.region}.amazonaws.com"}}))
