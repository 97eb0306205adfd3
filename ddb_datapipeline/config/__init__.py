"""Environment configuration from the ``environments`` context of ``cdk.json``.

Parsed into frozen dataclasses and checked completely before any construct exists, so a mistake
costs one readable line instead of a half-built app or a failed deployment.
"""
from __future__ import annotations

import marshal
import re
from collections.abc import Mapping
from typing import Any

from ..definition.emr import ClusterSpec
from ..definition.emr_catalog import instance_type_rule, region_release_rule, release_rule
from ..definition.patterns import (
    ACCOUNT,
    EMAIL,
    ENV_NAME,
    KMS_KEY_ARN,
    MAX_OBJECT_LOCK_DAYS,
    MIN_TERMINATE_AFTER_MINUTES,
    OBJECT_LOCK_MODES,
    SNS_TOPIC_ARN,
    STORAGE_CLASSES,
    SUBNET,
)
from ..definition.patterns import period_minutes_as_written as period_minutes
from ..definition.periods import PERIOD_UNITS
from .across import check_across_environments, check_node_role_prefixes
from .bucket_sharing import check_shared_buckets
from .generated import check_generated_names
from .model import (
    DATAPIPELINE,
    ENGINES,
    NATIVE,
    AlertConfig,
    BucketConfig,
    CopyConfig,
    EnvironmentConfig,
    ExportConfig,
    KeyAttribute,
    LockConfig,
    OwnedTable,
    RestoreConfig,
    TableConfig,
)
from .names import bucket_name_rule
from .quotas import DEFAULT_PIPELINE_QUOTA, MAX_PIPELINE_QUOTA
from .reader import ConfigError, Section, printable
from .regions import region_rule
from .stack_groups import MAX_TABLE_STACKS, read_assignment
from .tables import parse_tables

__all__ = [
    "AlertConfig",
    "BucketConfig",
    "ConfigError",
    "CopyConfig",
    "EnvironmentConfig",
    "ExportConfig",
    "KeyAttribute",
    "LockConfig",
    "OwnedTable",
    "RestoreConfig",
    "TableConfig",
    "load_environments",
    "select_environments",
]


def _bucket(section: Section, region: str) -> BucketConfig:
    existing = section.string("existing_bucket_name", None, allowed="an S3 bucket name")
    if existing is not None and (rule := bucket_name_rule(existing)):
        raise section.fail("existing_bucket_name", existing, rule)
    key_arn = section.string("existing_key_arn", None, pattern=KMS_KEY_ARN, allowed="a KMS key ARN of the aws partition")
    if key_arn and not existing:
        raise section.fail("existing_key_arn", key_arn, "no key without existing_bucket_name")
    if key_arn and (rule := same_region_key_rule(key_arn, region, "the bucket's")):
        raise section.fail("existing_key_arn", key_arn, rule)
    if existing:
        # A bucket this project does not own keeps its own lifecycle; settings for ours would be ignored.
        for key in ("export_retention_days", "transition_after_days", "transition_storage_class", "log_retention_days"):
            if section.has(key):
                raise section.fail(key, section.raw[key], "nothing with existing_bucket_name (that bucket keeps its own lifecycle)")
        if section.has("object_lock"):
            raise section.fail("object_lock", section.raw["object_lock"],
                               "no object_lock with existing_bucket_name (that bucket's Object Lock is its owner's to set)")
    retention = section.integer("export_retention_days", 35, minimum=1, maximum=36500)
    storage_class = section.string("transition_storage_class", "GLACIER_IR", choices=STORAGE_CLASSES)
    minimum = 30 if storage_class == "STANDARD_IA" else 1
    transition = section.integer("transition_after_days", None, minimum=minimum, maximum=36500)
    if transition is not None and transition >= retention:
        raise section.fail(
            "transition_after_days", transition, f"fewer days than export_retention_days ({retention}) or null"
        )
    if transition is None and section.has("transition_storage_class"):
        # Nothing would ever move to the class; a silent no-op hides a forgotten transition_after_days.
        raise section.fail("transition_storage_class", storage_class, "no storage class without transition_after_days")
    config = BucketConfig(
        object_lock=_object_lock(section, retention),
        export_retention_days=retention,
        transition_after_days=transition,
        transition_storage_class=storage_class,
        log_retention_days=section.integer("log_retention_days", 90, minimum=1, maximum=36500),
        existing_bucket_name=existing,
        existing_key_arn=key_arn,
    )
    section.finish()
    return config


def _object_lock(bucket: Section, export_retention_days: int) -> LockConfig | None:
    """S3 Object Lock's default retention for the bucket this project creates. A lock longer than the exports'
    retention is refused: expiry then only hides the current version behind a delete marker, while S3 keeps the
    locked version (and bills it) until the lock ends, so two settings would state two retentions of one export."""
    if not bucket.has("object_lock"):
        bucket.allow("object_lock")
        return None
    section = bucket.section("object_lock")
    mode = section.string("mode", choices=OBJECT_LOCK_MODES)
    days = section.integer("days", minimum=1, maximum=MAX_OBJECT_LOCK_DAYS)
    section.finish()
    if days > export_retention_days:
        raise section.fail("days", days, (
            f"at most export_retention_days ({export_retention_days}): expiry cannot remove a locked export, it only hides it "
            "behind a delete marker until the lock ends; raise export_retention_days to at least the lock's days"))
    return LockConfig(mode=mode, days=days)


def same_region_key_rule(key_arn: str, region: str, whose: str) -> str | None:
    """A KMS key serves only its own region, and SSE-KMS (S3, SNS) needs a key in the resource's region."""
    key_region = key_arn.split(":")[3]
    if key_region == region:
        return None
    return f"a key of {whose} region {region} (this key is in {key_region}; SSE-KMS uses a key of the resource's own region)"


def _alerts(env: Section, region: str) -> AlertConfig:
    emails = env.items("alarm_emails", [])
    seen: dict[str, int] = {}
    for index, email in enumerate(emails):
        # The list's element is read as a field of the list's own section, so the message names alarm_emails[i].
        Section({f"alarm_emails[{index}]": email}, env.path).string(
            f"alarm_emails[{index}]", pattern=EMAIL, allowed="an email address such as oncall@example.com"
        )
        # One subscription per address: CDK refuses a second one, and mail servers ignore case.
        if email.lower() in seen:
            raise env.fail(f"alarm_emails[{index}]", email, f"each address once (alarm_emails[{seen[email.lower()]}] is the same address)")
        seen[email.lower()] = index
    topic = env.string("alarm_topic_arn", None, pattern=SNS_TOPIC_ARN, allowed="an SNS topic ARN of the aws partition")
    key = env.string("alarm_topic_key_arn", None, pattern=KMS_KEY_ARN, allowed="a KMS key ARN of the aws partition")
    if key and not topic:
        raise env.fail("alarm_topic_key_arn", key, "no key without alarm_topic_arn")
    if key and topic and (rule := same_region_key_rule(key, topic.split(":")[3], "the topic's")):
        raise env.fail("alarm_topic_key_arn", key, rule)
    admits = env.boolean("alarm_topic_admits_cloudwatch", False)
    if admits and not topic:
        raise env.fail("alarm_topic_admits_cloudwatch", admits, "no statement about a topic without alarm_topic_arn")
    return AlertConfig(emails=tuple(emails), existing_topic_arn=topic, existing_key_arn=key, admits_cloudwatch=admits)


def _cloudwatch_alarm_rule(env: Section, region: str, alerts: AlertConfig, tables: tuple[TableConfig, ...]) -> None:
    """Every native state machine alarms through CloudWatch (a run that failed, timed out or was aborted; and a
    native copy into another region on a rule that drops its event), and CloudWatch may publish only to a topic
    whose policy admits it. A topic the team brought cannot be changed here, so its admission must be stated, or
    every such synth would fail the runtime permission check."""
    topic = alerts.existing_topic_arn
    if topic is None:
        return
    native = next((table for table in tables if table.native), None)
    if native is not None and topic.split(":")[3] != region:
        # The state machines publish through the SDK integration, which calls SNS in the machine's own region, and
        # their CloudWatch alarms name a topic of the alarm's region. A Data Pipeline environment alone keeps the
        # topics it always took: no source read here says SnsAlarm is bound to the pipeline's region.
        raise env.fail("alarm_topic_arn", topic, f"an SNS topic ARN in {region}, the environment's region, as tables[{native.name}] "
                       "(native engine) publishes its alarms from there")
    if alerts.admits_cloudwatch:
        return
    for table in tables:
        if table.native:
            raise env.fail("alarm_topic_arn", alerts.existing_topic_arn, (
                f"a topic whose policy and key admit CloudWatch alarms, as tables[{table.name}] (native engine) alarms through CloudWatch "
                "when a run of its state machines fails, times out or is aborted; admit cloudwatch.amazonaws.com (docs/configuration.md, "
                "alarm_topic_admits_cloudwatch), then set alarm_topic_admits_cloudwatch: true"))


def _emr(section: Section) -> ClusterSpec:
    defaults = ClusterSpec()
    terminate_after = section.string("terminate_after", defaults.terminate_after)
    minutes = period_minutes(terminate_after)
    if minutes is None or minutes < MIN_TERMINATE_AFTER_MINUTES:
        raise section.fail(
            "terminate_after", terminate_after, f"a period of at least {MIN_TERMINATE_AFTER_MINUTES} minutes in {PERIOD_UNITS}"
        )
    release = section.string("release_label", defaults.release_label, allowed="an EMR release label such as emr-5.36.2")
    if rule := release_rule(release):
        raise section.fail("release_label", release, rule)
    instance_types = {}
    for key in ("master_instance_type", "core_instance_type"):
        instance_types[key] = section.string(key, getattr(defaults, key), allowed="an EC2 instance type such as m5.xlarge")
        if rule := instance_type_rule(release, instance_types[key]):
            raise section.fail(key, instance_types[key], rule)
    spec = ClusterSpec(
        release_label=release,
        master_instance_type=instance_types["master_instance_type"],
        core_instance_type=instance_types["core_instance_type"],
        core_instance_count=section.integer("core_instance_count", defaults.core_instance_count, minimum=1, maximum=50),
        terminate_after=terminate_after,
        subnet_id=section.string("subnet_id", None, pattern=SUBNET, allowed="a subnet id such as subnet-0123456789abcdef0"),
    )
    section.finish()
    return spec


def _environment(name: str, raw: Any) -> EnvironmentConfig:
    env = Section(raw, f"environments.{name}")
    account = env.string("account", None, pattern=ACCOUNT, allowed="a 12-digit AWS account id, or null for any account")
    region = env.string("region", allowed="an AWS region such as eu-west-1")
    if rule := region_rule(region, pipelines=True):
        raise env.fail("region", region, rule)
    engine = env.string("engine", DATAPIPELINE, choices=ENGINES)
    if engine == NATIVE and env.has("emr"):
        raise env.fail("emr", env.raw["emr"], "no emr section on the native engine (it runs no EMR cluster)")
    emr = _emr(env.section("emr"))
    if rule := region_release_rule(region, emr.release_label):
        raise env.fail("region", region, rule)
    table_stacks = env.integer("table_stacks", 1, minimum=1, maximum=MAX_TABLE_STACKS)
    stack_assignment = read_assignment(env, table_stacks)
    alerts = _alerts(env, region)
    tables = parse_tables(env, account=account, region=region, release=emr.release_label, table_stacks=table_stacks,
                          stack_assignment=stack_assignment, engine=engine)
    _cloudwatch_alarm_rule(env, region, alerts, tables)
    config = EnvironmentConfig(
        name=name,
        account=account,
        region=region,
        retain_data=env.boolean("retain_data", True),
        alerts=alerts,
        bucket=_bucket(env.section("export_bucket"), region),
        emr=emr,
        tables=tables,
        table_stacks=table_stacks,
        stack_assignment=stack_assignment,
        pipeline_quota=env.integer("pipeline_quota", DEFAULT_PIPELINE_QUOTA, minimum=1, maximum=MAX_PIPELINE_QUOTA),
        acceptance=env.boolean("acceptance", False),
    )
    env.finish()
    return config


_PARSED_LIMIT = 256
_parsed: dict[tuple[str, bytes], EnvironmentConfig] = {}


def _environment_once(name: str, raw: Any) -> EnvironmentConfig:
    """``_environment`` of an environment this process parsed before, without parsing it again. Parsing is a pure
    function of the name and the settings, and its result is frozen, so a repeated environment can share it: the
    app plans one context more than once (``plan``, ``plan_stacks``), and contexts that differ in one environment
    repeat the others (the robustness tests plan thousands).

    The key is the settings' ``marshal`` serialization (format 2, which writes no back-references, so equal values
    give equal bytes) at the time of the call. marshal writes JSON's own types exactly (a tuple is not a list, True
    is not 1, 1.0 is not 1) and refuses every other type, subclasses included (measured: a dict subclass, a str
    subclass, an IntEnum, an OrderedDict); those settings are parsed every time. Equal bytes are equal plain values,
    which parse alike. Failures are not kept: they raise again from a fresh parse. At most ``_PARSED_LIMIT``
    environments are kept, so a long-running process holds a bounded amount. Parsing also reads this package's
    constant tables (regions, releases, quotas): a test that patches one must clear ``_parsed`` first."""
    try:
        key = (name, marshal.dumps(raw, 2))
    except ValueError:  # not plain JSON values: parse without keeping
        return _environment(name, raw)
    found = _parsed.get(key)
    if found is None:
        found = _environment(name, raw)
        if len(_parsed) >= _PARSED_LIMIT:
            _parsed.clear()
        _parsed[key] = found
    return found


def load_environments(context: Mapping[str, Any]) -> dict[str, EnvironmentConfig]:
    """Every environment of the ``environments`` context, or a ConfigError naming the first mistake."""
    raw = context.get("environments")
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError("environments: missing or empty; expected an object of environment name -> settings in cdk.json context")
    environments = {}
    for name, settings in raw.items():
        if not isinstance(name, str) or not _matches(ENV_NAME, name):
            raise ConfigError(
                f"environments.{printable(str(name))}: invalid environment name; "
                "expected lower-case letters, digits and -, starting with a letter, at most 20 characters"
            )
        environments[name] = _environment_once(name, settings)
    check_across_environments(environments)
    check_shared_buckets(environments)
    check_node_role_prefixes(environments)
    check_generated_names(environments)
    return environments


def select_environments(environments: Mapping[str, EnvironmentConfig], selected: Any) -> list[EnvironmentConfig]:
    """All environments, or the one named by ``-c env=NAME``."""
    if selected is None:
        return list(environments.values())
    if not isinstance(selected, str) or selected not in environments:
        raise ConfigError(f"env: '{printable(str(selected))}' is not a configured environment; expected one of {', '.join(environments)}")
    return [environments[selected]]


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None
