"""Objects every definition of this project carries: Default, Schedule and the failure alarm.

Keeping them in one place is what guarantees the house rules for every pipeline: CASCADE rerun
mode, a log location, named least-privilege roles, and an SNS alarm on failure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .emr import remove_output_step
from .model import Parameter, PipelineObject, Ref
from .periods import START_AT_FIRST_ACTIVATION

DEFAULT_ID = "Default"
SCHEDULE_ID = "DefaultSchedule"
FAILURE_ALARM_ID = "FailureAlarm"
LATE_ALARM_ID = "LateAlarm"
MAXIMUM_RETRIES = "2"


@dataclass(frozen=True)
class PipelineSettings:
    """What the definitions of one stack share: where they run, as whom, where they log and alert."""

    region: str
    role: str
    resource_role: str
    log_uri: str
    alarm_topic_arn: str


@dataclass(frozen=True)
class ScheduleSpec:
    """A recurring schedule; ``start`` is FIRST_ACTIVATION_DATE_TIME or a UTC ``YYYY-MM-DDTHH:MM:SS``."""

    period: str
    start: str = START_AT_FIRST_ACTIVATION
    late_after: str | None = None  # alert when a run has not finished this long after its scheduled start


def default_object(settings: PipelineSettings, schedule: ScheduleSpec | None) -> PipelineObject:
    return PipelineObject.build(
        DEFAULT_ID,
        type="Default",
        scheduleType="cron" if schedule else "ondemand",
        schedule=Ref(SCHEDULE_ID) if schedule else None,
        failureAndRerunMode="CASCADE",
        role=settings.role,
        resourceRole=settings.resource_role,
        pipelineLogUri=settings.log_uri,
    )


def schedule_object(schedule: ScheduleSpec) -> PipelineObject:
    first_activation = schedule.start == START_AT_FIRST_ACTIVATION
    return PipelineObject.build(
        SCHEDULE_ID,
        type="Schedule",
        period=schedule.period,
        startAt=schedule.start if first_activation else None,
        startDateTime=None if first_activation else schedule.start,
    )


def _alarm(object_id: str, settings: PipelineSettings, *, subject: str, message: str) -> PipelineObject:
    return PipelineObject.build(
        object_id, type="SnsAlarm", topicArn=settings.alarm_topic_arn, role=settings.role, subject=subject, message=message
    )


def failure_alarm(settings: PipelineSettings, *, what: str) -> PipelineObject:
    return _alarm(
        FAILURE_ALARM_ID,
        settings,
        subject=f"FAILED: {what}",
        message=(
            f"{what} failed. Pipeline #{{node.@pipelineId}}, object #{{node.name}}, "
            "scheduled #{node.@scheduledStartTime}, error: #{node.errorMessage}"
        ),
    )


def late_alarm(settings: PipelineSettings, *, what: str) -> PipelineObject:
    return _alarm(
        LATE_ALARM_ID,
        settings,
        subject=f"LATE: {what}",
        message=f"{what} has not finished in time. Pipeline #{{node.@pipelineId}}, scheduled #{{node.@scheduledStartTime}}",
    )


def alarms(settings: PipelineSettings, schedule: ScheduleSpec | None, *, what: str) -> list[PipelineObject]:
    """The failure alarm, and the late alarm when the schedule asks for one."""
    found = [failure_alarm(settings, what=what)]
    if schedule and schedule.late_after:
        found.append(late_alarm(settings, what=what))
    return found


def scheduling_objects(settings: PipelineSettings, schedule: ScheduleSpec | None) -> list[PipelineObject]:
    objects = [default_object(settings, schedule)]
    if schedule:
        objects.append(schedule_object(schedule))
    return objects


def s3_folder(object_id: str, *, directory: str, **fields: Any) -> PipelineObject:
    """An S3 folder node. ``s3EncryptionType`` NONE means "send no encryption header", so the bucket's
    default encryption decides: the project's KMS key, where the service's default
    (SERVER_SIDE_ENCRYPTION) would ask S3 for its own keys instead."""
    return PipelineObject.build(object_id, type="S3DataNode", directoryPath=directory, s3EncryptionType="NONE", **fields)


def table_node(object_id: str, *, table: str, ratio_field: str, ratio: str, region: str) -> PipelineObject:
    """A DynamoDB data node; ``ratio_field`` is readThroughputPercent or writeThroughputPercent."""
    return PipelineObject.build(object_id, type="DynamoDBDataNode", tableName=table, region=region, **{ratio_field: ratio})


def connector_activity(
    object_id: str,
    *,
    input: str,
    output: str,
    runs_on: str,
    step: str,
    depends_on: str | None = None,
    late_after: str | None = None,
    removes_output: bool = False,
) -> PipelineObject:
    """An EmrActivity running one connector step: retried, alarmed when it finally fails, and, with
    ``late_after``, when it has not finished that long after its scheduled start. ``removes_output``
    (every export) puts ``emr.remove_output_step`` before it, so each attempt starts from no output folder:
    why in ``emr``."""
    return PipelineObject.build(
        object_id,
        type="EmrActivity",
        input=Ref(input),
        output=Ref(output),
        runsOn=Ref(runs_on),
        dependsOn=Ref(depends_on) if depends_on else None,
        maximumRetries=MAXIMUM_RETRIES,
        step=[remove_output_step(), step] if removes_output else step,
        onFail=Ref(FAILURE_ALARM_ID),
        lateAfterTimeout=late_after,
        onLateAction=Ref(LATE_ALARM_ID) if late_after else None,
    )


def ratio_parameter(parameter_id: str, *, default: str, what: str) -> Parameter:
    return Parameter.build(parameter_id, type="Double", default=default, description=f"{what} (0.1-1.0)")
