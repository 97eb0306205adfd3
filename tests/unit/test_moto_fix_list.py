"""The emulator's fixes (local_deploy/moto_fixes.py) are listed alike in its docstring, in FIXES (what the emulator prints
as applied) and in ``apply()``: a fix written but never applied, or applied but not named, is caught here."""
from __future__ import annotations

import ast
import inspect
import re

from local_deploy import moto_fixes


def test_every_fix_is_described_named_and_applied_once():
    described = [int(n) for n in re.findall(r"^(\d+)\. ", moto_fixes.__doc__ or "", flags=re.MULTILINE)]
    assert described == list(range(1, len(described) + 1))
    assert len(moto_fixes.FIXES) == len(described)
    module = ast.parse(inspect.getsource(moto_fixes))
    fixes = {node.name for node in module.body if isinstance(node, ast.FunctionDef) and node.name.lstrip("_").startswith("fix_")}
    apply = next(node for node in module.body if isinstance(node, ast.FunctionDef) and node.name == "apply")
    called = [node.func.id for node in ast.walk(apply) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in fixes]
    assert sorted(called) == sorted(fixes), set(fixes) ^ set(called)
    assert len(called) == len(set(called))
