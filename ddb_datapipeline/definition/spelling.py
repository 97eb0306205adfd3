"""The option closest in spelling to a mistyped value, for "did you mean" in one-line errors."""
from __future__ import annotations

import difflib


def nearest(value: str, options: tuple[str, ...] | list[str]) -> str | None:
    """The option closest in spelling to a mistyped value, to offer in the error message. difflib finds
    the similar options; the fewest typing mistakes (a swapped pair counts as one) picks among them, so
    'us-esat-1' suggests us-east-1 rather than the equally similar us-west-1."""
    matches = difflib.get_close_matches(value, options, n=5, cutoff=0.6)
    return min(matches, key=lambda match: _edits(value, match)) if matches else None


def _edits(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn ``a`` into ``b``."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
