"""A copy that moves only some items: one ``HiveCopyActivity`` on one cluster, from the source table
straight into the target (no staging folder), with a Hive predicate (``filterSql``) chosen from the
user's filter and, for an incremental copy, the window of time since the previous scheduled run.

Why Hive: the connector's export and import tools copy whole tables; Data Pipeline's HiveCopyActivity
reads a DynamoDB table through Hive and writes the rows its filter keeps, and its DynamoDBExportDataFormat
carries every attribute of each item (AWS Data Pipeline Developer Guide, "HiveCopyActivity",
"DynamoDBExportDataFormat") as long as the table, not an index, is read: the cluster turns the connector's
filter pushdown off and runs Hive on MapReduce (``emr.HIVE_SETTINGS``). The columns the filter compares must be declared on the input's format
with their Hive types: a string attribute is STRING, a number DOUBLE.

The window of a run scheduled at S (cron scheduling: S is the start of its period P) is
``[S - P - overlap, S)``: each run takes what changed since the previous run's start, plus the overlap,
so an item whose timestamp lags its write by less than the overlap is not lost between two runs, and an
item copied twice is written twice with the same content. The bounds are Data Pipeline expressions of
``@scheduledStartTime`` (UTC); a rerun of a failed run reads the same window.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import common
from .emr import HIVE_CONFIGURATION_ID, ClusterSpec, hive_configuration
from .filters import Predicate, column_types, describe, to_hive
from .hive_projection import ProjectionScript
from .hive_verify import VerifyScript, table_properties
from .model import PipelineDefinition, PipelineObject, Ref
from .periods import PERIOD_PATTERN

EPOCH_SECONDS, ISO8601 = "epoch_seconds", "iso8601"
TIME_FORMATS = (EPOCH_SECONDS, ISO8601)
# The DynamoDB type each time format is stored as.
TIME_FORMAT_TYPES = {EPOCH_SECONDS: "N", ISO8601: "S"}
_MINUS = {"minute": "minusMinutes", "hour": "minusHours", "day": "minusDays", "week": "minusWeeks", "month": "minusMonths"}
RUN_START = "@scheduledStartTime"
# Hive's unix_timestamp(string) reads 'yyyy-MM-dd HH:mm:ss'; Data Pipeline's format() takes Joda patterns.
_HIVE_TIME = "YYYY-MM-dd HH:mm:ss"


@dataclass(frozen=True)
class IncrementalWindow:
    attribute: str
    time_format: str  # epoch_seconds (a number) or iso8601 (a string in UTC, compared as text)
    overlap_minutes: int


@dataclass(frozen=True)
class CopySelection:
    """Which items a copy moves: those the filter keeps, within the incremental window if there is one.
    ``attribute_types`` declares DynamoDB types (S or N) the filter cannot infer (an attribute only
    tested with IS NULL)."""

    row_filter: Predicate | None = None
    incremental: IncrementalWindow | None = None
    attribute_types: tuple[tuple[str, str], ...] = ()
    attributes: tuple[str, ...] = ()  # copy only these (key attributes first); () copies whole items
    verify_keys: tuple[str, ...] = ()  # the source's key attributes: count after each run (hive_verify); () counts nothing

    def declared(self) -> dict[str, str]:
        found = dict(self.attribute_types)
        if self.incremental is not None:
            found[self.incremental.attribute] = TIME_FORMAT_TYPES[self.incremental.time_format]
        return found

    def columns(self) -> dict[str, str]:
        """Hive column types of every attribute the predicate compares (the input format's columns)."""
        found = column_types(self.row_filter, self.declared()) if self.row_filter is not None else {}
        if self.incremental is not None:
            found.setdefault(self.incremental.attribute, "DOUBLE" if self.incremental.time_format == EPOCH_SECONDS else "STRING")
        return found

    def filter_sql(self, period: str | None) -> str:
        parts = []
        if self.incremental is not None:
            if period is None:
                raise ValueError("an incremental copy needs a schedule: its window is the time since the previous run")
            parts.append(window_sql(self.incremental, period))
        if self.row_filter is not None:
            rendered = to_hive(self.row_filter)
            parts.append(f"({rendered})" if self.incremental is not None else rendered)
        return " AND ".join(parts)

    def words(self, period: str | None) -> str:
        """For reviewers: which items each run copies."""
        said = []
        if self.incremental is not None and period is not None:
            window = self.incremental
            said.append(f"items whose {window.attribute} ({window.time_format}) is from {period} and {window.overlap_minutes} "
                        "minutes before the run's scheduled start up to that start")
        if self.row_filter is not None:
            said.append(f"where {describe(self.row_filter)}")
        if self.attributes:
            said.append(f"only attributes {', '.join(self.attributes)}")
        if self.verify_keys:
            said.append("then counted in the target")
        return ", ".join(said) if said else "every item"


def _lower_bound(period: str, overlap_minutes: int) -> str:
    match = PERIOD_PATTERN.match(period)
    if match is None:
        raise ValueError(f"period '{period}' is not a Data Pipeline period")
    back = f"{_MINUS[match.group(2).rstrip('s')]}({RUN_START}, {match.group(1)})"
    return f"minusMinutes({back}, {overlap_minutes})" if overlap_minutes else back


def _time_text(expression: str, time_format: str) -> str:
    """A Hive literal for the moment ``expression`` (a Data Pipeline DateTime expression)."""
    if time_format == EPOCH_SECONDS:
        return f"unix_timestamp('#{{format({expression}, '{_HIVE_TIME}')}}')"
    # ISO 8601 in UTC, as DynamoDB items usually store it: 2026-01-31T10:00:00Z sorts as text.
    return f"'#{{format({expression}, 'YYYY-MM-dd')}}T#{{format({expression}, 'HH:mm:ss')}}'"


def window_sql(window: IncrementalWindow, period: str) -> str:
    column = f"`{window.attribute}`"
    lower = _time_text(_lower_bound(period, window.overlap_minutes), window.time_format)
    upper = _time_text(RUN_START, window.time_format)
    return f"{column} >= {lower} AND {column} < {upper}"


@dataclass(frozen=True)
class HiveCopySpec:
    source_table_name: str
    target_table: str
    target_region: str
    read_ratio: float
    write_ratio: float
    cluster: ClusterSpec
    selection: CopySelection
    schedule: common.ScheduleSpec | None = None


def _hive_columns(selection: CopySelection) -> tuple[tuple[str, str], ...]:
    return tuple((name, hive_type.lower()) for name, hive_type in selection.columns().items())


def projection_script(selection: CopySelection, period: str | None) -> ProjectionScript:
    """The HiveActivity script of a copy with ``attributes``: the same rows as the filterSql keeps."""
    return ProjectionScript(attributes=selection.attributes, columns=_hive_columns(selection), where=selection.filter_sql(period))


def verify_script(selection: CopySelection, period: str | None, spec: HiveCopySpec, region: str) -> VerifyScript:
    """The count after the copy: the same rows, looked up in the target by key; ``region`` is the source's."""
    ratio = str(spec.read_ratio)
    return VerifyScript(keys=selection.verify_keys, columns=_hive_columns(selection), where=selection.filter_sql(period),
                        source_properties=table_properties(spec.source_table_name, region, ratio),
                        target_properties=table_properties(spec.target_table, spec.target_region, ratio))


def build_hive_copy_definition(spec: HiveCopySpec, settings: common.PipelineSettings) -> PipelineDefinition:
    """Without ``attributes``: a HiveCopyActivity; the source node reads through a format declaring the
    filter's columns, the target node writes through a plain one. With them: a HiveActivity whose script
    declares its own tables (``hive_projection``), so the nodes carry no format. Either way one cluster in
    the source's region reaches both tables (each node names its region)."""
    period = spec.schedule.period if spec.schedule else None
    projected = bool(spec.selection.attributes)
    work: dict[str, str | None]
    if projected:
        formats: list[PipelineObject] = []
        work = {"type": "HiveActivity", "hiveScript": projection_script(spec.selection, period).render(), "stage": "false"}
    else:
        columns = [f"{name} {hive_type}" for name, hive_type in spec.selection.columns().items()]
        formats = [PipelineObject.build("SourceFormat", type="DynamoDBExportDataFormat", column=columns or None),
                   PipelineObject.build("TargetFormat", type="DynamoDBExportDataFormat")]
        work = {"type": "HiveCopyActivity", "filterSql": spec.selection.filter_sql(period) or None}
    objects = [
        *common.scheduling_objects(settings, spec.schedule),
        *formats,
        PipelineObject.build("SourceTable", type="DynamoDBDataNode", tableName=spec.source_table_name, region=settings.region,
                             readThroughputPercent=str(spec.read_ratio), dataFormat=None if projected else Ref("SourceFormat")),
        PipelineObject.build("TargetTable", type="DynamoDBDataNode", tableName=spec.target_table, region=spec.target_region,
                             writeThroughputPercent=str(spec.write_ratio), dataFormat=None if projected else Ref("TargetFormat")),
        # Hive on MapReduce, and no pushdown of the WHERE into a Query of an index: why in emr (HIVE_SETTINGS).
        spec.cluster.to_object("CopyCluster", region=settings.region, configuration=HIVE_CONFIGURATION_ID),
        *hive_configuration(),
        PipelineObject.build(
            "CopyActivity",
            **work,
            input=Ref("SourceTable"),
            output=Ref("TargetTable"),
            runsOn=Ref("CopyCluster"),
            maximumRetries=common.MAXIMUM_RETRIES,
            onFail=Ref(common.FAILURE_ALARM_ID),
            lateAfterTimeout=spec.schedule.late_after if spec.schedule else None,
            onLateAction=Ref(common.LATE_ALARM_ID) if spec.schedule and spec.schedule.late_after else None,
        ),
        # Two inputs and no output: the guide's HiveActivity lists input and output as optional, requires only
        # hiveScript or scriptUri and runsOn or workerGroup, and names its staged tables ${input1}, ${input2}, "and
        # so on, based on the input fields" (Developer Guide, "HiveActivity"), so an activity may read several
        # inputs. With stage false no table is staged; the inputs say what the count reads (the permission model,
        # the review), and the count writes nothing.
        *([PipelineObject.build(
            "VerifyActivity",
            type="HiveActivity",
            hiveScript=verify_script(spec.selection, period, spec, settings.region).render(),
            stage="false",
            input=[Ref("SourceTable"), Ref("TargetTable")],
            runsOn=Ref("CopyCluster"),
            dependsOn=Ref("CopyActivity"),
            maximumRetries=common.MAXIMUM_RETRIES,
            onFail=Ref(common.FAILURE_ALARM_ID),
        )] if spec.selection.verify_keys else []),
        *common.alarms(settings, spec.schedule,
                       what=f"Copy of DynamoDB table {spec.source_table_name} to {spec.target_table} ({spec.target_region})"),
    ]
    return PipelineDefinition(objects=tuple(objects))
