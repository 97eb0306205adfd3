"""The items the golden exports under ``connector-4.11.0/`` were made from, written here by hand (boto3's
low-level shape, binary as bytes) so the tests compare the real tool's files with items nobody derived
from this project's reader or writer.

The outside harness (PROVENANCE.md) put these items into a table ``golden`` (key ``pk``, a string) and the
large one into a table ``large`` of a moto server, then ran the real ``DynamoDBExport``. Numbers are kept
as written: moto returns a number's text as it was put (real DynamoDB would normalize ``1E+125``).
"""
from __future__ import annotations

from typing import Any

ALL_BYTES = bytes(range(256))

# 38 significant digits and exponents at DynamoDB's limits (1E-130 to 9.9...9E+125)
NUMBERS = (
    "12345678901234567890123456789012345678",
    "-0.12345678901234567890123456789012345678",
    "9.9999999999999999999999999999999999999E+125",
    "-1E-130",
    "1E+125",
    "0",
)

# control characters, Gson's HTML set (escaping off), U+2028/U+2029, astral plane, a BOM, U+FFFF
UNICODE = (
    "日本語のテキスト café",
    "astral 𝄞 😀 \U0010fffd",
    "ctl \x00\x01\x08\x0c\x1f\t\n\r end",
    "quote \" backslash \\ slash / <b>&amp;</b> = '",
    "sep \u2028 \u2029 del \x7f \x80 bom \ufeff last \uffff",
)


def golden_items() -> list[dict[str, Any]]:
    """Every type and edge the review named, plus plain items so several map tasks get some."""
    edges: list[dict[str, Any]] = [
        {"pk": {"S": "null"}, "top": {"NULL": True}, "inList": {"L": [{"NULL": True}, {"S": "x"}]},
         "inMap": {"M": {"n": {"NULL": True}, "deeper": {"M": {"n": {"NULL": True}}}}}},
        {"pk": {"S": "empty"}, "l0": {"L": []}, "m0": {"M": {}},
         "lNested": {"L": [{"L": []}, {"M": {}}, {"L": [{"L": []}]}, {"M": {"e": {"M": {}}}}]},
         "mNested": {"M": {"e": {"L": []}, "f": {"M": {"g": {"M": {}}}}, "h": {"L": [{"M": {}}]}}}},
        {"pk": {"S": "sets"}, "ss": {"SS": ["a", "b", "ünï", "😀"]}, "ns": {"NS": ["1", "-2.5", "1E+10"]},
         "bs": {"BS": [b"\x00", b"\xff", b"abc"]}},
        {"pk": {"S": "binary"}, "all": {"B": ALL_BYTES}, "halves": {"BS": [ALL_BYTES[:128], ALL_BYTES[128:]]},
         "emptyB": {"B": b""}, "inList": {"L": [{"B": ALL_BYTES[::-1]}]}},
        {"pk": {"S": "numbers"}, **{f"n{index}": {"N": number} for index, number in enumerate(NUMBERS)},
         "ns": {"NS": list(NUMBERS[:5])}},
        {"pk": {"S": "unicode"}, **{f"s{index}": {"S": text} for index, text in enumerate(UNICODE)},
         "名前": {"S": "name in kanji"}, "ss": {"SS": list(UNICODE)}, "emptyS": {"S": ""}},
        {"pk": {"S": "ünï 😀"}, "note": {"S": "an astral-plane key"}},
        {"pk": {"S": "booleans"}, "t": {"BOOL": True}, "f": {"BOOL": False},
         "l": {"L": [{"BOOL": True}, {"BOOL": False}]}, "m": {"M": {"t": {"BOOL": True}}}},
        {"pk": {"S": "mixed"}, "l": {"L": [{"S": "s"}, {"N": "1"}, {"B": b"\x01"}, {"BOOL": True}, {"NULL": True},
                                          {"SS": ["z"]}, {"NS": ["7"]}, {"BS": [b"\x02"]}, {"L": [{"M": {}}]},
                                          {"M": {"k": {"L": []}}}]}},
    ]
    plain = [{"pk": {"S": f"item-{index:02d}"}, "n": {"N": str(index)}} for index in range(24)]
    return edges + plain


LARGE_VALUE_BYTES = 400_000  # with "pk", "large", "big": 400,010 bytes, under moto's limit of 400,000 bytes of values (DynamoDB: 409,600)


def large_item() -> dict[str, Any]:
    """One item near DynamoDB's 400 KB limit; a repeated pattern, so its gzip export stays small."""
    pattern = "0123456789abcdefghijklmnopqrstuvwxyz"
    value = (pattern * (LARGE_VALUE_BYTES // len(pattern) + 1))[:LARGE_VALUE_BYTES]
    return {"pk": {"S": "large"}, "big": {"S": value}}
