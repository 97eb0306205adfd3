"""The review report of the session's synthesis: complete (every pipeline object, every role
statement, every acknowledgment), readable (Mermaid that parses), usable (definition files that
round-trip through the validator) and deterministic."""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.definition.render import from_definition_file
from ddb_datapipeline.definition.validator import validate
from ddb_datapipeline.review import intrinsics
from ddb_datapipeline.review import markdown as md
from ddb_datapipeline.review.pipelines import pipelines_of
from ddb_datapipeline.review.report import build_review, render
from tests.conftest import ROOT

from .mermaid_subset import blocks, parse

PIPELINE = "AWS::DataPipeline::Pipeline"


def as_list(value):
    return value if isinstance(value, list) else [value]


def pipelines(assembly):
    for stack in assembly.stacks:
        for logical_id, resource in stack.resources_of_type(PIPELINE).items():
            yield stack, logical_id, resource["Properties"]


def test_the_report_covers_every_stack_and_pipeline_of_the_assembly(review, synthesis):
    names = {stack.stack_name for stack in synthesis.stacks.values()}
    assert {s.name for s in review.assembly.stacks} >= names
    assert review.summary.stacks == len(review.assembly.stacks)
    assert review.summary.pipelines == len(list(pipelines(review.assembly))) >= 8
    assert (review.summary.violations, review.summary.nag_findings, review.summary.lint_findings) == (0, 0, 0)
    for name in names:
        assert f"\n## Stack {name}\n" in review.readme


def test_every_pipeline_object_field_and_parameter_is_in_its_section(review):
    for stack, _, properties in pipelines(review.assembly):
        section = review.pipeline_section(stack.name, properties["Name"])
        for obj in properties["PipelineObjects"]:
            row = [line for line in section.splitlines() if line.startswith(f"| `{obj['Id']}` |")]
            assert len(row) == 1, (properties["Name"], obj["Id"])
            for field in obj["Fields"]:
                if field["Key"] != "type":
                    assert f"`{field['Key']}`" in row[0], (obj["Id"], field["Key"])
        for parameter in properties.get("ParameterObjects", []):
            assert f"| `{parameter['Id']}` |" in section


def test_pipelines_are_described_in_words(review):
    stack = next(s for s in review.assembly.stacks if s.name.endswith("-prod"))
    export = next(p for _, _, p in pipelines(review.assembly) if p["Name"].startswith("ddb-prod-orders-export-"))
    restore = next(p for _, _, p in pipelines(review.assembly) if p["Name"].startswith("ddb-prod-orders-restore-"))
    words = review.pipeline_section(stack.name, export["Name"])
    assert "every `1 day`, first run at the first activation" in words
    assert "with at most 25% of its read capacity" in words
    assert "1 master `m5.xlarge`, 2 core `m5.xlarge`, terminated after `12 hours`" in words
    assert "`FailureAlarm` publishes to `${AlertsTopic" in words
    words = review.pipeline_section(stack.name, restore["Name"])
    assert "on demand: each activation starts one run" in words
    assert "`Activate: false`" in words
    assert "with at most 50% of its write capacity" in words


def test_each_diagram_parses_and_draws_every_object_and_reference(review):
    for stack, _, properties in pipelines(review.assembly):
        (source,) = blocks(review.pipeline_section(stack.name, properties["Name"]))
        chart = parse(source)
        ids = [obj["Id"] for obj in properties["PipelineObjects"]]
        assert sorted(label.split("<br/>")[0] for label in chart.nodes.values()) == sorted(ids)
        references = Counter(f["Key"] for obj in properties["PipelineObjects"] for f in obj["Fields"] if "RefValue" in f)
        assert Counter(label for _, label, _ in chart.edges) == references
    # the schedule -> data node -> activity -> data node flow of a scheduled export
    export = next(p for _, _, p in pipelines(review.assembly) if p["Name"].startswith("ddb-prod-orders-export-"))
    chart = parse(blocks(review.pipeline_section(next(s.name for s in review.assembly.stacks if s.name.endswith("-prod")),
                                                 export["Name"]))[0])
    assert ("n_DefaultSchedule", "schedule", "n_Default") in chart.edges
    assert ("n_DDBSourceTable", "input", "n_TableBackupActivity") in chart.edges
    assert ("n_TableBackupActivity", "output", "n_S3BackupLocation") in chart.edges
    assert ("n_TableBackupActivity", "runsOn", "n_EmrClusterForBackup") in chart.edges
    assert ("n_TableBackupActivity", "onFail", "n_FailureAlarm") in chart.edges


def test_every_role_statement_is_in_the_iam_matrix(review):
    checked = 0
    for stack in review.assembly.stacks:
        section = review.iam_section(stack.name)
        for policy_id, policy in stack.resources_of_type("AWS::IAM::Policy").items():
            rows = [line for line in section.splitlines() if f"| `{policy_id}` |" in line]
            statements = as_list(policy["Properties"]["PolicyDocument"]["Statement"])
            assert len(rows) == len(statements) * len(policy["Properties"]["Roles"]), policy_id
            for statement in statements:
                label = statement.get("Sid")
                for action in as_list(statement["Action"]):
                    assert any(f"`{action}`" in row and (label is None or f"`{label}`" in row) for row in rows), action
                for resource in as_list(statement["Resource"]):
                    shown = intrinsics.text(resource)
                    assert any(f"`{shown}`" in row for row in rows), shown
                checked += 1
        if not stack.resources_of_type("AWS::IAM::Role"):
            continue
        trust = section.split("Roles and who may assume them", 1)[1].split("Permissions per role", 1)[0]
        for role_id, role in stack.resources_of_type("AWS::IAM::Role").items():
            (row,) = [line for line in trust.splitlines() if line.startswith(f"| `{role_id}` |")]
            for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
                for service in as_list(statement["Principal"].get("Service", [])):
                    assert f"`Service {service}`" in row
    assert checked > 20


def test_every_resource_and_acknowledgment_is_listed(review, synthesis):
    for stack in review.assembly.stacks:
        section = review.stack_section(stack.name)
        for logical_id, resource in stack.resources.items():
            if resource["Type"] != "AWS::CDK::Metadata":
                assert f"| `{logical_id}` |" in section, logical_id
        assert "no findings." in section.split("\n### cfn-lint\n", 1)[1]
    (solutions,) = [p for p in synthesis.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert solutions["suppressedViolations"]
    for finding in solutions["suppressedViolations"]:
        for construct in finding["violatingConstructs"]:
            stack, _, path = construct["constructPath"].partition("/")
            nag = review.stack_section(stack).split("\n### cdk-nag\n", 1)[1]
            row = f"| `{finding['ruleName']}` | `{path}` |"
            reason = md.text(finding["reason"])  # as the report escapes it for Markdown
            assert any(line.startswith(row) and reason in line for line in nag.splitlines()), row


def test_definition_files_round_trip_through_the_validator(review):
    written = sorted(review.out.glob("*/*.json"))
    assert len(written) == review.summary.pipelines
    for stack in review.assembly.stacks:
        for pipeline in pipelines_of(stack):
            loaded = from_definition_file(json.loads((review.out / pipeline.file_name).read_text(encoding="utf-8")))
            assert loaded == pipeline.definition
            assert validate(loaded) == ()
            default = loaded.object("Default")
            role = default.value("role")
            assert role.startswith("${") and stack.resources[role[2:-1]]["Type"] == "AWS::IAM::Role"


def test_nothing_in_the_report_depends_on_where_it_was_built(review, synthesis):
    for path in review.out.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert str(synthesis.outdir) not in text and str(review.out) not in text, path
            assert "Token[" not in text, path


def test_the_same_assembly_gives_the_same_files_byte_for_byte(review, synthesis, tmp_path):
    """Built again in a fresh process with another hash seed, so set ordering cannot leak in."""
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    result = subprocess.run(
        [sys.executable, "-m", "ddb_datapipeline", "review", "--cdk-out", str(synthesis.outdir), "--out", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "review written to" in result.stdout
    first = {p.relative_to(review.out): p.read_bytes() for p in review.out.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first == second


def _baseline(outdir: Path, target: Path) -> Path:
    target.mkdir()
    for name in ("manifest.json", "validation-report.json", *(p.name for p in outdir.glob("*.template.json"))):
        shutil.copy(outdir / name, target / name)
    return target


def test_diff_against_a_baseline_names_each_changed_resource(review, synthesis, tmp_path):
    base = _baseline(synthesis.outdir, tmp_path / "base")
    stack = next(s for s in review.assembly.stacks if s.name.endswith("-prod"))
    template = json.loads((base / stack.template_file).read_text())
    resources = template["Resources"]
    bucket_id = next(k for k, v in resources.items() if v["Type"] == "AWS::S3::Bucket" and "VersioningConfiguration" in v["Properties"])
    resources[bucket_id]["Properties"]["VersioningConfiguration"]["Status"] = "Suspended"
    pipeline_id = next(k for k, v in resources.items() if v["Type"] == PIPELINE and v["Properties"]["Name"].startswith("ddb-prod-orders-export-"))
    activity = next(o for o in resources[pipeline_id]["Properties"]["PipelineObjects"] if o["Id"] == "TableBackupActivity")
    next(f for f in activity["Fields"] if f["Key"] == "maximumRetries")["StringValue"] = "4"
    resources["RetiredQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    topic_policy = next(k for k, v in resources.items() if v["Type"] == "AWS::SNS::TopicPolicy")
    del resources[topic_policy]
    (base / stack.template_file).write_text(json.dumps(template))

    files, _ = render(review.assembly, load_assembly(base))
    diff = files["diff.md"]
    section = diff.split(f"\n## Stack {stack.name}\n", 1)[1].split("\n## ", 1)[0]
    assert f"- **changed** `{bucket_id}` (AWS::S3::Bucket)" in section
    assert "`Properties.VersioningConfiguration.Status`: `Suspended` \u2192 `Enabled`" in section
    assert f"- **changed** `{pipeline_id}` (AWS::DataPipeline::Pipeline)" in section
    assert "object `TableBackupActivity` field `maximumRetries`: `4` \u2192 `2`" in section
    assert "- **removed** `RetiredQueue` (AWS::SQS::Queue)" in section
    assert f"- **added** `{topic_policy}` (AWS::SNS::TopicPolicy)" in section
    assert "Resources: 1 added, 1 removed, 2 changed." in diff
    for other in review.assembly.stacks:
        if other.name != stack.name:
            assert "No changes." in diff.split(f"\n## Stack {other.name}\n", 1)[1].split("\n## ", 1)[0]


def test_a_rebuild_without_baseline_drops_the_old_diff_and_stale_definition_files(review, synthesis, tmp_path):
    out = tmp_path / "review"
    build_review(synthesis.outdir, out, base=_baseline(synthesis.outdir, tmp_path / "base"))
    assert (out / "diff.md").exists()
    stale = next(out.glob("*/")) / "ddb-renamed-00000000.json"
    stale.write_text("{}")
    build_review(synthesis.outdir, out)
    assert not (out / "diff.md").exists() and not stale.exists()
    assert sorted(p.name for p in out.rglob("*.json")) == sorted(p.name for p in review.out.rglob("*.json"))


def test_an_unreadable_assembly_is_a_one_line_error(tmp_path):
    from ddb_datapipeline.assembly import AssemblyError

    with pytest.raises(AssemblyError, match="no stack templates found"):
        load_assembly(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(AssemblyError, match="manifest.json: the assembly manifest is not valid JSON"):
        load_assembly(tmp_path)


def test_open_findings_are_shown_with_their_construct_and_resource(review):
    from ddb_datapipeline.review import lint, nag

    stack = next(s for s in review.assembly.stacks if s.resources_of_type("AWS::S3::Bucket"))
    bucket_id = next(iter(stack.resources_of_type("AWS::S3::Bucket")))
    path = f"{stack.path}/ExportBucket/Resource"  # the CLI writes aws:cdk:path metadata; this synthesis does not
    template = copy.deepcopy(stack.template)
    template["Resources"][bucket_id]["Metadata"] = {"aws:cdk:path": path}
    stack = dataclasses.replace(stack, template=template)
    report = {"pluginReports": [{"pluginName": "AwsSolutions", "conclusion": "failure", "suppressedViolations": [], "violations": [
        {"ruleName": "AwsSolutions-S1", "severity": "error", "description": "The S3 Bucket has server access logs disabled.",
         "violatingConstructs": [{"constructPath": path}, {"constructPath": "OtherStack/B/Resource"}]},
    ]}]}
    text = nag.section(nag.nag_result(report, stack), 3)
    assert "AwsSolutions: failure" in text and "1 open finding, 0 acknowledgments" in text
    assert f"| \u26a0 `AwsSolutions-S1` | error | `{path.partition('/')[2]}` | `{bucket_id}` |" in text
    finding = lint.LintFinding("E3012", "error", 8, "Resources/Key/Properties/EnableKeyRotation", "'yes' is not of type 'boolean'")
    text = lint.section(lint.LintResult("1.0", "eu-west-1", (finding,)), "x.template.json", 3)
    assert "\u26a0 1 findings" in text and "| `E3012` | error | 8 | `Resources/Key/Properties/EnableKeyRotation` |" in text
    assert "not installed" in lint.section(lint.LintResult("", "eu-west-1", ()), "x.template.json", 3)


def test_the_report_checks_every_pipelines_runtime_calls(review):
    section = review.readme.split("\n## Runtime permissions\n", 1)[1].split("\n## ", 1)[0]
    # dev: 2 exports, 2 restores, 3 copies (one filtered, one incremental); prod: 2 exports, 2 restores, 2 copies;
    # analytics: the state machines of an export, a restore and a copy.
    assert "16 pipelines, " in section and "none denied." in section
    assert review.summary.denied_calls == 0 and "0 denied runtime calls" in review.summary.line()


def test_a_denied_runtime_call_is_named_in_the_report(review):
    from ddb_datapipeline.review.report import _permissions_section

    stacks = []
    for stack in review.assembly.stacks:
        template = copy.deepcopy(stack.template)
        for logical_id in [k for k, r in template["Resources"].items() if k.startswith("RolesNodePolicy")]:
            template["Resources"][logical_id]["Properties"]["PolicyDocument"]["Statement"] = [
                s for s in template["Resources"][logical_id]["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] != "TaskRunnerPolls"
            ]
        stacks.append(dataclasses.replace(stack, template=template))
    text, denied, gap = _permissions_section(dataclasses.replace(review.assembly, stacks=tuple(stacks)))
    assert gap == ""
    clusters = 8 + 3 * 2 + 2  # exports and restores run one cluster, copies two (source and target region), a filtered copy one
    assert denied == 2 * clusters  # PollForTask and the heartbeat, on every cluster
    assert "datapipeline:PollForTask" in text and text.count("\u26a0") == denied + 1


def test_a_tables_stated_size_shows_as_an_estimate_beside_its_pipelines(context, tmp_path):
    """size_gib goes into each pipeline's template metadata, so the report (from cdk.out alone) shows it."""
    from ddb_datapipeline.review.pipelines import pipelines_of, section
    from tests.conftest import synthesize

    context.pop("delivery")
    context["environments"] = {"prod": context["environments"]["prod"]}
    context["environments"]["prod"]["tables"][1]["size_gib"] = 10  # customers: referenced, exported every 12 hours
    synthesis = synthesize(context, tmp_path)
    stack = next(s for s in load_assembly(synthesis.outdir).stacks if s.name == "DdbDataPipeline-prod")
    by_name = {p.name.rsplit("-", 1)[0]: p for p in pipelines_of(stack)}
    export = by_name["ddb-prod-customers-export"]
    assert export.estimate is not None and export.estimate["size_gib"] == 10
    # 10 GiB at the connector's on-demand 40,000 RCU x 0.2 = 8,000 RCU/s x 8 KiB: 0.18 h + 0.25 h start-up.
    assert export.estimate["hours"] == pytest.approx(10 * 2**30 / (8000 * 8192) / 3600 + 0.25, abs=1e-3)
    text = section(export, 4)
    assert "- **Estimate**:" in text and "per run for 10 GiB" in text and "on-demand assumed" in text
    assert by_name["ddb-prod-orders-export"].estimate is None  # orders states no size


def test_a_filtered_and_an_incremental_copy_show_their_filter_and_window_in_words(review):
    """cdk.json's dev copies orders-open (a filter, some attributes) and orders-recent (an hourly window on updated_at)."""
    stack = next(s for s in review.assembly.stacks if s.name.endswith("-dev"))
    named = {p["Name"].rsplit("-", 1)[0]: p["Name"] for _, _, p in pipelines(review.assembly)}
    words = review.pipeline_section(stack.name, named["ddb-dev-orders-copy-orders-open-eu-west-1"])
    assert "where status is one of 'OPEN', 'PENDING' and total is at least 100" in words
    assert "`CopyActivity` (HiveActivity) on `CopyCluster`, reads `SourceTable`, writes `TargetTable`" in words
    assert ("keeps the rows where `` `status` IN ('OPEN', 'PENDING') AND `total` >= 100 ``, copying only the attributes "
            "`pk`, `sk`, `status`, `total`, `updated_at` of each (its Hive script)") in words
    assert "only attributes pk, sk, status, total, updated\\_at" in words
    words = review.pipeline_section(stack.name, named["ddb-dev-orders-copy-orders-recent-eu-west-1"])
    assert ("items whose updated\\_at (epoch\\_seconds) is from 1 hour and 15 minutes before the run's scheduled start up to "
            "that start") in words
    assert "minusMinutes(minusHours(@scheduledStartTime, 1), 15)" in words
    assert ("`VerifyActivity` (HiveActivity) on `CopyCluster`, reads `SourceTable`, `TargetTable`; counts the rows where "
            "`` `updated_at` >= unix_timestamp(") in words
    assert "of the source and looks each up in the target by `pk`, `sk`; fails (and so alarms) when any is missing" in words
    assert "then counted in the target" in words


def test_an_export_says_it_removes_its_folder_first_and_a_hive_cluster_says_its_settings(review):
    """Each export attempt first removes its run folder; a cluster that runs Hive runs it on MapReduce without
    pushdown into an index (definition/emr.py)."""
    stack = next(s for s in review.assembly.stacks if s.name.endswith("-dev"))
    named = {p["Name"].rsplit("-", 1)[0]: p["Name"] for _, _, p in pipelines(review.assembly)}
    words = review.pipeline_section(stack.name, named["ddb-dev-orders-export"])
    assert ("; first removes `#{output.directoryPath}` (`hadoop fs -rm -r -f -skipTrash`); step `DynamoDBExport` of "
            "`emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar`") in words
    words = review.pipeline_section(stack.name, named["ddb-dev-orders-copy-orders-open-eu-west-1"])
    assert ", `hive-site`: `hive.execution.engine=mr`, `dynamodb.filter.pushdown=false`" in words


def _first_screen(readme: str) -> str:
    return readme.split("\n## At a glance\n", 1)[1].split("\n## ", 1)[0]


def test_the_first_screen_says_what_changed_what_to_look_at_and_what_did_not_run(review):
    screen = _first_screen(review.readme)
    assert review.readme.index("## At a glance") < review.readme.index("## How to read this report")
    assert len(screen.splitlines()) <= 30
    assert "| What changed | no baseline given" in screen
    # cdk.json's dev tables are deleted with their stack (dev is meant to be torn down): a reviewer sees it first
    assert "stateful resources deleted with the stack (no Retain or no deletion protection) in [DdbDataPipeline-dev]" in screen
    # the session review is built without the policy tools: said, not "0 findings"
    assert "- **\u26a0 did not run**: cfn-guard: not run (--cfn-guard not given; make review runs it)" in screen
    assert "- **\u26a0 did not run**: checkov: not run (--checkov not given; make review runs it)" in screen
    assert "| Checks run | runtime permissions, cdk-nag, cfn-lint |" in screen
    assert review.summary.not_run == ()  # neither was asked for, so the command does not fail
    for stack in review.assembly.stacks:
        assert f"(#{md.slug('Stack ' + stack.name)})" in screen.split("Sections: ", 1)[1]


def test_data_stacks_come_before_the_delivery_stack(review):
    order = [line.removeprefix("## Stack ") for line in review.readme.splitlines() if line.startswith("## Stack ")]
    delivery = [i for i, name in enumerate(order) if "-delivery" in name]
    assert delivery and min(delivery) > max(i for i, name in enumerate(order) if "-delivery" not in name)
    prod = order.index("DdbDataPipeline-prod")
    targets = [n for n in order if n.startswith("DdbDataPipeline-prod-copy-targets-")]
    assert order[prod + 1: prod + 1 + len(targets)] == sorted(targets) and len(targets) == 2


def test_acknowledgments_are_folded_with_their_count(review):
    for stack in review.assembly.stacks:
        nag = review.stack_section(stack.name).split("\n### cdk-nag\n", 1)[1].split("\n### cfn-lint\n", 1)[0]
        acknowledgments = nag.split("#### Acknowledgments\n", 1)[1]
        rows = [line for line in acknowledgments.splitlines() if line.startswith("| `")]
        if rows:
            assert acknowledgments.strip().startswith(f"<details><summary>{len(rows)} acknowledgment")
            assert acknowledgments.strip().endswith("</details>")


def test_statements_are_marked_only_with_a_reason_a_reviewer_must_look_at(review):
    section = review.iam_section("DdbDataPipeline-dev")
    table = section.split("#### Permissions per role\n", 1)[1]
    marked, folded = table.split("<details>", 1)
    rows = [line for line in marked.splitlines() if line.startswith("| `")]
    assert 0 < len(rows) <= 10  # 63 of 118 statements carried a mark before (issue 27)
    assert all(line.rstrip(" |").split(" | ")[-1].startswith("\u26a0 ") for line in rows)  # each with its reason
    assert "\u26a0" not in folded
    (run,) = [line for line in rows if "`RunClusterInstances`" in line]
    assert "Resource \\* on actions that have a resource type: ec2:AuthorizeSecurityGroupEgress" in run
    polls = [line for line in folded.splitlines() if "`TaskRunnerPolls`" in line]  # * is all PollForTask can have
    assert polls and all("| `*` |" in line for line in polls)
    assert f"{len(rows)} to look at" in section


def test_shared_policies_show_the_roles_they_are_attached_to(review):
    stack = review.assembly.stack("DdbDataPipeline-dev")
    resources = review.stack_section(stack.name).split("\n### Resources\n", 1)[1].split("\n### Pipelines\n", 1)[0]
    for policy_type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy_id in stack.resources_of_type(policy_type):
            (row,) = [line for line in resources.splitlines() if line.startswith(f"| `{policy_id}` |")]
            attached = row.split(" | ")[1]
            roles = [r.strip("`") for r in attached.split("<br>")]
            assert roles and all(stack.resources[r]["Type"] == "AWS::IAM::Role" for r in roles), row
    node_policy = next(k for k in stack.resources_of_type("AWS::IAM::ManagedPolicy") if k.startswith("RolesNodePolicy"))
    (row,) = [line for line in resources.splitlines() if line.startswith(f"| `{node_policy}` |")]
    assert row.count("NodesRole") == 7  # every pipeline's node role: 2 exports, 2 restores, 3 copies


@pytest.fixture(scope="module")
def against_a_baseline(review, synthesis, tmp_path_factory):
    """One render against a baseline where prod's orders export had another name (so it is replaced) and the
    EMR service policy lacked its instance statement (so it is new), with cfn-lint missing."""
    from ddb_datapipeline.review.lint import LintResult

    base = _baseline(synthesis.outdir, tmp_path_factory.mktemp("changed") / "base")
    stack = review.assembly.stack("DdbDataPipeline-prod")
    template = json.loads((base / stack.template_file).read_text())
    resources = template["Resources"]
    pipeline_id = next(k for k, v in resources.items() if v["Type"] == PIPELINE and v["Properties"]["Name"].startswith("ddb-prod-orders-export-"))
    resources[pipeline_id]["Properties"]["Name"] = "ddb-prod-orders-export-old"
    policy = next(v for k, v in resources.items() if k.startswith("RolesEmrServicePolicy"))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    policy["Properties"]["PolicyDocument"]["Statement"] = [s for s in statements if s.get("Sid") != "RunClusterInstances"]
    (base / stack.template_file).write_text(json.dumps(template))
    files, summary = render(review.assembly, load_assembly(base), lambda text, region: LintResult("", region or "us-east-1", ()))
    return files["README.md"], summary, pipeline_id


def test_with_a_baseline_the_first_screen_counts_changes_and_names_replaced_pipelines_and_new_marks(against_a_baseline):
    readme, _, pipeline_id = against_a_baseline
    screen = _first_screen(readme)
    assert "| What changed | 0 added, 0 removed, 2 changed resources; 1 pipeline replaced: [diff.md](diff.md) |" in screen
    assert f"1 pipeline replaced (CloudFormation creates a new pipeline and deletes the old one): `DdbDataPipeline-prod/{pipeline_id}`" in screen
    assert "1 new or changed IAM statement to look at (\u26a0) in [DdbDataPipeline-prod]" in screen
    assert "[DdbDataPipeline-dev]" not in screen.split("new or changed IAM")[0].rsplit("\n", 1)[-1]


def test_a_missing_cfn_lint_is_a_failure_not_zero_findings(against_a_baseline):
    readme, summary, _ = against_a_baseline
    screen = _first_screen(readme)
    assert "- **\u26a0 did not run**: cfn-lint is not installed (pip install -r requirements-dev.txt): not run" in screen
    assert "| Checks run | runtime permissions, cdk-nag |" in screen
    assert summary.not_run == ("cfn-lint is not installed (pip install -r requirements-dev.txt): not run",)
    assert "cfn-lint not run (not installed)" in summary.line() and "cfn-lint finding" not in summary.line()
