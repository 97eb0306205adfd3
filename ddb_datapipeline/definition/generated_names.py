"""The rules by which the app names what it creates, in one CDK-free place: the constructs build the names with
them, and the configuration checks the same names at load time (it cannot import the CDK)."""
from __future__ import annotations

import hashlib

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
