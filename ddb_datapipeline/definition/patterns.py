"""Patterns and limits the configuration is checked against."""
from __future__ import annotations

import re

from .periods import DATE_TIME_PATTERN, PERIOD_PATTERN, period_minutes

TABLE_NAME = r"[A-Za-z0-9_.-]{3,255}"
TABLE_NAME_RULE = "3-255 characters of A-Z a-z 0-9 _ . -"
ENV_NAME = r"[a-z][a-z0-9-]{0,19}"
ACCOUNT = r"[0-9]{12}"
SUBNET = r"subnet-([0-9a-f]{8}|[0-9a-f]{17})"
OBJECT_LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")  # S3 DefaultRetention.Mode (CloudFormation AWS::S3::Bucket DefaultRetention)
MAX_OBJECT_LOCK_DAYS = 36500  # as the lifecycle day fields here: longer locks are years of storage nobody can delete
STORAGE_CLASSES = ("STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
MAX_TABLES_PER_ENVIRONMENT = 500  # the most the tests synthesize within every limit (tests/stack/test_scale.py)
MIN_TERMINATE_AFTER_MINUTES = 30  # an EMR cluster alone takes 10-20 minutes to start
MIN_LATE_AFTER_MINUTES = 30  # a run is never done sooner: the cluster alone takes 10-20 minutes


def output_key(text: str) -> str:
    """The letters and digits CloudFormation allows in an output's logical id, from a table name."""
    return "".join(ch for ch in text.title() if ch.isalnum())

# An email address as SNS's email protocol takes it: a local part of the characters RFC 5322 allows unquoted
# (dot-atom), and a domain of labels of letters, digits and inner hyphens (RFC 1035's host names), each label
# non-empty, ending in a top-level domain of letters. Inferred from those RFCs: SNS documents no pattern.
EMAIL = (r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
         r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
# ARNs of the commercial partition only: regions.py says why (Data Pipeline runs in no other, and this app writes
# ARNs of "aws"). The region part is checked against regions.AWS_REGIONS by the reader.
KMS_KEY_ARN = r"arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# SNS: a topic name of 1-256 letters, digits, - and _ (CreateTopic; a FIFO topic's name ends in .fifo, and alarms
# cannot publish to a FIFO topic, so none is accepted here).
SNS_TOPIC_ARN = r"arn:aws:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}"


def period_minutes_as_written(text: str) -> int | None:
    """``definition.periods.period_minutes`` of ``text`` exactly as written: its pattern ends in ``$``, which also
    matches before a final line break, so "1 day\\n" would pass; here the whole text must be the period, in ASCII."""
    if not re.fullmatch(PERIOD_PATTERN.pattern, text, re.ASCII):
        return None
    return period_minutes(text)


def date_time_as_written(text: str) -> bool:
    """A UTC time YYYY-MM-DDTHH:MM:SS in ASCII digits, the whole text (``\\d`` alone takes full-width digits too)."""
    return re.fullmatch(DATE_TIME_PATTERN.pattern, text, re.ASCII) is not None
