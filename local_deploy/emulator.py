"""The local AWS: a moto server on ``localhost``, started in its own process group and always stopped.

Run as ``python -m local_deploy.emulator --port PORT`` it is the server process itself:
moto with the fixes of :mod:`moto_fixes`. Imported, it starts, waits for and stops that process.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import LocalDeployError

HOST = "localhost"  # moto resolves template URLs by host and only serves localhost path-style URLs
MODULE = "local_deploy.emulator"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
POLL_SECONDS = 0.1


@dataclass
class Emulator:
    """A running emulator. ``pid`` is set only for a server this project started (and may stop)."""

    endpoint: str
    pid: int | None = None
    port: int | None = None
    log_path: Path | None = None
    process: subprocess.Popen | None = None  # only when started by this very process

    @property
    def started_here(self) -> bool:
        return self.pid is not None


def free_port() -> int:
    """A port the OS considers free on localhost right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    """True when something listens on the port (a connection merely closing, TIME_WAIT, does not count:
    the server binds with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
            sock.listen()
        except OSError:
            return True
    return False


def answers(endpoint: str, *, moto: bool = True, timeout: float = 1.0) -> bool:
    """True when the endpoint answers HTTP; for moto, when its management API answers 200."""
    url = endpoint.rstrip("/") + ("/moto-api/" if moto else "/")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200 or not moto
    except urllib.error.HTTPError:
        return not moto  # any HTTP answer means something is serving
    except (urllib.error.URLError, OSError, ValueError):
        return False


def is_moto(endpoint: str) -> bool:
    return answers(endpoint, moto=True)


def server_command(port: int, *, parent_pid: int | None) -> list[str]:
    command = [sys.executable, "-m", MODULE, "--port", str(port)]
    if parent_pid is not None:
        command += ["--parent-pid", str(parent_pid)]
    return command


def start(
    *,
    port: int | None = None,
    log_path: Path,
    timeout: float = START_TIMEOUT_SECONDS,
    stop_with_parent: bool = True,
    command: Sequence[str] | None = None,
) -> Emulator:
    """Starts a server and returns once it answers; on any failure nothing is left running.

    ``stop_with_parent``: the server exits when this process ends, even if it is killed (used by the
    tests and by a normal deploy; a server kept for later commands must outlive its starter)."""
    if command is None and (importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None):
        raise LocalDeployError("moto server is not installed (moto[server] in requirements-dev.txt): run make setup")
    if port is None:
        port = free_port()
    elif port_in_use(port):
        raise LocalDeployError(f"port {port} on {HOST} is already in use: choose another port or stop what uses it")
    endpoint = f"http://{HOST}:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = list(command) if command is not None else server_command(port, parent_pid=os.getpid() if stop_with_parent else None)
    with open(log_path, "wb") as log:
        try:
            # From the repository root, where ``local_deploy`` is importable (it is not installed).
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                cwd=Path(__file__).resolve().parents[1],
            )
        except OSError as error:
            raise LocalDeployError(f"cannot start the emulator ({argv[0]}): {error.strerror or error}") from None
    emulator = Emulator(endpoint=endpoint, pid=process.pid, port=port, log_path=log_path, process=process)
    try:
        wait_until_ready(emulator, timeout=timeout)
    except BaseException:
        stop(emulator)
        raise
    return emulator


def wait_until_ready(emulator: Emulator, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        process = emulator.process
        if process is not None and process.poll() is not None:
            raise LocalDeployError(
                f"the emulator exited with code {process.returncode} before answering: {last_error_line(emulator.log_path)}"
            )
        if answers(emulator.endpoint):
            return
        if time.monotonic() >= deadline:
            raise LocalDeployError(f"the emulator did not answer on {emulator.endpoint} within {timeout:g} s (log: {emulator.log_path})")
        time.sleep(POLL_SECONDS)


def last_error_line(log_path: Path | None) -> str:
    """The most telling line of a server log: the last exception line, else the last line."""
    if log_path is None or not log_path.exists():
        return "no output"
    lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    if not lines:
        return "no output"
    for line in reversed(lines):
        head = line.split(":", 1)[0]
        if head.endswith(("Error", "Exception")) or head in ("KeyboardInterrupt", "SystemExit"):
            return line
    return lines[-1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by a parent that is not us) counts as gone.
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    return True


def is_our_server(pid: int) -> bool:
    """Guards against a recycled pid: only a process running this module is ever signalled."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return MODULE.encode() in cmdline.read()
    except OSError:
        return False


def stop(emulator: Emulator) -> None:
    """Stops a server this project started: SIGTERM to its process group, then SIGKILL if it lingers."""
    pid = emulator.pid
    if pid is None:
        return
    process = emulator.process
    if process is None and not is_our_server(pid):
        return  # not ours (or already gone): never signal a stranger
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        if _wait_gone(pid, process, STOP_TIMEOUT_SECONDS):
            break


def _wait_gone(pid: int, process: subprocess.Popen | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None:
            if process.poll() is not None:
                return True
        elif not _alive(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def running(*, log_path: Path, port: int | None = None, timeout: float = START_TIMEOUT_SECONDS) -> Iterator[Emulator]:
    emulator = start(port=port, log_path=log_path, timeout=timeout)
    try:
        yield emulator
    finally:
        stop(emulator)


def _exit_with_parent(parent_pid: int) -> None:
    def watch() -> None:
        while True:
            if os.getppid() != parent_pid or not _alive(parent_pid):
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description="moto server with this project's fixes")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this process ends")
    args = parser.parse_args(argv)
    from . import moto_fixes

    fixes = moto_fixes.apply()
    print(f"moto fixes applied: {'; '.join(fixes)}", flush=True)
    if args.parent_pid is not None:
        _exit_with_parent(args.parent_pid)
    from moto import server

    # Everything imported so far (moto's models, botocore's data, the fixes) lives as long as the server: frozen, it is
    # left out of every full garbage collection, which then walks only what requests allocated (gc.freeze's documented
    # use for a long-lived process).
    gc.freeze()
    server.main(["-H", HOST, "-p", str(args.port)])


if __name__ == "__main__":
    main()
