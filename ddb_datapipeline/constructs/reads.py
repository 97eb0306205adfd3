"""What the constructs read of a CDK object more than once, read once.

Every property read of a CDK object from Python is a round trip to the jsii Node process, and a synth reads the same
table, bucket and key for each pipeline and state machine that uses it (an export, a restore, copies, their log folders).
Only what is fixed once the object exists is kept (a readonly property: a table's or bucket's name and ARN, a key's
ARN, an environment, a construct path), by object and weakly, so a kept answer is the one a new read would give.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

_KEPT: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def read_once(owner: Any, name: str, read: Callable[[], Any]) -> Any:
    """``read()`` the first time ``name`` is asked of ``owner``, the kept answer after that. ``name`` must name
    something that cannot change once ``owner`` exists."""
    kept = _KEPT.get(owner)
    if kept is None:
        kept = _KEPT[owner] = {}
    if name not in kept:
        kept[name] = read()
    return kept[name]


def attribute(owner: Any, name: str) -> Any:
    """``owner.<name>``, read once per object (``read_once`` of the attribute of that name)."""
    return read_once(owner, name, lambda: getattr(owner, name))
