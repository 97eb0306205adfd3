"""make measure (local_deploy/measure.py): the CPU of the command's whole tree, grandchildren included."""
from __future__ import annotations

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


def test_the_readmes_make_test_figure_is_the_latest_recorded_one():
    """The README quotes make test's CPU seconds and wall time from the latest successful row of
    docs/measurements.md, written by make measure RECORD=1, never typed by hand (and says so when there is none)."""
    import re

    root = Path(__file__).resolve().parents[2]
    rows = [line.split(" | ") for line in (root / "docs" / "measurements.md").read_text().splitlines()
            if "`make --no-print-directory test`" in line and line.endswith("| 0 |")]
    readme = (root / "README.md").read_text()
    words = r"`make test` used ([\d.]+) CPU-s and ([\d.]+) s of wall time .*? load average was ([\d.]+) when it started\), at commit `([^`]+)`"
    stated = re.search(words.replace(" ", r"\s+"), readme, flags=re.S)
    if not rows:
        assert stated is None and "`make test` has not been measured yet" in readme
        return
    latest = rows[-1]
    assert stated is not None and stated.groups() == (latest[3], latest[6], latest[8], latest[1].strip("`"))
