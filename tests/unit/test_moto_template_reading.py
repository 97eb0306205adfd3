"""Fix 19 of the emulator (local_deploy/moto_fixes.py): a JSON template read with ``json.loads`` gives what moto's
PyYAML read gives, value for value and type for type; anything PyYAML reads otherwise is left to PyYAML.

moto 5.2.5 reads a template as ``yaml.load(text, Loader=yaml.Loader)`` and only on a ParserError or ScannerError as
``json.loads(text)`` (moto/cloudformation/models.py, Stack.parse_template and ChangeSet._parse_template; responses.py
the same): ``moto_reading`` below is that, with the ``yaml`` module moto sees, fixed or not."""
from __future__ import annotations

from typing import Any

import pytest
import yaml

from local_deploy import moto_fixes

# Texts whose reading could differ between JSON and YAML 1.1: numbers in every JSON form (PyYAML reads 1e5 and 1.5e3
# as strings, 1.5e+3 as a float), the non-standard constants json accepts, every JSON escape, non-ASCII text, an
# escaped surrogate pair (one character for JSON, two for PyYAML), the characters YAML counts as line breaks, a
# character PyYAML refuses, duplicate keys, compact and indented spellings, and texts that are not JSON at all.
TEXTS = [
    '{"a": 1, "b": -0, "c": 0.5, "d": -2.25, "e": 1e5, "f": 1E+5, "g": 1.5e3, "h": 1.5e+3, "i": 2.5E-2, "j": 12345678901234567890}',
    '{"n": NaN, "i": Infinity, "m": -Infinity}',
    '[true, false, null, "true", "null", "1", "", " "]',
    r'{"esc": "q\" b\\ s\/ \b \f \n \r \t \u0041 \u00e9 \u20ac"}',
    '{"text": "héllo wörld ✓ 𝄞", "tab":\t"x"}',
    r'{"pair": "\ud834\udd1e"}',
    '{"ls": "a\u2028b", "ps": "a\u2029b", "nel": "a\x85b"}',
    '{"bad": "a\x7fb"}',
    '{"k": 1, "k": 2, "other": {"k": [1, {"k": "v"}]}}',
    '{"Resources":{"T":{"Type":"AWS::SNS::Topic","Properties":{"TopicName":{"Fn::Join":["",["a",{"Ref":"AWS::Region"}]]}}}}}',
    '{\n "Resources": {\n  "T": {\n   "Type": "AWS::SNS::Topic",\n   "DependsOn": [\n    "A",\n    "B"\n   ]\n  }\n }\n}',
    '{"<<": {"x": 1}, "y": "2001-12-14", "z": "0x1F", "w": "1:30"}',
    "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Name\n",
    '{"a": 1,}',
    '{"a": 1} trailing',
    '\ufeff{"a": 1}',
    '"just a string"',
    "42",
]


def moto_reading(module: Any, text: str) -> str:
    """moto 5.2.5's reading of a template with ``module`` as its ``yaml``: the value's repr (which tells 1, 1.0 and
    True apart), or the error raised."""
    import json

    from yaml.parser import ParserError
    from yaml.scanner import ScannerError

    try:
        try:
            value = module.load(text, Loader=module.Loader)
        except (ParserError, ScannerError):
            value = json.loads(text)
    except Exception as error:  # noqa: BLE001 (moto answers its error)
        return f"raises {type(error).__name__}"
    return repr(value)


@pytest.fixture(autouse=True)
def tag_constructor() -> None:
    """The constructor moto registers before each read, so that a short-form tag reads as it does in moto."""
    yaml.add_multi_constructor("", lambda loader, suffix, node: {suffix: loader.construct_scalar(node)} if isinstance(node, yaml.ScalarNode) else None)


@pytest.mark.parametrize("text", TEXTS)
def test_the_fixed_reading_is_moto_s_own(text: str):
    assert moto_reading(moto_fixes._JsonFirstYaml(yaml), text) == moto_reading(yaml, text)


def test_json_is_read_without_pyyaml_and_the_rest_with_it():
    """The fast path is taken where it is safe, and only there (otherwise the test above proves nothing of it)."""
    read_as_json = [text for text in TEXTS if moto_fixes.json_as_yaml(text) is not moto_fixes._MISSING]
    assert read_as_json == [TEXTS[i] for i in (0, 1, 2, 3, 4, 8, 9, 10, 11, 16, 17)]
    assert moto_fixes.json_as_yaml(TEXTS[0]) == {"a": 1, "b": 0, "c": 0.5, "d": -2.25, "e": "1e5", "f": "1E+5", "g": "1.5e3",
                                                  "h": 1500.0, "i": 0.025, "j": 12345678901234567890}

