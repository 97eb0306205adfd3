"""``python -m ddb_datapipeline validate``: any definition file, violations as ``FILE: object.field:
rule`` lines, exit 0/1/2, one line and no traceback for a file that is not a definition."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ddb_datapipeline.__main__ import main
from ddb_datapipeline.definition.render import to_definition_file
from tests.conftest import ROOT

from .conftest import FIXTURES
from .test_parts import definitions

LEGACY = FIXTURES / "legacy_export.json"
CORPUS = FIXTURES / "corpus"
LEGACY_VIOLATIONS = [
    "DefaultSchedule.startDateTime: DP227 startDateTime '2019-06-01 00:00:00' is not allowed; the format is YYYY-MM-DDTHH:MM:SS (UTC)",
    "DDBSourceTable.readThroughputPercent: DP230 readThroughputPercent '#{myDDBReadThroughputRatio}' (resolves to '1.25') is outside 0.1-1.0",
    "EmrClusterForBackup.masterInstanceType: warning: DP305 masterInstanceType 'm3.xlarge' is a previous-generation instance type "
    "that many regions and EMR releases no longer offer; use m5.xlarge, its current counterpart",
    "EmrClusterForBackup.coreInstanceType: warning: DP305 coreInstanceType 'm3.xlarge' is a previous-generation instance type "
    "that many regions and EMR releases no longer offer; use m5.xlarge, its current counterpart",
    "TableBackupActivity.maximumRetries: DP231 maximumRetries '8' is not a whole number between 0 and 5",
    "TableBackupActivity.step: DP240 step jar 'emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar' is run with class "
    "'org.apache.hadoop.dynamodb.tools.DynamoDbExport'; the emr-dynamodb-tools jar needs org.apache.hadoop.dynamodb.tools.DynamoDBExport",
    *[f"TableBackupActivity.step: warning: DP610 step expands parameter {name}{via}, and a value given at activation replaces its stored one as text, "
      f"so it would run as code; allowed: a literal in the definition, or a step that dependsOn a guard ShellCommandActivity whose "
      f"scriptArgument is #{{{name}}}"
      for name, via in [("DDBRegion", ""),
                        ("myDDBReadThroughputRatio", " (through #{input.readThroughputPercent} -> DDBSourceTable.readThroughputPercent)"),
                        ("myDDBTableName", " (through #{input.tableName} -> DDBSourceTable.tableName)"),
                        ("myOutputS3Loc", " (through #{output.directoryPath} -> S3BackupLocation.directoryPath)")]],
    "DDBRegion: DP210 parameter id 'DDBRegion' must start with 'my' (e.g. 'myDDBRegion')",
]


@pytest.fixture
def clean_file(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(to_definition_file(definitions()[0]), indent=2))
    return path


def test_a_clean_definition_exits_0_and_prints_no_violation(clean_file, capsys):
    assert main(["validate", str(clean_file)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "1 file checked, 0 violations\n"


def test_a_legacy_console_definition_lists_every_violation_with_its_file(capsys):
    assert main(["validate", str(LEGACY)]) == 1
    assert capsys.readouterr().out.splitlines() == [f"{LEGACY}: {line}" for line in LEGACY_VIOLATIONS]


def test_a_review_definition_file_validates_clean(review, capsys):
    files = sorted(str(p) for p in review.out.glob("*/*.json"))
    assert main(["validate", *files]) == 0
    assert capsys.readouterr().err == f"{len(files)} files checked, 0 violations\n"


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", 'not a pipeline definition: expected a JSON object with an "objects" list'),
        ('{"objects": [{"id": 1}]}', 'not a pipeline definition: objects[0]: expected an object with a string "id"'),
        ('{"objects": [], "pipelineId": "df-1"}', "not a pipeline definition: unknown top-level keys ['pipelineId']"),
        ('{"objects": [{"id": "A", "retries": 3}]}', "not a pipeline definition: A.retries: value 3 is neither a string"),
        ('{"objects": [', "not valid JSON: Expecting value at line 1 column 14"),
    ],
)
def test_a_file_that_is_not_a_definition_exits_2_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "broken.json"
    path.write_text(content)
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {path}: {message}") and captured.err.count("\n") == 1


def test_a_missing_file_does_not_hide_the_others(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.json"), str(LEGACY)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {tmp_path / 'nope.json'}: no such file\n"
    assert len(captured.out.splitlines()) == len(LEGACY_VIOLATIONS)


def test_bad_json_from_the_command_line_has_no_traceback(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{'objects': []}")
    result = subprocess.run([sys.executable, "-m", "ddb_datapipeline", "validate", str(path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {path}: not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"
    ]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_review_of_a_directory_without_templates_is_one_line(tmp_path, capsys):
    assert main(["review", "--cdk-out", str(tmp_path), "--out", str(tmp_path / "review")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: no stack templates found; run 'make synth' first\n"
    assert not (tmp_path / "review").exists()


def test_the_readmes_validate_example_says_what_it_does():
    """The README's first `make validate` line, run as written: its comment states the result."""
    import re

    root = ROOT
    block = (root / "docs" / "review.md").read_text().split("<!-- example: validate -->\n```sh\n", 1)[1].split("```", 1)[0]
    command, _, comment = block.splitlines()[0].partition("#")
    stated = int(re.search(r"(\d+) violations, exit 1", comment).group(1))
    result = subprocess.run(command.split(), cwd=root, capture_output=True, text=True)
    violations = [line for line in result.stdout.splitlines() if line.startswith("tests/review/fixtures/legacy_export.json: ")]
    assert result.returncode == 2 and "Error 1" in result.stderr  # make reports the command's exit 1 as its own 2
    assert len(violations) == stated


# --- issue 13: errors and warnings, AWS CLI inputs, JSON output, public definitions ----------------
def _corpus_cases():
    expected = json.loads((CORPUS / "expected.json").read_text())
    return [pytest.param(name, case, id=name) for name, case in expected.items()]


@pytest.mark.parametrize("name, case", _corpus_cases())
def test_public_definitions_give_the_expected_findings(name, case, capsys):
    """The corpus README says why each finding is right; valid files exit 0 (warnings only)."""
    options = [str(CORPUS / o) if o.endswith(".json") else o for o in case["options"]]
    assert main(["validate", str(CORPUS / name), *options, "--format", "json"]) == case["exit"]
    found = json.loads(capsys.readouterr().out)
    shown = [f"{f['severity']} {f['rule']} {f['object']}.{f['field']}" if f["field"] else
             f"{f['severity']} {f['rule']} {f['object']}" for f in found]
    assert shown == case["findings"]


def test_only_warnings_exit_0_and_say_warning(capsys):
    path = CORPUS / "LoadTsvFilesInS3ToRedshift.json"
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{path}: {name}: warning: DP213 parameter {name} is declared but never used; reference it as #{{{name}}} or remove it"
        for name in ("myInsertMode", "myRedshiftTableName")
    ]
    assert captured.err == "1 file checked, 2 violations (0 errors, 2 warnings)\n"


def test_json_format_is_one_object_per_finding_in_text_order(capsys):
    assert main(["validate", str(LEGACY), "--format", "json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert [f"{f['object']}.{f['field']}: {'warning: ' if f['severity'] == 'warning' else ''}{f['id']} {f['message']}"
            if f["field"] else f"{f['object']}: {f['id']} {f['message']}" for f in found] == LEGACY_VIOLATIONS
    assert set(found[0]) == {"file", "object", "field", "id", "rule", "severity", "message"}
    assert found[0]["file"] == str(LEGACY) and found[0]["rule"] == "scheduling" and found[0]["id"] == "DP227"


def test_a_template_parameter_without_value_is_fine_unless_values_are_required(tmp_path, capsys):
    """Issue 13 false alarm: templates receive values at put or activation time."""
    path = tmp_path / "template.json"
    path.write_text(json.dumps({**json.loads(LEGACY.read_text()), "values": {}}))
    main(["validate", str(path)])
    assert "neither a default nor a value" not in capsys.readouterr().out
    main(["validate", str(path), "--require-values"])
    out = capsys.readouterr().out
    assert "myDDBTableName: DP214 parameter myDDBTableName is not optional and has neither a default nor a value" in out


def test_parameter_objects_and_values_replace_the_definitions_own(tmp_path, capsys):
    definition = tmp_path / "bare.json"
    definition.write_text(json.dumps({"objects": json.loads(LEGACY.read_text())["objects"]}))
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps({"parameters": json.loads(LEGACY.read_text())["parameters"]}))
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"values": {"myDDBReadThroughputRatio": "0.5"}}))
    main(["validate", str(definition), "--parameter-objects", str(parameters), "--require-values",
          "--parameter-values-uri", f"file://{values}"])
    out = capsys.readouterr().out
    assert "resolves to '1.25'" not in out and "DDBRegion: DP210 parameter id 'DDBRegion'" in out
    assert "myDDBTableName: DP214 parameter myDDBTableName is not optional" in out
    main(["validate", str(definition), "--parameter-objects", str(parameters), "--require-values",
          "--parameter-values", "myDDBTableName=orders", "myOutputS3Loc=s3://b/x", "myDDBReadThroughputRatio=0.3"])
    out = capsys.readouterr().out
    assert "is not optional" not in out and "resolves to '1.25'" not in out


def test_fail_on_warning_makes_a_kept_warning_fail_ci(capsys):
    """A team that wants activation values out of code fails its CI on DP610 alone, although it is a warning."""
    assert main(["validate", str(LEGACY), "--select", "DP610"]) == 0
    assert main(["validate", str(LEGACY), "--select", "DP610", "--fail-on", "warning"]) == 1
    assert main(["validate", str(LEGACY), "--select", "DP999", "--fail-on", "warning"]) == 2  # no such rule
    assert main(["validate", str(LEGACY), "--ignore", "DP2", "DP3", "DP6", "--fail-on", "warning"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--parameter-values", "myDDBTableName"], "error: --parameter-values: 'myDDBTableName' is not id=value"),
        (["--parameter-values", "a=1", "--parameter-values-uri", "v.json"], "error: --parameter-values and "
                                                                           "--parameter-values-uri exclude each other"),
        (["--parameter-objects", "nope.json"], "error: nope.json: no such file"),
        (["--parameter-values-uri", "LEGACY"], "not a parameter values file: \"values\" must be an object"),
    ],
)
def test_bad_parameter_inputs_are_one_line_and_exit_2(options, message, tmp_path, capsys):
    bad_values = tmp_path / "values.json"
    bad_values.write_text('{"values": []}')
    options = [str(bad_values) if o == "LEGACY" else o for o in options]
    assert main(["validate", str(LEGACY), *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err


def test_files_after_parameter_values_are_one_line_not_a_usage_dump(capsys):
    assert main(["validate", "--parameter-values", "myDDBTableName=orders", str(LEGACY)]) == 2
    captured = capsys.readouterr()
    assert captured.err == "error: validate needs at least one FILE (FILE arguments go before the options)\n"


def test_a_console_template_with_metadata_is_a_definition(tmp_path, capsys):
    """Issue 13 false alarm: console templates carry a top-level "metadata" key the AWS CLI ignores."""
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"metadata": {"templateName": "x"}, **json.loads(LEGACY.read_text())}))
    assert main(["validate", str(path)]) == 1
    assert len(capsys.readouterr().out.splitlines()) == len(LEGACY_VIOLATIONS)


# --- issue 28: rule ids, --select/--ignore, the rules page, the connector's tools in AWS's sample ---------
CROSS_REGION = CORPUS / "dynamodb-to-dynamodb-crossregion.json"


def _swapped(tmp_path, activity, first, second):
    """AWS's cross-region sample with two arguments of one activity's connector step swapped."""
    data = json.loads(CROSS_REGION.read_text())
    for obj in data["objects"]:
        if obj["id"] == activity:
            (step,) = obj["step"]
            assert first in step and second in step
            obj["step"] = [step.replace(first, "\0").replace(second, first).replace("\0", second)]
    path = tmp_path / f"{activity}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "activity, first, second, line",
    [
        ("TableBackupActivity", "#{output.directoryPath}", "#{input.tableName}",
         "TableBackupActivity.step: DP304 argument 1 '#{input.tableName}' of TableBackupActivity is the table name, where "
         "DynamoDBExport expects the S3 directory; DynamoDBExport takes S3 directory, table name, [throughput ratio], "
         "[segment count]"),
        ("TableLoadActivity", "#{output.tableName}", "#{output.writeThroughputPercent}",
         "TableLoadActivity.step: DP304 argument 2 '#{output.writeThroughputPercent}' of TableLoadActivity is the throughput "
         "ratio, where DynamoDBImport expects the table name; DynamoDBImport takes S3 directory, table name, "
         "[throughput ratio]"),
    ],
)
def test_aws_cross_region_sample_with_a_step_s_arguments_swapped_is_an_error_naming_the_activity(
        tmp_path, capsys, activity, first, second, line):
    path = _swapped(tmp_path, activity, first, second)
    assert main(["validate", str(path), "--select", "DP3", "--ignore", "DP305"]) == 1
    assert capsys.readouterr().out.splitlines() == [f"{path}: {line}"]


@pytest.mark.parametrize(
    "options, ids",
    [
        ([], ["DP227", "DP230", "DP305", "DP305", "DP231", "DP240", "DP610", "DP610", "DP610", "DP610", "DP210"]),
        (["--select", "DP2"], ["DP227", "DP230", "DP231", "DP240", "DP210"]),
        (["--select", "DP610", "dp305"], ["DP305", "DP305", "DP610", "DP610", "DP610", "DP610"]),
        (["--ignore", "DP6", "DP30"], ["DP227", "DP230", "DP231", "DP240", "DP210"]),
        (["--ignore", "DP2", "--select", "DP231"], ["DP231"]),
    ],
)
def test_select_and_ignore_take_rule_ids_and_prefixes(capsys, options, ids):
    main(["validate", str(LEGACY), *options, "--format", "json"])
    assert [f["id"] for f in json.loads(capsys.readouterr().out)] == ids


def test_ignoring_every_error_exits_0(capsys):
    assert main(["validate", str(LEGACY), "--ignore", "DP2"]) == 0
    assert capsys.readouterr().err == "1 file checked, 6 violations (0 errors, 6 warnings)\n"


@pytest.mark.parametrize(
    "options, message",
    [
        (["--ignore", "DP9"], "error: --ignore: 'DP9' is not allowed; expected a rule id or a prefix of one (DP1 to DP6, "
                              "e.g. DP1 or DP304)\n"),
        (["--select", "DP3O4"], "error: --select: 'DP3O4' is not allowed; expected a rule id or a prefix of one (DP1 to DP6, "
                                "e.g. DP1 or DP304); did you mean DP304?\n"),
        (["--format", "markdown"], "error: --format markdown: 'markdown' is not allowed for findings; expected text or json "
                                   "(markdown is for --list-rules)\n"),
    ],
)
def test_a_bad_rule_option_is_one_line_and_exits_2(capsys, options, message):
    assert main(["validate", str(LEGACY), *options]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == message


def test_the_rules_page_is_what_the_command_prints_now(capsys):
    """docs/linter-rules.md is generated: `python -m ddb_datapipeline validate --list-rules --format markdown >
    docs/linter-rules.md` after a change to the registry."""
    assert main(["validate", "--list-rules", "--format", "markdown"]) == 0
    page = capsys.readouterr().out
    assert (ROOT / "docs" / "linter-rules.md").read_text() == page
    assert "| DP304 | error | a connector tool argument in the wrong place (a swap) | `connector_arguments` |" in page


def test_list_rules_as_json_carries_each_rules_id_severity_and_source(capsys):
    assert main(["validate", "--list-rules", "--format", "json", "--select", "DP61"]) == 0
    (rule,) = json.loads(capsys.readouterr().out)
    assert rule["id"] == "DP610" and rule["severity"] == "warning" and rule["check"] == "parameter_code"
    assert rule["source"].startswith("https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/")
