"""A restore without Data Pipeline: DynamoDB's ImportTable from one native export into a new table, run
by a Step Functions state machine started by hand with the export and the new table's name.

ImportTable always creates its table (the service's rule), so a restore never writes into the source or
any existing table. The machine accepts only one export of its own table (``exports/<table>/AWSDynamoDB/<export id>/data/``,
never a folder of several, which ImportTable would merge into one table)
and a new table named ``<target_prefix>...``; its role may create only tables of that prefix.

Start it with ``{"export": "exports/orders/AWSDynamoDB/<export id>/data/", "table": "orders-restore-1"}``.
"""
from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ..definition.generated_names import machine_name
from .alert_topic import alerts_for, check_alerts
from .export_bucket import exports_prefix
from .native_export import wildcard_reason
from .native_steps import MachineMetrics, NewTable, grant_import, import_check, import_steps, state_machine
from .props import PipelineConfigurationError, check_environment, check_target_prefix, construct_path
from .table_pipelines import bucket_key_of, generated_name_start, table_ref


def key_schema(table: dynamodb.ITable, partition_key: dynamodb.Attribute | None,
                sort_key: dynamodb.Attribute | None) -> tuple[dynamodb.Attribute, dynamodb.Attribute | None]:
    if partition_key is not None:
        return partition_key, sort_key
    if isinstance(table, dynamodb.Table):
        schema = table.schema_v2()
        partitions, sorts = list(schema.partition_keys or []), list(schema.sort_keys or [])
        if len(partitions) == 1 and len(sorts) <= 1:
            return partitions[0], sorts[0] if sorts else None
    raise PipelineConfigurationError(f"{table.node.path}: an import creates a table with the source's key schema; give partition_key (and sort_key)")


def import_wildcard_reason(finding: str) -> str | None:
    if finding == "Resource::*":
        return wildcard_reason(finding)
    if finding == "Action::kms:GenerateDataKey*":
        return ("kms:GenerateDataKey* is the form DynamoDB documents for creating a table on a customer managed key, which does "
                "not say which data-key action it calls; the grant is on the new table's key only, through DynamoDB (kms:ViaService).")
    if "/import/*" in finding:
        return "DescribeImport of this machine's imports only: an import's ARN exists once the import has started."
    if ":table/" in finding and finding.endswith("*"):
        return "ImportTable creates a table named at run time; the grant is limited to the prefix of the tables this machine creates."
    if "/exports/" in finding and finding.endswith("/*"):
        return "Reads this table's own exports, in folders DynamoDB named at export time."
    if "/copies/" in finding and finding.endswith("/*"):
        return "Reads and writes the copy's own staging folder, in folders DynamoDB names at export time."
    if "/aws-dynamodb/" in finding:
        return "The import writes its own log stream under the /aws-dynamodb/ log group, named by the service."
    return None


class NativeRestore(Construct, MachineMetrics):
    """Restores one native export of ``source`` into a new table named ``<target_prefix>...`` (default
    ``<source>-restore``), billed per request, on ``table_key`` (default: an AWS owned key).

    ``partition_key``/``sort_key``: the source's key schema, needed for a table this app only references."""

    # What it creates or uses, typed for the team's code (aws-cdk L2s expose theirs the same way).
    alert_topic: sns.ITopic  # the topic its alarms publish to: the given one, or the stack's shared AlertTopic's
    alert_key: kms.IKey | None  # that topic's key, when it has one
    state_machine: sfn.StateMachine  # the machine that runs it (its role: ``state_machine.role``)
    log_group: logs.LogGroup  # the machine's execution log

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
        alarm_emails: Sequence[str] = (),
        environment: str = "default",
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        where = construct_path(scope.node.path, id)
        environment = check_environment(where, environment)
        alarm_emails = check_alerts(where, topic=alert_topic, key=alert_key, emails=alarm_emails)
        ref = table_ref(source, scope=scope)
        name, named = ref.table_name, ref.named  # the name (a token where CloudFormation names the table), what folders use
        target_prefix = check_target_prefix(where, f"{named}-restore" if target_prefix is None else target_prefix, name,
                                            generated_start=generated_name_start(source))
        super().__init__(scope, id)
        partition, sort = key_schema(source, partition_key, sort_key)
        self.target_prefix = target_prefix or f"{named}-restore"
        key = bucket_key_of(where, bucket, bucket_key)
        alert_topic, alert_key = alerts_for(self, topic=alert_topic, key=alert_key, emails=alarm_emails)
        self.alert_topic, self.alert_key = alert_topic, alert_key
        self.prefix = exports_prefix(named)
        machine = machine_name(environment, named, "restore")
        new_table = NewTable(self.target_prefix, partition, sort, table_key)

        steps = import_steps(self, bucket=bucket, table=new_table, alert_topic=alert_topic, name=machine, what="restore",
                             then=sfn.Succeed(self, "Restored"))
        check = import_check(self, prefix=self.prefix, table=new_table, then=steps, alert_topic=alert_topic, name=machine,
                             refusal=f"expected export: {self.prefix}/AWSDynamoDB/<export id>/data/ and table: {self.target_prefix}<suffix>")
        start = sfn.Pass(self, "Start", parameters={"export.$": "$.export", "table.$": "$.table", "polls": {"value": 0}})
        self.log_group, self.state_machine = state_machine(
            self, start.next(check), machine, f"Restores a native export of DynamoDB table {name} into a new table", log_retention,
            alert_topic=alert_topic, alert_key=alert_key, wildcard_reason=import_wildcard_reason)
        grant_import(self.state_machine, bucket=bucket, key=key, prefix=self.prefix, table_key=new_table.key,
                     bucket_account=Stack.of(self).account)  # the export's bucket: its export names no S3BucketOwner
