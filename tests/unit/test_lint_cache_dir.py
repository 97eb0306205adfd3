"""Where make keeps the results of the checks a clone can share (Makefile MACHINE_CACHE): the machine's cache
directory for make lint's mypy cache (private; the checkout's own .mypy_cache when that directory cannot be written,
since mypy stops on a cache it cannot write) and for the tests' cfn-lint results (a caller's own directory wins)."""
from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from tests.conftest import ROOT

CACHE_VARIABLES = ("XDG_CACHE_HOME", "DDB_DATAPIPELINE_LINT_CACHE", "MAKEFLAGS", "MAKELEVEL")


def recipe(target: str, **environment: str) -> str:
    """What make would run for ``target`` (make -n prints the recipes without running them)."""
    env = {key: value for key, value in os.environ.items() if key not in CACHE_VARIABLES}
    return subprocess.run(["make", "--no-print-directory", "-n", target], cwd=ROOT, capture_output=True, text=True,
                          check=True, env={**env, **environment}).stdout


def mypy_cache_dir(**environment: str) -> str:
    (found,) = re.findall(r"-m mypy --strict --cache-dir '([^']*)'", recipe("lint", **environment))
    return found


def lint_cache_dirs(target: str, **environment: str) -> list[str]:
    """The DDB_DATAPIPELINE_LINT_CACHE of each pytest command of ``target``."""
    return re.findall(r"DDB_DATAPIPELINE_LINT_CACHE='([^']*)' .*-m pytest", recipe(target, **environment))


def test_mypy_keeps_its_cache_in_the_machines_cache_directory(tmp_path: Path):
    chosen = mypy_cache_dir(XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert chosen == str(tmp_path / "cache" / "ddb-datapipeline" / "mypy")
    assert stat.S_IMODE(Path(chosen).stat().st_mode) == 0o700


def test_a_relative_xdg_cache_home_is_ignored_for_the_homes(tmp_path: Path):
    assert mypy_cache_dir(XDG_CACHE_HOME="relative/cache", HOME=str(tmp_path)) == str(tmp_path / ".cache" / "ddb-datapipeline" / "mypy")


def test_a_cache_directory_that_cannot_be_written_leaves_mypy_the_checkouts_own(tmp_path: Path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    assert mypy_cache_dir(XDG_CACHE_HOME=str(blocked)) == ".mypy_cache"


def test_both_test_targets_keep_cfn_lint_results_in_the_machines_cache_directory(tmp_path: Path):
    expected = [str(tmp_path / "ddb-datapipeline" / "cfn-lint")]
    assert lint_cache_dirs("test", XDG_CACHE_HOME=str(tmp_path)) == expected
    assert lint_cache_dirs("test-fast", XDG_CACHE_HOME=str(tmp_path)) == expected


def test_a_callers_own_lint_cache_directory_wins(tmp_path: Path):
    assert lint_cache_dirs("test", XDG_CACHE_HOME=str(tmp_path), DDB_DATAPIPELINE_LINT_CACHE="/elsewhere") == ["/elsewhere"]
