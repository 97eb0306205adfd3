"""The cfn-lint result cache (ddb_datapipeline/review/lint.py): keyed by template, region and cfn-lint version,
read back instead of linting again, and off unless its directory is named."""
from __future__ import annotations

import json
import os
import subprocess
import sys
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


def test_the_lint_helpers_hide_the_workers_objects_from_the_collector_only_while_they_run():
    """tests/conftest.py worker_heap_frozen (around every lint of the tests): frozen inside, everything back after,
    also when the lint raises, and a process that froze objects itself keeps exactly what it froze."""
    import gc

    from tests.conftest import worker_heap_frozen

    assert gc.get_freeze_count() == 0
    with worker_heap_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    with pytest.raises(KeyError), worker_heap_frozen():
        raise KeyError("a lint that fails")
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        own = gc.get_freeze_count()
        with worker_heap_frozen():
            pass
        assert gc.get_freeze_count() == own
    finally:
        gc.unfreeze()
