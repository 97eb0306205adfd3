"""Issue 25: no value typed at activation runs as code. The validator's ``parameter_code`` follows a
parameter through input/output/node fields into code fields, admits it only behind the restore's guard, and
the guard itself, run by a real POSIX shell, admits one run folder of its table and nothing else."""
from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from ddb_datapipeline.definition.common import PipelineSettings, ScheduleSpec
from ddb_datapipeline.definition.copy import CopySpec, build_copy_definition
from ddb_datapipeline.definition.emr import ClusterSpec
from ddb_datapipeline.definition.export import ExportSpec, build_export_definition
from ddb_datapipeline.definition.filters import parse_filter
from ddb_datapipeline.definition.guard import FolderGuard, read_guard
from ddb_datapipeline.definition.hive_copy import CopySelection, HiveCopySpec, IncrementalWindow, build_hive_copy_definition
from ddb_datapipeline.definition.injection_rules import CODE_FIELDS
from ddb_datapipeline.definition.model import PipelineDefinition, PipelineObject, Ref
from ddb_datapipeline.definition.render import from_definition_file
from ddb_datapipeline.definition.restore import GUARD_ID, RestoreSpec, build_restore_definition
from ddb_datapipeline.definition.validator import validate
from tests.conftest import with_fields

SETTINGS = PipelineSettings(region="eu-west-1", role="PipelineRole", resource_role="ResourceRole", log_uri="s3://b/logs",
                            alarm_topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts")
CLUSTER = ClusterSpec()
EXPORTS = "s3://b/exports/orders"
CORPUS = Path(__file__).parents[1] / "review" / "fixtures" / "corpus"


def restore() -> PipelineDefinition:
    return build_restore_definition(RestoreSpec("orders", "orders-restore", EXPORTS, 0.5, CLUSTER), SETTINGS)


def code_findings(definition: PipelineDefinition) -> list[str]:
    return [str(v) for v in validate(definition) if v.check == "parameter_code"]


def every_project_definition() -> list[PipelineDefinition]:
    hourly = ScheduleSpec("1 hour")
    window = IncrementalWindow("updatedAt", "epoch_seconds", 15)
    selections = [CopySelection(row_filter=parse_filter("status = 'OPEN'")),
                  CopySelection(incremental=window, attributes=("pk", "status"), verify_keys=("pk",))]
    return [
        build_export_definition(ExportSpec("orders", EXPORTS, 0.25, CLUSTER, hourly, True), SETTINGS),
        restore(),
        build_copy_definition(CopySpec("orders", "orders-dr", "us-west-2", "s3://b/copies/x", 0.25, 0.5, CLUSTER, hourly), SETTINGS),
        *[build_hive_copy_definition(HiveCopySpec("orders", "orders-open", "eu-west-1", 0.25, 0.5, CLUSTER, selection, hourly), SETTINGS)
          for selection in selections],
    ]


def test_the_projects_definitions_feed_no_parameter_to_code_but_the_guarded_restore_folder():
    from ddb_datapipeline.definition.injection_rules import parameters_reached
    from ddb_datapipeline.definition.view import DefinitionView

    reached = []
    for definition in every_project_definition():
        assert validate(definition) == ()
        view = DefinitionView(definition)
        reached += [(obj.id, f.key, name) for obj in definition.objects for f in obj.fields if f.key in CODE_FIELDS
                    for name in parameters_reached(view, obj, f.value)]
    assert reached == [("TableLoadActivity", "step", "myInputS3Loc")]


def test_a_step_that_does_not_wait_for_the_guard_is_refused_with_the_path_the_value_takes():
    (finding,) = code_findings(with_fields(restore(), "TableLoadActivity", dependsOn=None))
    assert finding.startswith("TableLoadActivity.step: warning: step expands parameter myInputS3Loc (through #{input.directoryPath} -> "
                              "S3InputDataNode.directoryPath)")
    assert finding.endswith("allowed: a literal in the definition, or a step that dependsOn a guard ShellCommandActivity whose "
                            "scriptArgument is #{myInputS3Loc}")


@pytest.mark.parametrize("fields", [
    {"scriptArgument": "#{myOther}"},  # guards another value
    {"scriptArgument": "s3://b/exports/orders/#{myInputS3Loc}"},  # not the value alone
    {"command": "sh -c \"$1\""},  # a command that is not the guard's
    {"command": FolderGuard(EXPORTS).command().replace("exit 1", "true")},  # a guard that admits everything
    {"type": "EmrActivity"},  # the guard's shape on another type
])
def test_only_the_exact_guard_lets_the_value_through(fields):
    assert code_findings(with_fields(restore(), GUARD_ID, **fields))


@pytest.mark.parametrize("object_id, fields, shown", [
    ("CleanupActivity", {"command": "aws s3 rm --recursive #{myStagingS3Loc}"}, "command expands parameter myStagingS3Loc,"),
    ("StagingFolder", {"directoryPath": "#{myStagingS3Loc}/run"},
     "CleanupActivity.command: warning: command expands parameter myStagingS3Loc (through #{input.directoryPath} -> StagingFolder.directoryPath)"),
    ("TargetTable", {"tableName": "#{myTargetTableName}"},
     "ImportActivity.step: warning: step expands parameter myTargetTableName (through #{output.tableName} -> TargetTable.tableName)"),
    ("SourceRegionCluster", {"region": "#{myDDBRegion}"}, None),  # a cluster's region is no code field and no step names it
])
def test_a_parameter_reaching_a_copy_command_or_step_directly_or_through_its_nodes_is_refused(object_id, fields, shown):
    copy = build_copy_definition(CopySpec("orders", "orders-dr", "us-west-2", "s3://b/copies/x", 0.25, 0.5, CLUSTER), SETTINGS)
    found = code_findings(with_fields(copy, object_id, **fields))
    assert (found == []) if shown is None else any(shown in finding for finding in found), found


def test_a_field_inherited_through_a_parent_and_a_hive_script_are_followed():
    export = build_export_definition(ExportSpec("orders", EXPORTS, 0.25, CLUSTER), SETTINGS)
    template = PipelineObject.build("FolderTemplate", directoryPath="#{myOutputS3Loc}/x")
    objects = [*export.objects, template]
    parented = with_fields(dataclasses.replace(export, objects=tuple(objects)), "S3BackupLocation", directoryPath=None)
    parented = with_fields(parented, "S3BackupLocation", parent=Ref("FolderTemplate"))
    assert any("through #{output.directoryPath} -> S3BackupLocation.directoryPath" in f for f in code_findings(parented))
    hive = build_hive_copy_definition(HiveCopySpec("orders", "x", "eu-west-1", 0.25, 0.5, CLUSTER,
                                                   CopySelection(attributes=("pk",), verify_keys=("pk",))), SETTINGS)
    script = hive.object("VerifyActivity").value("hiveScript") or ""
    tampered = with_fields(hive, "VerifyActivity", hiveScript=script.replace('"orders"', '"#{mySourceTableName}"', 1))
    assert [f.split(":")[0] for f in code_findings(tampered)] == ["VerifyActivity.hiveScript"]


def test_a_user_defined_field_of_the_activity_itself_is_followed_to_the_parameter_it_holds():
    copy = build_copy_definition(CopySpec("orders", "orders-dr", "us-west-2", "s3://b/copies/x", 0.25, 0.5, CLUSTER), SETTINGS)
    own = with_fields(copy, "CleanupActivity", myFolder="#{myStaging}/run", command="aws s3 rm --recursive #{myFolder}")
    (finding,) = code_findings(own)
    assert finding.startswith("CleanupActivity.command: warning: command expands parameter myStaging (through #{myFolder} -> CleanupActivity.myFolder)")
    literal = with_fields(copy, "CleanupActivity", myFolder="s3://b/copies/x/run", command="aws s3 rm --recursive #{myFolder}")
    assert code_findings(literal) == []


def test_awss_own_cross_region_template_feeds_its_parameters_to_steps_and_is_refused():
    definition = from_definition_file(json.loads((CORPUS / "dynamodb-to-dynamodb-crossregion.json").read_text()))
    fields = {finding.split(":")[0] for finding in code_findings(definition)}
    assert fields and all(field.endswith((".step", ".command")) for field in fields), fields


# --------------------------------------------------------------------------- the guard, in a real shell
GOOD = f"{EXPORTS}/2026-11-27-00-00-00"


def shell(command: str, *arguments: str) -> int:
    return subprocess.run(["/bin/sh", "-c", command, "guard", *arguments], capture_output=True, timeout=10, check=False).returncode


@pytest.mark.parametrize("value", [
    "s3://b/x; touch {marker} #", f"{GOOD}; touch {{marker}}", f"{GOOD}$(touch {{marker}})", f"{GOOD}`touch {{marker}}`",
    f"{GOOD},orders,1.0", f"{GOOD}\ntouch {{marker}}", f"{GOOD}/", "s3://b/exports/orders/2026-11-27-00-00-0\u0663",
    f"{EXPORTS}/2026-11-27-00-00-0x", f"{EXPORTS}/2026-11-27-$(id)-00",  # a run folder's length, not its digits
    "s3://b/exports/other/2026-11-27-00-00-00", "s3://b/exports/orders/../x/2026-11-27-00-00-00", "s3://b/exports/orders/*",
    "", f"{EXPORTS}/choose-an-export-folder-at-activation",
])
def test_the_guard_refuses_every_value_but_a_run_folder_of_its_table_and_runs_none_of_it(value, tmp_path):
    marker = tmp_path / "ran"
    value = value.replace("{marker}", str(marker))
    guard = read_guard(restore().object(GUARD_ID).value("command") or "")
    assert guard == FolderGuard(EXPORTS) and not guard.admits(value)
    assert shell(guard.command(), value) == 1
    assert not marker.exists()


def test_the_guard_admits_a_run_folder_of_its_table_alone():
    guard = FolderGuard(EXPORTS)
    assert guard.admits(GOOD) and shell(guard.command(), GOOD) == 0
    assert shell(guard.command(), GOOD, "extra") == 1 and shell(guard.command()) == 1  # a second argument, or none


def test_a_prefix_the_guard_cannot_quote_is_refused():
    with pytest.raises(ValueError, match="expected a folder without a quote"):
        FolderGuard("s3://b/exports/o'rders")


def test_the_smoke_check_reads_a_deployed_restore_for_a_step_that_lost_its_guard():
    """The deployed definition (GetPipelineDefinition's shape) is held to parameter_code too."""
    from local_deploy.smoke_config import attempt_findings

    def stored(definition: PipelineDefinition) -> dict[str, object]:
        return {"pipelineObjects": [{"id": o.id, "name": o.name, "fields": [
            {"key": f.key, "refValue" if f.is_ref else "stringValue": f.value} for f in o.fields]} for o in definition.objects],
            "parameterObjects": [{"id": p.id, "attributes": [{"key": k, "stringValue": v} for k, v in p.attributes]}
                                 for p in definition.parameters]}

    assert attempt_findings(stored(restore())) == []
    (lost,) = attempt_findings(stored(with_fields(restore(), "TableLoadActivity", dependsOn=None)))
    assert lost.startswith("TableLoadActivity.step: warning: step expands parameter myInputS3Loc (through #{input.directoryPath}")
