"""Reading resource policies back: the one definition of "TLS-only" that the review, the local
smoke check and the post-deploy check all apply."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def denies_plain_http(statement: Mapping[str, Any]) -> bool:
    """A Deny of every principal when ``aws:SecureTransport`` is false (what ``enforce_ssl`` writes)."""
    condition = (statement.get("Condition") or {}).get("Bool", {})
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
    return statement.get("Effect") == "Deny" and everyone and str(condition.get("aws:SecureTransport")).lower() == "false"


def is_tls_only(document: Mapping[str, Any]) -> bool:
    statements = document.get("Statement", [])
    return any(
        isinstance(s, Mapping) and denies_plain_http(s) for s in (statements if isinstance(statements, list) else [statements])
    )
