"""The cfn-lint result cache (ddb_datapipeline/review/lint.py): keyed by template, region, the versions of cfn-lint
and of what it imports, and the lint module's source; read back instead of linting again, kept in a private directory
that forgets what nobody read for a month, and off unless its directory is named."""
from __future__ import annotations

import importlib.metadata
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ddb_datapipeline.review import lint
from tests.conftest import ROOT

# cfn-lint runs in this process: cfn_lint puts the module on the worker that loads its rules (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cfn_lint")

TEMPLATE = json.dumps({"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": "yes"}}}})


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(lint.CACHE_DIR_ENV, str(tmp_path))
    lint.lint_template.cache_clear()  # the in-process cache would answer before the directory is asked
    yield tmp_path
    lint.lint_template.cache_clear()


def test_a_cached_result_is_read_back_instead_of_linting_again(cache: Path):
    first = lint.lint_template(TEMPLATE, "eu-west-1")
    assert [f.rule for f in first.findings] == ["E3012"]  # a real finding, so the round trip carries one
    (stored,) = cache.glob("*.json")
    assert lint._from_json(json.loads(stored.read_text())) == first
    # A result planted under the same key is what comes back: the second call did not lint.
    planted = json.loads(stored.read_text())
    planted["findings"][0]["message"] = "from the cache"
    stored.write_text(json.dumps(planted))
    lint.lint_template.cache_clear()
    assert lint.lint_template(TEMPLATE, "eu-west-1").findings[0].message == "from the cache"


def test_another_region_or_template_is_linted_under_its_own_key(cache: Path):
    lint.lint_template(TEMPLATE, "eu-west-1")
    lint.lint_template(TEMPLATE, "us-west-2")
    lint.lint_template(TEMPLATE.replace('"yes"', "true"), "eu-west-1")
    assert len(list(cache.glob("*.json"))) == 3


def test_another_cfn_lint_version_misses(cache: Path, monkeypatch: pytest.MonkeyPatch):
    lint.lint_template(TEMPLATE, "eu-west-1")
    monkeypatch.setattr(lint, "installed_version", lambda: "0.0.0-other")
    lint.lint_template.cache_clear()
    assert lint.lint_template(TEMPLATE, "eu-west-1").version == "0.0.0-other"
    assert len(list(cache.glob("*.json"))) == 2


def test_another_version_of_a_package_cfn_lint_uses_misses(cache: Path, monkeypatch: pytest.MonkeyPatch):
    lint.lint_template(TEMPLATE, "eu-west-1")
    environment = json.loads(lint._environment())
    environment["packages"]["sympy"] = "0.0.0-other"
    monkeypatch.setattr(lint, "_environment", lambda: json.dumps(environment, sort_keys=True))
    lint.lint_template.cache_clear()
    lint.lint_template(TEMPLATE, "eu-west-1")
    assert len(list(cache.glob("*.json"))) == 2


def test_the_key_names_every_installed_package_cfn_lint_imports():
    """Judged by what cfn-lint loads, not by its metadata: in a fresh interpreter that lints a template, every module
    imported from outside the standard library belongs to a distribution the key carries with its version."""
    probe = ("import json, sys, importlib.metadata as m; from ddb_datapipeline.review import lint; before = set(sys.modules); "
             f"lint._lint({TEMPLATE!r}, 'eu-west-1', 'x'); "
             "owners = m.packages_distributions(); "
             "print(json.dumps(sorted({d for name in set(sys.modules) - before if name.split('.')[0] not in sys.stdlib_module_names "
             "for d in owners.get(name.split('.')[0], ())})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = {d.lower().replace("_", "-") for d in json.loads(result.stdout)}
    assert {"cfn-lint", "sympy", "networkx", "regex"} <= loaded  # the probe sees cfn-lint's own imports
    packages = json.loads(lint._environment())["packages"]
    assert loaded <= set(packages), loaded - set(packages)
    assert all(packages[name] == importlib.metadata.version(name) for name in loaded)


def test_a_change_to_the_lint_module_misses(cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    lint.lint_template(TEMPLATE, "eu-west-1")
    changed = tmp_path / "lint.py"
    changed.write_text(Path(lint.__file__).read_text() + "\n# another way of calling cfn-lint\n")
    monkeypatch.setattr(lint, "__file__", str(changed))
    lint._environment.cache_clear()
    lint.lint_template.cache_clear()
    try:
        lint.lint_template(TEMPLATE, "eu-west-1")
    finally:
        monkeypatch.undo()
        lint._environment.cache_clear()
    assert len(list(cache.glob("*.json"))) == 2


def test_the_directory_is_private_and_forgets_what_nobody_read_for_a_month(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path / "made" / "cfn-lint"
    monkeypatch.setenv(lint.CACHE_DIR_ENV, str(cache))
    lint.lint_template.cache_clear()
    try:
        lint.lint_template(TEMPLATE, "eu-west-1")
        (kept,) = cache.glob("*.json")
        assert stat.S_IMODE(cache.stat().st_mode) == 0o700
        month = lint.CACHE_DAYS * 86400
        old = cache / ("0" * 64 + ".json")
        old.write_text(kept.read_text())
        os.utime(old, (time.time() - month - 60,) * 2)
        os.utime(kept, (time.time() - month - 60,) * 2)
        lint.lint_template.cache_clear()
        lint.lint_template(TEMPLATE, "eu-west-1")  # read back: kept, and marked as read today
        assert time.time() - kept.stat().st_mtime < 60
        lint.lint_template(TEMPLATE, "us-west-2")  # a new result is written: the stale one goes, the one read stays
        assert not old.exists() and kept.exists() and len(list(cache.glob("*.json"))) == 2
    finally:
        lint.lint_template.cache_clear()


def test_a_directory_that_cannot_be_written_only_means_linting_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    monkeypatch.setenv(lint.CACHE_DIR_ENV, str(blocked / "cfn-lint"))
    lint.lint_template.cache_clear()
    try:
        assert [f.rule for f in lint.lint_template(TEMPLATE, "eu-west-1").findings] == ["E3012"]
    finally:
        lint.lint_template.cache_clear()
    assert blocked.read_text() == "not a directory"


def test_a_torn_cache_file_is_linted_again(cache: Path):
    lint.lint_template(TEMPLATE, "eu-west-1")
    (stored,) = cache.glob("*.json")
    stored.write_text('{"version": ')
    lint.lint_template.cache_clear()
    assert [f.rule for f in lint.lint_template(TEMPLATE, "eu-west-1").findings] == ["E3012"]
    assert json.loads(stored.read_text())["findings"][0]["rule"] == "E3012"


def test_without_the_directory_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(lint.CACHE_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    lint.lint_template.cache_clear()
    try:
        assert [f.rule for f in lint.lint_template(TEMPLATE, "eu-west-1").findings] == ["E3012"]
    finally:
        lint.lint_template.cache_clear()
    assert list(tmp_path.rglob("*")) == []


def test_the_version_is_the_one_cfn_lint_reports_of_itself():
    """The cache key and the report carry the distribution's version, read without importing cfnlint."""
    import cfnlint.version

    assert lint.installed_version() == cfnlint.version.__version__ != ""


def test_reading_a_cached_result_does_not_import_cfn_lint(cache: Path):
    """A process that finds every result in the cache (the review's rebuild in a subprocess) skips cfnlint's
    import, about a second of CPU; run in a fresh interpreter, where nothing imported cfnlint before."""
    expected = lint.lint_template(TEMPLATE, "eu-west-1")
    probe = ("import sys; from ddb_datapipeline.review import lint; "
             f"result = lint.lint_template({TEMPLATE!r}, 'eu-west-1'); "
             "print(','.join(f.rule for f in result.findings), 'cfnlint' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True,
                            env={**os.environ, lint.CACHE_DIR_ENV: str(cache)})
    assert result.stdout.split() == [",".join(f.rule for f in expected.findings), "False"]
