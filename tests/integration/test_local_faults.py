"""Bad input and faults of the local deploy: one line naming the cause, nothing left running."""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local_deploy import LocalDeployError, emulator
from local_deploy.deploy import Options, deploy, destroy, project_context
from local_deploy.synth import synthesize_local
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


TINY = {"region": "eu-west-1", "retain_data": False,
        "tables": [{"name": "tiny", "owned": {"partition_key": {"name": "pk", "type": "S"}}, "export": {"schedule": "ondemand"}}]}


def tiny_context(**environment: Any) -> dict[str, Any]:
    base = {key: value for key, value in project_context().items() if key not in ("environments", "delivery")}
    return {**base, "environments": {"tiny": {**TINY, **environment}}}


# A stand-in for the emulator's server process: answers every GET with 200 (what ``emulator.answers`` waits for) on the
# port given last; its command line names the emulator's module, as the real server's does (``emulator.is_our_server``
# and ``servers_started_by_this_process`` recognize a server by it). Like the real one, it exits when its parent does,
# so a failing run leaves nothing behind.
STAND_IN_SERVER = """
import http.server, os, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("localhost", int(sys.argv[-1])), Answer).serve_forever()
"""


def test_a_deploy_that_fails_after_starting_its_server_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_endpoint):
    """No endpoint given: the deploy starts a server; a step that fails after that (here the synth, made to fail) must
    not leave the server running or its port taken. The server started is a stand-in with the emulator's module in its
    command line (STAND_IN_SERVER): what is checked is the deploy's stopping of what it started, not moto, and a moto
    server costs about 2 CPU-s to start (its imports and fixes). (A real deploy failure, with its stack and resource
    named, is test_local_deploy's, on the session's server.)"""
    from local_deploy import deploy as deploy_module

    def failing_synth(*args: Any, **kwargs: Any) -> None:
        raise LocalDeployError("synth failed: made to fail by the test")

    def stand_in(port: int, *, parent_pid: int | None) -> list[str]:
        return [sys.executable, "-c", STAND_IN_SERVER, emulator.MODULE, str(port)]

    monkeypatch.setattr(deploy_module, "synthesize_local", failing_synth)
    monkeypatch.setattr(emulator, "server_command", stand_in)
    before = servers_started_by_this_process()
    output: list[str] = []
    with pytest.raises(LocalDeployError, match=r"^synth failed: made to fail by the test$"):
        deploy(Options(context=tiny_context(), assembly_dir=tmp_path / "assembly", state_dir=tmp_path / "state", out=output.append))
    port = int(output[0].split("localhost:")[1].split()[0])
    assert output[0].startswith("Local deploy to http://localhost:") and "started" in output[0], output
    assert servers_started_by_this_process() == before
    assert not emulator.port_in_use(port), f"something still listens on port {port}"


@pytest.mark.parametrize("fail_on_validation", [True, False])
def test_the_in_process_synth_refuses_an_assembly_with_an_error_annotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_on_validation: bool
):
    """As ``cdk synth`` refuses one: by the CDK's own validation (the default, which also stops on an
    unacknowledged cdk-nag finding), or, with that turned off in cdk.json, by the annotations written."""
    import aws_cdk as cdk

    from ddb_datapipeline import app_builder

    build = app_builder.build

    def build_with_an_error(app: Any, plan: Any, **options: Any) -> Any:
        stacks = build(app, plan, **options)
        cdk.Annotations.of(stacks["tiny"]).add_error("a finding nobody acknowledged")
        return stacks

    monkeypatch.setattr(app_builder, "build", build_with_an_error)
    context = {**tiny_context(), "@aws-cdk/core:failSynthOnValidationErrors": fail_on_validation}
    with pytest.raises(LocalDeployError) as failure:
        synthesize_local(context, None, tmp_path / "assembly")
    message = str(failure.value)
    assert "\n" not in message
    if fail_on_validation:
        assert message == f"synth failed: ValidationFailed: ERROR a finding nobody acknowledged (Annotation) (report: {tmp_path / 'assembly' / 'validation-report.json'})"
    else:
        assert message == "synth failed: /DdbDataPipeline-tiny: a finding nobody acknowledged"


def test_the_in_process_synth_names_a_configuration_mistake_in_one_line(tmp_path: Path):
    """The synth's own configuration errors (its plan, and the size checks after the synth) reach the
    deploy as one line, as app.py prints them under ``cdk synth``."""
    with pytest.raises(LocalDeployError, match=r"^configuration error: environments\.tiny\.pipeline_quota: 0 "):
        synthesize_local(tiny_context(pipeline_quota=0), None, tmp_path / "assembly")


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
