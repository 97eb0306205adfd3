"""Fix 24 of the emulator (local_deploy/moto_fixes.py): moto's server lists its service packages once per process and
finds the same backend for a request's host as with its own listing on every request."""
from __future__ import annotations

import os
from typing import Any

import moto
import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from local_deploy import moto_fixes

HOSTS = ("dynamodb", "s3", "stepfunctions", "moto_api", "awslambda", "nosuchservice", "dynamodb.eu-west-1.amazonaws.com",
         "states.us-west-2.amazonaws.com", "localhost:5000", None)


def answers() -> list[Any]:
    """The packages moto lists and the backend its server picks for each host."""
    dispatcher = DomainDispatcherApplication(create_app=lambda service: None)  # type: ignore[arg-type,return-value]
    return [list(backends.list_of_moto_modules()), [dispatcher.get_backend_for_host(host) for host in HOSTS]]


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each listing of moto's package folder (moto's own function restored after the test)."""
    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    listed: list[str] = []
    listdir = os.listdir

    def counting(path: Any = ".") -> list[str]:
        if os.fspath(path) == os.path.dirname(moto.__file__):
            listed.append(path)
        return listdir(path)

    monkeypatch.setattr(os, "listdir", counting)
    return listed


def test_the_same_packages_and_backends_from_one_listing(listings: list[str]):
    own = answers()
    assert "dynamodb" in own[0] and own[0] == sorted(own[0]) and own[1][:6] == ["dynamodb", "s3", "stepfunctions", "moto_api", "awslambda", None]
    assert own[1][6] == "dynamodb", own  # an AWS endpoint's host: found by moto's URL patterns after the listing
    listed_by_moto = len(listings)
    assert listed_by_moto > 2
    moto_fixes.fix_module_list()
    assert answers() == answers() == own
    assert len(listings) == listed_by_moto + 1
