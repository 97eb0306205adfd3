"""Every module here tests public constructs on bare stacks of its own: they carry the ``constructs`` marker,
so ``pytest -m constructs`` (and ``make test-fast``, which runs them with the unit tests) selects them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here: dict[str, bool] = {}  # by module path: resolving each item's path again took 0.2 CPU-s of every worker's collection
    for item in items:
        path = str(item.path)
        if path not in here:
            here[path] = Path(path).resolve().parent == HERE
        if here[path]:
            item.add_marker(pytest.mark.constructs)


@pytest.fixture(scope="session")
def declared_pipelines(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One bare stack with an export, a restore and two copies of a declared table (tests/constructs/test_pipelines.py
    build_declared), synthesized once per worker for the modules of those three constructs."""
    from tests.constructs.test_pipelines import build_declared, synthesize

    return synthesize(tmp_path_factory.mktemp("declared"), build_declared)
