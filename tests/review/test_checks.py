"""The policy checks of make review (ddb_datapipeline/review/checks.py): the real cfn-guard binary bundled
by @cdklabs/cdk-validator-cfnguard on small templates with one Control Tower rule (0.02 s a run), the
acknowledgment file's format and the matching that makes make review fail.

The full run (237 rules on the session synthesis's templates) costs about 13 s of CPU here, and
checkov about 12 s, so both stay in make review; these tests pin the logic they feed.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddb_datapipeline.__main__ import main
from ddb_datapipeline.review import checks
from ddb_datapipeline.review import report
from ddb_datapipeline.review.report import build_checks

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "node_modules" / "@cdklabs" / "cdk-validator-cfnguard"
ACKS = ROOT / "checks-acknowledgments.toml"
VERSIONING_RULE = "s3/ct-s3-pr-11.guard"  # CT.S3.PR.11: S3 bucket versioning enabled

TEMPLATE = {
    "Resources": {
        "PlainBucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "VersionedBucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Enabled"}}},
    }
}


@pytest.fixture
def one_rule_package(tmp_path: Path) -> Path:
    """The npm package's layout with its binaries and only the versioning rule, so cfn-guard runs in
    milliseconds on real rule text."""
    package = tmp_path / "package"
    package.mkdir()
    (package / "bin").symlink_to(PACKAGE / "bin")
    rules = checks.guard_rules(package)
    (rules / "s3").mkdir(parents=True)
    (rules / VERSIONING_RULE).symlink_to(checks.guard_rules(PACKAGE) / VERSIONING_RULE)
    return package


def _assembly(tmp_path: Path, template: dict) -> Path:
    cdk_out = tmp_path / "cdk.out"
    cdk_out.mkdir()
    (cdk_out / "Demo.template.json").write_text(json.dumps(template))
    return cdk_out


def _ack(rule: str = "CT.S3.PR.11", resource: str = "PlainBucket", stack: str = "*") -> str:
    return f'[[acknowledgment]]\ntool = "cfn-guard"\nrule = "{rule}"\nresource = "{resource}"\nstack = "{stack}"\nreason = "test"\n'


def test_cfn_guard_reports_the_unversioned_bucket_only(one_rule_package: Path, tmp_path: Path) -> None:
    run = checks.run_guard(one_rule_package, _assembly(tmp_path, TEMPLATE), {"Demo.template.json": "Demo"})
    assert run.tool == "cfn-guard" and run.version == "3.1.1" and run.rules == 1
    assert [(f.rule, f.stack, f.resource) for f in run.findings] == [("CT.S3.PR.11", "Demo", "PlainBucket")]
    assert (run.passed, run.failed) == (0, 1)


def test_cfn_guard_passes_when_every_bucket_is_versioned(one_rule_package: Path, tmp_path: Path) -> None:
    template = {"Resources": {"VersionedBucket": TEMPLATE["Resources"]["VersionedBucket"]}}
    run = checks.run_guard(one_rule_package, _assembly(tmp_path, template), {"Demo.template.json": "Demo"})
    assert run.findings == () and (run.passed, run.failed) == (1, 0)


def test_a_finding_without_acknowledgment_fails_and_is_listed(one_rule_package: Path, tmp_path: Path) -> None:
    acks = tmp_path / "acks.toml"
    acks.write_text("")
    line, failed = build_checks(_assembly(tmp_path, TEMPLATE), tmp_path / "review", guard_package=one_rule_package,
                                checkov=None, acknowledgments=acks)
    assert failed
    assert "1 not acknowledged" in line
    text = (tmp_path / "review" / "checks.md").read_text()
    assert "cfn-guard CT.S3.PR.11 on Demo/PlainBucket" in text.split("## Not acknowledged")[1]


def test_an_acknowledged_finding_passes_with_its_reason(one_rule_package: Path, tmp_path: Path) -> None:
    acks = tmp_path / "acks.toml"
    acks.write_text(_ack(resource="Plain*", stack="Demo").replace('"test"', '"kept on purpose"'))
    line, failed = build_checks(_assembly(tmp_path, TEMPLATE), tmp_path / "review", guard_package=one_rule_package,
                                checkov=None, acknowledgments=acks)
    assert not failed and "1 acknowledged, 0 not acknowledged, 0 stale" in line
    text = (tmp_path / "review" / "checks.md").read_text()
    row = next(r for r in text.splitlines() if "PlainBucket" in r)
    assert row.endswith("| kept on purpose |")
    folded = text.split("<details><summary>1 acknowledgment</summary>\n", 1)[1].split("</details>", 1)[0]
    assert row in folded


def test_an_acknowledgment_that_matches_nothing_is_stale_and_fails(one_rule_package: Path, tmp_path: Path) -> None:
    acks = tmp_path / "acks.toml"
    acks.write_text(_ack() + _ack(resource="GoneBucket"))
    line, failed = build_checks(_assembly(tmp_path, TEMPLATE), tmp_path / "review", guard_package=one_rule_package,
                                checkov=None, acknowledgments=acks)
    assert failed and "1 stale" in line
    assert "cfn-guard CT.S3.PR.11 on \\*/GoneBucket matches no finding" in (tmp_path / "review" / "checks.md").read_text()


def test_the_review_command_exits_1_on_an_unacknowledged_finding(one_rule_package: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # The rest of the review (README.md: cfn-lint, the permission model) is tested in test_report.py and
    # costs 20 s on this template's buckets; only the policy checks' exit code is under test here.
    def render(assembly, base, linter, tools):  # the policy checks as build_review ran them, nothing else
        return {}, report.ReviewSummary((), 1, 0, 0, 0, 0, checks_line=checks.summary_line(tools.runs, tools.outcome),
                                        checks_failed=tools.outcome.failed)

    monkeypatch.setattr(report, "render", render)
    acks = tmp_path / "acks.toml"
    acks.write_text(_ack(stack="Other"))  # right rule and resource, another stack: does not count
    cdk_out = _assembly(tmp_path, TEMPLATE)
    code = main(["review", "--cdk-out", str(cdk_out), "--out", str(tmp_path / "review"),
                 "--cfn-guard", str(one_rule_package), "--acknowledgments", str(acks)])
    assert code == 1
    assert "1 not acknowledged, 1 stale" in capsys.readouterr().out


def test_checks_need_an_acknowledgment_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["review", "--cdk-out", str(_assembly(tmp_path, TEMPLATE)), "--out", str(tmp_path / "r"), "--checkov", "checkov"])
    assert code == 2
    assert capsys.readouterr().err == "error: --acknowledgments is required with --cfn-guard or --checkov\n"


def test_entries_of_a_tool_that_did_not_run_are_not_stale() -> None:
    run = checks.ToolRun("cfn-guard", "3.1.1", 1, 0, 0, ())
    checkov_only = checks.Acknowledgment(tool="checkov", rule="CKV_AWS_21", resource="*", reason="r")
    assert checks.match([run], [checkov_only]).stale == ()
    guard = checks.Acknowledgment(tool="cfn-guard", rule="CT.S3.PR.11", resource="*", reason="r")
    assert checks.match([run], [guard]).stale == (guard,)


@pytest.mark.parametrize(("entry", "message"), [
    ('tool = "cfn-guard"\nrule = "CT.S3.PR.11"\nresource = "X"\n',
     "acknowledgment 1: reason = None; allowed: a non-empty string"),
    ('tool = "cfn-guard"\nrule = "CT.S3.PR.11"\nresource = "X"\nreason = " "\n',
     "acknowledgment 1: reason = ' '; allowed: a non-empty string"),
    ('tool = "cfn_guard"\nrule = "CT.S3.PR.11"\nresource = "X"\nreason = "r"\n',
     "acknowledgment 1: tool = 'cfn_guard'; allowed: cfn-guard, checkov"),
    ('tool = "checkov"\nrule = "CKV_AWS_21"\nresource = "X"\nreason = "r"\nwhy = "r"\n',
     "acknowledgment 1: unknown field 'why'; allowed: tool, rule, resource, reason, stack"),
])
def test_a_malformed_acknowledgment_is_a_one_line_error(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "acks.toml"
    path.write_text("[[acknowledgment]]\n" + entry)
    with pytest.raises(checks.ChecksError) as error:
        checks.load_acknowledgments(path)
    assert str(error.value) == f"{path}: {message}"


def test_checkov_findings_name_the_stack_and_logical_id() -> None:
    """The fields checkov -o json gives for a CloudFormation run (as in checkov 3.3.30's report)."""
    report = {
        "check_type": "cloudformation",
        "summary": {"passed": 1, "failed": 1, "checkov_version": "3.3.30"},
        "results": {
            "passed_checks": [{"check_id": "CKV_AWS_19", "resource": "AWS::S3::Bucket.LogsB1", "file_path": "/Demo.template.json"}],
            "failed_checks": [{"check_id": "CKV_AWS_21", "resource": "AWS::S3::Bucket.LogsB1",
                               "file_path": "/Demo.template.json", "check_name": "Ensure the S3 bucket has versioning enabled"}],
        },
    }
    run = checks.parse_checkov(report, {"Demo.template.json": "Demo"})
    assert (run.version, run.rules, run.passed, run.failed) == ("3.3.30", 2, 1, 1)
    assert [(f.rule, f.stack, f.resource) for f in run.findings] == [("CKV_AWS_21", "Demo", "LogsB1")]


def test_the_project_acknowledgments_load_and_each_explains_one_rule() -> None:
    acks = checks.load_acknowledgments(ACKS)
    assert len(acks) == len({(a.tool, a.rule, a.resource, a.stack) for a in acks})
    assert all(len(a.reason) > 40 for a in acks)


def _summary(tools: report.Checks, not_run: tuple[str, ...] = ()) -> report.ReviewSummary:
    return report.ReviewSummary((), 1, 0, 0, 0, 0, not_run=not_run, checks_line=checks.summary_line(tools.runs, tools.outcome),
                                checks_failed=tools.outcome.failed)


def test_a_tool_that_cannot_run_is_a_line_in_checks_md_and_fails_review(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    acks = tmp_path / "acks.toml"
    acks.write_text("")
    cdk_out = _assembly(tmp_path, TEMPLATE)
    broken = tmp_path / "empty-package"
    broken.mkdir()
    line, failed = build_checks(cdk_out, tmp_path / "review", guard_package=broken, checkov=None, acknowledgments=acks)
    assert failed
    text = (tmp_path / "review" / "checks.md").read_text()
    assert "## Did not run" in text and "cfn-guard: " in text.split("## Did not run", 1)[1] and "has no bundled binary" in text
    seen = []

    def render(assembly, base, linter, tools):
        seen.append(tools.errors)  # what build_review gave render (whose own lines are tested in test_report.py)
        return {}, _summary(tools, tuple(f"{e}: not run" for e in tools.errors))

    monkeypatch.setattr(report, "render", render)
    code = main(["review", "--cdk-out", str(cdk_out), "--out", str(tmp_path / "r"), "--cfn-guard", str(broken),
                 "--acknowledgments", str(acks)])
    assert code == 2
    (errors,) = seen
    assert len(errors) == 1 and errors[0].startswith("cfn-guard: ") and "has no bundled binary" in errors[0]
    assert "error: cfn-guard: " in capsys.readouterr().err


def test_review_exits_2_when_cfn_lint_is_not_installed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    line = "cfn-lint is not installed (pip install -r requirements-dev.txt): not run"
    monkeypatch.setattr(report, "render", lambda assembly, base, linter, tools: ({}, _summary(tools, (line,))))
    code = main(["review", "--cdk-out", str(_assembly(tmp_path, TEMPLATE)), "--out", str(tmp_path / "r")])
    assert code == 2
    assert capsys.readouterr().err == f"error: {line}\n"


def test_a_tool_asked_for_that_did_not_run_fails_while_one_not_given_is_only_reported() -> None:
    report_lines, failing = report._not_run((), "", report.Checks(errors=("cfn-guard: exit 3: broken",)))
    assert failing == ["cfn-guard: exit 3: broken: not run"]
    assert report_lines == ["cfn-guard: exit 3: broken: not run", "checkov: not run (--checkov not given; make review runs it)"]
    report_lines, failing = report._not_run((), "model gap", report.Checks())
    assert failing == [] and "runtime permissions: not checked: model gap" in report_lines
