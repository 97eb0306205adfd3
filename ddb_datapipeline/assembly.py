"""Reads a cloud assembly (``cdk.out``): its stacks, their templates and the validation report.

The review works from these files alone, so it shows exactly what CloudFormation will receive and
can be rebuilt from any kept ``cdk.out`` (a baseline from another branch included) without the app.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"


class AssemblyError(ValueError):
    """The directory is not a readable cloud assembly; the message is one line for the user."""


@dataclass(frozen=True)
class StackArtifact:
    name: str  # the CloudFormation stack name
    path: str  # the construct path of the stack, which prefixes cdk-nag's construct paths
    template_file: str  # relative to the assembly directory
    account: str | None  # None when the stack is environment-agnostic
    region: str | None
    template: dict[str, Any] = field(compare=False, repr=False)
    template_text: str = field(compare=False, repr=False)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {}) or {}

    def resources_of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in sorted(self.resources.items()) if v.get("Type") == type_name}

    def construct_paths(self) -> dict[str, str]:
        """Construct path (``Stack/Roles/EmrServicePolicy/Resource``) -> logical id, from the
        ``aws:cdk:path`` metadata the CDK leaves on each resource."""
        found = {}
        for logical_id, resource in self.resources.items():
            path = (resource.get("Metadata") or {}).get("aws:cdk:path")
            if isinstance(path, str):
                found[path] = logical_id
        return found


@dataclass(frozen=True)
class CloudAssembly:
    stacks: tuple[StackArtifact, ...]
    validation_report: dict[str, Any] | None = field(compare=False, repr=False)

    def stack(self, name: str) -> StackArtifact:
        for stack in self.stacks:
            if stack.name == name:
                return stack
        raise KeyError(name)


def _json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AssemblyError(f"{path.name}: cannot read {what}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise AssemblyError(f"{path.name}: {what} is not valid JSON: {error}") from None


def _environment(value: Any) -> tuple[str | None, str | None]:
    """``aws://111111111111/us-east-1`` -> (account, region); ``unknown-*`` parts become None."""
    if not isinstance(value, str) or not value.startswith("aws://"):
        return None, None
    account, _, region = value.removeprefix("aws://").partition("/")
    return (None if account.startswith("unknown") else account), (None if region.startswith("unknown") else region)


def _stack(directory: Path, name: str, path: str, template_file: str, environment: Any) -> StackArtifact:
    template_path = directory / template_file
    try:
        template_text = template_path.read_text(encoding="utf-8")
    except OSError as error:
        raise AssemblyError(f"{template_file}: cannot read the template of {name}: {error.strerror or error}") from None
    try:
        template = json.loads(template_text)
    except ValueError as error:
        raise AssemblyError(f"{template_file}: the template of {name} is not valid JSON: {error}") from None
    if not isinstance(template, dict):
        raise AssemblyError(f"{template_file}: the template of {name} is not a JSON object")
    account, region = _environment(environment)
    return StackArtifact(name, path, template_file, account, region, template, template_text)


def load_assembly(directory: Path) -> CloudAssembly:
    """The stacks of ``directory``, sorted by name. Reads ``manifest.json`` when present; a bare
    directory of ``*.template.json`` files (a kept copy of templates) works too."""
    if not directory.is_dir():
        raise AssemblyError(f"{directory}: not a directory; expected a cloud assembly such as cdk.out")
    stacks: list[StackArtifact] = []
    manifest_path = directory / "manifest.json"
    if manifest_path.exists():
        manifest = _json(manifest_path, "the assembly manifest")
        artifacts = manifest.get("artifacts", {}) if isinstance(manifest, dict) else {}
        for artifact_id, artifact in sorted(artifacts.items()):
            if not isinstance(artifact, dict) or artifact.get("type") != STACK_ARTIFACT:
                continue
            properties = artifact.get("properties", {})
            stacks.append(
                _stack(
                    directory,
                    properties.get("stackName", artifact_id),
                    artifact.get("displayName", artifact_id),
                    properties.get("templateFile", f"{artifact_id}.template.json"),
                    artifact.get("environment"),
                )
            )
    else:
        for template_path in sorted(directory.glob("*.template.json")):
            name = template_path.name.removesuffix(".template.json")
            stacks.append(_stack(directory, name, name, template_path.name, None))
    if not stacks:
        raise AssemblyError(f"{directory}: no stack templates found; run 'make synth' first")
    report_path = directory / "validation-report.json"
    report = _json(report_path, "the validation report") if report_path.exists() else None
    return CloudAssembly(tuple(sorted(stacks, key=lambda s: s.name)), report)
