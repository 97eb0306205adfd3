"""Data Pipeline period strings ("15 minutes", "1 day", "2 weeks"), shared by config and validator."""
from __future__ import annotations

import re

PERIOD_PATTERN = re.compile(r"^([1-9][0-9]*) (minute|minutes|hour|hours|day|days|week|weeks|month|months)$")
PERIOD_UNITS = "minutes, hours, days, weeks or months"
MINIMUM_SCHEDULE_MINUTES = 15
# DynamoDB's incremental export: a window of 15 minutes to 24 hours (DynamoDB Developer Guide, incremental export).
INCREMENTAL_MIN_MINUTES, INCREMENTAL_MAX_MINUTES = 15, 24 * 60
START_AT_FIRST_ACTIVATION = "FIRST_ACTIVATION_DATE_TIME"
DATE_TIME_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")

_MINUTES_PER_UNIT = {"minute": 1, "hour": 60, "day": 1440, "week": 10080, "month": 40320}


def period_minutes(period: str) -> int | None:
    """Length of a period in minutes (a month counts as its shortest, 28 days), or None when the
    string is not a period the service accepts."""
    match = PERIOD_PATTERN.match(period)
    if not match:
        return None
    return int(match.group(1)) * _MINUTES_PER_UNIT[match.group(2).rstrip("s")]


def schedule_period_problem(period: str) -> str | None:
    """Why a Schedule period would be refused, or None when it is fine."""
    minutes = period_minutes(period)
    if minutes is None:
        return f"period '{period}' is not '<whole number> <unit>' with unit one of {PERIOD_UNITS}"
    if minutes < MINIMUM_SCHEDULE_MINUTES:
        return f"period '{period}' is shorter than the service minimum of {MINIMUM_SCHEDULE_MINUTES} minutes"
    return None


def is_monthly(period: str) -> bool:
    """A period in months: EventBridge Scheduler's rate() has no month (a month has no fixed length)."""
    return period.strip().lower().split(" ")[-1] in ("month", "months")
