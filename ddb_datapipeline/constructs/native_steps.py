"""The parts the native engine's state machines share: the export and the import, each a call followed by
a bounded wait loop with alarms, the grants each needs, and the machine around them (logged, traced,
its wildcards acknowledged).

An export (``ExportTableToPointInTime``) and an import (``ImportTable``) both return at once and finish
later, and AWS SDK integrations have no ``.sync`` form for them, so each is polled every five minutes
with its Describe call and given up after a day. An export and an import may follow each other in one
machine (a copy), so their states have names of their own.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ..definition.generated_names import NATIVE_GIVE_UP_MINUTES, shortened
from .acknowledge import acknowledge_wildcards
from .delivery_alarm import ALARM_PREFIX, admit_alarms
from .logs_key import logs_key
from .pipeline_roles import TableRef

POLL_EVERY = Duration.minutes(5)
MAX_POLLS = NATIVE_GIVE_UP_MINUTES // 5
# DynamoDB's export writes objects (multipart for large files) with the caller's permissions.
EXPORT_WRITES = ("s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl")
# The DynamoDB guide's import policy: the import writes its own log stream under /aws-dynamodb/. The guide grants
# logs:DescribeLogGroups there too, but the action has no resource type (Service Authorization Reference), so only
# a grant on "*" allows it: it gets a statement of its own (IMPORT_LOG_LOOKUP).
IMPORT_LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:PutRetentionPolicy")
IMPORT_LOG_LOOKUP = ("logs:DescribeLogGroups",)
# The API's names of the key types (CDK's AttributeType says STRING where DynamoDB says S).
SCALAR_TYPES = {"STRING": "S", "NUMBER": "N", "BINARY": "B"}
# What DynamoDB needs of the caller to create a table on a customer managed key (the actions of the key policy
# DynamoDB documents, GenerateDataKey* as it writes them).
NEW_TABLE_KEY = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncryptFrom",
                 "kms:ReEncryptTo")
MAX_RULE_NAME = 64  # EventBridge's limit on a rule's name
# The event a copy into another region announces its export with, and the import machine there starts on.
COPY_EVENT_SOURCE = "ddb-datapipeline"
COPY_EXPORTED = "DynamoDB copy exported"
# The AWS/States metrics of an execution that ended without succeeding (Step Functions Developer Guide, "Monitoring
# Step Functions metrics using Amazon CloudWatch": execution metrics, dimension StateMachineArn, sent only when not zero),
# with the suffix of the alarm on each.
EXECUTION_ALARMS = (("ExecutionsFailed", "failed"), ("ExecutionsTimedOut", "timed-out"), ("ExecutionsAborted", "aborted"))
ALARM_PERIOD = Duration.minutes(5)
UNCAUGHT_ALARM, UNCAUGHT_FAIL = "StepFailedAlarm", "StepFailed"
# The retention periods a log group may have, in days, and CDK's name of each (CloudFormation resource schema of
# AWS::Logs::LogGroup, RetentionInDays enum, read in aws-cloudformation-resource-providers-logs; the names from
# aws_cdk.aws_logs.RetentionDays). Anything longer than the last is kept forever.
LOG_RETENTION_DAYS = (
    (1, "ONE_DAY"), (3, "THREE_DAYS"), (5, "FIVE_DAYS"), (7, "ONE_WEEK"), (14, "TWO_WEEKS"), (30, "ONE_MONTH"), (60, "TWO_MONTHS"),
    (90, "THREE_MONTHS"), (120, "FOUR_MONTHS"), (150, "FIVE_MONTHS"), (180, "SIX_MONTHS"), (365, "ONE_YEAR"), (400, "THIRTEEN_MONTHS"),
    (545, "EIGHTEEN_MONTHS"), (731, "TWO_YEARS"), (1827, "FIVE_YEARS"), (3653, "TEN_YEARS"),
)


def log_retention(days: int) -> logs.RetentionDays:
    """The state machine logs' retention for the configured ``log_retention_days``: the shortest period CloudWatch Logs
    offers that keeps them at least ``days`` (30 stays 30; 100 becomes 120; beyond ten years, forever). The configured
    value is kept whenever CloudWatch Logs offers it, never shortened."""
    for allowed, name in LOG_RETENTION_DAYS:
        if days <= allowed:
            return getattr(logs.RetentionDays, name)  # type: ignore[no-any-return]
    return logs.RetentionDays.INFINITE


def copy_rule_name(environment: str, table: str, target_prefix: str, role: str) -> str:
    """``ddb-<environment>-<table>-copy-<prefix>-<role>``: the rules of a native copy into another region
    (``forward`` in the source region, ``start`` in the target's), named because policies and alarms name them."""
    return shortened(f"ddb-{environment}-{table}-copy-{target_prefix}-{role}", MAX_RULE_NAME)


def rule_arn(stack: Stack, *, bus_name: str, rule_name: str) -> str:
    """The ARN of the rule ``rule_name`` on the custom bus ``bus_name`` of ``stack`` (``rule/<bus>/<rule>``), built
    from names: a reference to the rule would make its role depend on the rule, which depends on its role."""
    return f"arn:{stack.partition}:events:{stack.region}:{stack.account}:rule/{bus_name}/{rule_name}"


def rule_role(scope: Construct, id: str, *, rule: str) -> iam.Role:
    """The role EventBridge assumes to deliver the events of the rule whose ARN is ``rule``, trusted for that rule
    of this account only. The EventBridge User Guide, "Cross-service confused deputy prevention in Amazon
    EventBridge": for event bus rule targets the value of aws:SourceArn must be the rule ARN (with
    aws:SourceAccount the account of the rule). Without them, a rule of any account whose target named this
    role could have EventBridge assume it."""
    stack = Stack.of(scope)
    return iam.Role(scope, id, assumed_by=iam.ServicePrincipal("events.amazonaws.com", conditions={
        "ArnEquals": {"aws:SourceArn": rule}, "StringEquals": {"aws:SourceAccount": stack.account}}))


def machine_trust(stack: Stack) -> iam.ServicePrincipal:
    """Step Functions as it may assume a machine's role: for a state machine of this account and region only. The
    conditions CDK writes into the role it makes for every other machine (aws-stepfunctions StateMachine), from the
    Step Functions Developer Guide, "Creating an IAM role for your state machine", section "Prevent cross-service
    confused deputy issue" (aws:SourceArn a state machine ARN, aws:SourceAccount its account). A role given a fixed
    name (another account's policies name it) would otherwise trust Step Functions on behalf of any account."""
    machines = f"arn:{stack.partition}:states:{stack.region}:{stack.account}:stateMachine:*"
    return iam.ServicePrincipal("states.amazonaws.com", conditions={
        "ArnLike": {"aws:SourceArn": machines}, "StringEquals": {"aws:SourceAccount": stack.account}})


def announce_bus_name(forward_rule: str) -> str:
    """The bus a copy into another region announces its exports on, in the source region: named as the copy's
    forward rule (the rule is on it, so its ARN is ``rule/<bus>/<rule>``, which the target's bus policy names)."""
    return forward_rule


def export_id(arn_path: str) -> str:
    """The intrinsic that reads the export id out of an export ARN at ``arn_path``
    (``arn:...:table/<table>/export/<export id>``; the id starts with the export's time)."""
    return f"States.ArrayGetItem(States.StringSplit({arn_path}, '/'), 3)"


def alarm(scope: Construct, id: str, topic: sns.ITopic, subject: str, template: str, *paths: str,
          result_path: str | None = None) -> tasks.SnsPublish:
    """A Task that publishes ``template`` (States.Format with ``paths``) to the alert topic."""
    return tasks.SnsPublish(
        scope, id, topic=topic, subject=subject[:100],
        message=sfn.TaskInput.from_json_path_at(f"States.Format('{template}', {', '.join(paths)})"),
        result_path=result_path if result_path is not None else "$.alarm",
    )


def export_steps(scope: Construct, *, source: TableRef, bucket: s3.IBucket, key: kms.IKey | None, prefix: str,
                 alert_topic: sns.ITopic, name: str, late_minutes: int | None, then: sfn.IChainable,
                 request: Mapping[str, object] | None = None) -> sfn.IChainable:
    """Export ``source`` (named by ``$.table``) under ``prefix``, wait for it (``$.polls.value`` counts the
    checks), alarm when it fails, is late or is stuck, and go on to ``then`` with ``$.export.arn`` set.
    ``request``: more parameters of the export (an incremental export's type and window)."""
    failed = alarm(scope, "Failed", alert_topic, f"FAILED: {name}", "The export of {} failed: {}",
                   "$.table", "$.error.Cause").next(sfn.Fail(scope, "ExportFailed", error="ExportFailed"))
    export = tasks.CallAwsService(
        scope, "Export", service="dynamodb", action="exportTableToPointInTime",
        iam_action="dynamodb:ExportTableToPointInTime", iam_resources=[source.table_arn],
        parameters={
            "TableArn": source.table_arn,
            "S3Bucket": bucket.bucket_name,
            "S3Prefix": prefix,
            "ExportFormat": "DYNAMODB_JSON",
            **({"S3SseAlgorithm": "KMS", "S3SseKmsKeyId": key.key_arn} if key is not None else {"S3SseAlgorithm": "AES256"}),
            **(request or {}),
        },
        result_selector={"arn.$": "$.ExportDescription.ExportArn"},
        result_path="$.export",
    )
    export.add_retry(errors=["DynamoDb.LimitExceededException"], interval=Duration.minutes(5), max_attempts=6, backoff_rate=1.5)
    export.add_catch(failed, result_path="$.error")
    describe = tasks.CallAwsService(
        scope, "DescribeExport", service="dynamodb", action="describeExport",
        iam_action="dynamodb:DescribeExport", iam_resources=[f"{source.table_arn}/export/*"],
        parameters={"ExportArn.$": "$.export.arn"},
        result_selector={"status.$": "$.ExportDescription.ExportStatus"},
        result_path="$.progress",
    )
    describe.add_retry(errors=["DynamoDb.LimitExceededException", "DynamoDb.InternalServerErrorException"])
    describe.add_catch(failed, result_path="$.error")
    count = sfn.Pass(scope, "CountPolls", parameters={"value.$": "States.MathAdd($.polls.value, 1)"}, result_path="$.polls")
    wait = sfn.Wait(scope, "WaitForExport", time=sfn.WaitTime.duration(POLL_EVERY))
    gave_up = alarm(scope, "GaveUp", alert_topic, f"STUCK: {name}", "The export of {} has not finished after {} polls",
                    "$.table", "$.polls.value").next(sfn.Fail(scope, "ExportStuck", error="ExportStuck"))
    failed_status = sfn.Pass(scope, "ExportReportedFailure", parameters={"Cause.$": "$.progress.status"}, result_path="$.error").next(failed)
    decide = (
        sfn.Choice(scope, "Finished?")
        .when(sfn.Condition.string_equals("$.progress.status", "COMPLETED"), then)
        .when(sfn.Condition.string_equals("$.progress.status", "FAILED"), failed_status)
        .when(sfn.Condition.number_greater_than_equals("$.polls.value", MAX_POLLS), gave_up)
    )
    if late_minutes:
        late = alarm(scope, "Late", alert_topic, f"LATE: {name}", "The export of {} has not finished after {} polls",
                     "$.table", "$.polls.value", result_path=sfn.JsonPath.DISCARD).next(wait)
        decide = decide.when(sfn.Condition.number_equals("$.polls.value", -(-late_minutes // 5)), late)
    decide.otherwise(wait)
    return export.next(wait).next(describe).next(count).next(decide)


def grant_export(machine: sfn.StateMachine, *, source: TableRef, bucket: s3.IBucket, key: kms.IKey | None, prefix: str,
                 bucket_account: str | None = None) -> None:
    """DynamoDB writes the files as the caller, so the machine's role needs the bucket (its prefix only) and
    its key; and, for a table on a customer managed key, that key through DynamoDB (inferred: the DynamoDB
    guide says the key policy must let DynamoDB use the key for the role that starts the export, without
    naming the actions; these are the reading actions it names elsewhere). ``bucket_account``: the owner
    of a bucket in another account."""
    stack = Stack.of(machine)
    # A bucket of another account is named, not referenced: the writes are pinned to that account, so a
    # bucket of the same name elsewhere (after the real one was deleted) takes none of the table's items.
    pinned = {"StringEquals": {"s3:ResourceAccount": bucket_account}} if bucket_account else None
    machine.add_to_role_policy(iam.PolicyStatement(actions=list(EXPORT_WRITES), resources=[bucket.arn_for_objects(f"{prefix}/*")],
                                                   conditions=pinned))
    if key is not None:
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
        ))
    if source.key is None and not source.key_elsewhere:
        return
    resource = source.key.key_arn if source.key is not None else f"arn:{stack.partition}:kms:{source.region}:{source.account}:key/*"
    # Decrypt carries the table's encryption context; DescribeKey carries none (pipeline_roles.TABLE_KEY_METADATA).
    through_dynamodb = {"kms:ViaService": f"dynamodb.{stack.region}.amazonaws.com"}
    machine.add_to_role_policy(iam.PolicyStatement(
        actions=["kms:Decrypt"], resources=[resource],
        conditions={"StringEquals": {**through_dynamodb, "kms:EncryptionContext:aws:dynamodb:tableName": source.table_name}},
    ))
    machine.add_to_role_policy(iam.PolicyStatement(actions=["kms:DescribeKey"], resources=[resource],
                                                   conditions={"StringEquals": through_dynamodb}))


@dataclass(frozen=True)
class NewTable:
    """The table an import creates: its key schema (the export's), named ``<prefix>...`` at run time by
    ``$.table``, billed per request, on ``key`` (None: an AWS owned key)."""

    prefix: str
    partition: dynamodb.Attribute
    sort: dynamodb.Attribute | None
    key: kms.IKey | None

    def arn_pattern(self, stack: Stack, account: str | None = None) -> str:
        return f"arn:{stack.partition}:dynamodb:{stack.region}:{account or stack.account}:table/{self.prefix}*"

    def creation_parameters(self) -> dict[str, object]:
        attributes = [self.partition, *([self.sort] if self.sort else [])]
        return {
            "TableName.$": "$.table",
            "KeySchema": [{"AttributeName": self.partition.name, "KeyType": "HASH"},
                          *([{"AttributeName": self.sort.name, "KeyType": "RANGE"}] if self.sort else [])],
            "AttributeDefinitions": [{"AttributeName": a.name, "AttributeType": SCALAR_TYPES[a.type.name]} for a in attributes],
            "BillingMode": "PAY_PER_REQUEST",
            **({"SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": self.key.key_arn}} if self.key else {}),
        }


def _dynamodb_task(scope: Construct, id: str, *, action: str, resource: str, parameters: dict[str, object],
                   result_selector: dict[str, str], result_path: str, assume_role_arn: str | None) -> sfn.TaskStateBase | sfn.CustomState:
    """An AWS SDK call to DynamoDB by the machine's role (CDK grants it ``resource``), or, with
    ``assume_role_arn``, as that role: a Task with ``Credentials``, whose grants belong to that role (in its
    own account), so none is added to the machine's."""
    if assume_role_arn is None:
        return tasks.CallAwsService(scope, id, service="dynamodb", action=action, iam_action=f"dynamodb:{action[0].upper()}{action[1:]}",
                                    iam_resources=[resource], parameters=parameters, result_selector=result_selector,
                                    result_path=result_path)
    return sfn.CustomState(scope, id, state_json={
        "Type": "Task",
        "Resource": f"arn:{Stack.of(scope).partition}:states:::aws-sdk:dynamodb:{action}",
        "Credentials": {"RoleArn": assume_role_arn},
        "Parameters": parameters,
        "ResultSelector": result_selector,
        "ResultPath": result_path,
    })


def import_steps(scope: Construct, *, bucket: s3.IBucket, table: NewTable, alert_topic: sns.ITopic, name: str, what: str,
                 then: sfn.IChainable, assume_role_arn: str | None = None, account: str | None = None) -> sfn.IChainable:
    """Import the export folder ``$.export`` of ``bucket`` into the new table ``$.table``, wait for it
    (``$.polls.value`` counts the checks from 0), alarm when it fails or is stuck, then go on to ``then``.
    ``what`` names the run in alarms ("restore", "copy"). ``assume_role_arn``: import as that role, into
    its ``account`` (a copy into another account)."""
    stack = Stack.of(scope)
    tables = table.arn_pattern(stack, account)
    failed = alarm(scope, "ImportFailedAlarm", alert_topic, f"FAILED: {name}", f"The {what} of {{}} into {{}} failed: {{}}",
                   "$.export", "$.table", "$.error.Cause").next(sfn.Fail(scope, "ImportFailed", error="ImportFailed"))
    importing = _dynamodb_task(
        scope, "Import", action="importTable", resource=tables, assume_role_arn=assume_role_arn,
        parameters={
            "S3BucketSource": {"S3Bucket": bucket.bucket_name, "S3KeyPrefix.$": "$.export"},
            "InputFormat": "DYNAMODB_JSON",
            "InputCompressionType": "GZIP",
            "TableCreationParameters": table.creation_parameters(),
        },
        result_selector={"arn.$": "$.ImportTableDescription.ImportArn"},
        result_path="$.import",
    )
    importing.add_catch(failed, result_path="$.error")
    wait = sfn.Wait(scope, "WaitForImport", time=sfn.WaitTime.duration(POLL_EVERY))
    describe = _dynamodb_task(
        scope, "DescribeImport", action="describeImport", resource=f"{tables}/import/*", assume_role_arn=assume_role_arn,
        parameters={"ImportArn.$": "$.import.arn"},
        result_selector={"status.$": "$.ImportTableDescription.ImportStatus"}, result_path="$.progress",
    )
    describe.add_retry(errors=["DynamoDb.LimitExceededException", "DynamoDb.InternalServerErrorException"])
    describe.add_catch(failed, result_path="$.error")
    count = sfn.Pass(scope, "CountImportPolls", parameters={"value.$": "States.MathAdd($.polls.value, 1)"}, result_path="$.polls")
    gave_up = alarm(scope, "ImportGaveUp", alert_topic, f"STUCK: {name}", f"The {what} into {{}} has not finished after {{}} polls",
                    "$.table", "$.polls.value").next(sfn.Fail(scope, "ImportStuck", error="ImportStuck"))
    reported = sfn.Pass(scope, "ImportReportedFailure", parameters={"Cause.$": "$.progress.status"}, result_path="$.error").next(failed)
    decide = (
        sfn.Choice(scope, "Imported?")
        .when(sfn.Condition.string_equals("$.progress.status", "COMPLETED"), then)
        .when(sfn.Condition.or_(*(sfn.Condition.string_equals("$.progress.status", s) for s in ("FAILED", "CANCELLED"))), reported)
        .when(sfn.Condition.number_greater_than_equals("$.polls.value", MAX_POLLS), gave_up)
        .otherwise(wait)
    )
    reset = sfn.Pass(scope, "StartImportPolls", result=sfn.Result.from_object({"value": 0}), result_path="$.polls")
    return reset.next(importing).next(wait).next(describe).next(count).next(decide)


def import_check(scope: Construct, *, prefix: str, table: NewTable, refusal: str, then: sfn.IChainable, alert_topic: sns.ITopic,
                 name: str, named_after_export: bool = False) -> sfn.Choice:
    """Go on to ``then`` only for one export of this table's folder and a new table of the prefix; alarm and fail
    otherwise. The permission model reads the two StringMatches patterns.

    ``$.export`` must be ``<prefix>/AWSDynamoDB/<export id>/data/``: ImportTable reads every object under the
    key prefix it is given, so a shorter prefix (``<prefix>/AWSDynamoDB/``, or one cut inside an id) would merge
    several exports into one table. Export ids contain no ``/`` and no ``/data/``, so a prefix ending in
    ``/data/`` is inside one export's folder. ``named_after_export``: the table must also be exactly
    ``<table prefix><export id>`` of that same export (a copy's, named so by its own machine), and the folder
    exactly that export's: the id is cut out of the folder and both names are rebuilt from it and compared."""
    refused = alarm(scope, "RefusedAlarm", alert_topic, f"REFUSED: {name}", f"{name} refused export {{}} into table {{}}: {refusal}",
                    "$.export", "$.table", result_path=sfn.JsonPath.DISCARD).next(sfn.Fail(scope, "Refused", error="InvalidInput", cause=refusal))
    patterns = sfn.Condition.and_(sfn.Condition.string_matches("$.export", f"{prefix}/AWSDynamoDB/*/data/"),
                                  sfn.Condition.string_matches("$.table", f"{table.prefix}*"))
    if not named_after_export:
        return sfn.Choice(scope, "OwnExportAndNewTable?").when(patterns, then).otherwise(refused)
    # The segment after AWSDynamoDB: <prefix segments>, AWSDynamoDB, <export id>, data.
    cut = f"States.ArrayGetItem(States.StringSplit($.export, '/'), {len(prefix.split('/')) + 1})"
    expected = sfn.Pass(scope, "ExpectedNames", result_path="$.expected", parameters={
        "export.$": f"States.Format('{prefix}/AWSDynamoDB/{{}}/data/', {cut})",
        "table.$": f"States.Format('{table.prefix}{{}}', {cut})",
    })
    exact = (sfn.Choice(scope, "OneExportAndItsTable?")
             .when(sfn.Condition.and_(sfn.Condition.string_equals_json_path("$.export", "$.expected.export"),
                                      sfn.Condition.string_equals_json_path("$.table", "$.expected.table")), then)
             .otherwise(refused))
    return sfn.Choice(scope, "OwnExportAndNewTable?").when(patterns, expected.next(exact)).otherwise(refused)


def grant_import(grantee: iam.IGrantable, *, bucket: s3.IBucket, key: kms.IKey | None, prefix: str, table_key: kms.IKey | None,
                 bucket_account: str) -> None:
    """DynamoDB reads the files and writes its log as the caller (the machine's role, or the role a copy
    into another account imports as): read of the export prefix, the bucket's key through S3, the
    import's log group, and the new table's key through DynamoDB.

    ``bucket_account``: the account that owns ``bucket``. S3 ARNs carry no account, so both reads are pinned to it
    (``s3:ResourceAccount``, as the export's writes are): a bucket of the same name in another account (the real
    one deleted and its name taken) cannot feed the import items of someone else's choosing."""
    stack = Stack.of(grantee) if isinstance(grantee, Construct) else Stack.of(bucket)

    principal = grantee.grant_principal  # read once: each read is a round trip to the jsii Node process

    def grant(statement: iam.PolicyStatement) -> None:
        principal.add_to_principal_policy(statement)

    owner = {"s3:ResourceAccount": bucket_account}
    grant(iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{prefix}/*")],
                              conditions={"StringEquals": owner}))
    grant(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                              conditions={"StringLike": {"s3:prefix": [f"{prefix}/*"]}, "StringEquals": owner}))
    if key is not None:
        grant(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[key.key_arn],
                                  conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}}))
    grant(iam.PolicyStatement(
        actions=list(IMPORT_LOGS), resources=[f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:/aws-dynamodb/*"]))
    grant(iam.PolicyStatement(actions=list(IMPORT_LOG_LOOKUP), resources=["*"]))
    if table_key is not None:
        grant(iam.PolicyStatement(actions=list(NEW_TABLE_KEY), resources=[table_key.key_arn],
                                  conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{stack.region}.amazonaws.com"}}))


def depend_on_policy_only(machine: sfn.StateMachine) -> None:
    """CDK makes a machine depend on its role and the role's policy; the role is already a reference of
    RoleArn (cfn-lint W3005), so only the policy stays (the machine must not start before it)."""
    resource = machine.node.default_child
    policy = machine.role.node.try_find_child("DefaultPolicy")
    policy_resource = policy.node.default_child if policy is not None else None  # read once: a jsii round trip each time
    if isinstance(resource, CfnResource) and isinstance(policy_resource, CfnResource):
        resource.add_override("DependsOn", [Stack.of(machine).get_logical_id(policy_resource)])


def _is_task(state: sfn.State) -> bool:
    return isinstance(state, sfn.TaskStateBase) or (isinstance(state, sfn.CustomState) and state.to_state_json().get("Type") == "Task")


def catch_uncaught(scope: Construct, definition: sfn.IChainable, *, alert_topic: sns.ITopic, name: str) -> None:
    """Give every Task of ``definition`` that catches nothing a catch of every error (States.ALL) that publishes
    FAILED with the error and its cause and then fails the run, so that it still counts as failed
    (ExecutionsFailed). Without it an SDK error (a denied call, a throttled ListExports) ends the run with no
    message from the machine. Tasks with catches of their own keep them (they alarm already), and the alarm
    publications are left alone: their catch would publish to the topic that just refused."""
    uncaught = [state for state in sfn.State.find_reachable_states(definition.start_state, include_error_handlers=True)
                if _is_task(state) and not isinstance(state, tasks.SnsPublish) and "Catch" not in state.to_state_json()]
    if not uncaught:
        return
    handler = alarm(scope, UNCAUGHT_ALARM, alert_topic, f"FAILED: {name}", f"{name} failed: {{}}: {{}}", "$.error.Error", "$.error.Cause",
                    result_path=sfn.JsonPath.DISCARD).next(sfn.Fail(scope, UNCAUGHT_FAIL, error="StepFailed",
                                                                    cause="a step failed; the alarm names its error"))
    for state in uncaught:
        state.add_catch(handler, errors=[sfn.Errors.ALL], result_path="$.error")  # type: ignore[attr-defined]


def execution_metric(machine: sfn.IStateMachine, metric_name: str) -> cloudwatch.Metric:
    """The AWS/States execution metric ``metric_name`` of ``machine`` as its alarm reads it (the sum over
    ``ALARM_PERIOD``): one function for the alarms and the constructs' ``metric_*`` methods, so the two cannot differ."""
    return machine.metric(metric_name, statistic="Sum", period=ALARM_PERIOD)


class MachineMetrics:
    """The ``metric_*`` methods of a native construct, after the state machine L2's names (``metric_failed``,
    ``metric_timed_out``, ``metric_aborted``, ``metric_time``): the metric each of its alarms watches, dimension
    ``StateMachineArn``, for a team's dashboards and alarms of its own. A different period or statistic:
    ``construct.metric_failed().with_(period=Duration.hours(1))``."""

    state_machine: sfn.StateMachine

    def metric_failed(self) -> cloudwatch.Metric:
        """Runs that failed (``ExecutionsFailed``, sum per 5 minutes): what the ``...-failed`` alarm watches."""
        return execution_metric(self.state_machine, "ExecutionsFailed")

    def metric_timed_out(self) -> cloudwatch.Metric:
        """Runs stopped by the machine's timeout (``ExecutionsTimedOut``): what the ``...-timed-out`` alarm watches."""
        return execution_metric(self.state_machine, "ExecutionsTimedOut")

    def metric_aborted(self) -> cloudwatch.Metric:
        """Runs stopped by hand (``ExecutionsAborted``): what the ``...-aborted`` alarm watches."""
        return execution_metric(self.state_machine, "ExecutionsAborted")

    def metric_time(self) -> cloudwatch.Metric:
        """How long a run took (``ExecutionTime``, milliseconds, average per 5 minutes); no alarm watches it."""
        return self.state_machine.metric("ExecutionTime", statistic="Average", period=ALARM_PERIOD)


def execution_alarms(scope: Construct, machine: sfn.StateMachine, *, name: str, alert_topic: sns.ITopic,
                     alert_key: kms.IKey | None) -> list[cloudwatch.Alarm]:
    """CloudWatch alarms on ``alert_topic`` when a run of ``machine`` fails, times out or is aborted: what the
    machine cannot report itself (its own timeout, a stop by hand, a failure outside its catches, an alarm
    it could not publish). Named ``ddb-...`` so that the topic admits CloudWatch's publication of them."""
    made = []
    for metric_name, suffix in EXECUTION_ALARMS:
        made.append(cloudwatch.Alarm(
            scope, f"{metric_name}Alarm",
            alarm_name=f"{ALARM_PREFIX}{name.removeprefix(ALARM_PREFIX)}-{suffix}",
            alarm_description=f"A run of the state machine {name} ended {suffix.replace('-', ' ')}",
            metric=execution_metric(machine, metric_name),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # Step Functions sends the count only when it is not zero
        ))
        made[-1].add_alarm_action(cloudwatch_actions.SnsAction(alert_topic))
    admit_alarms(alert_topic, alert_key)
    return made


def state_machine(scope: Construct, definition: sfn.IChainable, name: str, comment: str, log_retention: logs.RetentionDays, *,
                  alert_topic: sns.ITopic, alert_key: kms.IKey | None, wildcard_reason: Callable[[str], str | None],
                  wait_loops: int = 1, role_name: str | None = None) -> tuple[logs.LogGroup, sfn.StateMachine]:
    """A native-engine state machine: logged (level ALL, no execution data, to a log group encrypted with the stack's
    logs key) and traced, stopped an hour
    after its ``wait_loops`` wait loops would have given up, allowed to encrypt alarms with the topic's key (SNS does so as
    the publisher), its wildcards acknowledged with ``wildcard_reason``; every Task catches (``catch_uncaught``) and the
    runs that fail, time out or are aborted alarm through CloudWatch (``execution_alarms``), both on ``alert_topic``."""
    catch_uncaught(scope, definition, alert_topic=alert_topic, name=name)
    # Encrypted with the stack's logs key (constructs/logs_key.py): encryption by default, as the Control Tower control
    # CT.CLOUDWATCH.PR.3 and checkov's CKV_AWS_158 ask.
    log_group = logs.LogGroup(scope, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY,
                              encryption_key=logs_key(scope))
    # A name of its own where another account's policies must name the role (``role_name``).
    role = iam.Role(scope, "Role", assumed_by=machine_trust(Stack.of(scope)), role_name=role_name) if role_name else None
    machine = sfn.StateMachine(
        scope, "StateMachine",
        role=role,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        state_machine_name=name,
        comment=comment,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        timeout=Duration.minutes(wait_loops * NATIVE_GIVE_UP_MINUTES + 60),
    )
    if alert_key is not None:
        machine.add_to_role_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[alert_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"sns.{Stack.of(scope).region}.amazonaws.com"}},
        ))
    depend_on_policy_only(machine)
    acknowledge_wildcards(role if role is not None else machine, wildcard_reason)
    execution_alarms(scope, machine, name=name, alert_topic=alert_topic, alert_key=alert_key)
    return log_group, machine
