"""Test helper: an attribute value as boto3 holds it (binary as bytes) turned into DynamoDB JSON as it goes on the
wire and into export files (binary in base64) — the inverse of ``ddb_datapipeline.acceptance.native.decoded``."""
from __future__ import annotations

import base64
from typing import Any


def encoded(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, raw),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(raw).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(member).decode() for member in raw]}
    if kind == "M":
        return {"M": {name: encoded(member) for name, member in raw.items()}}
    if kind == "L":
        return {"L": [encoded(member) for member in raw]}
    return value
