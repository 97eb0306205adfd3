"""The calls AWS denied the project's roles during an acceptance run, from CloudTrail's event history (LookupEvents),
each set beside the permission model's rows for that call (``ddb_datapipeline/permissions``).

A denied call is kept when its error code says access was refused (``AccessDenied``, ``AccessDeniedException``,
``UnauthorizedOperation`` and the like) or it is a KMS error (an error code naming KMS, or any error of
``kms.amazonaws.com``), and its caller is one of the project's roles (the session issuer's role name). The model's
rows are the expected requests of the synthesized assembly (``permissions.audit.all_requests``) with the same action
and role, on the same table when the call names one (a scratch table counts as the table it stands in for): when the
model decided such a request allowed, AWS and the model disagree and the denial is marked a model error, to be fixed
in the model; when the model has no row for the call, that is said too.

CloudTrail's event history shows management events of the last 90 days, a few minutes after the call (the CloudTrail
User Guide says events typically arrive within about 5 minutes, not guaranteed: doc read from memory, so the wait is
an option); data events (S3 object reads and writes, DynamoDB item reads and writes) are not in it: a denied
GetObject or BatchWriteItem shows in the run's own failure detail instead.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..definition.generated_names import ACCEPTANCE_SUFFIX

DENIED = re.compile(r"AccessDenied|Unauthorized|Forbidden|KMS", re.IGNORECASE)
TRAIL_WAIT_SECONDS = 300.0


@dataclass(frozen=True)
class ModelRow:
    """One row of the permission model that predicted the call, and what the model decided for it."""

    trigger: str
    step: str
    source: str
    allowed: bool


@dataclass(frozen=True)
class Denial:
    time: str
    region: str
    call: str  # service:Action
    role: str
    resource: str
    error: str
    rows: tuple[ModelRow, ...] = ()

    @property
    def verdict(self) -> str:
        if not self.rows:
            return "NO MODEL ROW: the model does not predict this call"
        if any(row.allowed for row in self.rows):
            return "MODEL ERROR: the model called it allowed"
        return "predicted: the model denies it too"


def _service(event_source: str) -> str:
    return event_source.split(".", 1)[0]


def _resource(event: Mapping[str, Any]) -> str:
    for resource in event.get("resources") or []:
        if resource.get("ARN"):
            return str(resource["ARN"])
    parameters = event.get("requestParameters") or {}
    for key in ("tableArn", "tableName", "keyId", "bucketName", "topicArn", "stateMachineArn", "pipelineId"):
        if parameters.get(key):
            return str(parameters[key]) + (f"/{parameters['key']}" if key == "bucketName" and parameters.get("key") else "")
    return ""


def _role(event: Mapping[str, Any]) -> str:
    identity = event.get("userIdentity") or {}
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    return str(issuer.get("userName") or issuer.get("arn") or identity.get("arn") or "")


def denial_of(event: Mapping[str, Any], region: str) -> Denial | None:
    """The event as a denial, or None when it is not one."""
    code = str(event.get("errorCode") or "")
    if not code or not (DENIED.search(code) or event.get("eventSource") == "kms.amazonaws.com"):
        return None
    return Denial(str(event.get("eventTime", "")), region, f"{_service(str(event.get('eventSource', '')))}:{event.get('eventName', '')}",
                  _role(event), _resource(event), f"{code}: {event.get('errorMessage', '')}".strip(": "))


def _table(resource: str) -> str | None:
    return resource.rsplit("table/", 1)[1].split("/", 1)[0] if "table/" in resource else None


def unscratched(name: str, run_id: str) -> str:
    """The configured table a scratch table stands in for."""
    return name.replace(f"{ACCEPTANCE_SUFFIX}{run_id}", "")


@dataclass(frozen=True)
class ModelIndex:
    """The permission model's requests, by (role name, action): what ``rows_for`` looks a denial up in."""

    requests: Mapping[tuple[str, str], tuple[tuple[str | None, ModelRow], ...]]

    @classmethod
    def of(cls, world: Any) -> ModelIndex:
        """From a ``permissions.assembly_view.World`` (the synthesized assembly); imported here only when given."""
        from ..permissions.audit import all_requests, decide

        index: dict[tuple[str, str], list[tuple[str | None, ModelRow]]] = {}
        for expected in all_requests(world):
            request = expected.request
            role = request.principal.rsplit("/", 1)[-1]
            row = ModelRow(expected.call.trigger, expected.call.step, expected.call.source, decide(world, expected).allowed)
            index.setdefault((role, request.action), []).append((_table(request.resource), row))
        return cls({key: tuple(value) for key, value in index.items()})

    def rows_for(self, denial: Denial, run_id: str) -> tuple[ModelRow, ...]:
        table = _table(unscratched(denial.resource, run_id))
        found = [row for where, row in self.requests.get((denial.role.rsplit("/", 1)[-1], denial.call), ())
                 if table is None or where is None or where == table]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class TrailLookup:
    """CloudTrail's LookupEvents in each region, for the project's roles (names, or name prefixes ending in ``*``,
    given here and by the run: the roles its pipelines' definitions name)."""

    clients: Callable[[str, str], Any]
    regions: tuple[str, ...]
    roles: tuple[str, ...] = ()
    model: ModelIndex | None = None
    wait_seconds: float = TRAIL_WAIT_SECONDS
    sleep: Callable[[float], None] = time.sleep
    out: Callable[[str], None] = print
    notes: list[str] = field(default_factory=list)

    def denials(self, *, start: float, end: float, run_id: str, roles: Iterable[str] = ()) -> list[Denial]:
        watched = (*self.roles, *roles)

        def ours(role: str) -> bool:
            name = role.rsplit("/", 1)[-1]
            return any(name.startswith(r[:-1]) if r.endswith("*") else name == r for r in watched)

        if self.wait_seconds > 0:
            self.out(f"acceptance: waiting {self.wait_seconds:.0f} s for CloudTrail to deliver the run's events")
            self.sleep(self.wait_seconds)
        found: list[Denial] = []
        for region in self.regions:
            pages = self.clients("cloudtrail", region).get_paginator("lookup_events").paginate(
                StartTime=datetime.fromtimestamp(start - 60, UTC), EndTime=datetime.fromtimestamp(end + 60, UTC))
            for event in self._events(pages):
                denial = denial_of(event, region)
                if denial is not None and ours(denial.role):
                    rows = self.model.rows_for(denial, run_id) if self.model is not None else ()
                    found.append(Denial(denial.time, region, denial.call, denial.role, denial.resource, denial.error, rows))
        return found

    @staticmethod
    def _events(pages: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
        for page in pages:
            for event in page.get("Events", []):
                raw = event.get("CloudTrailEvent")
                if raw:
                    yield json.loads(raw)
