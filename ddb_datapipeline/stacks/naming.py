"""Physical names that two stacks in different accounts must agree on without a shared reference."""
from __future__ import annotations

from ..config import CopyConfig, EnvironmentConfig
from ..config.names import node_role_prefix
from ..config.planning import needs_target_stack, target_stack_name  # noqa: F401  (the stacks' names, as the planner checks them)
from ..config.stack_groups import MAIN_GROUP
from ..constructs.native_steps import copy_rule_name
from ..constructs.pipeline_roles import node_role_name
from ..definition.generated_names import MAX_ROLE_NAME, shortened

MAX_BUCKET_NAME = 63


def has_cross_account_copies(config: EnvironmentConfig) -> bool:
    return any(copy.cross_account for table in config.tables for copy in table.copies)


def pipeline_role_name(config: EnvironmentConfig) -> str | None:
    """A fixed name where an environment has cross-account copies (kept from the shared-role days, so an
    update does not replace the role); generated otherwise."""
    return f"ddb-{config.name}-{config.region}-pipeline" if has_cross_account_copies(config) else None


def nodes_prefix(config: EnvironmentConfig) -> str:
    """The start of every node role's name in the environment: the pipeline role may pass these only."""
    return node_role_prefix(config.name, config.region)


def copy_nodes_role_name(config: EnvironmentConfig, table: str, copy: CopyConfig) -> str:
    """The node role of a copy into another account, which that account's policies name: the name the
    copy pipeline would give its node role anyway (its log name after the environment's prefix)."""
    return node_role_name(nodes_prefix(config), f"{table}-copy-{copy.label}")


def native_copy_role_names(config: EnvironmentConfig, table: str, copy: CopyConfig) -> tuple[str, str]:
    """A native copy into another account: its state machine's role (which the target account's trust
    names) and the role there that the import runs as (which the machine's Task assumes)."""
    base = f"ddb-{config.name}-{table}-copy-{copy.target_prefix}"
    return shortened(f"{base}-machine", MAX_ROLE_NAME), shortened(f"{base}-import", MAX_ROLE_NAME)


def copy_key_alias(import_role_name: str) -> str:
    """The alias of the key a native copy into another account creates its tables on, in that account: the source
    stack names the key by it (it cannot read the other account's key id), and DynamoDB accepts an alias ARN as
    KMSMasterKeyId (botocore's DynamoDB model, SSESpecification). The import role's name is unique per copy."""
    return f"alias/{import_role_name}"


def _owner(config: EnvironmentConfig, group: str) -> str:
    return config.name if group == MAIN_GROUP else f"{config.name}-{group}"


def staging_bucket_name(config: EnvironmentConfig, copy: CopyConfig, group: str = MAIN_GROUP) -> str:
    """One staging bucket per target stack: per stack group of the source, account and region."""
    return shortened(f"ddb-{_owner(config, group)}-copies-{copy.account or config.account}-{copy.region}", MAX_BUCKET_NAME)


def copy_bus_name(config: EnvironmentConfig, group: str = MAIN_GROUP) -> str:
    """The event bus, in a target stack's account and region, on which native copies into that region
    announce their exports."""
    return f"ddb-{_owner(config, group)}-copies"


def copy_bus_arn(config: EnvironmentConfig, copy: CopyConfig, group: str = MAIN_GROUP, partition: str = "aws") -> str:
    return f"arn:{partition}:events:{copy.region}:{copy.account or config.account}:event-bus/{copy_bus_name(config, group)}"


def copy_event_id(table: str, copy: CopyConfig) -> str:
    """What a native copy's export events name it by: the rules on both sides match on it."""
    return f"{table}/{copy.target_prefix}"


def forward_rule_name(config: EnvironmentConfig, table: str, copy: CopyConfig) -> str:
    """The source region's rule that forwards a native copy's export events to the target region: named,
    because the copies' bus in another account admits events from this rule only."""
    return copy_rule_name(config.name, table, copy.target_prefix or "", "forward")
