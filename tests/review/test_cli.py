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
LEGACY_VIOLATIONS = [
    "DefaultSchedule.startDateTime: startDateTime '2019-06-01 00:00:00' is not allowed; the format is YYYY-MM-DDTHH:MM:SS (UTC)",
    "DDBSourceTable.readThroughputPercent: readThroughputPercent '#{myDDBReadThroughputRatio}' (resolves to '1.25') is outside 0.1-1.0",
    "TableBackupActivity.maximumRetries: maximumRetries '8' is not a whole number between 0 and 5",
    "TableBackupActivity.step: step jar 'emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar' is run with class "
    "'org.apache.hadoop.dynamodb.tools.DynamoDbExport'; the emr-dynamodb-tools jar needs org.apache.hadoop.dynamodb.tools.DynamoDBExport",
    "DDBRegion: parameter id 'DDBRegion' must start with 'my' (e.g. 'myDDBRegion')",
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
    block = (root / "README.md").read_text().split("<!-- example: validate -->\n```sh\n", 1)[1].split("```", 1)[0]
    command, _, comment = block.splitlines()[0].partition("#")
    stated = int(re.search(r"(\d+) violations, exit 1", comment).group(1))
    result = subprocess.run(command.split(), cwd=root, capture_output=True, text=True)
    violations = [line for line in result.stdout.splitlines() if line.startswith("tests/review/fixtures/legacy_export.json: ")]
    assert result.returncode == 2 and "Error 1" in result.stderr  # make reports the command's exit 1 as its own 2
    assert len(violations) == stated
