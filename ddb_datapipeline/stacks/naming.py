"""Physical names that two stacks in different accounts must agree on without a shared reference."""
from __future__ import annotations

import hashlib

from ..config import CopyConfig, EnvironmentConfig

MAX_ROLE_NAME = 64


def has_cross_account_copies(config: EnvironmentConfig) -> bool:
    return any(copy.cross_account for table in config.tables for copy in table.copies)


def pipeline_role_name(config: EnvironmentConfig) -> str | None:
    """A fixed name where an environment has cross-account copies (kept from the shared-role days, so an
    update does not replace the role); generated otherwise."""
    return f"ddb-{config.name}-{config.region}-pipeline" if has_cross_account_copies(config) else None


def copy_nodes_role_name(config: EnvironmentConfig, table: str, copy: CopyConfig) -> str:
    """The node role of a copy into another account, which that account's policies name. Readable
    where it fits IAM's 64 characters, else shortened with a hash of the full name."""
    name = f"ddb-{config.name}-{table}-to-{copy.label}-nodes"
    if len(name) <= MAX_ROLE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_ROLE_NAME - len(digest) - 7]}-{digest}-nodes"


def staging_bucket_name(config: EnvironmentConfig, copy: CopyConfig) -> str:
    return f"ddb-{config.name}-copies-{copy.account}-{copy.region}"


def target_stack_name(config: EnvironmentConfig, copy: CopyConfig) -> str:
    suffix = f"{copy.account}-{copy.region}" if copy.cross_account else copy.region
    return f"{config.stack_name}-copy-targets-{suffix}"


def needs_target_stack(config: EnvironmentConfig, copy: CopyConfig) -> bool:
    """Owned targets outside the source stack's region, and every cross-account target."""
    return copy.cross_account or (copy.owned and copy.region != config.region)
