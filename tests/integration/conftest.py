"""One moto server for the whole test session: started on a free localhost port, always stopped.

The server also exits by itself when the pytest process ends (it watches its parent), so neither a
failing test nor a killed run leaves a process or a port behind.
"""
from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_deploy import emulator

MODULE_MARK = emulator.MODULE


def servers_started_by_this_process() -> list[int]:
    """Pids of emulator processes whose parent is this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z" and int(ppid) == os.getpid() and any(MODULE_MARK.encode() in part for part in cmdline):
            found.append(int(entry.name))
    return sorted(found)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulator.Emulator]:
    server = emulator.start(log_path=tmp_path_factory.mktemp("moto") / "emulator.log")
    atexit.register(emulator.stop, server)  # even if the session is torn down abnormally
    try:
        yield server
    finally:
        emulator.stop(server)
        atexit.unregister(emulator.stop)
