"""The package as a team installs it: a wheel of the runtime code only, used from outside the repository."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = str(Path(sys.executable).with_name("uv"))  # pinned and installed into the virtualenv by make setup


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the checkout (its sources, not its environments or outputs), so the build sees every
    # package a wrong find rule could pick up, and setuptools' build/ and egg-info land there.
    source = out / "source"
    # .venv*: make review's .venv-checkov (about 230 MB) as well as .venv.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "node_modules", "cdk.out*", "review", ".local", "build", "*.egg-info", "__pycache__", ".*_cache",
        ".hypothesis",
    ))
    # Offline: the build backend (setuptools) is the one in this virtualenv. uv (make setup installs it next to this
    # interpreter) runs the same backend as pip wheel did and builds a wheel of the same files, RECORD included
    # (measured: the two wheels unzip to identical trees), for a third of pip's CPU (0.5 against 1.5 s). --no-cache:
    # nothing of one run is reused by another.
    result = subprocess.run(
        [UV, "build", "--wheel", "--no-build-isolation", "--no-cache", "--quiet", "--python", sys.executable, "-o", str(out), str(source)],
        capture_output=True, text=True, cwd=out,
    )
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("ddb_datapipeline-*.whl")
    return built


def test_the_wheel_holds_the_runtime_package_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "ddb_datapipeline/__init__.py" in names and "ddb_datapipeline/constructs/table_pipelines.py" in names
    assert "ddb_datapipeline/py.typed" in names  # PEP 561: a team's type checker reads the package's own types
    assert not [n for n in names if n.startswith(("local_deploy/", "tests/")) or "/local/" in n]
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    required = sorted(re.findall(r"^Requires-Dist: ([a-z0-9-]+)[^;\n]*$", metadata, flags=re.MULTILINE))
    assert required == ["aws-cdk-lib", "cdk-nag", "constructs"]
    assert "Requires-Dist: boto3" in metadata and 'extra == "check"' in metadata


def readme_example() -> str:
    readme = (ROOT / "docs" / "library.md").read_text()
    block = readme.split("<!-- example: library -->\n```python\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) <= 18
    return block


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    """The wheel installed as a team's environment holds it (aws-cdk-lib and cdk-nag come from this interpreter)."""
    target = tmp_path_factory.mktemp("site")
    # uv installs the same files as pip install --target did (measured: identical trees but for the INSTALLER
    # file's name, pip's __pycache__ and uv's .lock) in 0.1 CPU-s against pip's 1; what the apps below import is
    # compiled when they import it, as in a team's environment installed without bytecode.
    subprocess.run([UV, "pip", "install", "--quiet", "--no-deps", "--no-cache", "--python", sys.executable, "--target", str(target),
                    str(wheel)], check=True)
    return target


# Runs the team's app, then the same app with the export's node grants removed, in one interpreter (one Python and
# one jsii start, about 2.5 CPU-s, instead of two); each synth writes its own assembly. It prints where the package the
# first app used was imported from.
DRIVER = """
import os, runpy, sys
runpy.run_path(sys.argv[1], run_name="__main__")
print("package imported from", sys.modules["ddb_datapipeline"].__file__, file=sys.stderr)
print("first app synthesized", file=sys.stderr)
os.environ["CDK_OUTDIR"] = sys.argv[3]
runpy.run_path(sys.argv[2], run_name="__main__")
"""


def test_the_readmes_library_example_runs_from_the_installed_wheel_with_cdk_nag_clean(site, tmp_path):
    app = tmp_path / "team_app.py"
    app.write_text(readme_example())
    # The same app with the export's node grants removed (an escape hatch a team might use).
    stripped = readme_example().replace('ExportPipeline(stack, "Export"', 'export = ExportPipeline(stack, "Export"').replace(
        "app.synth()", 'export.node.try_remove_child("NodePermissions")\napp.synth()')
    assert "try_remove_child" in stripped and "export = ExportPipeline" in stripped
    (tmp_path / "stripped_app.py").write_text(stripped)
    (tmp_path / "driver.py").write_text(DRIVER)
    env = {
        **os.environ,
        "PYTHONPATH": str(site),  # the installed package; aws-cdk-lib and cdk-nag come from this interpreter
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run([sys.executable, "driver.py", str(app), "stripped_app.py", str(tmp_path / "stripped.out")],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    # cdk-nag and DataPipelineChecks make synth fail on any finding, so reaching the second app is a clean report.
    first, _, second = result.stderr.partition("first app synthesized\n")
    assert second, result.stderr[-2000:]
    template = (tmp_path / "cdk.out" / "TeamBackups.template.json").read_text()
    resources = json.loads(template)["Resources"].values()
    assert sum(r["Type"] == "AWS::DataPipeline::Pipeline" for r in resources) == 2  # the export and the restore
    assert sum(r["Type"] == "AWS::StepFunctions::StateMachine" for r in resources) == 1  # the native export
    # One shared alert topic for the three constructs, with the one subscription the example asked for.
    assert sum(r["Type"] == "AWS::SNS::Topic" for r in resources) == 1
    assert [(r["Properties"]["Protocol"], r["Properties"]["Endpoint"]) for r in resources
            if r["Type"] == "AWS::SNS::Subscription"] == [("email", "oncall@example.com")]
    from tests.oracles.iam import parliament_findings

    assert parliament_findings(tmp_path / "cdk.out") == []
    # The package the app used came from the wheel, not from this checkout.
    (where,) = re.findall(r"^package imported from (.*)$", first, flags=re.MULTILINE)
    assert where.startswith(str(site)), where
    # The example's DataPipelineChecks ran from the wheel and checked the export's runtime calls.
    assert re.search(r"^2 pipelines, 1 state machines, \d+ runtime calls checked, 0 denied$", first, flags=re.MULTILINE), \
        first[-2000:]
    # Without the grants the synth fails, naming the denied call and the rule, as a cdk-nag finding would.
    assert result.returncode != 0
    assert "may not dynamodb:Scan on arn:aws:dynamodb:eu-west-1:111111111111:table/orders: no identity policy allows it" in second, \
        second[-3000:]
    assert "Acknowledge with 'DdbDataPipeline::RuntimePermission'" in second


TEAM_APP = """
import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3

from ddb_datapipeline import ExportPipeline

app = cdk.App()
stack = cdk.Stack(app, "TeamBackups")
table = dynamodb.Table.from_table_name(stack, "Orders", "orders")
bucket = s3.Bucket.from_bucket_name(stack, "Backups", "team-backups")
ExportPipeline(stack, "Export", table=table, bucket=bucket, read_ratio=RATIO)
"""
# The team's mypy, strict, with the CDK's own packages not followed (their stubs take 100 s of CPU to read; the
# package's signatures are what is checked here, and their CDK types become Any).
TEAM_MYPY = """
[mypy]
strict = True
[mypy-aws_cdk,aws_cdk.*,constructs,constructs.*,cdk_nag,cdk_nag.*,jsii,jsii.*]
follow_imports = skip
"""


def test_a_teams_type_checker_sees_the_constructs_signatures_from_the_installed_wheel(site, tmp_path):
    """The wheel carries py.typed and __init__.py names its lazy exports for type checkers: mypy rejects a
    read_ratio given as text in a team's app, and accepts the same app with a number."""
    (tmp_path / "good_app.py").write_text(TEAM_APP.replace("RATIO", "0.5"))
    (tmp_path / "bad_app.py").write_text(TEAM_APP.replace("RATIO", '"high"'))
    (tmp_path / "mypy.ini").write_text(TEAM_MYPY)
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", str(tmp_path / "cache"),
                             "good_app.py", "bad_app.py"], cwd=tmp_path, env=env, capture_output=True, text=True)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors == ['bad_app.py:12: error: Argument "read_ratio" to "ExportPipeline" has incompatible type "str"; expected "float"  [arg-type]'], \
        result.stdout + result.stderr
    assert result.returncode == 1
