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
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


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


RECORD_HEADER = ("| when (UTC) | commit | command | CPU-s | user | sys | wall (s) | cores | load before | exit |\n"
                 "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n")


def record_row(*, label: str, result: Measurement, commit: str, when: str, load: float) -> str:
    """One row of the measurements table: what ran, on which commit, what it cost and how busy the machine was
    when it started (the 1-minute load average), so a figure is never read without its machine state."""
    return (f"| {when} | `{commit}` | `{label}` | {result.cpu:.1f} | {result.user:.1f} | {result.sys:.1f} | "
            f"{result.wall:.1f} | {os.cpu_count()} | {load:.2f} | {result.returncode} |\n")


def record(path: Path, row: str) -> None:
    """Appends ``row`` to the table in ``path``, creating the file with its header first."""
    text = path.read_text(encoding="utf-8") if path.exists() else RECORD_HEADER
    path.write_text(text + row, encoding="utf-8")


@dataclass(frozen=True)
class Summary:
    """The successful runs of one command at one commit, as the README states them: one run on this kind of machine
    differs from the next by up to 27 CPU-s (docs/measurements.md), so a figure is a median with its range."""

    commit: str
    runs: int
    cpu: float
    cpu_min: float
    cpu_max: float
    wall: float

    def line(self, label: str) -> str:
        return (f"{label} at {self.commit}: median {self.cpu:.1f} CPU-s ({self.cpu_min:.1f} to {self.cpu_max:.1f} in "
                f"{self.runs} run{'' if self.runs == 1 else 's'}), median {self.wall:.1f} s wall")


def summary(table: str, label: str) -> Summary | None:
    """The successful runs of ``label`` in the measurements ``table`` (record_row's rows) at the commit of the latest
    one; None when there is none."""
    rows = [cells for cells in (line.split(" | ") for line in table.splitlines() if line.startswith("| ") and line.endswith(" | 0 |"))
            if len(cells) == 10 and cells[2] == f"`{label}`"]
    if not rows:
        return None
    commit = rows[-1][1]
    same = [cells for cells in rows if cells[1] == commit]
    cpu = [float(cells[3]) for cells in same]
    return Summary(commit.strip("`"), len(same), statistics.median(cpu), min(cpu), max(cpu),
                   statistics.median(float(cells[6]) for cells in same))


def _commit() -> str:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=False)
    return (found.stdout.strip() or "unknown") + ("+changes" if dirty.stdout.strip() else "")


def main(argv: list[str]) -> int:
    record_to = None
    if argv[:1] == ["--record"] and len(argv) > 1:
        record_to, argv = Path(argv[1]), argv[2:]
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print("usage: python -m local_deploy.measure [--record FILE] -- <command...>", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    result = measure(command=command)
    label = " ".join(command)
    print(line(label=label, result=result), flush=True)
    if record_to is not None and result.returncode == 0:
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        record(record_to, record_row(label=label, result=result, commit=_commit(), when=when, load=load))
        print(f"recorded in {record_to}", flush=True)
        found = summary(record_to.read_text(encoding="utf-8"), label)
        if found is not None:
            print(found.line(label), flush=True)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
