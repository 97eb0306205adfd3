"""Whatever a user writes into cdk.json, planning ends in a valid plan or one ConfigError line."""
from __future__ import annotations

import copy
from typing import Any, Iterator

import pytest

from ddb_datapipeline.app_builder import plan
from ddb_datapipeline.config import ConfigError
from tests.conftest import cdk_json_context

WRONG_VALUES = (123, -1, 0.5, "zz", "", [], {}, True, ["x"], {"x": 1})


def leaves(node: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, path + (index,))
    yield path


def replaced(context: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(context)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


USER_PART = {key: value for key, value in cdk_json_context().items() if key in ("environments", "delivery")}
PATHS = [p for p in leaves(USER_PART) if p]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: ".".join(map(str, p)))
def test_any_wrong_value_is_a_one_line_config_error(path):
    for value in WRONG_VALUES:
        try:
            plan(replaced(USER_PART, path, value))
        except ConfigError as error:
            message = str(error)
            assert "\n" not in message and message, (path, value)
            assert str(path[0]) in message or message.startswith("env"), (path, value, message)
