"""Duplicate keys in ``cdk.json``.

JSON allows an object to repeat a key, and every parser keeps only the last value, the CDK CLI
included: a second ``prod`` block under ``environments`` silently replaces the first. The CLI hands the
app the already-merged context, so the app reads the file itself, only to look for repeats.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .reader import ConfigError, printable


class _Pairs(list[tuple[str, Any]]):
    """An object's key/value pairs in file order, duplicates kept."""


def _where(path: str) -> str:
    return f"in {path}" if path else "at the top level"


def _first_repeat(node: Any, path: str) -> str | None:
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for key, _value in node:
            if key in seen:
                return f'key "{printable(key)}" appears twice {_where(path)}'
            seen.add(key)
        for key, value in node:
            found = _first_repeat(value, f"{path}.{printable(key)}" if path else printable(key))
            if found:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _first_repeat(value, f"{path}[{index}]")
            if found:
                return found
    return None


def check_duplicate_keys(text: str, source: str = "cdk.json") -> None:
    """A ConfigError naming the first key that an object of ``text`` repeats, or for text that is not JSON."""
    try:
        tree = json.loads(text, object_pairs_hook=_Pairs)
    except ValueError as error:
        raise ConfigError(f"{source}: not valid JSON ({printable(str(error))}); expected a JSON object") from None
    repeat = _first_repeat(tree, "")
    if repeat:
        raise ConfigError(f"{source}: {repeat}; expected each key once (the CDK CLI would silently keep only the last)")


def check_cdk_json(path: Path) -> None:
    """Checks the file when it exists; an app run without one gets its context from elsewhere."""
    if path.is_file():
        check_duplicate_keys(path.read_text(encoding="utf-8"), path.name)
