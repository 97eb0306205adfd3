"""``python -m ddb_datapipeline check``: the configuration checks that need no synth, without the CDK."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ddb_datapipeline.__main__ import main
from tests.conftest import ROOT, cdk_json_context


def write(tmp_path: Path, context: object) -> str:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python3 app.py", "context": context}))
    return str(path)


def test_the_shipped_configuration_checks_clean_with_a_one_line_summary(capsys):
    assert main(["check", "--cdk-json", str(ROOT / "cdk.json")]) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and err == ""
    environments = cdk_json_context()["environments"]  # counted from the file as written, not by the loader
    tables = [(table, environment) for environment in environments.values() for table in environment["tables"]]
    native = sum(table.get("engine", environment.get("engine")) == "native" for table, environment in tables)
    copies = sum(len(table.get("copies", [])) for table, _ in tables)
    assert out.endswith(f"cdk.json: configuration OK: {len(environments)} environments, a delivery pipeline, {len(tables)} tables "
                        f"({native} native), {copies} copies\n")
    assert (len(environments), native) == (3, 1)  # the example shows both engines


def test_a_mistake_is_the_apps_one_line_and_exit_2(tmp_path, capsys):
    context = cdk_json_context()
    context["environments"]["dev"]["emr"]["core_instance_count"] = "2"
    assert main(["check", "--cdk-json", write(tmp_path, context)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("configuration error: environments.dev.emr.core_instance_count: '2' (a string) is not allowed; expected a whole "
                   "number from 1 to 50\n")


def test_an_estimate_refusal_and_a_cross_environment_rule_are_checked_too(tmp_path, capsys):
    context = cdk_json_context()
    context["environments"]["dev"]["tables"][0].update(size_gib=50_000, item_count=10**9)
    assert main(["check", "--cdk-json", write(tmp_path, context)]) == 2
    assert "configuration error: environments.dev.emr.terminate_after: '3 hours' is not allowed; expected at least" in capsys.readouterr().err
    context = cdk_json_context()
    context["environments"]["dev"].update(account="111111111111", region="us-east-1")  # declares prod's orders too
    assert main(["check", "--cdk-json", write(tmp_path, context), "--env", "dev"]) == 2
    assert "expected each table declared by one environment only" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "expected"), [
    ('{"context": {"environments": {}, "environments": {}}}', 'key "environments" appears twice in context'),
    ("{not json", "not valid JSON"),
    ('{"app": "x"}', 'no "context" object'),
])
def test_a_file_that_is_not_a_project_configuration_is_one_line(tmp_path, capsys, text, expected):
    path = tmp_path / "cdk.json"
    path.write_text(text)
    assert main(["check", "--cdk-json", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_a_missing_file_and_an_unknown_environment(tmp_path, capsys):
    assert main(["check", "--cdk-json", str(tmp_path / "nothing.json")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'nothing.json'}: cannot read")
    assert main(["check", "--cdk-json", str(ROOT / "cdk.json"), "--env", "nope"]) == 2
    assert capsys.readouterr().err == "configuration error: env: 'nope' is not a configured environment; expected one of dev, analytics, prod\n"


def test_check_imports_no_cdk():
    """The command's promise (about a second) rests on never starting jsii's Node process."""
    code = ("import sys; from ddb_datapipeline.__main__ import main; main(['check', '--cdk-json', 'cdk.json']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"
