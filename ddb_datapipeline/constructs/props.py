"""Checks of the public constructs' plain-value props, made in the constructor before anything is built.

A team's own app passes these values by hand, with no ``cdk.json`` parser in front of it: a wrong value
must stop ``cdk synth`` in one line that names the construct's path, the prop, the value and what is
allowed, in the construct's words (``read_ratio``), not in the words of the Data Pipeline definition
the value ends up in (``DDBSourceTable.readThroughputPercent``), which the validator would use later.

No CDK here (the construct path comes in as a string), so ``mypy --strict`` checks it with the
definition and configuration code. The limits are the configuration's (``config/``), so a value means
the same in ``cdk.json`` and in a team's app.
"""
from __future__ import annotations

import math
import re
from dataclasses import fields
from datetime import datetime

from ..definition.common import ScheduleSpec
from ..definition.emr import ClusterSpec
from ..definition.emr_catalog import instance_type_rule, release_rule
from ..definition.patterns import EMAIL, ENV_NAME, MIN_LATE_AFTER_MINUTES, MIN_TERMINATE_AFTER_MINUTES, TABLE_NAME, TABLE_NAME_RULE
from ..definition.periods import DATE_TIME_PATTERN, PERIOD_UNITS, START_AT_FIRST_ACTIVATION, is_monthly, period_minutes, schedule_period_problem

MIN_RATIO, MAX_RATIO = 0.1, 1.0  # Data Pipeline's throughput percent fields (the validator's DP230; config/tables.py _ratio)
MAX_CORE_INSTANCES = 50  # the configuration's limit on emr.core_instance_count (config/__init__.py)
MAX_SHOWN = 80  # characters of a value shown in an error
RATIO_RULE = f"a number from {MIN_RATIO} to {MAX_RATIO}"
START_RULE = f"{START_AT_FIRST_ACTIVATION} or a UTC time YYYY-MM-DDTHH:MM:SS on a date of the calendar"
# The environment names pipelines and state machines (ddb-<environment>-...) and tags them: the names cdk.json's
# environments may have (definition/patterns.py ENV_NAME), so a team's app names things as this repository's does.
ENVIRONMENT = re.compile(ENV_NAME)
ENVIRONMENT_RULE = "a lowercase letter, then up to 19 of a-z 0-9 - (as an environment of cdk.json)"


class PipelineConfigurationError(ValueError):
    """A construct was given arguments that cannot work together; the message is one line."""


def construct_path(scope_path: str, id: str) -> str:
    """The path the construct will have, known before ``Construct.__init__`` runs (the app's path is empty)."""
    return f"{scope_path}/{id}" if scope_path else id


def shown(value: object) -> str:
    """The value as the user typed it, on one line and short."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def refuse(where: str, prop: str, value: object, allowed: str) -> PipelineConfigurationError:
    return PipelineConfigurationError(f"{where}: {prop}: {shown(value)} is not allowed; expected {allowed}")


def check_ratio(where: str, prop: str, value: object) -> float:
    """A read or write ratio: a number (not a bool, not NaN) within the service's 0.1-1.0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not MIN_RATIO <= value <= MAX_RATIO:
        raise refuse(where, prop, value, RATIO_RULE)
    return value  # as given: the definition writes it as typed (1 stays "1"), so its fingerprint does not move


def check_emails(where: str, prop: str, value: object) -> tuple[str, ...]:
    """Addresses to subscribe to the alert topic: a list of email addresses (the pattern cdk.json's
    ``alarm_emails`` takes, definition/patterns.py EMAIL), each once, ignoring case as the configuration does.
    A plain string is refused rather than read as a list of its characters."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise refuse(where, prop, value, "a list of email addresses such as ['oncall@example.com']")
    seen: dict[str, int] = {}
    for index, email in enumerate(value):
        if not isinstance(email, str) or not re.fullmatch(EMAIL, email):
            raise refuse(where, f"{prop}[{index}]", email, "an email address such as oncall@example.com")
        if email.lower() in seen:
            raise refuse(where, f"{prop}[{index}]", email, f"each address once ({prop}[{seen[email.lower()]}] is the same address)")
        seen[email.lower()] = index
    return tuple(value)


def check_bool(where: str, prop: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise refuse(where, prop, value, "True or False")
    return value


def check_environment(where: str, value: object) -> str:
    if not isinstance(value, str) or not ENVIRONMENT.fullmatch(value):
        raise refuse(where, "environment", value, ENVIRONMENT_RULE)
    return value


def check_table_name(where: str, prop: str, value: object, *, names: str) -> str:
    """A table given by its name, from which the construct derives ``names``: DynamoDB's characters, written out. A token
    (another stack's ``table.table_name``, say) has none of them, and would otherwise surface later as a role or
    state machine name that is not allowed, far from the prop that caused it."""
    if not isinstance(value, str) or not re.fullmatch(TABLE_NAME, value):
        raise refuse(where, prop, value, f"the table's name written out, {TABLE_NAME_RULE} (a token such as another stack's "
                                         f"table.table_name cannot name {names})")
    return value


def check_target_prefix(where: str, prefix: object, source: str, *, generated_start: str | None = None) -> str:
    """The start of the names of the tables an import creates: a table name's characters, and not the start of
    the source's own name (the import's role may create only tables of that prefix, config/tables.py).

    ``generated_start``: for a source that CloudFormation names at deploy, the start every name it may give that table
    shares (``<stack name>-<logical id>``); a prefix that could start such a name is refused the same way."""
    if not isinstance(prefix, str) or not re.fullmatch(TABLE_NAME, prefix):
        raise refuse(where, "target_prefix", prefix, TABLE_NAME_RULE)
    if source.startswith(prefix):
        raise refuse(where, "target_prefix", prefix, f"a prefix that the source table's name '{source}' does not start with")
    if generated_start is not None and (generated_start.startswith(prefix) or prefix.startswith(generated_start)):
        raise refuse(where, "target_prefix", prefix, f"a prefix that the name CloudFormation gives the source table "
                                                     f"('{generated_start}-...') does not start with")
    return prefix


def _in_calendar(start: str) -> bool:
    try:
        datetime.strptime(start, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


def check_schedule(where: str, prop: str, schedule: object, *, native: bool = False, minimum_minutes: int = 15,
                   required: bool = False) -> ScheduleSpec | None:
    """None (on demand, unless ``required``) or a ``ScheduleSpec`` whose period, start and late_after the
    service accepts; on the native engine (EventBridge Scheduler's rate()) no period in months."""
    if schedule is None and not required:
        return None
    if not isinstance(schedule, ScheduleSpec):
        raise refuse(where, prop, schedule, "a ScheduleSpec" if required else "a ScheduleSpec or None")
    period = schedule.period
    if (not isinstance(period, str) or schedule_period_problem(period) or (native and is_monthly(period))
            or (period_minutes(period) or 0) < minimum_minutes):
        units = "minutes, hours, days or weeks" if native else PERIOD_UNITS
        at_least = f"{minimum_minutes} minutes" if minimum_minutes % 60 else f"{minimum_minutes // 60} hour{'s' if minimum_minutes > 60 else ''}"
        raise refuse(where, f"{prop}.period", period, f"a period of at least {at_least} in {units}, such as '1 day'")
    start = schedule.start
    if not isinstance(start, str) or (start != START_AT_FIRST_ACTIVATION and not (DATE_TIME_PATTERN.fullmatch(start) and _in_calendar(start))):
        raise refuse(where, f"{prop}.start", start, START_RULE)
    late = schedule.late_after
    if late is not None and (not isinstance(late, str) or (period_minutes(late) or 0) < MIN_LATE_AFTER_MINUTES):
        raise refuse(where, f"{prop}.late_after", late, f"a period of at least {MIN_LATE_AFTER_MINUTES} minutes in {PERIOD_UNITS}, or None")
    return schedule


def check_cluster(where: str, prop: str, cluster: object) -> ClusterSpec:
    """An EMR cluster a run can start: a release of the connector's lines with instance types it offers
    (definition/emr_catalog.py, from EMR's ListReleaseLabels and ListSupportedInstanceTypes), 1-50 core nodes,
    and a termination guard no shorter than a cluster's start."""
    if not isinstance(cluster, ClusterSpec):
        raise refuse(where, prop, cluster, "a ClusterSpec")
    for field in fields(ClusterSpec):
        value = getattr(cluster, field.name)
        if field.name == "core_instance_count":
            continue
        if not (isinstance(value, str) or (value is None and field.name == "subnet_id")):
            raise refuse(where, f"{prop}.{field.name}", value, "a string")
    if rule := release_rule(cluster.release_label):
        raise refuse(where, f"{prop}.release_label", cluster.release_label, rule)
    for name in ("master_instance_type", "core_instance_type"):
        value = getattr(cluster, name)
        if rule := instance_type_rule(cluster.release_label, value):
            raise refuse(where, f"{prop}.{name}", value, rule)
    count = cluster.core_instance_count
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_CORE_INSTANCES:
        raise refuse(where, f"{prop}.core_instance_count", count, f"a whole number from 1 to {MAX_CORE_INSTANCES}")
    if (period_minutes(cluster.terminate_after) or 0) < MIN_TERMINATE_AFTER_MINUTES:
        raise refuse(where, f"{prop}.terminate_after", cluster.terminate_after,
                     f"a period of at least {MIN_TERMINATE_AFTER_MINUTES} minutes in {PERIOD_UNITS}")
    return cluster
