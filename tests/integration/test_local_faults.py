"""Bad input and faults of the local deploy: one line naming the cause, nothing left running."""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from local_deploy import LocalDeployError, emulator
from local_deploy.deploy import Options, deploy, destroy
from tests.conftest import ROOT
from tests.integration.conftest import servers_started_by_this_process


@pytest.fixture
def no_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_taken_port_is_one_line_and_starts_nothing(tmp_path: Path, taken_port: int, no_endpoint):
    before = servers_started_by_this_process()
    with pytest.raises(LocalDeployError, match=rf"^port {taken_port} on localhost is already in use"):
        deploy(Options(port=taken_port, assembly_dir=tmp_path / "assembly", state_dir=tmp_path / "state", out=lambda _: None))
    assert servers_started_by_this_process() == before


def test_a_server_that_exits_at_start_is_named_with_its_last_words(tmp_path: Path):
    command = [sys.executable, "-c", "import sys; print('OSError: [Errno 98] Address already in use'); sys.exit(3)"]
    with pytest.raises(LocalDeployError) as failure:
        emulator.start(log_path=tmp_path / "emulator.log", command=command)
    assert str(failure.value) == "the emulator exited with code 3 before answering: OSError: [Errno 98] Address already in use"


def test_a_server_that_never_answers_is_stopped_after_the_timeout(tmp_path: Path):
    before = servers_started_by_this_process()
    command = [sys.executable, "-c", f"import time  # {emulator.MODULE}\ntime.sleep(60)"]
    with pytest.raises(LocalDeployError, match=r"^the emulator did not answer on http://localhost:\d+ within 0.5 s"):
        emulator.start(log_path=tmp_path / "emulator.log", command=command, timeout=0.5)
    assert servers_started_by_this_process() == before


def test_moto_not_installed_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("moto", "flask") else real(name, *a))
    with pytest.raises(LocalDeployError, match=r"^moto server is not installed .*: run make setup$"):
        emulator.start(log_path=tmp_path / "emulator.log")


def test_a_missing_cdk_cli_is_one_line_and_the_server_is_left_alone(tmp_path: Path, moto_server: emulator.Emulator):
    options = Options(
        endpoint=moto_server.endpoint,
        assembly_dir=tmp_path / "assembly",
        state_dir=tmp_path / "state",
        cli=tmp_path / "node_modules" / ".bin" / "cdk",
        out=lambda _: None,
    )
    with pytest.raises(LocalDeployError, match=r"^the CDK CLI is missing \(.*node_modules/.bin/cdk not found\): run make setup$"):
        deploy(options)
    assert emulator.answers(moto_server.endpoint)


def test_destroy_without_a_kept_server_says_there_is_nothing_to_destroy(tmp_path: Path, no_endpoint):
    printed: list[str] = []
    assert destroy(Options(state_dir=tmp_path / "state", out=printed.append)) == []
    assert printed and printed[0].startswith("Nothing to destroy")


def test_the_command_line_prints_one_line_without_a_traceback():
    """An endpoint that does not answer, through ``python -m local_deploy`` as make runs it."""
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        closed = sock.getsockname()[1]
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://localhost:{closed}"}
    result = subprocess.run(
        [sys.executable, "-m", "local_deploy", "deploy"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"deploy-local: error: AWS_ENDPOINT_URL=http://localhost:{closed} does not answer: start that emulator or unset AWS_ENDPOINT_URL"
    ]
    assert "Traceback" not in result.stdout + result.stderr
