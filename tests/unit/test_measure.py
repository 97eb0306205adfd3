"""make measure (local_deploy/measure.py): the CPU of the command's whole tree, grandchildren included."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from local_deploy.measure import RECORD_HEADER, line, measure, summary

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


def _readme_and_table() -> tuple[str, str]:
    root = Path(__file__).resolve().parents[2]
    return (root / "README.md").read_text(), (root / "docs" / "measurements.md").read_text()


def _stated(readme: str, named: str) -> tuple[str, ...] | None:
    """The README's figures for ``named``: median, range, runs, wall, and the commit its paragraph names."""
    words = (rf"fresh clones of commit `([^`]+)` measured one after another: .*?`{named}` \(.*?\) used a median of ([\d.]+) CPU-s "
             rf"\(([\d.]+) to ([\d.]+) in (\d+) runs?\) and ([\d.]+) s of wall time")
    found = re.search(words.replace(" ", r"\s+"), readme, flags=re.S)
    return found.groups() if found else None


@pytest.mark.parametrize("label, named", [("make --no-print-directory test", "make test"),
                                          ("make --no-print-directory setup test", "make setup test")])
def test_the_readmes_figures_are_the_latest_commits_recorded_runs(label: str, named: str):
    """The README quotes make test's and make setup test's CPU seconds and wall time as the median (and range) of the
    runs docs/measurements.md records for the commit of the latest one, written by make measure RECORD=1 and make
    measure-fresh RECORD=1, never typed by hand."""
    readme, table = _readme_and_table()
    latest = summary(table, label)
    assert latest is not None
    assert _stated(readme, named) == (latest.commit, f"{latest.cpu:.1f}", f"{latest.cpu_min:.1f}", f"{latest.cpu_max:.1f}",
                                      str(latest.runs), f"{latest.wall:.1f}")


def test_a_summary_is_the_median_and_range_of_the_latest_commits_successful_runs():
    from local_deploy.measure import Measurement, record_row

    rows = [("old1234", 200.0, 0), ("abc1234", 150.0, 0), ("abc1234", 170.0, 0), ("abc1234", 400.0, 1), ("abc1234", 161.0, 0)]
    table = RECORD_HEADER + "".join(
        record_row(label="make test", result=Measurement(user=cpu - 10, sys=10.0, wall=cpu / 2, returncode=code), commit=commit,
                   when="2026-12-07 05:00", load=1.0) for commit, cpu, code in rows)
    table += record_row(label="make drill-local", result=Measurement(90.0, 5.0, 100.0, 0), commit="abc1234", when="2026-12-07 06:00", load=1.0)
    found = summary(table, "make test")
    assert found is not None and (found.commit, found.runs, found.cpu, found.cpu_min, found.cpu_max, found.wall) == \
        ("abc1234", 3, 161.0, 150.0, 170.0, 80.5)  # the failed run (exit 1) and the older commit's are left out
    assert found.line("make test") == "make test at abc1234: median 161.0 CPU-s (150.0 to 170.0 in 3 runs), median 80.5 s wall"
    assert summary(table, "make scale") is None
    once = summary(table, "make drill-local")
    assert once is not None and once.line("make drill-local").endswith("(95.0 to 95.0 in 1 run), median 100.0 s wall")


def test_measure_runs_on_the_standard_library_alone():
    """make measure-fresh starts it with the machine's python3 before make setup: as a script, without site-packages."""
    import subprocess

    script = Path(__file__).resolve().parents[2] / "local_deploy" / "measure.py"
    done = subprocess.run([sys.executable, "-S", str(script), "--", sys.executable, "-S", "-c", "pass"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r".*: [\d.]+ CPU-s \(.*\), [\d.]+ s wall, \d+ cores, exit 0\n", done.stdout), done.stdout
