"""The CDK CLI's environment in a local deploy: Node keeps the code it compiled for the CLI inside node_modules, so
that each later CLI run of the deploy, the drill and the tests reads it instead of compiling the CLI's bundle again."""
from __future__ import annotations

import pytest

from local_deploy.cdk_cli import CLI, CLI_COMPILE_CACHE, ROOT, cli_environment


def test_the_cli_keeps_its_compiled_code_inside_node_modules(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NODE_COMPILE_CACHE", raising=False)
    env = cli_environment("http://127.0.0.1:5000", "eu-west-1")
    assert env["NODE_COMPILE_CACHE"] == str(CLI_COMPILE_CACHE)
    # npm ci removes node_modules before it installs the pinned CLI, and the stale code goes with it.
    assert CLI_COMPILE_CACHE.is_relative_to(ROOT / "node_modules") and CLI.is_relative_to(ROOT / "node_modules")


def test_a_callers_own_compile_cache_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("NODE_COMPILE_CACHE", str(tmp_path))
    assert cli_environment("http://127.0.0.1:5000", "eu-west-1")["NODE_COMPILE_CACHE"] == str(tmp_path)
