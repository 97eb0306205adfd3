"""``python -m local_deploy.measure -- <command...>`` (``make measure``, which measures ``make test``): runs the
command, waits for it, and prints one line with the CPU seconds (user + sys) of its whole process tree and the
wall time, e.g. ``make test: 142.3 CPU-s (131.0 user + 11.3 sys), 151.2 s wall, 2 cores, exit 0``.

CPU seconds rather than wall time because the machines that run this are shared: another job's load stretches
the wall time of a run several times over and changes its CPU seconds far less. The figure comes from the
kernel's account of every descendant the command waited for (``getrusage(RUSAGE_CHILDREN)``, what
``/usr/bin/time`` reads), so the test workers, their Node processes and the emulators they start are in it.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    """What one run of a command cost."""

    user: float
    sys: float
    wall: float
    returncode: int

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def measure(*, command: list[str]) -> Measurement:
    """Runs ``command`` to completion; its descendants' CPU is what RUSAGE_CHILDREN gained meanwhile."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    returncode = subprocess.run(command, check=False).returncode
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Measurement(after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime, wall, returncode)


def line(*, label: str, result: Measurement) -> str:
    return (f"{label}: {result.cpu:.1f} CPU-s ({result.user:.1f} user + {result.sys:.1f} sys), {result.wall:.1f} s wall, "
            f"{os.cpu_count()} cores, exit {result.returncode}")


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print("usage: python -m local_deploy.measure -- <command...>", file=sys.stderr)
        return 2
    result = measure(command=command)
    print(line(label=" ".join(command), result=result), flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
