"""Which IAM statements a reviewer must look at, and why.

A ``*`` in a statement is not a finding by itself: an action that has no resource type in AWS's Service
Authorization Reference (``datapipeline:PollForTask``, ``elasticmapreduce:RunJobFlow``) can only be granted
on ``"*"``, and a wildcard at the end of a folder this project documents (``exports/<table>/*``) is the
narrowest grant S3 has for "every object of one run folder". Marking those buried the few statements that
deserve a second look (issue 27: 59 of 111 statements of one stack were marked), so a statement is marked
only for one of the reasons below, and the mark says which:

- ``NotAction``/``NotResource``: it allows everything it does not list;
- an action wildcard (``s3:Get*``): the actions it matches today and tomorrow are not spelled out;
- ``Resource: *`` on an action that has a resource type: it could have named its resources;
- another wildcard in a resource, unless it is under a prefix this project documents (``DOCUMENTED``),
  directly under a resource of the same stack, or the statement carries a condition that narrows it;
- a resource or a trusted principal in another account than the stack's;
- a condition key that a sibling statement (same role and policy, same actions) has and this one lacks
  (keys about the resources' owner, ``OWNER_KEYS``, left out).

The Service Authorization Reference is read from the copy parliament bundles (``iam_definition.json``, a
development dependency); without it every ``Resource: *`` is marked, with that reason.
"""
from __future__ import annotations

import bisect
import fnmatch
import functools
import importlib.util
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..definition.generated_names import ACCEPTANCE_SUFFIX
from ..permissions.service_reference import ServiceAuthorization

if TYPE_CHECKING:
    from .iam import Statement

MAX_NAMED = 3  # actions named in one reason; the rest are counted

# Wildcards this project documents (source: the files named, read for this table). Each pattern is matched
# against the end of a resource as the report shows it (placeholders in Fn::Sub notation).
DOCUMENTED: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/(exports|logs|copies)/[^*]*\*$"),
     "a folder of the export bucket (definition/bucket_layout.py: exports/, logs/, copies/)"),
    (re.compile(r":(role|instance-profile)/ddb-[A-Za-z0-9+=,.@_-]*-\*$"),
     "the node role name prefix (constructs/pipeline_roles.py: node_role_prefix)"),
    (re.compile(r":::datapipeline-[a-z0-9-]+/[a-z0-9-]+/\*$"),
     "Task Runner's install files in Data Pipeline's bucket (permissions/runtime_calls.py)"),
    (re.compile(r":::[a-z0-9-]+\.elasticmapreduce/libs/script-runner/\*$"),
     "EMR's script-runner (permissions/runtime_calls.py)"),
    (re.compile(r":::dynamodb-dpl-[a-z0-9-]+/emr-ddb-storage-handler/\*$"),
     "the connector's jar bucket (definition/emr.py)"),
    (re.compile(re.escape(ACCEPTANCE_SUFFIX) + r"\*$"),
     "the acceptance run's scratch tables of a table (definition/generated_names.py: ACCEPTANCE_SUFFIX; environment setting "
     "acceptance)"),
)
# A wildcard right after a resource of the same stack and a separator: every object, log stream or
# report of that one resource (inferred: the stack owns the resource, so the grant cannot reach further).
_UNDER_OWN = re.compile(r"^[^*]*\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}[/:-]\*$")
_ACCOUNT = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:(\d{12}):")
_PLACEHOLDERS = re.compile(r"\$\{[^}]*\}")
# Condition keys about who owns the resources named: they belong to those resources, not to the grant, so a
# sibling statement on other resources does not need them (inferred).
OWNER_KEYS = frozenset({"aws:resourceaccount", "s3:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"})
_PRINCIPAL_ACCOUNT = re.compile(r"(?:^|[^0-9])(\d{12})(?:[^0-9]|$)")


@dataclass(frozen=True)
class Mark:
    """One reason to look at a statement (or a trust principal), and the values that caused it."""

    reason: str
    values: tuple[str, ...] = ()  # the actions or resources the reason is about, marked in their cells


@dataclass(frozen=True)
class _Reference:
    """The Service Authorization Reference and what the marks look up in it besides: each action's spelling
    by its lower-case name, and every lower-case action name in sorted order (so the names a pattern can
    match are one slice of it, found by bisection instead of matching the pattern against every action)."""

    sar: ServiceAuthorization
    spelling: Mapping[str, str]
    names: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def _reference() -> _Reference | None:
    """The Service Authorization Reference as parliament bundles it, read without importing parliament
    (its import needs shims and costs a second); None when parliament is not installed."""
    spec = importlib.util.find_spec("parliament")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "iam_definition.json"
    if not path.is_file():
        return None
    services = json.loads(path.read_text(encoding="utf-8"))
    spelling = {f"{s['prefix']}:{p['privilege']}".lower(): f"{s['prefix']}:{p['privilege']}"
                for s in services for p in s.get("privileges") or ()}
    sar = ServiceAuthorization.from_definition(services)
    return _Reference(sar, spelling, tuple(sorted(sar.actions)))


def service_reference() -> ServiceAuthorization | None:
    found = _reference()
    return found.sar if found else None


def _spelled(action: str) -> str:
    found = _reference()
    return found.spelling.get(action, action) if found else action


# Where a pattern's literal head ends: at its first wildcard (or the start of a character set).
_WILDCARD = re.compile(r"[*?\[]")


@functools.cache
def _expand(pattern: str) -> tuple[str, ...]:
    """The actions a pattern (``s3:Get*``) matches in the reference (lower case, sorted); the pattern itself
    when it has no wildcard, nothing when there is no reference.

    Kept per pattern for the process (the reference is read once per process too): a review asks for the
    same few patterns in statement after statement, and each answer scans thousands of actions. Only names
    that start with the pattern's text before its first wildcard can match (``fnmatchcase`` matches that
    text literally from the first character), and in sorted order those names are contiguous."""
    if "*" not in pattern and "?" not in pattern:
        return (pattern.lower(),)
    found = _reference()
    if found is None:
        return ()
    lowered = pattern.lower()
    head = _WILDCARD.split(lowered, maxsplit=1)[0]
    names = found.names
    matched = []
    for index in range(bisect.bisect_left(names, head), len(names)):
        name = names[index]
        if not name.startswith(head):
            break
        if fnmatch.fnmatchcase(name, lowered):
            matched.append(name)
    return tuple(matched)


def _condition_keys(statement: Statement) -> set[str]:
    """``StringEquals aws:RequestedRegion = eu-west-1`` -> ``aws:requestedregion``."""
    keys = set()
    for condition in statement.conditions:
        parts = condition.split(" ", 2)
        if len(parts) >= 2:
            keys.add(parts[1].lower())
    return keys


def _supports(action: str, key: str, sar: ServiceAuthorization | None) -> bool:
    if key.startswith("aws:"):
        return True
    known = sar.action(action) if sar is not None else None
    if known is None:
        return False
    head = re.split(r"\$\{|<", key, maxsplit=1)[0]
    return any(k.lower() == key or k.lower().startswith(head) and ("${" in k or "<" in k) for k in known.keys)


def _named(values: Sequence[str]) -> str:
    shown = ", ".join(values[:MAX_NAMED])
    return shown + (f" and {len(values) - MAX_NAMED} more" if len(values) > MAX_NAMED else "")


def documented(resource: str) -> str | None:
    """Why a wildcard resource is expected (the DOCUMENTED entry it matches), else None."""
    return next((why for pattern, why in DOCUMENTED if pattern.search(resource)), None)


def statement_marks(statement: Statement, *, account: str | None, own: Iterable[str],
                    siblings: Iterable[Statement] = ()) -> tuple[Mark, ...]:
    """The reasons a reviewer must look at ``statement``; ``account`` is the stack's (None: any), ``own``
    the logical ids of the stack, ``siblings`` the other statements of the same role and policy."""
    if statement.effect != "Allow":
        return ()
    sar = service_reference()
    marks: list[Mark] = []
    if statement.not_action:
        marks.append(Mark("NotAction: allows every action it does not list", statement.actions))
    if statement.not_resource:
        marks.append(Mark("NotResource: allows every resource it does not list", statement.resources))
    wild = [a for a in (statement.actions if not statement.not_action else ()) if "*" in a or "?" in a]
    if wild:
        counts = ", ".join(f"{a} (matches {len(_expand(a))} today)" if sar is not None else a for a in wild)
        marks.append(Mark(f"action wildcard{'s' if len(wild) > 1 else ''} {counts}", tuple(wild)))
    owned = set(own)
    conditioned = bool(statement.conditions)
    for resource in statement.resources if not statement.not_resource else ():
        if resource == "*":
            if sar is None:
                marks.append(Mark("Resource * (no service reference installed to tell whether the actions need it)", (resource,)))
                continue
            typed = sorted({a for pattern in statement.actions for a in _expand(pattern)
                            if (known := sar.action(a)) is not None and known.arns})
            if typed:
                marks.append(Mark(f"Resource * on actions that have a resource type: {_named([_spelled(a) for a in typed])}",
                                  (resource,)))
            continue
        if account:
            found = _ACCOUNT.match(_PLACEHOLDERS.sub("x", resource))
            if found and found.group(1) != account:
                marks.append(Mark(f"resource in account {found.group(1)}, not the stack's", (resource,)))
        if "*" not in resource or documented(resource) or conditioned:
            continue
        under = _UNDER_OWN.match(resource)
        if under and under.group(1) in owned:
            continue
        marks.append(Mark(f"wildcard resource {resource} without a condition", (resource,)))
    mine = _condition_keys(statement)
    for sibling in siblings:
        if sibling is statement or sibling.effect != "Allow" or set(sibling.actions) != set(statement.actions):
            continue
        for key in sorted(_condition_keys(sibling) - mine - OWNER_KEYS):
            if all(_supports(a, key, sar) for pattern in statement.actions for a in _expand(pattern) or (pattern,)):
                marks.append(Mark(f"no {key} condition, which statement {sibling.label} of the same policy has"))
    return tuple(dict.fromkeys(marks))


def principal_marks(principal: str, account: str | None) -> tuple[Mark, ...]:
    """A trusted principal (``AWS arn:aws:iam::222222222222:root``, ``Service ...``) worth a look."""
    kind, _, value = principal.partition(" ")
    marks = []
    if "*" in value:
        marks.append(Mark(f"wildcard principal {value}", (principal,)))
    if kind == "AWS" and account:
        found = _PRINCIPAL_ACCOUNT.search(value)
        if found and found.group(1) != account:
            marks.append(Mark(f"principal in account {found.group(1)}, not the stack's", (principal,)))
    return tuple(marks)
