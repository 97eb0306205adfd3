"""The few Markdown shapes the report uses, escaped so any value survives a GitHub table.

Values from templates can hold ``|``, backticks, ``*`` or newlines; written raw they would break a
table or turn into emphasis, so every value goes through ``code`` or ``text``.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

WARNING = "\u26a0"  # shown next to anything a reviewer should look at twice


def code(value: str) -> str:
    """An inline code span safe inside a table cell (pipes escaped, backticks fenced, no newlines)."""
    value = value.replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    if not value:
        return "` `"
    if "`" in value:
        return f"`` {value} ``"
    return f"`{value}`"


def text(value: str) -> str:
    """Plain prose safe inside a table cell: Markdown and HTML specials escaped."""
    out = []
    for char in value.replace("\r", " ").replace("\n", " "):
        if char in "\\`*_[]<>|#~":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def codes(values: Iterable[str]) -> str:
    """Several values in one cell, one per line."""
    return "<br>".join(code(v) for v in values) or "-"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(cell if cell else "-" for cell in row) + " |")
    return "\n".join(lines)


def heading(level: int, title: str) -> str:
    return f"{'#' * level} {title}"


def slug(title: str) -> str:
    """The anchor GitHub gives a heading (lower case, punctuation dropped, spaces to dashes)."""
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def warn(flagged: bool, value: str) -> str:
    return f"{WARNING} {value}" if flagged else value


def details(summary: str, body: str) -> str:
    """A folded block: GitHub shows ``summary`` and opens ``body`` on a click. The blank lines around the
    body let GitHub render a table inside it."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"
