"""Tables that CloudFormation names (no table_name: the name is a token) in the public constructs, on a bare Stack:
the definitions and state machines take the token, folders and resource names a name derived from the table's
construct path; two tables that would go by one name, and a bucket key the construct was not given, are refused in
one line naming the construct paths."""
from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ddb_datapipeline import (
    CopyDestination,
    CopyPipeline,
    DataTable,
    ExportBucket,
    ExportPipeline,
    NativeCopy,
    NativeExport,
    NativeIncrementalExport,
    NativeRestore,
    PipelineConfigurationError,
    RestorePipeline,
)
from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.constructs.native_drill import NativeRestoreDrill
from ddb_datapipeline.definition.common import ScheduleSpec
from ddb_datapipeline.definition.generated_names import MAX_DERIVED_NAME, name_from_path
from ddb_datapipeline.definition.validator import DefinitionError
from ddb_datapipeline.permissions.assembly_view import load_world
from ddb_datapipeline.permissions.audit import denied, outcomes
from tests.constructs.test_pipelines import ENV, KEY, Built, synthesize

PITR = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)
# The names this module expects, written out by hand from the rule (the path's parts joined with '-').
DERIVED = "Team-Orders"


def _unnamed(scope: Construct, id: str = "Orders") -> dynamodb.Table:
    return dynamodb.Table(scope, id, partition_key=KEY, point_in_time_recovery_specification=PITR,
                          removal_policy=cdk.RemovalPolicy.DESTROY)


@pytest.fixture(scope="module")
def unnamed(tmp_path_factory) -> Built:
    """A table without a name with an export, a restore into a DataTable without a name (on its customer managed
    key, so the key's grant names the table by its token), a native export and a native restore; and a copy into that
    DataTable, a native copy, an incremental export and a restore drill."""
    def build(stack: cdk.Stack) -> None:
        orders = _unnamed(stack)
        staging = DataTable(stack, "Staging", partition_key=KEY, retain=False).table
        bucket = ExportBucket(stack, "Bucket", retain=False).bucket
        ExportPipeline(stack, "Export", table=orders, bucket=bucket)
        RestorePipeline(stack, "Restore", source=orders, target=staging, bucket=bucket)
        NativeExport(stack, "NativeExport", table=orders, bucket=bucket)
        NativeRestore(stack, "NativeRestore", source=orders, bucket=bucket)
        # The other constructs that take a table, once each.
        CopyPipeline(stack, "Copy", source=orders, destination=CopyDestination(table=staging), bucket=bucket)
        NativeCopy(stack, "NativeCopy", source=orders, bucket=bucket, target_prefix="orders-copy")
        NativeIncrementalExport(stack, "Incremental", table=orders, bucket=bucket, period="1 hour")
        NativeRestoreDrill(stack, "Drill", source=orders, bucket=bucket, schedule=ScheduleSpec("7 days"))

    return synthesize(tmp_path_factory.mktemp("unnamed"), build)


def _table_ref(built: Built, construct: str = "Orders") -> dict[str, str]:
    (logical,) = [logical for logical in built.template.find_resources("AWS::DynamoDB::Table") if logical.startswith(construct)]
    return {"Ref": logical}


def _fields(pipeline: dict) -> dict[tuple[str, str], object]:
    return {(o["Id"], f["Key"]): f.get("StringValue", f.get("RefValue")) for o in pipeline["Properties"]["PipelineObjects"]
            for f in o["Fields"]}


def test_a_table_without_a_name_synthesizes_and_cdk_nag_is_clean(unnamed):
    assert unnamed.nag_violations() == []
    unnamed.template.resource_count_is("AWS::DataPipeline::Pipeline", 3)
    unnamed.template.resource_count_is("AWS::StepFunctions::StateMachine", 5)


def test_the_definitions_take_the_token_and_the_folders_and_names_the_derived_name(unnamed):
    pipelines = sorted(unnamed.template.find_resources("AWS::DataPipeline::Pipeline").values(), key=lambda p: p["Properties"]["Name"])
    copy, export, restore = pipelines
    assert re.fullmatch(rf"ddb-default-{DERIVED}-copy-Team-Staging-Table-eu-west-1-[0-9a-f]{{8}}", copy["Properties"]["Name"])
    assert f"/copies/{DERIVED}-to-Team-Staging-Table-eu-west-1/" in json.dumps(list(_fields(copy).values()))
    assert re.fullmatch(rf"ddb-default-{DERIVED}-export-[0-9a-f]{{8}}", export["Properties"]["Name"])
    assert re.fullmatch(rf"ddb-default-{DERIVED}-restore-[0-9a-f]{{8}}", restore["Properties"]["Name"])
    table = _table_ref(unnamed)
    exported = _fields(export)
    assert exported[("DDBSourceTable", "tableName")] == table  # CloudFormation puts the name it gave the table here
    assert f"/exports/{DERIVED}/#" in json.dumps(exported[("S3BackupLocation", "directoryPath")])
    assert _fields(restore)[("DDBDestinationTable", "tableName")] == _table_ref(unnamed, "Staging")
    assert f"/exports/{DERIVED}/" in json.dumps(list(_fields(restore).values()))  # the restore reads the source's folder
    # The restore's nodes write the staging table on its key, for that table only: its name, as CloudFormation gives it.
    contexts = [s["Condition"]["StringEquals"]["kms:EncryptionContext:aws:dynamodb:tableName"]
                for p in unnamed.template.find_resources("AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
                if "kms:EncryptionContext:aws:dynamodb:tableName" in json.dumps(s.get("Condition", {}))]
    assert contexts and all(c == _table_ref(unnamed, "Staging") for c in contexts)
    tags = {t["Key"]: t["Value"] for t in export["Properties"]["PipelineTags"]}
    assert tags["ddb-datapipeline:table"] == table
    roles = {r["Properties"].get("RoleName") for r in unnamed.template.find_resources("AWS::IAM::Role").values()}
    assert {f"Team-eu-west-1-{DERIVED}-export", f"Team-eu-west-1-{DERIVED}-restore"} <= roles
    machines = {m["Properties"]["StateMachineName"] for m in unnamed.template.find_resources("AWS::StepFunctions::StateMachine").values()}
    assert machines == {f"ddb-default-{DERIVED}-native-{kind}" for kind in ("export", "restore", "copy-orders-copy", "incremental", "drill")}
    # The drill's scratch tables and the restore's new tables are named after the derived name too.
    tables = json.dumps([s["Resource"] for s in (p["Properties"]["PolicyDocument"]["Statement"]
                                                 for p in unnamed.template.find_resources("AWS::IAM::Policy").values()) for s in s])
    assert f":table/{DERIVED}-drill-" in tables and f":table/{DERIVED}-restore" in tables


def test_the_native_export_starts_with_the_tables_token_and_its_role_writes_the_derived_folder(unnamed):
    from tests.constructs.test_native_export import asl, statements

    # asl() writes a reference inside the definition string as its JSON text
    assert asl(unnamed, "NativeExport")["States"]["Start"]["Parameters"]["table"] == json.dumps(_table_ref(unnamed))
    writes = [s for s in statements(unnamed, "NativeExport") if "s3:PutObject" in json.dumps(s["Action"])]
    assert writes and all(f"/exports/{DERIVED}/" in json.dumps(s["Resource"]) for s in writes)


def test_cfn_lint_accepts_the_tables_reference_in_the_pipeline_objects(unnamed, cfn_lint):
    """CloudFormation resolves a Ref inside a pipeline object's StringValue (the resource schema's string fields take
    intrinsic functions); cfn-lint checks it against that schema and the table's attributes."""
    assert cfn_lint(unnamed.outdir) == []


def test_the_permission_model_allows_every_runtime_call(unnamed):
    world = load_world(load_assembly(unnamed.outdir))
    assert len(world.pipelines) == 3
    assert len(outcomes(world)) > 200
    assert [o.line() for o in denied(world)] == []


def test_derived_names_are_the_paths_parts_within_the_limit_and_apart_when_shortened():
    assert name_from_path("Team/Orders") == "Team-Orders"
    assert name_from_path("Team/Orders/Table") == "Team-Orders-Table"
    assert name_from_path("Team/Café Orders/Table") == "Team-Caf-Orders-Table"  # only A-Z a-z 0-9 and '-'
    long_a, long_b = "Team/" + "A" * 60 + "/One", "Team/" + "A" * 60 + "/Two"
    a, b = name_from_path(long_a), name_from_path(long_b)
    assert a != b and len(a) <= MAX_DERIVED_NAME and len(b) <= MAX_DERIVED_NAME
    assert a == name_from_path(long_a)  # no counter, no clock: the same path gives the same name
    for name in (a, b, name_from_path("A/"), name_from_path("Team/Orders")):
        assert re.fullmatch(r"[A-Za-z0-9-]{3,48}", name), name


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Team", env=ENV)


def test_two_tables_that_would_go_by_one_name_are_refused_naming_both():
    stack = _stack()
    bucket = s3.Bucket.from_bucket_name(stack, "B", "team-backups")
    first = _unnamed(stack, "A-B")
    second = _unnamed(Construct(stack, "A"), "B")
    ExportPipeline(stack, "ExportFirst", table=first, bucket=bucket)
    with pytest.raises(PipelineConfigurationError, match=r"^Team/A-B and Team/A/B: both tables would go by the name 'Team-A-B'") as error:
        ExportPipeline(stack, "ExportSecond", table=second, bucket=bucket)
    assert "\n" not in str(error.value)


def test_a_fixed_name_that_a_derived_name_would_take_is_refused_too():
    stack = _stack()
    bucket = s3.Bucket.from_bucket_name(stack, "B", "team-backups")
    NativeExport(stack, "Fixed", table=dynamodb.Table.from_table_name(stack, "Named", DERIVED), bucket=bucket)
    with pytest.raises(PipelineConfigurationError, match=r"^Team/Named and Team/Orders: both tables would go by the name 'Team-Orders'"):
        NativeExport(stack, "Unnamed", table=_unnamed(stack), bucket=bucket)


def test_the_validator_reads_the_token_as_the_derived_name(monkeypatch):
    """With a stand-in that breaks DynamoDB's naming rules, the definition is refused: the validator read the
    stand-in, not the opaque ${Token[...]} (which it skips)."""
    from ddb_datapipeline.constructs import table_pipelines

    monkeypatch.setattr(table_pipelines, "name_from_path", lambda path: "ab")
    stack = _stack()
    with pytest.raises(DefinitionError, match=r"DP236.*tableName 'ab'"):
        ExportPipeline(stack, "Export", table=_unnamed(stack), bucket=s3.Bucket.from_bucket_name(stack, "B", "team-backups"))


KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _bucket_encrypted_with_a_key(stack: cdk.Stack) -> s3.IBucket:
    """A bucket made from its L1 resource, whose default encryption names KEY_ARN: the construct can see that a key
    encrypts it, but not the key itself."""
    resource = s3.CfnBucket(stack, "Backups", bucket_encryption=s3.CfnBucket.BucketEncryptionProperty(
        server_side_encryption_configuration=[s3.CfnBucket.ServerSideEncryptionRuleProperty(
            server_side_encryption_by_default=s3.CfnBucket.ServerSideEncryptionByDefaultProperty(sse_algorithm="aws:kms",
                                                                                                 kms_master_key_id=KEY_ARN))]))
    return s3.Bucket.from_cfn_bucket(resource)


@pytest.mark.parametrize("construct", ["ExportPipeline", "NativeExport"])
def test_a_bucket_encrypted_with_a_key_the_construct_was_not_given_is_refused(construct):
    stack = _stack()
    bucket = _bucket_encrypted_with_a_key(stack)
    table = dynamodb.Table.from_table_name(stack, "Orders", "orders")
    make = {"ExportPipeline": ExportPipeline, "NativeExport": NativeExport}[construct]
    with pytest.raises(PipelineConfigurationError, match=rf"^Team/Export: bucket_key: None is not allowed; expected the KMS key "
                                                         rf"{KEY_ARN} that bucket Team/Backups/@FromCfnBucket is encrypted with") as error:
        make(stack, "Export", table=table, bucket=bucket)
    assert "\n" not in str(error.value)


def test_the_same_bucket_with_its_key_given_is_accepted():
    from aws_cdk import aws_kms as kms

    stack = _stack()
    export = ExportPipeline(stack, "Export", table=dynamodb.Table.from_table_name(stack, "Orders", "orders"),
                            bucket=_bucket_encrypted_with_a_key(stack), bucket_key=kms.Key.from_key_arn(stack, "Key", KEY_ARN))
    assert export.bucket_key is not None


@pytest.mark.parametrize("prefix", ["Team-Orders", "Team-OrdersA9", "Team-OrdersA9B65338-x"])
def test_a_target_prefix_that_could_start_the_name_cloudformation_gives_the_source_is_refused(prefix):
    """CloudFormation names the table Team-<logical id>-<random>; a restore's role may create every table of its prefix."""
    stack = _stack()
    orders = _unnamed(stack)
    logical = stack.resolve(orders.node.default_child.logical_id)
    assert logical == "OrdersA9B65338"  # the prefixes above are written for this logical id
    with pytest.raises(PipelineConfigurationError, match=rf"^Team/Restore: target_prefix: '{prefix}' is not allowed; expected a prefix "
                                                         r"that the name CloudFormation gives the source table \('Team-OrdersA9B65338-\.\.\.'\)"):
        NativeRestore(stack, "Restore", source=orders, bucket=s3.Bucket.from_bucket_name(stack, "B", "team-backups"), target_prefix=prefix)
