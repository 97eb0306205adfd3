"""make measure (local_deploy/measure.py): the CPU of the command's whole tree, grandchildren included."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from local_deploy.measure import line, measure

# A child that starts a grandchild; the grandchild burns CPU and writes down how much it used itself.
GRANDCHILD = "import sys, time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\nopen(sys.argv[1], 'w').write(str(time.process_time()))"


def test_the_cpu_of_grandchildren_is_counted(tmp_path: Path):
    report = tmp_path / "used"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {GRANDCHILD!r}, {str(report)!r}], check=True)"
    result = measure(command=[sys.executable, "-c", child])
    assert result.returncode == 0
    assert result.cpu >= float(report.read_text())  # at least what the grandchild alone used
    assert result.wall > 0


def test_the_exit_code_is_kept_and_printed():
    result = measure(command=[sys.executable, "-c", "raise SystemExit(3)"])
    assert result.returncode == 3
    assert line(label="x", result=result).endswith(", exit 3")


def test_a_recorded_run_names_its_commit_and_machine_state(tmp_path: Path):
    from local_deploy.measure import Measurement, record, record_row

    table = tmp_path / "measurements.md"
    result = Measurement(user=100.0, sys=10.5, wall=120.25, returncode=0)
    record(table, record_row(label="make test", result=result, commit="abc1234", when="2026-12-07 05:00", load=0.42))
    record(table, record_row(label="make drill-local", result=result, commit="abc1234", when="2026-12-07 05:10", load=1.5))
    lines = table.read_text().splitlines()
    assert lines[0].startswith("| when (UTC) | commit |") and len(lines) == 4  # header, rule, two rows
    assert lines[2].split(" | ")[1:6] == ["`abc1234`", "`make test`", "110.5", "100.0", "10.5"]
    assert lines[3].split(" | ")[-2:] == ["1.50", "0 |"]


def _latest_row_and_readme_figures(label: str, named: str) -> tuple[list[str] | None, tuple[str, ...] | None]:
    """The latest successful row of ``label`` in docs/measurements.md and the README's figures for ``named``."""
    import re

    root = Path(__file__).resolve().parents[2]
    rows = [line.split(" | ") for line in (root / "docs" / "measurements.md").read_text().splitlines()
            if f"`{label}`" in line and line.endswith("| 0 |")]
    readme = (root / "README.md").read_text()
    words = rf"`{named}` used ([\d.]+) CPU-s and ([\d.]+) s of wall time .*? load average was ([\d.]+) when it started\), at commit `([^`]+)`"
    stated = re.search(words.replace(" ", r"\s+"), readme, flags=re.S)
    return (rows[-1] if rows else None), (stated.groups() if stated else None)


def test_the_readmes_make_test_figure_is_the_latest_recorded_one():
    """The README quotes make test's CPU seconds and wall time from the latest successful row of
    docs/measurements.md, written by make measure RECORD=1, never typed by hand."""
    latest, stated = _latest_row_and_readme_figures("make --no-print-directory test", "make test")
    assert latest is not None and stated == (latest[3], latest[6], latest[8], latest[1].strip("`"))


def test_the_readmes_figure_with_setup_is_the_latest_recorded_one():
    """Likewise the fresh clone's make setup + make test, recorded by make measure-fresh RECORD=1."""
    latest, stated = _latest_row_and_readme_figures("make --no-print-directory setup test", "make setup test")
    assert latest is not None and stated == (latest[3], latest[6], latest[8], latest[1].strip("`"))


def test_measure_runs_on_the_standard_library_alone():
    """make measure-fresh starts it with the machine's python3 before make setup: as a script, without site-packages."""
    import subprocess

    script = Path(__file__).resolve().parents[2] / "local_deploy" / "measure.py"
    done = subprocess.run([sys.executable, "-S", str(script), "--", sys.executable, "-S", "-c", "pass"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r".*: [\d.]+ CPU-s \(.*\), [\d.]+ s wall, \d+ cores, exit 0\n", done.stdout), done.stdout
