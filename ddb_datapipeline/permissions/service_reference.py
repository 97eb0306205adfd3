"""Rules on the runtime model itself, from AWS's Service Authorization Reference (SAR): a modelled request
may name only an action AWS has, carry only the condition keys AWS lists for it, and act on a resource of a
type AWS lists for it.

The permission check decides each modelled request against the synthesized policies, so a request the
model shapes to fit a grant agrees with that grant while AWS never would: a ``kms:DescribeKey`` request
with an encryption context (DescribeKey has none), or a ``logs:DescribeLogGroups`` request on one log
group (the action has no resource type: only ``"*"`` grants it). Hence:

- every context key of every request is a global key (``aws:``) or one the SAR lists for the action,
  under any of its resource types or its request-level row, or among the condition keys of the resource
  types it acts on;
- every request of an action that has no resource type is on ``"*"``.

(Whether a request's ARN is of one of its action's resource types is not checked: the rows of EMR's EC2
calls, all granted on ``"*"``, use one sample instance or security group for actions on launch templates,
interfaces and VPCs as well.)

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
class Mismatch:
    """A modelled request the SAR contradicts: its action, what is wrong (``what``), the model row."""

    action: str
    what: str  # "carries <key>", "acts on <resource>", "is not an action AWS lists"
    step: str  # the model row's step, which names where the request comes from
    subject: str  # the pipeline or state machine the request belongs to

    def line(self) -> str:
        return f"{self.subject}: {self.action} {self.what} [{self.step}]"


@dataclass(frozen=True)
class Action:
    """What the SAR says of one action: its condition-key patterns and the ARN patterns of its resource types
    (empty: the action has no resource type, and only ``"*"`` names its resource)."""

    keys: tuple[str, ...]
    arns: tuple[str, ...]


@dataclass(frozen=True)
class ServiceAuthorization:
    """The SAR by action (``service:action``, lower case)."""

    actions: Mapping[str, Action]

    @classmethod
    def from_definition(cls, services: Sequence[Mapping[str, Any]]) -> ServiceAuthorization:
        actions: dict[str, Action] = {}
        for service in services:
            resources = {str(r["resource"]).lower(): r for r in service.get("resources") or ()}
            for privilege in service.get("privileges") or ():
                keys: list[str] = []
                arns: list[str] = []
                for row in privilege.get("resource_types") or ():
                    keys += row.get("condition_keys") or ()
                    resource = resources.get(str(row.get("resource_type", "")).rstrip("*").lower())
                    if resource is not None:
                        keys += resource.get("condition_keys") or ()
                        arns.append(str(resource["arn"]))
                actions[f"{service['prefix']}:{privilege['privilege']}".lower()] = Action(tuple(keys), tuple(arns))
        return cls(actions)

    def action(self, name: str) -> Action | None:
        return self.actions.get(name.lower())


def _key_matches(pattern: str, key: str) -> bool:
    """``kms:EncryptionContext:${EncryptionContextKey}`` or ``s3:ExistingObjectTag/<key>`` stands for every
    key it starts (with something after it); any other pattern is one key (names are case-insensitive)."""
    head = re.split(r"\$\{|<", pattern, maxsplit=1)
    if len(head) == 2:
        return key.lower().startswith(head[0].lower()) and len(key) > len(head[0])
    return pattern.lower() == key.lower()


def mismatches(requests: Iterable[Expected], sar: ServiceAuthorization) -> list[Mismatch]:
    """Each way ``requests`` disagree with the SAR, once per action, what and model row."""
    found: dict[Mismatch, None] = {}
    for expected in requests:
        request = expected.request

        def report(what: str) -> None:
            found[Mismatch(request.action, what, expected.call.step, expected.pipeline.label)] = None  # noqa: B023 - used at once

        action = sar.action(request.action)
        if action is None:
            report("is not an action AWS lists")
            continue
        for key in request.context:
            if not key.lower().startswith(GLOBAL_PREFIX) and not any(_key_matches(p, key) for p in action.keys):
                report(f"carries {key}, which AWS lists for no resource of the action")
        if not action.arns and request.resource != "*":
            report(f"acts on {request.resource}, but the action has no resource type (only \"*\" grants it)")
    return list(found)


__all__ = ["Action", "Mismatch", "ServiceAuthorization", "mismatches"]
