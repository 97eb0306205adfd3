"""Every module here tests public constructs on bare stacks of its own: they carry the ``constructs`` marker,
so ``pytest -m constructs`` (and ``make test-fast``, which runs them with the unit tests) selects them."""
from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).resolve().parent == HERE:
            item.add_marker(pytest.mark.constructs)
