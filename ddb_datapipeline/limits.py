"""AWS's limits on what one stack may hold, checked on the synthesized templates before a deploy.

CDK stops at 500 resources with a long traceback and checks neither the template size nor IAM's
policy sizes; CloudFormation and IAM refuse those only at deploy time, after other resources were
created and rolled back. Each limit here is one configuration line naming the stack and what to change.

Sources (read, not verified against an account): AWS CloudFormation User Guide, "Understand
CloudFormation quotas" (500 resources per stack, 1 MB template body from S3); IAM User Guide, "IAM and
AWS STS quotas" (inline policies of a role: 10,240 characters in total; a managed policy: 6,144
characters; 10 managed policies per role by default; IAM does not count whitespace).

Policy sizes are measured on the documents as they will be deployed: every reference is replaced by
the longest value it can take (a generated role name has 64 characters, a key id 36), so a check that
passes here cannot fail on a longer name in a real account.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import ConfigError
from .template_resolver import NAME_PROPERTY, Resolver

MAX_RESOURCES_PER_STACK = 500
MAX_TEMPLATE_BYTES = 1_000_000  # 1 MB, read as 10^6 bytes (the smaller reading)
TEMPLATE_MARGIN = 0.95  # room for what a later CDK version adds to every resource (metadata, tags)
MAX_INLINE_POLICY_CHARACTERS = 10_240  # all inline policies of one role together
MAX_MANAGED_POLICY_CHARACTERS = 6_144
MAX_MANAGED_POLICIES_PER_ROLE = 10

# The longest physical name CloudFormation may generate for a resource without a fixed one.
_LONGEST_NAME = {
    "AWS::IAM::Role": 64,
    "AWS::IAM::InstanceProfile": 128,
    "AWS::IAM::ManagedPolicy": 128,
    "AWS::S3::Bucket": 63,
    "AWS::SNS::Topic": 256,
    "AWS::KMS::Key": 36,  # a key id is a UUID
    "AWS::DataPipeline::Pipeline": 24,
}
_LONGEST_ACCOUNT = "0" * 12
_LONGEST_REGION = "ap-southeast-5"


@dataclass(frozen=True)
class StackOwner:
    """Who to blame for a stack, and what to tell them: the environment field and the change that helps,
    given how many of these tables one stack could hold (None where the table count is not the cause)."""

    environment: str
    tables: int  # the environment's tables in this stack
    advice: Callable[[int | None], str]

    def refuse(self, stack: str, limit: str, found: str, allowed: str, fits: int | None = None) -> ConfigError:
        return ConfigError(
            f"environments.{self.environment}.tables: {self.tables} tables make stack {stack} {found}; "
            f"expected at most {allowed} ({limit}): {self.advice(fits)}"
        )

    def fits(self, found: int, allowed: int) -> int:
        """Tables of this stack's average size that stay within ``allowed``."""
        return allowed * self.tables // found if self.tables else 0


@dataclass(frozen=True)
class StackTemplate:
    name: str
    path: Path
    region: str | None
    account: str | None

    def load(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.path.read_text())
        return loaded


def stack_templates(outdir: Path) -> dict[str, StackTemplate]:
    """Every stack of a cloud assembly (nested assemblies of a delivery pipeline too), by stack name."""
    found: dict[str, StackTemplate] = {}
    manifest = json.loads((outdir / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        properties = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack":
            environment = artifact.get("environment", "aws://unknown-account/unknown-region").removeprefix("aws://")
            account, _, region = environment.partition("/")
            name = properties.get("stackName") or properties["templateFile"].removesuffix(".template.json")
            found[name] = StackTemplate(name, outdir / properties["templateFile"], _known(region), _known(account))
        elif artifact.get("type") == "cdk:cloud-assembly":
            found.update(stack_templates(outdir / properties["directoryName"]))
    return found


def _known(value: str) -> str | None:
    return None if value.startswith("unknown-") else value


def check_stacks(outdir: Path, owners: Mapping[str, StackOwner]) -> None:
    """Every limit of every owned stack; the first stack over one raises its ConfigError."""
    templates = stack_templates(outdir)
    loaded = {name: template.load() for name, template in templates.items() if name in owners}
    for name, owner in owners.items():
        if name not in templates:
            continue
        template = loaded[name]
        check_resource_count(name, resource_count(template), owner)
        check_template_size(name, templates[name].path.stat().st_size, owner)
        check_policy_sizes(name, template, owner, Outputs(templates, loaded))


def resource_count(template: Mapping[str, Any]) -> int:
    """What CloudFormation counts: every resource but CDK's metadata."""
    return sum(1 for resource in template.get("Resources", {}).values() if resource.get("Type") != "AWS::CDK::Metadata")


def check_resource_count(name: str, count: int, owner: StackOwner, limit: int | None = None) -> None:
    limit = limit or MAX_RESOURCES_PER_STACK
    if count > limit:
        raise owner.refuse(name, "CloudFormation's quota of resources per stack", f"hold {count} resources", str(limit),
                           owner.fits(count, limit))


def check_template_size(name: str, size: int, owner: StackOwner, limit: int | None = None) -> None:
    limit = limit or MAX_TEMPLATE_BYTES
    allowed = int(limit * TEMPLATE_MARGIN)
    if size > allowed:
        raise owner.refuse(
            name, f"CloudFormation's quota of {limit:,} bytes, less a {100 - TEMPLATE_MARGIN * 100:.0f}% margin",
            f"a template of {size:,} bytes", f"{allowed:,}", owner.fits(size, allowed),
        )


@dataclass
class RoleSize:
    inline: int = 0  # characters of all its inline policies
    attached: int = 0  # managed policies attached


def role_sizes(name: str, template: Mapping[str, Any], outputs: Outputs | None = None,
               managed: Callable[[str, int], None] = lambda logical, size: None) -> dict[str, RoleSize]:
    """Each role's policy sizes at their longest; ``managed`` sees each managed policy's size."""
    resources = template.get("Resources", {})
    resolve = longest_values(name, resources, outputs)
    roles: dict[str, RoleSize] = {}
    for logical, resource in resources.items():
        properties = resource.get("Properties") or {}
        type_ = resource.get("Type")
        if type_ == "AWS::IAM::Role":
            role = roles.setdefault(logical, RoleSize())
            role.inline += sum(policy_characters(resolve(p["PolicyDocument"])) for p in properties.get("Policies", []))
            role.attached += len(properties.get("ManagedPolicyArns", []))
        elif type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            size = policy_characters(resolve(properties["PolicyDocument"]))
            for ref in properties.get("Roles", []):
                if isinstance(ref, dict) and "Ref" in ref:
                    role = roles.setdefault(ref["Ref"], RoleSize())
                    if type_ == "AWS::IAM::ManagedPolicy":
                        role.attached += 1
                    else:
                        role.inline += size
            if type_ == "AWS::IAM::ManagedPolicy":
                managed(logical, size)
    return roles


def check_policy_sizes(
    name: str, template: Mapping[str, Any], owner: StackOwner, outputs: Outputs | None = None,
    *, inline_limit: int | None = None, managed_limit: int | None = None, attached_limit: int | None = None,
) -> None:
    """Each role's inline policies together, each managed policy, and the managed policies per role."""
    inline_limit = inline_limit or MAX_INLINE_POLICY_CHARACTERS
    managed_limit = managed_limit or MAX_MANAGED_POLICY_CHARACTERS
    attached_limit = MAX_MANAGED_POLICIES_PER_ROLE if attached_limit is None else attached_limit

    def check_managed(logical: str, size: int) -> None:
        if size > managed_limit:
            raise owner.refuse(name, "IAM's size of a managed policy", f"write managed policy {logical} of {size:,} characters",
                               f"{managed_limit:,}")

    for role, size in sorted(role_sizes(name, template, outputs, check_managed).items()):
        if size.inline > inline_limit:
            raise owner.refuse(name, "IAM's size of a role's inline policies together",
                               f"give role {role} {size.inline:,} characters of inline policy", f"{inline_limit:,}")
        if size.attached > attached_limit:
            raise owner.refuse(name, "IAM's quota of managed policies per role", f"attach {size.attached} managed policies to role {role}",
                               str(attached_limit))


def policy_characters(document: Any) -> int:
    """What IAM counts: the JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


def longest_values(stack: str, resources: Mapping[str, Any], outputs: Outputs | None = None) -> Resolver:
    """A resolver that gives each reference the longest value it can take when deployed."""
    physical: dict[str, str] = {}
    types: dict[str, str] = {}
    for logical, resource in resources.items():
        type_ = resource.get("Type", "")
        types[logical] = type_
        name = (resource.get("Properties") or {}).get(NAME_PROPERTY.get(type_, ""))
        physical[logical] = name if isinstance(name, str) else "x" * _LONGEST_NAME.get(type_, 64)
        if type_ == "AWS::SNS::Topic":
            physical[logical] = f"arn:aws-us-gov:sns:{_LONGEST_REGION}:{_LONGEST_ACCOUNT}:{physical[logical]}"
        elif type_ == "AWS::IAM::ManagedPolicy":
            physical[logical] = f"arn:aws-us-gov:iam::{_LONGEST_ACCOUNT}:policy/{physical[logical]}"
    return Resolver(stack, _LONGEST_REGION, _LONGEST_ACCOUNT, physical, types, lambda logical, type_, attribute: "x" * 64,
                    stack_output=outputs.read if outputs else None, exported=outputs.exported if outputs else None)


@dataclass
class Outputs:
    """Another stack's output, at its longest, for a reference between two stacks of the assembly (by
    stack and output name, or by export name)."""

    templates: Mapping[str, StackTemplate]
    loaded: dict[str, dict[str, Any]]

    def template(self, stack: str) -> dict[str, Any]:
        return self.loaded.get(stack) or self.loaded.setdefault(stack, self.templates[stack].load())

    def read(self, stack: str, output: str) -> Any:
        template = self.template(stack)
        return longest_values(stack, template.get("Resources", {}), self)(template["Outputs"][output]["Value"])

    def exported(self, name: str) -> Any:
        for stack in self.templates:
            for key, output in (self.template(stack).get("Outputs") or {}).items():
                if (output.get("Export") or {}).get("Name") == name:
                    return self.read(stack, key)
        raise KeyError(f"no stack of the assembly exports {name}")
