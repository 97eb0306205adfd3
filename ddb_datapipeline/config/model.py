"""The validated configuration of one environment, as frozen dataclasses."""
from __future__ import annotations

from dataclasses import dataclass

from ..definition.common import ScheduleSpec
from ..definition.emr import ClusterSpec
from ..definition.hive_copy import CopySelection

DATAPIPELINE, NATIVE = "datapipeline", "native"
ENGINES = (DATAPIPELINE, NATIVE)


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    type: str  # S, N or B


@dataclass(frozen=True)
class OwnedTable:
    """How this stack declares a table it owns."""

    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    billing_mode: str  # PAY_PER_REQUEST or PROVISIONED
    read_capacity: int | None
    write_capacity: int | None
    point_in_time_recovery: bool
    encryption: str  # CUSTOMER_MANAGED, AWS_MANAGED or AWS_OWNED
    stream: str | None


@dataclass(frozen=True)
class ExportConfig:
    schedule: ScheduleSpec | None  # None: on demand
    read_ratio: float
    compress: bool
    incremental: str | None = None  # native engine: a period of incremental exports between the full ones


@dataclass(frozen=True)
class RestoreConfig:
    target_table: str
    write_ratio: float
    allow_into_source: bool
    create_target: bool
    target_prefix: str | None = None  # native engine: new tables are named <target_prefix>..., default <table>-restore
    drill: str | None = None  # native engine: restore the latest export into a scratch table and count it, every period


@dataclass(frozen=True)
class CopyConfig:
    """Keeps another table in step with this one: export, import into the target, clean up."""

    target_table: str
    region: str
    account: str | None  # None: the environment's own account
    schedule: ScheduleSpec | None  # None: on demand
    read_ratio: float
    write_ratio: float
    owned: bool  # the target table is declared by this project (in the target's environment)
    cross_account: bool
    target_prefix: str | None = None  # native engine: each run creates a new table <target_prefix>-<export id>
    selection: CopySelection | None = None  # Data Pipeline: only the items an incremental window or a filter keeps

    @property
    def label(self) -> str:
        """A short id for the copy, unique within its source table."""
        where = "-".join(part for part in (self.account if self.cross_account else None, self.region) if part)
        return f"{self.target_table}-{where}"


@dataclass(frozen=True)
class TableConfig:
    name: str
    owned: OwnedTable | None  # None: an existing table this stack only references
    export: ExportConfig
    restore: RestoreConfig
    copies: tuple[CopyConfig, ...] = ()
    # Facts the user states for estimates (README "Estimate duration and cost"); synthesis never needs them.
    size_gib: float | None = None
    item_count: int | None = None
    stack_group: str = "main"  # the stack it lives in (config/stack_groups.py): main is the environment's own
    engine: str = "datapipeline"  # or "native": DynamoDB's own export, Step Functions, EventBridge Scheduler

    @property
    def native(self) -> bool:
        return self.engine == NATIVE


@dataclass(frozen=True)
class LockConfig:
    """S3 Object Lock's default retention on a bucket this project creates (``export_bucket.object_lock``)."""

    mode: str  # GOVERNANCE or COMPLIANCE
    days: int


@dataclass(frozen=True)
class BucketConfig:
    export_retention_days: int
    transition_after_days: int | None
    transition_storage_class: str
    log_retention_days: int
    existing_bucket_name: str | None = None  # write into a bucket this project does not own
    existing_key_arn: str | None = None  # that bucket's KMS key, if it has one
    object_lock: LockConfig | None = None  # a default retention on the bucket this project creates


@dataclass(frozen=True)
class AlertConfig:
    emails: tuple[str, ...] = ()
    existing_topic_arn: str | None = None  # alert through a topic the team already watches
    existing_key_arn: str | None = None  # that topic's KMS key, if it has one
    # The team states that its topic's policy (and key) admit CloudWatch alarms of this account named ddb-*:
    # this project cannot change a topic it does not own, and CloudWatch publishes as its service principal.
    admits_cloudwatch: bool = False


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    account: str | None
    region: str
    retain_data: bool
    alerts: AlertConfig
    bucket: BucketConfig
    emr: ClusterSpec
    tables: tuple[TableConfig, ...]
    table_stacks: int = 1  # stacks the tables are spread over when they state no stack_group
    stack_assignment: str | None = None  # how they are spread (config/stack_groups.py); stated when table_stacks > 1
    pipeline_quota: int = 100  # Data Pipeline's pipelines per account and region, as raised for this account
    # The node roles may also use the acceptance run's scratch tables <table>-acceptance-* (python -m ddb_datapipeline
    # acceptance): off by default, so a production environment's roles reach only its configured tables.
    acceptance: bool = False

    @property
    def stack_name(self) -> str:
        return f"DdbDataPipeline-{self.name}"

    def groups(self) -> dict[str, tuple[TableConfig, ...]]:
        """The tables of each stack group, main first, then by name."""
        found: dict[str, list[TableConfig]] = {}
        for table in self.tables:
            found.setdefault(table.stack_group, []).append(table)
        order = sorted(found, key=lambda group: (group != "main", group))
        return {group: tuple(found[group]) for group in order}
