"""The rules by which the app names what it creates, in one CDK-free place: the constructs build the names with
them, and the configuration checks the same names at load time (it cannot import the CDK)."""
from __future__ import annotations

import hashlib
import re

MAX_ROLE_NAME = 64  # IAM's limit on a role name (CreateRole, RoleName: 1-64 characters)
MAX_NODE_ROLE_PREFIX = 44  # leaves 20 characters of a node role's name for the pipeline's own part
MAX_MACHINE_NAME = 80  # Step Functions' limit on a state machine's name (CreateStateMachine, name: 1-80 characters)
DRILL_SUFFIX = "-drill-"  # a drill's scratch tables are <table>-drill-<export id>
# The acceptance run's scratch tables are <table>-acceptance-<run id> (ddb_datapipeline/acceptance/): a copy of each
# pipeline's definition points at them instead of the configured tables, so the node roles of an environment that
# states "acceptance": true may use tables of that prefix too.
ACCEPTANCE_SUFFIX = "-acceptance-"
# A native machine stops waiting for its export or import after this long and alarms: an export of a large table
# takes hours; one that runs a day is stuck.
NATIVE_GIVE_UP_MINUTES = 24 * 60


def shortened(name: str, limit: int, *, keep: int = 8) -> str:
    """``name`` when it fits ``limit`` characters, else its start and a hash of the whole, so two long
    names that share a start stay apart."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:keep]
    return f"{name[:limit - keep - 1]}-{digest}"


def machine_name(environment: str, table: str, kind: str) -> str:
    """``ddb-<environment>-<table>-native-<kind>``, shortened with a hash where a long table name would
    pass Step Functions' 80 characters (a name CloudFormation would refuse only at deploy)."""
    return shortened(f"ddb-{environment}-{table}-native-{kind}", MAX_MACHINE_NAME)


# A table whose name is a token (CloudFormation names it at deploy) has no name at synth to put in folders and resource
# names, so those use a name derived from the table's construct path instead. 48 characters is a choice (inferred, not
# a service limit): the tables the native engine creates put words after it (a restore's "-restore" and a suffix, a
# drill's "-drill-" and a 23-character export id), far within a table name's 255; and pipeline, node role and state
# machine names, which are shortened with a hash to their own limits above, keep it whole and readable.
MAX_DERIVED_NAME = 48
MIN_DERIVED_NAME = 3  # DynamoDB's shortest table name (CreateTable, TableName: 3-255 characters)
_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9]+")


def name_from_path(path: str) -> str:
    """A name for a table whose name is decided at deploy: its construct path's parts, each reduced to letters and digits
    and joined with '-' (``Team/Orders/Table`` -> ``Team-Orders-Table``), shortened with a hash of the whole path.

    Why the path: it is the one thing about such a table that is fixed at synth and unique in the app, and it does not
    move between synths (no counter, no clock), so the folders and roles named after it survive a redeploy. It is a
    valid table name, role name part, S3 key part and tag value (A-Z a-z 0-9 -), which is also why the definition
    validator can read it in place of the token."""
    parts = [part for part in (_NOT_IN_A_NAME.sub("-", p).strip("-") for p in path.split("/")) if part]
    name = "-".join(parts)
    if len(name) < MIN_DERIVED_NAME:
        return f"t-{hashlib.sha256(path.encode()).hexdigest()[:8]}"
    if len(name) <= MAX_DERIVED_NAME:
        return name
    digest = hashlib.sha256(path.encode()).hexdigest()[:8]
    return f"{name[:MAX_DERIVED_NAME - 9].rstrip('-')}-{digest}"
