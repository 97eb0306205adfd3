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
