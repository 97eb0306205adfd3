"""A team's app passes the constructs' props by hand: every wrong value stops the construct in one line naming
its path, the prop, the value and what is allowed, before anything is built (no synth here: the constructor
raises). Two pipelines that would share a node role name, a restore into a table keyed otherwise and an
encrypted alert topic without its key are refused the same way."""
from __future__ import annotations

import ast
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

import ddb_datapipeline
from ddb_datapipeline import (
    ClusterSpec,
    CopyDestination,
    CopyPipeline,
    DataTable,
    ExportPipeline,
    NativeCopy,
    NativeExport,
    NativeRestore,
    NativeRestoreDrill,
    PipelineConfigurationError,
    PipelineRoles,
    RestorePipeline,
    ScheduleSpec,
)

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
PK = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
SK = dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.NUMBER)


def _stack() -> tuple[cdk.Stack, dynamodb.ITable, s3.IBucket]:
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    return stack, dynamodb.Table.from_table_name(stack, "Orders", "orders"), s3.Bucket.from_bucket_name(stack, "Backups", "team-backups")


RATIO = "expected a number from 0.1 to 1.0"
EXPORT_CASES = [
    ({"read_ratio": 5.0}, "read_ratio: 5.0 is not allowed; " + RATIO),
    ({"read_ratio": "high"}, "read_ratio: 'high' is not allowed; " + RATIO),
    ({"read_ratio": True}, "read_ratio: True is not allowed; " + RATIO),
    ({"read_ratio": float("nan")}, "read_ratio: nan is not allowed; " + RATIO),
    ({"compress": "yes"}, "compress: 'yes' is not allowed; expected True or False"),
    ({"schedule": "1 day"}, "schedule: '1 day' is not allowed; expected a ScheduleSpec or None"),
    ({"schedule": ScheduleSpec("5 minutes")}, "schedule.period: '5 minutes' is not allowed; expected a period of at least 15 minutes in "
                                              "minutes, hours, days, weeks or months, such as '1 day'"),
    ({"schedule": ScheduleSpec("1 day", start="2026-02-30T00:00:00")}, "schedule.start: '2026-02-30T00:00:00' is not allowed; expected "
                                                                       "FIRST_ACTIVATION_DATE_TIME or a UTC time"),
    ({"schedule": ScheduleSpec("1 day", late_after="10 minutes")}, "schedule.late_after: '10 minutes' is not allowed; expected a period "
                                                                   "of at least 30 minutes"),
    ({"cluster": ClusterSpec(core_instance_type="m5.larg")}, "cluster.core_instance_type: 'm5.larg' is not allowed; expected an instance "
                                                             "type emr-5.36.2 offers"),
    ({"cluster": ClusterSpec(release_label="emr-5.36.3")}, "cluster.release_label: 'emr-5.36.3' is not allowed; expected an existing EMR "
                                                           "release"),
    ({"cluster": ClusterSpec(core_instance_count=0)}, "cluster.core_instance_count: 0 is not allowed; expected a whole number from 1 to 50"),
    ({"cluster": ClusterSpec(terminate_after="10 minutes")}, "cluster.terminate_after: '10 minutes' is not allowed; expected a period of "
                                                             "at least 30 minutes"),
    ({"environment": "Prod env"}, "environment: 'Prod env' is not allowed; expected a lowercase letter, then up to 19 of a-z 0-9 -"),
]


@pytest.mark.parametrize("props, message", EXPORT_CASES, ids=[m.split(":")[0] + "-" + str(i) for i, (_, m) in enumerate(EXPORT_CASES)])
def test_a_wrong_export_prop_is_refused_in_the_constructs_words_before_anything_is_built(props, message):
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError) as error:
        ExportPipeline(stack, "Export", table=table, bucket=bucket, **props)
    assert str(error.value).startswith(f"Team/Export: {message}"), str(error.value)
    assert "\n" not in str(error.value)
    # Raised before the construct (or the stack's shared roles) was added to the tree.
    assert stack.node.try_find_child("Export") is None and stack.node.try_find_child("DdbPipelineRoles") is None


def test_restore_and_copy_check_their_ratios_and_destination():
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Restore: write_ratio: 0\.05 is not allowed; expected a number from 0\.1 to 1\.0$"):
        RestorePipeline(stack, "Restore", source=table, target=table, bucket=bucket, write_ratio=0.05)
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Copy: write_ratio: 2 is not allowed; expected a number"):
        CopyPipeline(stack, "Copy", source=table, destination=CopyDestination(table_name="copy"), bucket=bucket, write_ratio=2)
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Copy: destination: 'copy' is not allowed; expected a CopyDestination$"):
        CopyPipeline(stack, "Copy", source=table, destination="copy", bucket=bucket)  # type: ignore[arg-type]


def test_a_restore_into_a_table_keyed_otherwise_is_refused_naming_the_target():
    stack, _, bucket = _stack()
    orders = DataTable(stack, "Orders2", table_name="orders2", partition_key=PK, retain=False).table
    ranked = DataTable(stack, "Ranked", table_name="ranked", partition_key=PK, sort_key=SK, retain=False).table
    with pytest.raises(PipelineConfigurationError) as error:
        RestorePipeline(stack, "Restore", source=orders, target=ranked, bucket=bucket)
    assert str(error.value) == ("Team/Restore: target: 'Team/Ranked/Table' is not allowed; expected a table with the source's key schema "
                                "pk (S) (it has pk (S), sk (N)); a restore writes the items as they were exported")
    # Same names, another type: refused too.
    numbered = DataTable(stack, "Numbered", table_name="numbered", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.NUMBER),
                         retain=False).table
    with pytest.raises(PipelineConfigurationError, match=r"key schema pk \(S\) \(it has pk \(N\)\)"):
        RestorePipeline(stack, "Restore2", source=orders, target=numbered, bucket=bucket)


def test_an_encrypted_alert_topic_without_its_key_is_refused_and_with_it_accepted():
    stack, table, bucket = _stack()
    key = kms.Key(stack, "AlertKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True)
    with pytest.raises(PipelineConfigurationError) as error:
        ExportPipeline(stack, "Export", table=table, bucket=bucket, alert_topic=topic)
    assert str(error.value) == ("Team/Export: alert_key: None is not allowed; expected the KMS key alert_topic Team/Alerts is encrypted with "
                                "(publishing an alarm needs kms:GenerateDataKey on it)")
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Native: alert_key: None is not allowed"):
        NativeExport(stack, "Native", table=table, bucket=bucket, alert_topic=topic)
    ExportPipeline(stack, "Export2", table=table, bucket=bucket, alert_topic=topic, alert_key=key)
    statements = stack.resolve(stack.node.find_child("DdbPipelineRoles").node.find_child("PipelinePolicy").document)["Statement"]
    assert any(s["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"] for s in statements), statements


def test_two_exports_of_one_table_in_one_stack_are_refused_naming_both_and_apart_they_work():
    stack, table, bucket = _stack()
    ExportPipeline(stack, "Daily", table=table, bucket=bucket)
    with pytest.raises(PipelineConfigurationError) as error:
        ExportPipeline(stack, "Weekly", table=table, bucket=bucket, schedule=ScheduleSpec("1 week"))
    assert str(error.value) == ("Team/Weekly: its node role would be named 'Team-eu-west-1-orders-export', as Team/Daily's is (an account has "
                                "one role of a name); give one of them roles=PipelineRoles(stack, id, node_role_prefix=...) with a prefix of its own")
    # A second PipelineRoles with the default prefix does not get around it.
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Again: its node role would be named 'Team-eu-west-1-orders-export', as Team/Daily's"):
        ExportPipeline(stack, "Again", table=table, bucket=bucket, roles=PipelineRoles(stack, "MoreRoles"))
    weekly = ExportPipeline(stack, "Apart", table=table, bucket=bucket, schedule=ScheduleSpec("1 week"),
                            roles=PipelineRoles(stack, "WeeklyRoles", node_role_prefix="Team-weekly-"))
    assert weekly.nodes.name == "Team-weekly-orders-export"


def test_native_constructs_check_their_props():
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Native: schedule.period: '1 month' is not allowed; expected a period of at "
                                                         r"least 15 minutes in minutes, hours, days or weeks"):
        NativeExport(stack, "Native", table=table, bucket=bucket, schedule=ScheduleSpec("1 month"))
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Restore: target_prefix: 'bad name' is not allowed; expected 3-255 characters"):
        NativeRestore(stack, "Restore", source=table, bucket=bucket, partition_key=PK, target_prefix="bad name")
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Copy: environment: 'DEV' is not allowed"):
        NativeCopy(stack, "Copy", source=table, bucket=bucket, target_prefix="orders-copy", partition_key=PK, environment="DEV")
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Drill: schedule.period: '30 minutes' is not allowed; expected a period of "
                                                         r"at least 1 hour in minutes, hours, days or weeks"):
        NativeRestoreDrill(stack, "Drill", source=table, bucket=bucket, partition_key=PK, schedule=ScheduleSpec("30 minutes"))
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Drill: schedule: None is not allowed; expected a ScheduleSpec$"):
        NativeRestoreDrill(stack, "Drill", source=table, bucket=bucket, partition_key=PK, schedule=None)  # type: ignore[arg-type]


def test_the_typed_exports_are_the_lazy_exports():
    """``if TYPE_CHECKING:`` in __init__.py tells type checkers what ``__getattr__`` returns: the same names from the same modules."""
    tree = ast.parse(Path(ddb_datapipeline.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING")
    typed = {alias.name: (node.module or "").lstrip(".") for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert typed == ddb_datapipeline._EXPORTS


def test_every_public_construct_has_a_test_module_of_its_own():
    """Issue 26 item 6: one assertions module per construct of the package's exports, named after it."""
    import re

    from constructs import Construct

    constructs = [name for name in ddb_datapipeline._EXPORTS if isinstance(getattr(ddb_datapipeline, name), type)
                  and issubclass(getattr(ddb_datapipeline, name), Construct)]
    assert len(constructs) == 14
    here = Path(__file__).parent
    missing = [name for name in constructs if not (here / f"test_{re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower()}.py").is_file()]
    assert missing == []
