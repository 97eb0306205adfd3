"""The one way this project acknowledges a cdk-nag finding: on one construct, with a reason."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsii
from aws_cdk import Acknowledgment, Aspects, IAspect, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct, IValidation

from .reads import read_once

WILDCARD_RULE = "IAM5"


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """``rule`` is the AwsSolutions rule, e.g. ``S1``, or a granular one such as ``IAM5[Resource::*]``;
    it covers the construct and its children."""
    acknowledge_all(construct, [(rule, reason)])


def acknowledge_all(construct: IConstruct, rules: list[tuple[str, str]]) -> None:
    """Each ``(rule, reason)`` of ``rules`` acknowledged on ``construct``, in that order, in one call: CDK's
    ``Validations.acknowledge`` takes any number and records each as a call of its own would (the same metadata
    entries in the same order), while every call from Python is a round trip to the jsii Node process (a policy's
    wildcards are acknowledged a dozen at a time, twice per synth)."""
    if rules:
        validations = read_once(construct, "validations", lambda: Validations.of(construct))
        validations.acknowledge(*(Acknowledgment(id=f"AwsSolutions::AwsSolutions-{rule}", reason=reason) for rule, reason in rules))


# One reason, or one per finding (e.g. "Action::s3:List*"); None leaves that finding unacknowledged.
Reason = str | Callable[[str], str | None]


def acknowledge_wildcards(scope: IConstruct, reason: Reason) -> None:
    """Acknowledges, on ``scope`` itself, each wildcard of the IAM policies beneath it: a policy built
    to hold the unavoidable ones, or a construct whose generated grants we do not write ourselves.

    cdk-nag reports wildcards one by one, by the flattened action or resource (``Resource::<Bucket.Arn>/x/*``),
    and logical ids are only known once the template resolves; so the ids are computed at synthesis,
    from each policy's resolved document, and recorded with the reason on ``scope``."""
    Aspects.of(scope).add(_WildcardAcknowledgment(scope, reason))


@jsii.implements(IAspect)
class _WildcardAcknowledgment:
    def __init__(self, scope: IConstruct, reason: Reason) -> None:
        self.scope = scope
        self.reason = reason

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, (iam.CfnPolicy, iam.CfnManagedPolicy)):
            self.acknowledge(node)
            # A reference to another stack becomes Fn::GetStackOutput (or Fn::ImportValue) only after the
            # aspects ran, and cdk-nag names the finding by that form: acknowledge again once it is known,
            # in the construct validation that runs between that step and the validation plugins.
            node.node.add_validation(_AfterReferences(self, node))

    def acknowledge(self, node: iam.CfnPolicy | iam.CfnManagedPolicy) -> None:
        # The policy's stack and document object, read when the aspect visits it and kept for the acknowledgment after
        # the references. Neither changes in between: a construct stays in its stack, and iam.Policy and
        # iam.ManagedPolicy give their resource one document object, which resolves to the statements it holds at the time.
        stack, unresolved = read_once(node, "stack and policy document", lambda: (Stack.of(node), node.policy_document))
        document = stack.resolve(unresolved)
        rules = []
        for finding in wildcard_findings(document):
            reason = self.reason(finding) if callable(self.reason) else self.reason
            if reason is not None:
                rules.append((f"{WILDCARD_RULE}[{finding}]", reason))
        acknowledge_all(self.scope, rules)


@jsii.implements(IValidation)
class _AfterReferences:
    def __init__(self, owner: _WildcardAcknowledgment, node: iam.CfnPolicy | iam.CfnManagedPolicy) -> None:
        self.owner = owner
        self.node = node

    def validate(self) -> list[str]:
        self.owner.acknowledge(self.node)
        return []


def wildcard_findings(document: dict[str, Any]) -> list[str]:
    """The granular ids cdk-nag's IAM5 gives an Allow statement's wildcard actions and resources."""
    found: list[str] = []
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action")):
            if "*" in action:
                found.append(f"Action::{action}")
        for resource in _as_list(statement.get("Resource")):
            flat = _flatten(resource)
            if "*" in flat:
                found.append(f"Resource::{flat}")
    return sorted(set(found))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _flatten(node: Any) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        # Any other intrinsic (Fn::GetStackOutput, Fn::ImportValue: a reference to another stack), as cdk-nag
        # writes it: compact JSON.
        return json.dumps(node, separators=(",", ":"))
    return str(node)
