"""A small IAM policy evaluator: does AWS allow this request, given these policies?

It decides one request at a time the way the IAM policy evaluation logic documents it: an explicit
Deny anywhere wins; within one account, an identity-policy Allow or a resource-policy Allow that
names the principal itself is enough; across accounts both sides must allow; a KMS key policy must
allow in every case, either the principal itself or its account (which hands the decision to IAM);
a role is assumed only when its trust policy allows the caller.

No maintained Python library evaluates requests against identity and resource policies offline with
conditions (policyuniverse and parliament parse and lint; principalmapper needs a live account
graph and is unmaintained since 2022), so this module implements only what the project's templates
use, and refuses (``Unsupported``) anything else instead of guessing: an unknown condition operator
or ``NotPrincipal`` fails the check loudly rather than letting a request through.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Policy:
    """A policy document and where it came from, so a decision can name the statement that decided."""

    name: str  # e.g. "DdbDataPipeline-prod/RolesExportordersNodes63D77AA4"
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Request:
    """One API call. ``principal`` is a role ARN or ``service:<name>.amazonaws.com``; ``context``
    holds the condition keys the request carries (names are case-insensitive, as in IAM)."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)

    @property
    def principal_account(self) -> str | None:
        return account_of(self.principal)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # why, in one phrase
    allowed_by: tuple[str, ...] = ()  # "<policy name>#<sid or index>" of the statements that allowed it


class Unsupported(ValueError):
    """A policy uses IAM grammar this evaluator does not implement; the check must not guess."""


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] or None if len(parts) > 5 and parts[0] == "arn" else None


def evaluate(
    request: Request,
    *,
    identity: Iterable[Policy] = (),
    resource_policy: Policy | None = None,
    resource_account: str | None = None,
    kind: str = "default",
) -> Decision:
    """``kind`` is ``default`` (S3, DynamoDB, SNS, ...: the resource policy is optional), ``kms``
    (the key policy must allow) or ``trust`` (a role's trust policy decides alone)."""
    identity = list(identity)
    resource_policies = [resource_policy] if resource_policy is not None else []
    denied_by = [m for p in [*identity, *resource_policies] for m in _matches(p, request, "Deny", p is resource_policy)]
    if denied_by:
        return Decision(False, f"explicitly denied by {denied_by[0]}")
    if kind == "trust":
        if resource_policy is None:
            return Decision(False, "the role has no trust policy")
        allows = _matches(resource_policy, request, "Allow", True)
        if not allows:
            return Decision(False, "trust policy does not allow this principal")
        if identity and resource_account is not None and resource_account != request.principal_account:
            # A role of another account: its own account must let it assume the role too (IAM User Guide,
            # "Cross account resource access": both the identity policy and the trust policy).
            by_identity = [m for p in identity for m in _matches(p, request, "Allow", False)]
            if not by_identity:
                return Decision(False, "cross-account: the trust policy allows, but no identity policy of the caller allows sts:AssumeRole")
            return Decision(True, "trust policy and the caller's identity policy allow", tuple(allows + by_identity))
        return Decision(True, "trust policy allows", tuple(allows))

    by_identity = [m for p in identity for m in _matches(p, request, "Allow", False)]
    direct, delegated = [], []
    if resource_policy is not None:
        for statement, label in _statements(resource_policy, request, "Allow"):
            match = _principal_match(statement, request)
            if match == "direct":
                direct.append(label)
            elif match == "account":
                delegated.append(label)
    same_account = resource_account is None or resource_account == request.principal_account
    if request.principal.startswith("service:"):  # a service has no identity policy: the resource's policy decides alone
        if direct:
            return Decision(True, "the resource policy allows the service", tuple(direct))
        return Decision(False, "no resource policy allows the service" if resource_policy else "the resource has no policy to allow the service")
    if kind == "kms":
        if resource_policy is None:
            return Decision(False, "the key has no key policy")
        if direct and same_account:
            return Decision(True, "key policy allows the principal", tuple(direct))
        if (direct or delegated) and by_identity:
            return Decision(True, "key policy delegates to IAM and an identity policy allows", tuple(by_identity + direct + delegated))
        if not (direct or delegated):
            return Decision(False, "the key policy allows neither the principal nor its account")
        return Decision(False, "no identity policy allows it (the key policy delegates to IAM)")
    if same_account:
        if by_identity or direct:
            return Decision(True, "allowed", tuple(by_identity + direct))
        return Decision(False, "no identity policy allows it" + (" and no resource policy names the principal" if resource_policy else ""))
    if not by_identity:
        return Decision(False, "no identity policy allows it (cross-account: both sides must)")
    if not (direct or delegated):
        return Decision(False, "the resource policy of the other account does not allow it")
    return Decision(True, "allowed by both accounts", tuple(by_identity + direct + delegated))


def _matches(policy: Policy, request: Request, effect: str, check_principal: bool) -> list[str]:
    return [
        label
        for statement, label in _statements(policy, request, effect)
        if not check_principal or _principal_match(statement, request) is not None
    ]


def _statements(policy: Policy, request: Request, effect: str) -> list[tuple[Mapping[str, Any], str]]:
    found = []
    statements = policy.document.get("Statement", [])
    for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
        if statement.get("Effect") != effect:
            continue
        if "NotPrincipal" in statement:
            raise Unsupported(f"{policy.name}: NotPrincipal is not supported")
        if not _action_matches(statement, request.action):
            continue
        if not _resource_matches(statement, request.resource):
            continue
        if not conditions_hold(statement.get("Condition") or {}, request.context, where=policy.name):
            continue
        found.append((statement, f"{policy.name}#{statement.get('Sid') or index}"))
    return found


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcards: ``*`` any run of characters, ``?`` one character; nothing else is special."""
    return _compiled(pattern, ignore_case).fullmatch(value) is not None


@functools.lru_cache(maxsize=8192)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """The regular expression of one IAM pattern under one case rule, compiled once per process: an audit
    asks about the same few hundred policy patterns for thousands of requests, and rebuilding the
    expression each time (``re``'s own cache holds 512 and thrashes beyond) was most of its CPU."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not _any_action(_patterns(statement["NotAction"]), action)
    return _any_action(_patterns(statement.get("Action")), action)


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "NotResource" in statement:
        return not _any_resource(_patterns(statement["NotResource"]), resource)
    if "Resource" not in statement:
        return True  # a trust policy has no Resource element
    return _any_resource(_patterns(statement["Resource"]), resource)


def _patterns(value: Any) -> tuple[Any, ...]:
    """An Action or Resource element as a tuple (hashable, so the answers below can be kept), in its order."""
    if isinstance(value, str):
        return (value,)
    return tuple(_as_list(value))


# An audit asks whether the same few hundred Action and Resource lists match the same few thousand actions and
# resources again and again (every request meets every statement of its principal's policies: half a million
# questions over a test run, most of the evaluator's CPU). The answer depends on the strings alone, so it is
# kept per process (lru_cache, bounded). Errors are not kept: Unsupported is raised again on each call, at the
# same pattern as before, since the patterns are tried in their order and the first match stops the search; a
# list holding something unhashable (never a string) is answered without keeping, exactly as before.
def _any_action(patterns: tuple[Any, ...], action: str) -> bool:
    try:
        return _any_action_kept(patterns, action)
    except TypeError:
        return _any_action_now(patterns, action)


def _any_resource(patterns: tuple[Any, ...], resource: str) -> bool:
    try:
        return _any_resource_kept(patterns, resource)
    except TypeError:
        return _any_resource_now(patterns, resource)


def _any_action_now(patterns: tuple[Any, ...], action: str) -> bool:
    return any(_glob(a, action, ignore_case=True) for a in patterns)


def _any_resource_now(patterns: tuple[Any, ...], resource: str) -> bool:
    return any(_glob(_no_variable(r), resource) for r in patterns)


_any_action_kept = functools.lru_cache(maxsize=65536)(_any_action_now)
_any_resource_kept = functools.lru_cache(maxsize=65536)(_any_resource_now)


def _no_variable(resource: str) -> str:
    """A policy variable in a Resource is not implemented: refused, so it cannot silently match nothing."""
    if "${" in resource:
        raise Unsupported(f"policy variable in Resource {resource!r} is not supported")
    return resource


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_PRINCIPAL_TAG = re.compile(r"aws:PrincipalTag/([^,'\s]+)", re.IGNORECASE)


def substitute_variables(value: str, context: Mapping[str, Any], *, where: str) -> str | None:
    """A condition value with its policy variables replaced by the request's values (IAM User Guide, 'IAM policy
    elements: Variables and tags'). Only ``${aws:PrincipalTag/<key>}`` is implemented: it lets one shared
    statement compare a resource's tag with the caller's own. ``context`` has lower-case key names. None when
    the request lacks the key (IAM: the condition then does not hold). Any other variable (another key, a
    default value, the ``${*}`` escapes) raises ``Unsupported`` rather than being compared as text."""
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        tag = _PRINCIPAL_TAG.fullmatch(match.group(1))
        if tag is None:
            raise Unsupported(f"{where}: policy variable ${{{match.group(1)}}} is not supported")
        found = context.get(f"aws:principaltag/{tag.group(1).lower()}")
        if found is None:
            missing = True
            return ""
        return str(found)

    substituted = _VARIABLE.sub(one, value)
    return None if missing else substituted


def _principal_match(statement: Mapping[str, Any], request: Request) -> str | None:
    """``direct`` when the statement names the principal itself (or everyone), ``account`` when it
    names the principal's account, None when it does not apply to this principal."""
    principal = statement.get("Principal")
    if principal is None:
        return None
    if principal == "*":
        return "direct"
    if not isinstance(principal, Mapping):
        raise Unsupported(f"unexpected Principal {principal!r}")
    for kind, values in principal.items():
        for value in _as_list(values):
            if kind == "Service" and request.principal == f"service:{value}":
                return "direct"
            if kind != "AWS":
                continue
            if value == "*" or value == request.principal:
                return "direct"
            account = request.principal_account
            if account and value in (account, f"arn:aws:iam::{account}:root"):
                return "account"
    return None


# Condition operators: name -> (value comparison, negated). ``IfExists`` and the set prefixes are
# handled around them.
def _string_equals(expected: str, actual: str) -> bool:
    return expected == actual


def _string_like(expected: str, actual: str) -> bool:
    return _glob(expected, actual)


def _bool(expected: str, actual: str) -> bool:
    return expected.lower() == actual.lower()


_OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), False),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_string_equals, False),
    "ArnNotEquals": (_string_equals, True),
    "ArnLike": (_string_like, False),
    "ArnNotLike": (_string_like, True),
    "Bool": (_bool, False),
}


def conditions_hold(condition: Mapping[str, Any], context: Mapping[str, Any], *, where: str = "policy") -> bool:
    """All operators and all keys must hold (AND); the values of one key are alternatives (OR)."""
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, keys in condition.items():
        for key, expected in keys.items():
            values: list[str | None] = [str(v) for v in _as_list(expected)]
            if any("${" in str(v) for v in values):
                values = [substitute_variables(str(v), lowered, where=where) for v in values]
                if any(v is None for v in values):
                    return False  # a variable whose key the request lacks: the condition does not hold
            if not _condition_holds(operator, key.lower(), [str(v) for v in values], lowered, where):
                return False
    return True


def _condition_holds(operator: str, key: str, expected: list[str], context: Mapping[str, Any], where: str) -> bool:
    if operator == "Null":
        absent = key not in context
        return any((value.lower() == "true") == absent for value in expected)
    quantifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in _OPERATORS or quantifier not in ("", "ForAnyValue", "ForAllValues"):
        raise Unsupported(f"{where}: condition operator {operator} is not supported")
    compare, negated = _OPERATORS[base]
    if key not in context:
        # A missing key: IfExists and ForAllValues hold, negated operators hold, the rest do not.
        return if_exists or quantifier == "ForAllValues" or negated
    actual = [str(v) for v in _as_list(context[key])]

    def one(value: str) -> bool:
        hit = any(compare(e, value) for e in expected)
        return not hit if negated else hit

    if quantifier == "ForAllValues":
        return all(one(value) for value in actual)
    return any(one(value) for value in actual)


__all__ = ["Decision", "Policy", "Request", "Unsupported", "evaluate", "conditions_hold", "substitute_variables"]
