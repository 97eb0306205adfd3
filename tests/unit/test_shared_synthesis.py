"""The test scheduling of tests/conftest.py: every module that uses the session synthesis runs on one xdist
worker (one work unit), whole; the other modules stay one work unit per file."""
from __future__ import annotations

from types import SimpleNamespace

from _pytest.nodeid import coerce_node_id

from tests.conftest import SharedSynthesisScheduling, pytest_collection_modifyitems, pytest_xdist_make_scheduler


class FakeItem:
    """What the hook reads and writes of a pytest item: its fixture closure and its node id (kept in ``_id``)."""

    def __init__(self, nodeid: str, *fixtures: str) -> None:
        self._id, self.fixturenames = coerce_node_id(nodeid), list(fixtures)

    @property
    def nodeid(self) -> str:
        return str(self._id)


def scopes(*nodeids: str) -> list[str]:
    scheduler = SharedSynthesisScheduling.__new__(SharedSynthesisScheduling)  # _split_scope needs no state
    return [scheduler._split_scope(nodeid) for nodeid in nodeids]


def test_modules_of_the_synthesis_share_one_work_unit_and_stay_whole():
    items = [
        FakeItem("tests/stack/test_a.py::test_reads_templates", "synthesis", "tmp_path"),
        FakeItem("tests/stack/test_a.py::test_plain", "tmp_path"),  # same module: must go with it
        FakeItem("tests/review/test_b.py::test_review", "review", "synthesis"),  # through another fixture
        FakeItem("tests/unit/test_c.py::test_unrelated[x@y]", "context"),
    ]
    pytest_collection_modifyitems(SimpleNamespace(workerinput={}), items)  # type: ignore[arg-type]
    assert scopes(*(item.nodeid for item in items)) == ["synthesis", "synthesis", "synthesis", "tests/unit/test_c.py"]


def test_modules_of_the_moto_server_share_another_work_unit_and_the_synthesis_comes_first():
    items = [
        FakeItem("tests/integration/test_d.py::test_deploys", "moto_server", "tmp_path"),
        FakeItem("tests/integration/test_d.py::test_plain", "tmp_path"),
        FakeItem("tests/integration/test_e.py::test_faults", "moto_server"),
        FakeItem("tests/integration/test_f.py::test_both_moto_first", "moto_server"),
        FakeItem("tests/integration/test_f.py::test_both_then_synthesis", "synthesis"),
    ]
    pytest_collection_modifyitems(SimpleNamespace(workerinput={}), items)  # type: ignore[arg-type]
    assert scopes(*(item.nodeid for item in items)) == ["moto", "moto", "moto", "synthesis", "synthesis"]


def test_without_xdist_node_ids_are_left_alone():
    items = [FakeItem("tests/stack/test_a.py::test_reads_templates", "synthesis")]
    pytest_collection_modifyitems(SimpleNamespace(), items)  # type: ignore[arg-type]
    assert items[0].nodeid == "tests/stack/test_a.py::test_reads_templates"


def test_the_scheduler_hook_answers_before_xdist():
    # xdist registers its own pytest_xdist_make_scheduler after the conftests, and pluggy calls the last
    # registered first: without tryfirst, xdist's loadfile scheduler would answer and this one never run.
    assert getattr(pytest_xdist_make_scheduler, "pytest_impl", {}).get("tryfirst") is True


def test_work_a_worker_pays_once_goes_with_the_unit_that_pays_it():
    """cfn-lint's rules load in the synthesis' worker; the bare-stack native machines and moto in the test process in the
    moto server's; the declared pipelines' modules form a unit of their own. A module needing two goes with the first."""
    items = [
        FakeItem("tests/constructs/test_g.py::test_lints", "cfn_lint", "tmp_path"),
        FakeItem("tests/constructs/test_h.py::test_machines", "native_machines"),
        FakeItem("tests/unit/test_i.py::test_in_process", "moto_library"),
        FakeItem("tests/constructs/test_j.py::test_declared", "declared_pipelines"),
        FakeItem("tests/constructs/test_k.py::test_declared_and_lints", "declared_pipelines", "cfn_lint"),
        FakeItem("tests/constructs/test_k.py::test_machines_too", "native_machines"),
    ]
    pytest_collection_modifyitems(SimpleNamespace(workerinput={}), items)  # type: ignore[arg-type]
    assert scopes(*(item.nodeid for item in items)) == ["synthesis", "moto", "moto", "declared", "synthesis", "synthesis"]
