"""What the emulator's botocore fixes are judged by: which of botocore's data files a session reads from disk."""
from __future__ import annotations

from typing import Any

import pytest
from botocore import loaders


def count_file_reads(monkeypatch: pytest.MonkeyPatch, *, restore: str, suffixes: tuple[str, ...]) -> list[str]:
    """The paths of data files ending with one of ``suffixes`` that botocore reads from now on. ``restore``: the Loader
    method the fix under test replaces, put back after the test (the fixes change botocore for the whole process)."""
    monkeypatch.setattr(loaders.Loader, restore, getattr(loaders.Loader, restore))
    reads: list[str] = []
    read = loaders.JSONFileLoader.load_file

    def counting(self: Any, file_path: str) -> Any:
        if file_path.endswith(suffixes):
            reads.append(file_path)
        return read(self, file_path)

    monkeypatch.setattr(loaders.JSONFileLoader, "load_file", counting)
    return reads
