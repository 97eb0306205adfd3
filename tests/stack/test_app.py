"""The whole app as the CLI builds it: cdk-nag clean, cfn-lint clean, deterministic, friendly errors."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, cdk_json_context, synthesize
from tests.oracles.iam import parliament_findings, policy_documents


def test_cdk_nag_has_no_unacknowledged_findings(synthesis):
    report = synthesis.report()
    (solutions,) = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    unacknowledged = [(v["ruleName"], [c["constructPath"] for c in v["violatingConstructs"]]) for v in solutions["violations"]]
    assert unacknowledged == []
    assert solutions["conclusion"] == "success"


def test_every_acknowledgment_has_a_reason_and_sits_below_the_stack(synthesis):
    suppressed = [p for p in synthesis.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"][0]["suppressedViolations"]
    assert suppressed, "the example stacks are expected to acknowledge the documented wildcards"
    for finding in suppressed:
        assert len(finding["reason"]) > 40, finding
        for construct in finding["violatingConstructs"]:
            # Acknowledged on a policy or a bucket, never on a stack or the app.
            assert construct["constructPath"].count("/") >= 2, construct
    rules = {f["ruleName"].split("[")[0] for f in suppressed}
    assert rules == {"AwsSolutions-IAM5"}, rules


def test_cfn_lint_reports_nothing(synthesis, cfn_lint):
    stacks = [a for a in json.loads((synthesis.outdir / "manifest.json").read_text())["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
    # dev, analytics, prod, prod's two copy-target stacks, the delivery stack and its two replication support stacks;
    # the stages' stacks are nested assemblies, linted too.
    assert len(stacks) == len(list(synthesis.outdir.glob("*.template.json"))) == 8
    stages = sorted(synthesis.outdir.glob("assembly-*"))
    assert len(list(synthesis.outdir.glob("assembly-*/*.template.json"))) == 5  # dev and analytics stages: 1 stack each, prod stage: 3
    assert cfn_lint(synthesis.outdir, *stages) == []


def test_parliament_accepts_every_policy_document(synthesis):
    """parliament, with AWS's own list of actions and condition keys, on every policy of every stack (the stages'
    copies included): nothing it reports stays unaccepted (tests/oracles/acknowledged.py)."""
    directories = [synthesis.outdir, *sorted(synthesis.outdir.glob("assembly-*"))]
    documents = [d for directory in directories for d in policy_documents(directory)]
    # Every kind of policy the app writes is found, and nothing is taken for a policy that is none.
    assert {d.kind for d in documents} == {"identity", "trust", "key", "bucket", "topic", "table"}
    assert parliament_findings(*directories) == []


def test_two_synths_give_identical_templates(synthesis, tmp_path):
    # The second synth builds the same whole app without the DataPipelineChecks plugin (about a second of CPU): CDK runs
    # validation plugins on templates already written, and the plugin only reads them, so it cannot make two synths
    # differ; were it ever to change a template, this comparison with the session's synthesis (run with it) would fail.
    again = synthesize(cdk_json_context(), tmp_path, plugin=False)
    names = sorted(p.name for p in synthesis.outdir.glob("*.template.json"))
    assert names == sorted(p.name for p in again.outdir.glob("*.template.json"))
    for name in names:
        assert (again.outdir / name).read_bytes() == (synthesis.outdir / name).read_bytes(), name


def run_app(context: dict, outdir: Path, capsys) -> tuple[int, str]:
    """app.py's main on an App with this context, as the CDK CLI gives it one, in this process (the real
    entry point in a subprocess is tests/unit/test_config_app.py's): its exit code and what it printed."""
    import aws_cdk as cdk

    import app

    code = app.main(cdk.App(context=context, outdir=str(outdir)))
    return code, capsys.readouterr().err


def test_a_config_mistake_is_one_line_with_no_traceback_and_no_output(tmp_path, capsys):
    context = cdk_json_context()
    context["environments"]["prod"]["tables"][0]["export"]["read_ratio"] = 1.5
    code, stderr = run_app(context, tmp_path / "out", capsys)
    assert code == 2
    assert stderr.splitlines() == [
        "configuration error: environments.prod.tables[orders].export.read_ratio: 1.5 is not allowed; expected a number from 0.1 to 1.0"
    ]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.template.json"))


def test_an_unknown_environment_is_refused(tmp_path, capsys):
    code, stderr = run_app({**cdk_json_context(), "env": "staging"}, tmp_path / "out", capsys)
    assert code == 2
    assert stderr.splitlines() == ["configuration error: env: 'staging' is not a configured environment; expected one of dev, analytics, prod"]


def test_selecting_one_environment_synthesizes_only_its_stacks(tmp_path, capsys):
    """``make synth ENV=dev``: the environment alone, without the delivery pipeline, through app.py."""
    code, stderr = run_app({**cdk_json_context(), "env": "dev"}, tmp_path, capsys)
    assert code == 0, stderr[-2000:]
    assert sorted(p.name for p in tmp_path.glob("*.template.json")) == ["DdbDataPipeline-dev.template.json"]


def test_the_cli_makes_no_network_calls_of_its_own_during_synth():
    """No notices fetch and no telemetry: synth stays offline (the app itself does no lookups)."""
    settings = json.loads((ROOT / "cdk.json").read_text())
    assert settings["notices"] is False
    assert settings["context"]["cli-telemetry"] is False
