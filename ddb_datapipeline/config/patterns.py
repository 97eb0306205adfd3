"""Patterns and limits the configuration is checked against."""

TABLE_NAME = r"[A-Za-z0-9_.-]{3,255}"
TABLE_NAME_RULE = "3-255 characters of A-Z a-z 0-9 _ . -"
ENV_NAME = r"[a-z][a-z0-9-]{0,19}"
ACCOUNT = r"[0-9]{12}"
EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
SUBNET = r"subnet-([0-9a-f]{8}|[0-9a-f]{17})"
OBJECT_LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")  # S3 DefaultRetention.Mode (CloudFormation AWS::S3::Bucket DefaultRetention)
MAX_OBJECT_LOCK_DAYS = 36500  # as the lifecycle day fields here: longer locks are years of storage nobody can delete
STORAGE_CLASSES = ("STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE")
MAX_TABLES_PER_ENVIRONMENT = 500  # the most the tests synthesize within every limit (tests/stack/test_scale.py)
MIN_TERMINATE_AFTER_MINUTES = 30  # an EMR cluster alone takes 10-20 minutes to start
MIN_LATE_AFTER_MINUTES = 30  # a run is never done sooner: the cluster alone takes 10-20 minutes
KMS_KEY_ARN = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}"
SNS_TOPIC_ARN = r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}"


def output_key(text: str) -> str:
    """The letters and digits CloudFormation allows in an output's logical id, from a table name."""
    return "".join(ch for ch in text.title() if ch.isalnum())
