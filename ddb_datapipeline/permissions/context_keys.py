"""A rule on the runtime model itself: a request may carry only the condition keys AWS says its action has.

The permission check decides each modelled request against the synthesized policies, so a request that
carries a context key its action never has makes a grant conditioned on that key look fine while AWS
could never match it (a ``kms:DescribeKey`` request with an encryption context: DescribeKey has none).
Every context key of every request must therefore be a global key (``aws:``) or one the Service
Authorization Reference (SAR) lists for the request's action: under any of the action's resource types or
its request-level row, or among the condition keys of the resource types it acts on.

The SAR is data this module does not carry: the caller passes it in the shape of parliament's
``iam_definition.json`` (a list of services, each with ``prefix``, ``privileges`` and ``resources``), which
the tests load from the parliament package (a development dependency, not a runtime one).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .expand import Expected

GLOBAL_PREFIX = "aws:"


@dataclass(frozen=True)
class UnlistedKey:
    """A context key a modelled request carries that the SAR does not list for its action."""

    action: str
    key: str
    step: str  # the model row's step, which names where the key comes from
    subject: str  # the pipeline or state machine the request belongs to

    def line(self) -> str:
        return f"{self.subject}: {self.action} carries {self.key}, which AWS lists for no resource of {self.action} [{self.step}]"


@dataclass(frozen=True)
class ServiceAuthorization:
    """Condition-key patterns by action (``service:Action``, lower case), read from the SAR data."""

    keys: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_definition(cls, services: Sequence[Mapping[str, Any]]) -> ServiceAuthorization:
        keys: dict[str, tuple[str, ...]] = {}
        for service in services:
            by_resource = {str(r["resource"]).lower(): tuple(r.get("condition_keys") or ()) for r in service.get("resources") or ()}
            for privilege in service.get("privileges") or ():
                found: list[str] = []
                for resource_type in privilege.get("resource_types") or ():
                    found += resource_type.get("condition_keys") or ()
                    found += by_resource.get(str(resource_type.get("resource_type", "")).rstrip("*").lower(), ())
                keys[f"{service['prefix']}:{privilege['privilege']}".lower()] = tuple(found)
        return cls(keys)

    def knows(self, action: str) -> bool:
        return action.lower() in self.keys

    def lists(self, action: str, key: str) -> bool:
        """Whether ``key`` is a condition key of ``action``; a pattern such as
        ``kms:EncryptionContext:${EncryptionContextKey}`` or ``s3:ExistingObjectTag/<key>`` stands for every key it starts."""
        return any(_matches(pattern, key) for pattern in self.keys.get(action.lower(), ()))


def _matches(pattern: str, key: str) -> bool:
    head = re.split(r"\$\{|<", pattern, maxsplit=1)
    if len(head) == 2:
        return key.lower().startswith(head[0].lower()) and len(key) > len(head[0])
    return pattern.lower() == key.lower()


def unlisted_keys(requests: Iterable[Expected], sar: ServiceAuthorization) -> list[UnlistedKey]:
    """The context keys of ``requests`` that are neither global nor listed for their action; an action
    the SAR does not know is reported too (its keys cannot be vouched for), as key ``<unknown action>``."""
    found: dict[UnlistedKey, None] = {}
    for expected in requests:
        request = expected.request
        if not sar.knows(request.action):
            found[UnlistedKey(request.action, "<unknown action>", expected.call.step, expected.pipeline.label)] = None
            continue
        for key in request.context:
            if not key.lower().startswith(GLOBAL_PREFIX) and not sar.lists(request.action, key):
                found[UnlistedKey(request.action, key, expected.call.step, expected.pipeline.label)] = None
    return list(found)


__all__ = ["ServiceAuthorization", "UnlistedKey", "unlisted_keys"]
