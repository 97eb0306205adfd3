"""tests/conftest.py's worker_heap_frozen and the hook that runs every property test inside it: what hypothesis walks
when it registers its random generator (the whole heap, twice) is only what the test made."""
from __future__ import annotations

import gc
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, strategies

from tests.conftest import pytest_runtest_call, worker_heap_frozen


@given(strategies.none())
def a_property(_: None) -> None:
    pass


def an_example() -> None:
    pass


def freeze_count_while_the_hook_runs(test: Any) -> int:
    """Drives the hook as pytest does (its wrapper around the call) and reads the freeze count while the test runs."""
    hook = pytest_runtest_call(SimpleNamespace(obj=test))
    next(hook)
    during = gc.get_freeze_count()
    with pytest.raises(StopIteration) as finished:
        hook.send("the test's result")
    assert finished.value.value == "the test's result"
    return during


def test_a_property_test_runs_with_the_heap_frozen_and_gets_it_back_after():
    assert gc.get_freeze_count() == 0
    assert freeze_count_while_the_hook_runs(a_property) > 0
    assert gc.get_freeze_count() == 0


def test_any_other_test_runs_as_it_would():
    assert freeze_count_while_the_hook_runs(an_example) == 0


def test_the_heap_comes_back_after_an_exception_and_a_process_keeps_its_own_freeze():
    with pytest.raises(KeyError), worker_heap_frozen():
        assert gc.get_freeze_count() > 0
        raise KeyError("a test that fails")
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        own = gc.get_freeze_count()
        with worker_heap_frozen():
            pass
        assert gc.get_freeze_count() == own
    finally:
        gc.unfreeze()
