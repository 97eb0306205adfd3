"""What happens on a second attempt and on the cluster's Hive (definition/attempt_rules.py, definition/emr.py):
each finding names the failure as AWS would report it, and the project's definitions have none."""
from __future__ import annotations

import dataclasses

import pytest

from ddb_datapipeline.config import load_environments
from ddb_datapipeline.definition.common import PipelineSettings, ScheduleSpec
from ddb_datapipeline.definition.copy import CopySpec, build_copy_definition
from ddb_datapipeline.definition.emr import HIVE_CONFIGURATION_ID, ClusterSpec, remove_output_step
from ddb_datapipeline.definition.export import ExportSpec, build_export_definition
from ddb_datapipeline.definition.filters import parse_filter
from ddb_datapipeline.definition.hive_copy import CopySelection, HiveCopySpec, build_hive_copy_definition
from ddb_datapipeline.definition.model import PipelineDefinition
from ddb_datapipeline.definition.validator import validate
from tests.conftest import config_error, with_fields

SETTINGS = PipelineSettings("eu-west-1", "PipelineRole", "NodesProfile", "s3://logs/dp", "arn:aws:sns:eu-west-1:111111111111:alerts")
CLUSTER = ClusterSpec()


def export() -> PipelineDefinition:
    return build_export_definition(ExportSpec("orders", "s3://b/exports/orders", 0.25, CLUSTER, ScheduleSpec("1 day"), True), SETTINGS)


def hive_copy(release: str = "emr-5.36.2") -> PipelineDefinition:
    selection = CopySelection(row_filter=parse_filter("status = 'OPEN'"))
    spec = HiveCopySpec("orders", "orders-open", "eu-west-1", 0.25, 0.5, dataclasses.replace(CLUSTER, release_label=release), selection)
    return build_hive_copy_definition(spec, SETTINGS)


def found(definition: PipelineDefinition, check: str) -> list[str]:
    return [str(v) for v in validate(definition) if v.check == check]


def test_the_projects_definitions_remove_their_output_first_and_run_hive_on_mapreduce_without_pushdown():
    copy = build_copy_definition(CopySpec("orders", "orders-dr", "us-west-2", "s3://b/copies/x", 0.25, 0.5, CLUSTER), SETTINGS)
    assert export().object("TableBackupActivity").values("step")[0] == remove_output_step()
    assert copy.object("ExportActivity").values("step")[0] == remove_output_step()
    assert len(copy.object("ImportActivity").values("step")) == 1  # an import writes a table: nothing to remove
    built = hive_copy()
    assert built.object("CopyCluster").value("configuration") == HIVE_CONFIGURATION_ID
    settings = {p.value("key"): p.value("value") for p in built.objects_of_type("Property")}
    assert settings == {"hive.execution.engine": "mr", "dynamodb.filter.pushdown": "false"}
    assert built.object(HIVE_CONFIGURATION_ID).value("classification") == "hive-site"
    for definition in (export(), copy, built):
        assert [str(v) for v in validate(definition)] == []


def test_an_export_without_the_removal_is_reported_with_the_exception_a_retry_meets():
    connector = export().object("TableBackupActivity").values("step")[-1]
    (finding,) = found(with_fields(export(), "TableBackupActivity", step=connector), "export_retries")
    assert finding.startswith("TableBackupActivity.step: warning: step 1 exports straight into s3://b/exports/orders/#{format(@scheduledStartTime")
    assert "'org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory ... already exists'" in finding
    assert finding.endswith(f"put the step '{remove_output_step()}' before it")


def test_a_removal_after_the_export_or_of_another_folder_is_reported():
    connector = export().object("TableBackupActivity").values("step")[-1]
    (after,) = found(with_fields(export(), "TableBackupActivity", step=[connector, remove_output_step()]), "export_retries")
    assert after.startswith("TableBackupActivity.step: warning: step 1 exports straight into") and "FileAlreadyExistsException" in after
    other = remove_output_step().replace("#{output.directoryPath}", "#{myOutputS3Loc}")
    findings = found(with_fields(export(), "TableBackupActivity", step=[other, connector]), "export_retries")
    assert findings[0] == ("TableBackupActivity.step: warning: step 1 removes '#{myOutputS3Loc}', not the activity's own output folder "
                           "#{output.directoryPath}: it would delete data this activity does not write")
    assert "FileAlreadyExistsException" in findings[1]


def test_a_hive_cluster_without_the_settings_is_reported_for_each():
    bare = with_fields(hive_copy(), "CopyCluster", configuration=None)
    findings = found(bare, "hive_clusters")
    assert len(findings) == 2
    assert findings[0].startswith("CopyCluster.configuration: warning: runs Hive (CopyActivity) and its hive-site configuration does not set "
                                  "hive.execution.engine: Hive runs on Tez")
    assert "makes the connector Query that index (DynamoDBFilterPushdown)" in findings[1]
    (tez,) = found(with_fields(hive_copy(), "HiveSiteProperty1", value="tez"), "hive_clusters")
    assert "its hive-site configuration sets hive.execution.engine=tez: Hive runs on Tez" in tez


@pytest.mark.parametrize("release", ["emr-4.7.0"])
def test_a_cluster_that_already_runs_hive_on_mapreduce_needs_no_settings(release):
    assert found(with_fields(hive_copy(release), "CopyCluster", configuration=None), "hive_clusters") == []


def test_a_script_with_a_backslash_is_a_warning():
    projected = CopySelection(row_filter=parse_filter("status = 'OPEN'"), attributes=("pk", "status"))
    spec = HiveCopySpec("orders", "orders-open", "eu-west-1", 0.25, 0.5, CLUSTER, projected)
    built = build_hive_copy_definition(spec, SETTINGS)
    script = built.object("CopyActivity").value("hiveScript")
    assert "\\" not in script and found(built, "script_backslashes") == []
    (finding,) = found(with_fields(built, "CopyActivity", hiveScript=script.replace("chr(2)", "'\\002'")), "script_backslashes")
    assert finding.startswith("CopyActivity.hiveScript: warning: the script holds a backslash")


def test_a_filter_on_a_hive_reserved_word_is_refused_for_a_whole_item_copy_and_allowed_with_attributes():
    where = "environments.dev.tables[orders].copies[0]"
    table = {"name": "orders", "owned": {"partition_key": {"name": "pk", "type": "S"}},
             "copies": [{"target_table": "orders-open", "owned": True, "filter": "date = '2026-01-01'"}]}
    context = {"environments": {"dev": {"region": "eu-west-1", "account": "111111111111", "tables": [table]}}}
    assert config_error(load_environments, context) == (
        f"{where}.filter: 'date = '2026-01-01'' is not allowed; expected no attribute named 'date', a Hive "
        "reserved keyword, on a copy of whole items: HiveCopyActivity declares it unquoted in the table it generates and Hive fails "
        "to parse that; give attributes (a script that quotes names) to copy with it")
    table["copies"][0]["attributes"] = ["date"]
    (env,) = load_environments(context).values()
    assert env.tables[0].copies[0].selection.attributes == ("pk", "date")


def _as_the_service_reads(step: str) -> list[str]:
    """The guide's EmrActivity page: Data Pipeline removes one backslash (the first of each escaped pair), then
    splits the step at the commas no backslash escapes, and the argument keeps the comma."""
    import re

    once = re.sub(r"\\(.)", r"\1", step)
    return [part.replace("\\,", ",") for part in re.split(r"(?<!\\),", once)]


def test_a_comma_inside_a_step_argument_survives_the_services_backslash_removal():
    from ddb_datapipeline.definition.emr import EXPORT_CLASS, connector_step

    step = connector_step("eu-west-1", EXPORT_CLASS, ["-Dsome.list=a,b", "#{output.directoryPath}"])
    assert _as_the_service_reads(step)[1:] == [EXPORT_CLASS, "-Dsome.list=a,b", "#{output.directoryPath}"]
    # One backslash would be removed and the comma would split the argument in two.
    assert _as_the_service_reads(step.replace("\\\\,", "\\,"))[2:4] == ["-Dsome.list=a", "b"]


def test_a_copy_into_another_region_reads_the_connector_jar_from_the_pipelines_region():
    copy = build_copy_definition(CopySpec("orders", "orders-dr", "ap-south-2", "s3://b/copies/x", 0.25, 0.5, CLUSTER), SETTINGS)
    (step,) = copy.object("ImportActivity").values("step")
    assert step.startswith("s3://dynamodb-dpl-eu-west-1/") and "ap-south-2" not in step


def _stored(definition: PipelineDefinition) -> dict:
    """GetPipelineDefinition's shape: repeated keys kept, references as refValue."""
    return {"pipelineObjects": [{"id": o.id, "name": o.name, "fields": [
        {"key": f.key, "refValue" if f.is_ref else "stringValue": f.value} for f in o.fields]} for o in definition.objects]}


def test_the_smoke_check_reads_a_deployed_definition_for_the_removal_and_the_hive_settings():
    from local_deploy.smoke_config import attempt_findings

    assert attempt_findings(_stored(export())) == [] and attempt_findings(_stored(hive_copy())) == []
    connector = export().object("TableBackupActivity").values("step")[-1]
    (lost,) = attempt_findings(_stored(with_fields(export(), "TableBackupActivity", step=connector)))
    assert lost.startswith("TableBackupActivity.step: warning: step 1 exports straight into") and "FileAlreadyExistsException" in lost
    assert len(attempt_findings(_stored(with_fields(hive_copy(), "CopyCluster", configuration=None)))) == 2
