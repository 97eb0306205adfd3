"""Where make lint's mypy keeps its cache (Makefile MYPY_CACHE): the machine's cache directory, private, shared by every
clone; the checkout's own .mypy_cache when that directory cannot be written (mypy stops on a cache it cannot write)."""
from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from tests.conftest import ROOT


def mypy_cache_dir(**environment: str) -> str:
    """The --cache-dir make lint passes to mypy (make -n prints the recipe without running it)."""
    env = {key: value for key, value in os.environ.items() if key not in ("XDG_CACHE_HOME", "MAKEFLAGS", "MAKELEVEL")}
    printed = subprocess.run(["make", "--no-print-directory", "-n", "lint"], cwd=ROOT, capture_output=True, text=True,
                             check=True, env={**env, **environment}).stdout
    (found,) = re.findall(r"-m mypy --strict --cache-dir '([^']*)'", printed)
    return found


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
