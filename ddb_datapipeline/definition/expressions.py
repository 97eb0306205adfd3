"""Finds the ``#{...}`` expressions of a field value and the identifiers each one uses.

Kept apart from the rules so the scanner can be read and tested on its own; CDK token text
(``${Token[...]}``) is opaque here, never an expression.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Expression:
    text: str  # the whole "#{...}"
    names: tuple[tuple[str, bool], ...]  # identifier paths ("input.tableName"), and whether called


_TOKEN = re.compile(
    r"""(?P<space>\s+) | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
      | (?P<opaque>\$\{[^}]*\}) | (?P<number>\d+(?:\.\d+)?)
      | (?P<path>[@*]?[A-Za-z_]\w*(?:\.[@*]?[A-Za-z_]\w*)*) | (?P<other>.)""",
    re.X | re.S,
)


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _close(value: str, start: int) -> tuple[int, bool]:
    """Index of the '}' closing the brace opened just before ``start`` (quotes and nested braces
    respected), or -1; the flag says whether a nested '#{' was seen on the way."""
    depth, quote, nested, i = 1, "", False, start
    while i < len(value):
        char = value[i]
        if quote:
            i += 2 if char == "\\" else 1
            quote = "" if char == quote else quote
            continue
        if char in "'\"":
            quote = char
        elif char == "{":
            nested = nested or value[i - 1] == "#"
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i, nested
        i += 1
    return -1, nested


def _names(body: str) -> list[tuple[str, bool]]:
    """Identifier paths of an expression body (string literals, numbers and tokens skipped), each
    flagged when it is called as a function."""
    return [
        (match.group(), body[match.end():].lstrip().startswith("("))
        for match in _TOKEN.finditer(body)
        if match.lastgroup == "path"
    ]


def scan_expressions(value: str) -> tuple[list[Expression], list[str]]:
    """The ``#{...}`` expressions of a string value, and the syntax problems found."""
    found: list[Expression] = []
    problems: list[str] = []
    i = 0
    while i < len(value):
        if value.startswith("${", i):  # a CDK token or a shell variable: opaque text
            end, _ = _close(value, i + 2)
            i = len(value) if end < 0 else end + 1
        elif value.startswith("#{", i):
            end, nested = _close(value, i + 2)
            if end < 0:
                problems.append(f"expression '{shorten(value[i:])}' has no closing '}}'")
                break
            text, body = value[i : end + 1], value[i + 2 : end]
            if nested:
                problems.append(f"expression '{shorten(text)}' nests '#{{' inside an expression, "
                                "which the service does not allow")
            if not body.strip():
                problems.append(f"expression '{text}' is empty")
            found.append(Expression(text, tuple(_names(body))))
            i = end + 1
        else:
            i += 1
    return found, problems
