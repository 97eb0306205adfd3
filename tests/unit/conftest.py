"""Fixtures shared by unit test modules."""
from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The definition texts ANTLR parsed during the test, with moto's Step Functions interpreter on (only it validates
    and runs definitions) and moto's own validation and parser in place: emulator fixes 23 and 25 that the test applies
    are put back after it. The counter sits under whatever a fix wraps around the parser, so it counts real parses."""
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser import models
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    monkeypatch.setattr(models.StepFunctionsParserBackend, "_validate_definition", models.StepFunctionsParserBackend.__dict__["_validate_definition"])
    parse = AmazonStateLanguageParser.__dict__["parse"].__func__
    parsed: list[str] = []

    def counting(definition: str) -> Any:
        parsed.append(definition)
        return parse(definition)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counting))
    return parsed
