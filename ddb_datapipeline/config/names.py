"""Names that a plain pattern accepts but the service (or CDK, on its behalf) refuses, and the nearest
valid name to suggest for a mistyped one.

CDK checks a bucket name when it is handed one and raises an exception that would surface as a
Python traceback; S3 refuses more names than CDK knows of. Checking both here turns each into one
configuration line.
"""
from __future__ import annotations

import re

# Amazon S3 User Guide, "General purpose bucket naming rules"
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), plus the one rule
# aws-cdk-lib's Bucket.validateBucketName adds: no period next to a hyphen.
BUCKET_CHARACTERS = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
IP_ADDRESS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}")
BUCKET_RULE = "an S3 bucket name: 3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit"

# Git's ref name rules (git-check-ref-format(1)), which every source provider applies to branch names.
BRANCH_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|^[-/.]|[/.]$|\.lock$|\.lock/")
BRANCH_RULE = "a git branch name such as main (no spaces, no .., not empty)"


def node_role_prefix(environment: str, region: str) -> str:
    """The start of the names of an environment's node roles (IAM names are global to an account, so the
    region is in it). The environment's pipeline role may pass roles of this prefix only."""
    return f"ddb-{environment}-{region}-nodes-"


def bucket_name_rule(name: str) -> str | None:
    """What to expect instead of ``name``, or None when S3 and CDK accept it as a bucket name."""
    if not BUCKET_CHARACTERS.fullmatch(name):
        return BUCKET_RULE
    if ".." in name or ".-" in name or "-." in name:
        return f"{BUCKET_RULE}, without '..', '.-' or '-.'"
    if IP_ADDRESS.fullmatch(name):
        return f"{BUCKET_RULE}, not an IP address"
    for prefix in BUCKET_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"{BUCKET_RULE}, not starting with the prefix S3 reserves '{prefix}'"
    for suffix in BUCKET_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"{BUCKET_RULE}, not ending with the suffix S3 reserves '{suffix}'"
    return None


def branch_rule(name: str) -> str | None:
    """What to expect instead of ``name``, or None when git accepts it as a branch name."""
    if not name or len(name) > 255 or BRANCH_FORBIDDEN.search(name) or name == "@":
        return BRANCH_RULE
    return None
