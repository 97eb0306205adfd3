"""The IAM matrix: each role, who may assume it, and every action it is allowed on which resource.

Permissions in a template are spread over roles, inline policies and ``AWS::IAM::Policy`` resources
that attach themselves to roles; a reviewer wants them the other way round, per role. A statement is
marked only where a reviewer must look, with the reason (``attention``); conditions are shown, since
those are what a review argues about.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..assembly import StackArtifact
from . import attention, intrinsics
from . import markdown as md

ROLE = "AWS::IAM::Role"
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
INSTANCE_PROFILE = "AWS::IAM::InstanceProfile"
_PLACEHOLDER = re.compile(r"^\$\{([A-Za-z0-9]+(?:\.[A-Za-z]+)?)\}$")


@dataclass(frozen=True)
class Statement:
    """One statement of a policy as it applies to one role (or user or group)."""

    principal: str  # the role's logical id, or "user X" / "group X" / an external role name
    policy: str  # policy logical id, or "<role>/<PolicyName>" for an inline role policy
    label: str  # the Sid, else the statement's position ("#1")
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[str, ...]
    not_action: bool = False
    not_resource: bool = False

    @property
    def wildcard_actions(self) -> tuple[str, ...]:
        return tuple(a for a in self.actions if "*" in a)

    @property
    def wildcard_resources(self) -> tuple[str, ...]:
        return tuple(r for r in self.resources if "*" in r)


@dataclass(frozen=True)
class Trust:
    """Who may assume a role, and how it reaches EC2 (instance profiles)."""

    role: str
    principals: tuple[str, ...]
    actions: tuple[str, ...]
    conditions: tuple[str, ...]
    instance_profiles: tuple[str, ...]
    managed_policies: tuple[str, ...]  # ARNs not declared in the template, listed as given
    description: str


def conditions(condition: Any) -> tuple[str, ...]:
    """``{"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}`` -> ``StringEquals aws:RequestedRegion = eu-west-1``."""
    if not isinstance(condition, dict):
        return () if condition is None else (intrinsics.text(condition),)
    found = []
    for operator, tests in sorted(condition.items()):
        if not isinstance(tests, dict):
            found.append(f"{operator} {intrinsics.text(tests)}")
            continue
        for key, values in sorted(tests.items()):
            shown = ", ".join(intrinsics.text(v) for v in intrinsics.as_list(values))
            found.append(f"{operator} {key} = {shown}")
    return tuple(found)


def principals(principal: Any) -> tuple[str, ...]:
    if principal is None:
        return ()
    if not isinstance(principal, dict) or intrinsics.is_intrinsic(principal):
        return (f"AWS {intrinsics.text(principal)}",)
    return tuple(
        f"{kind} {intrinsics.text(value)}"
        for kind, values in sorted(principal.items())
        for value in sorted(intrinsics.as_list(values), key=intrinsics.text)
    )


def _statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in intrinsics.as_list(document.get("Statement")) if isinstance(s, dict)]


def _parts(principal: str, policy: str, document: Any) -> list[Statement]:
    found = []
    for index, raw in enumerate(_statements(document), start=1):
        not_action, not_resource = "NotAction" in raw, "NotResource" in raw
        actions = [intrinsics.text(a) for a in intrinsics.as_list(raw.get("NotAction" if not_action else "Action"))]
        resources = [intrinsics.text(r) for r in intrinsics.as_list(raw.get("NotResource" if not_resource else "Resource"))]
        found.append(
            Statement(
                principal=principal,
                policy=policy,
                label=intrinsics.text(raw["Sid"]) if raw.get("Sid") else f"#{index}",
                effect=intrinsics.text(raw.get("Effect", "Allow")),
                actions=tuple(actions),
                resources=tuple(resources),
                conditions=conditions(raw.get("Condition")),
                not_action=not_action,
                not_resource=not_resource,
            )
        )
    return found


def _logical(stack: StackArtifact, value: Any, types: Iterable[str]) -> str | None:
    """The logical id a ``{"Ref": X}`` (or ``{"Fn::GetAtt": [X, ...]}``) points at, when X is a resource of
    one of ``types``."""
    match = _PLACEHOLDER.match(intrinsics.text(value))
    logical_id = match.group(1).split(".", 1)[0] if match else ""
    if match and stack.resources.get(logical_id, {}).get("Type") in tuple(types):
        return logical_id
    return None


def _attached(stack: StackArtifact, properties: dict[str, Any]) -> list[str]:
    holders = []
    for role in intrinsics.as_list(properties.get("Roles")):
        holders.append(_logical(stack, role, [ROLE]) or intrinsics.text(role))
    holders += [f"user {intrinsics.text(u)}" for u in intrinsics.as_list(properties.get("Users"))]
    holders += [f"group {intrinsics.text(g)}" for g in intrinsics.as_list(properties.get("Groups"))]
    return holders


def holders(stack: StackArtifact, policy_id: str) -> tuple[str, ...]:
    """Who a policy of the stack is attached to: its own ``Roles``/``Users``/``Groups`` and, for a managed
    policy, every role of the stack whose ``ManagedPolicyArns`` names it (how CDK attaches a shared one).
    A ``Ref``/``GetAtt`` to a role of the stack reads as its logical id; an imported name as ``${Import:X}``."""
    resource = stack.resources.get(policy_id) or {}
    found = _attached(stack, resource.get("Properties") or {})
    if resource.get("Type") == "AWS::IAM::ManagedPolicy":
        for role_id, role in sorted(stack.resources_of_type(ROLE).items()):
            arns = intrinsics.as_list((role.get("Properties") or {}).get("ManagedPolicyArns"))
            if any(_logical(stack, arn, ["AWS::IAM::ManagedPolicy"]) == policy_id for arn in arns):
                found.append(role_id)
    return tuple(dict.fromkeys(found))


def statements_of(stack: StackArtifact) -> tuple[Statement, ...]:
    """Every identity-policy statement of the stack, per role (or user or group) it applies to."""
    found: list[Statement] = []
    for policy_type in POLICY_TYPES:
        for logical_id, resource in stack.resources_of_type(policy_type).items():
            properties = resource.get("Properties") or {}
            for holder in _attached(stack, properties):
                found += _parts(holder, logical_id, properties.get("PolicyDocument"))
    for role_id, role in stack.resources_of_type(ROLE).items():
        properties = role.get("Properties") or {}
        for inline in intrinsics.as_list(properties.get("Policies")):
            if isinstance(inline, dict):
                name = intrinsics.text(inline.get("PolicyName", "inline"))
                found += _parts(role_id, f"{role_id}/{name}", inline.get("PolicyDocument"))
        for arn in intrinsics.as_list(properties.get("ManagedPolicyArns")):
            managed = _logical(stack, arn, ["AWS::IAM::ManagedPolicy"])
            if managed:  # declared here but attached from the role's side
                document = (stack.resources[managed].get("Properties") or {}).get("PolicyDocument")
                found += _parts(role_id, managed, document)
    return tuple(sorted(dict.fromkeys(found), key=lambda s: (s.principal, s.policy)))


def trusts_of(stack: StackArtifact) -> tuple[Trust, ...]:
    profiles: dict[str, list[str]] = {}
    for profile_id, profile in stack.resources_of_type(INSTANCE_PROFILE).items():
        for role in intrinsics.as_list((profile.get("Properties") or {}).get("Roles")):
            profiles.setdefault(_logical(stack, role, [ROLE]) or intrinsics.text(role), []).append(profile_id)
    found = []
    for role_id, role in stack.resources_of_type(ROLE).items():
        properties = role.get("Properties") or {}
        who, actions, when = [], [], []
        for statement in _statements(properties.get("AssumeRolePolicyDocument")):
            if statement.get("Effect", "Allow") != "Allow":
                continue
            who += principals(statement.get("Principal"))
            actions += [intrinsics.text(a) for a in intrinsics.as_list(statement.get("Action"))]
            when += conditions(statement.get("Condition"))
        external = [
            intrinsics.text(arn) for arn in intrinsics.as_list(properties.get("ManagedPolicyArns"))
            if not _logical(stack, arn, ["AWS::IAM::ManagedPolicy"])
        ]
        found.append(
            Trust(
                role=role_id,
                principals=tuple(dict.fromkeys(who)),
                actions=tuple(sorted(set(actions))),
                conditions=tuple(dict.fromkeys(when)),
                instance_profiles=tuple(sorted(profiles.get(role_id, []))),
                managed_policies=tuple(external),
                description=intrinsics.text(properties.get("Description", "")),
            )
        )
    return tuple(found)


def marked(stack: StackArtifact, statements: tuple[Statement, ...] | None = None) -> dict[Statement, tuple[attention.Mark, ...]]:
    """Each statement of the stack with the reasons a reviewer must look at it (none for most)."""
    statements = statements_of(stack) if statements is None else statements
    own = tuple(stack.resources)
    by_policy: dict[tuple[str, str], list[Statement]] = {}
    for statement in statements:
        by_policy.setdefault((statement.principal, statement.policy), []).append(statement)
    return {
        s: attention.statement_marks(s, account=stack.account, own=own, siblings=by_policy[(s.principal, s.policy)])
        for s in statements
    }


def _cells(values: Iterable[str], negated: bool, flagged: set[str]) -> str:
    cells = [md.warn(v in flagged, md.code(v)) for v in values]
    text = "<br>".join(cells) or "-"
    return f"{md.WARNING} **NOT**<br>{text}" if negated else text


def _reasons(marks: tuple[attention.Mark, ...]) -> str:
    return "<br>".join(f"{md.WARNING} {md.text(m.reason)}" for m in marks)


def section(stack: StackArtifact, level: int) -> str:
    trusts = trusts_of(stack)
    statements = statements_of(stack)
    parts = [md.heading(level, "IAM"), ""]
    if not trusts and not statements:
        return "\n".join(parts + ["No IAM roles or policies.", ""])
    marks = marked(stack, statements)
    looked = [s for s in statements if marks[s]]
    managed = [t for t in trusts if t.managed_policies]
    parts += [
        f"{len(trusts)} role{'s' if len(trusts) != 1 else ''}, {len(statements)} policy statement"
        f"{'s' if len(statements) != 1 else ''}; {len(looked)} to look at ({md.WARNING}, with the reason), "
        f"{len(managed)} role{'s' if len(managed) != 1 else ''} with managed policies not declared here. "
        "Not marked: `*` on actions that have no resource type (only `*` grants them) and wildcards under "
        "the prefixes this project documents.",
        "",
        md.heading(level + 1, "Roles and who may assume them"),
        "",
        md.table(
            ["Role", "Assumed by", "With", "Instance profiles", "Managed policies", "Description"],
            (
                [
                    md.code(t.role),
                    "<br>".join(_principal_cell(p, stack.account) for p in t.principals) or "-",
                    "<br>".join([md.code(a) for a in t.actions] + [md.code(c) for c in t.conditions]),
                    md.codes(t.instance_profiles) if t.instance_profiles else "",
                    "<br>".join(md.code(m) for m in t.managed_policies),
                    md.text(t.description),
                ]
                for t in trusts
            ),
        ),
        "",
        md.heading(level + 1, "Permissions per role"),
        "",
    ]
    headers = ["Role", "Policy", "Statement", "Effect", "Actions", "Resources", "Conditions", "Look at"]

    def row(s: Statement) -> list[str]:
        flagged = {v for m in marks[s] for v in m.values}
        return [
            md.code(s.principal),
            md.code(s.policy),
            md.code(s.label),
            s.effect if s.effect == "Allow" else f"**{md.text(s.effect)}**",
            _cells(s.actions, s.not_action, flagged),
            _cells(s.resources, s.not_resource, flagged),
            md.codes(s.conditions) if s.conditions else "",
            _reasons(marks[s]),
        ]

    if looked:
        parts += [md.table(headers, (row(s) for s in looked)), ""]
    rest = [s for s in statements if not marks[s]]
    if rest:
        title = f"{len(rest)} statement{'s' if len(rest) != 1 else ''} with nothing to look at"
        parts += [md.details(title, md.table(headers[:-1], (row(s)[:-1] for s in rest))), ""]
    return "\n".join(parts)


def _principal_cell(principal: str, account: str | None) -> str:
    marks = attention.principal_marks(principal, account)
    shown = md.warn(bool(marks), md.code(principal))
    return shown + "".join(f" ({md.text(m.reason)})" for m in marks)
