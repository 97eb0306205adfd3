"""IAM oracles this project did not write: parliament (duo-labs, a policy linter) and AWS's Service
Authorization Reference (SAR) as parliament ships it (``iam_definition.json``: every action, its resource
types and the condition keys each supports).

Every other permission check of the test suite is a model this project wrote, and a model can agree with
itself while AWS disagrees: a grant under a condition key the action never carries can never match, and a
model that adds that key to its own requests calls the grant fine. These oracles read what AWS publishes.

``policy_documents`` finds every policy document of a synthesized assembly (identity, trust, key, bucket,
topic, queue, bus and table policies: any property holding a ``Statement``), resolved with the permission
check's own resolver (``assembly_view.stack_resolvers``), and ``parliament_findings`` lints each with
parliament, less the acknowledged findings of ``acknowledged.py``. ``model_mismatches`` (the rules of the package's
``permissions/service_reference.py``) checks the model's requests against the same SAR data.

Parliament loads once per process (a 10 MB JSON file; ``_memoise`` indexes and caches its two slowest pure
functions); a document is analysed once per identical text, since the stage copies of the delivery pipeline
repeat the stacks.
"""
from __future__ import annotations

import functools
import importlib
import importlib.resources
import json
import sys
import types
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddb_datapipeline.assembly import StackArtifact, load_assembly
from ddb_datapipeline.permissions.assembly_view import World, stack_resolvers
from ddb_datapipeline.permissions.audit import all_requests
from ddb_datapipeline.permissions.service_reference import ServiceAuthorization, mismatches
from ddb_datapipeline.template_resolver import Resolver, Unresolvable

# The kind of policy a property holds, by resource type and property (the generic walk below finds any other).
KINDS = {
    ("AWS::IAM::Role", "AssumeRolePolicyDocument"): "trust",
    ("AWS::IAM::Role", "Policies"): "identity",
    ("AWS::IAM::Policy", "PolicyDocument"): "identity",
    ("AWS::IAM::ManagedPolicy", "PolicyDocument"): "identity",
    ("AWS::IAM::User", "Policies"): "identity",
    ("AWS::IAM::Group", "Policies"): "identity",
    ("AWS::KMS::Key", "KeyPolicy"): "key",
    ("AWS::S3::BucketPolicy", "PolicyDocument"): "bucket",
    ("AWS::SNS::TopicPolicy", "PolicyDocument"): "topic",
    ("AWS::SQS::QueuePolicy", "PolicyDocument"): "queue",
    ("AWS::Events::EventBus", "Policy"): "bus",
    ("AWS::Events::EventBusPolicy", "Statement"): "bus",
    ("AWS::DynamoDB::Table", "ResourcePolicy"): "table",
}


@dataclass(frozen=True)
class Document:
    """One policy document of a template, resolved: where it is and what kind of policy it is."""

    stack: str
    logical_id: str
    path: str  # the construct path of the resource (``aws:cdk:path``), or ``<stack>/<logical id>``
    resource_type: str
    where: str  # the property path, e.g. ``Policies[0].PolicyDocument``
    kind: str  # identity, trust, key, bucket, topic, queue, bus, table, or other
    document: Mapping[str, Any]
    resource_arn: str  # the resource the policy is attached to, where it has one (a trust policy's role)

    @property
    def label(self) -> str:
        return f"{self.stack}/{self.logical_id} {self.where}"


@dataclass(frozen=True)
class Finding:
    issue: str  # parliament's issue id, e.g. UNKNOWN_CONDITION_FOR_ACTION
    detail: str
    document: Document

    def line(self) -> str:
        return f"{self.document.label} [{self.document.path}] ({self.document.kind}): {self.issue}: {self.detail}"


@functools.cache
def parliament() -> types.ModuleType:
    """parliament, imported once. parliament 1.6.4 finds its data files with ``pkg_resources``, which
    setuptools 81 and later no longer ship: a stand-in that answers ``resource_filename`` from
    ``importlib.resources`` is put in place for the import only, and removed again."""
    shim = None
    try:
        import pkg_resources  # noqa: F401
    except ModuleNotFoundError:
        shim = types.ModuleType("pkg_resources")
        shim.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    try:
        with warnings.catch_warnings():  # parliament 1.6.4's regular expressions have escapes Python warns about when it compiles them
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            import parliament as module

            for name in COMMUNITY_AUDITORS:
                importlib.import_module(f"parliament.community_auditors.{name}")
    finally:
        if shim is not None:
            del sys.modules["pkg_resources"]
    _memoise(module)
    return module


def _memoise(module: types.ModuleType) -> None:
    """Two of parliament's pure functions dominate its time here: ``get_privilege_info`` scans every
    service's every action on each call, and ``is_arn_match`` globs recursively. Both answer the same for
    the same arguments, so they are given an index and a cache (measured on the cdk.json synthesis and its
    stage copies: 0.96 s of CPU before, 0.36 s after, with the same findings)."""
    statement = importlib.import_module("parliament.statement")
    index: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for service in module.iam_definition:
        for privilege in service["privileges"]:
            index.setdefault((service["prefix"], privilege["privilege"]), (service, privilege))

    def get_privilege_info(service: str, action: str) -> dict[str, Any]:
        found = index.get((service, action))
        if found is None:
            raise module.UnknownActionException(f"Unknown action {service}:{action}")
        service_info, privilege_info = found
        privilege_info["service_resources"] = service_info["resources"]
        privilege_info["service_conditions"] = service_info["conditions"]
        return privilege_info

    is_arn_match = functools.lru_cache(maxsize=65536)(module.is_arn_match)
    statement.get_privilege_info = get_privilege_info
    module.is_arn_match = is_arn_match
    statement.is_arn_match = is_arn_match


def service_authorization() -> list[dict[str, Any]]:
    """The SAR as parliament bundles it (a list of services, each with its privileges)."""
    return parliament().iam_definition  # type: ignore[no-any-return]


@functools.cache
def sar() -> ServiceAuthorization:
    return ServiceAuthorization.from_definition(service_authorization())


def model_mismatches(world: World) -> list[str]:
    """Where the runtime model's requests disagree with AWS's Service Authorization Reference (one line each):
    a context key AWS does not list for the action, a resource of a type the action does not act on, an
    action AWS does not have; every request of every pipeline and state machine of the world, against
    parliament's copy of the SAR (``permissions/service_reference.py``)."""
    return [mismatch.line() for mismatch in mismatches(all_requests(world), sar())]


def _is_document(node: Any) -> bool:
    if not isinstance(node, Mapping) or "Statement" not in node:
        return False
    statements = node["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    return all(isinstance(s, Mapping) and "Effect" in s for s in statements)


def _walk(node: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if _is_document(node):
        yield path, node
        return
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def _bus_policy_document(properties: Mapping[str, Any]) -> Mapping[str, Any]:
    """An ``AWS::Events::EventBusPolicy`` holds one statement (``Statement``, or the older ``Action``,
    ``Principal``, ``Condition``); as a document it is that statement on the bus."""
    statement = properties.get("Statement") or {
        "Effect": "Allow", "Action": properties.get("Action"), "Principal": properties.get("Principal"),
        **({"Condition": properties["Condition"]} if properties.get("Condition") else {}),
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


def _resource_arn(resolve: Resolver, logical: str) -> str:
    """The ARN of the resource holding the policy (a trust policy's role), or "" where the resource has none."""
    try:
        return str(resolve({"Fn::GetAtt": [logical, "Arn"]}))
    except Unresolvable:
        return ""


def _stand_in(logical: str, resource_type: str, attribute: str) -> str:
    """An attribute the world does not model: an ARN of the resource's service for ``Arn`` (``arn:aws:codebuild:*:*:project/<id>``,
    valid and plainly not a real one), a ``<logical.attribute>`` placeholder for anything else."""
    if attribute != "Arn":
        return f"<{logical}.{attribute}>"
    _, service, kind = resource_type.lower().split("::")
    return f"arn:aws:{service}:*:*:{kind}/{logical}"


def _metadata_paths(directory: Path, stack: StackArtifact) -> dict[str, str]:
    """Logical id -> construct path from the stack's metadata in the cloud assembly (``aws:cdk:logicalId``
    entries), for a synth without ``aws:cdk:path`` on its resources (an app run outside the CDK CLI)."""
    manifest = json.loads((directory / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        if (artifact.get("properties") or {}).get("templateFile") != stack.template_file:
            continue
        metadata = artifact.get("metadata") or {}
        if artifact.get("additionalMetadataFile"):
            metadata = {**metadata, **json.loads((directory / artifact["additionalMetadataFile"]).read_text())}
        return {str(entry["data"]): path.lstrip("/") for path, entries in metadata.items()
                for entry in entries if entry.get("type") == "aws:cdk:logicalId"}
    return {}


def policy_documents(directory: Path, stacks: Collection[str] | None = None) -> Iterator[Document]:
    """Every policy document of every stack (or of ``stacks``) of the cloud assembly in ``directory``, with its
    intrinsics resolved."""
    assembly = load_assembly(directory)
    resolvers = stack_resolvers(assembly, _stand_in)
    for stack in assembly.stacks:
        if stacks is not None and stack.name not in stacks:
            continue
        yield from _stack_documents(stack, resolvers[stack.name], functools.cache(functools.partial(_metadata_paths, directory, stack)))


def _stack_documents(stack: StackArtifact, resolve: Resolver, paths: Callable[[], dict[str, str]]) -> Iterator[Document]:
    for logical, resource in sorted(stack.resources.items()):
        resource_type = str(resource.get("Type"))
        properties = resource.get("Properties") or {}
        if resource_type == "AWS::Events::EventBusPolicy":
            found: list[tuple[str, Mapping[str, Any]]] = [("Statement", _bus_policy_document(properties))]
        else:
            found = list(_walk(properties, ""))
        for where, raw in found:
            top = where.split(".")[0].split("[")[0]
            kind = KINDS.get((resource_type, top), "other")
            try:
                document = resolve(raw)
            except Unresolvable as error:
                raise AssertionError(f"{stack.name}/{logical} {where}: cannot resolve the policy for the IAM oracles: {error}") from None
            path = str((resource.get("Metadata") or {}).get("aws:cdk:path") or paths().get(logical) or f"{stack.name}/{logical}")
            yield Document(stack.name, logical, path, resource_type, where, kind, document, _resource_arn(resolve, logical))


def for_parliament(document: Document) -> Mapping[str, Any]:
    """The document as parliament reads it. Parliament lints statements that name a resource, so a
    trust policy (no ``Resource`` element: the role is the resource) gets its role's ARN; every other
    document goes as written."""
    if document.kind != "trust":
        return document.document
    statements = document.document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    return {**document.document, "Statement": [{**s, "Resource": document.resource_arn or "*"} for s in statements]}


# Parliament's community auditors this oracle runs: NotPrincipal/NotResource with Allow, actions that return
# credentials, permission-management actions, privilege-escalation combinations, and multi-value operators on
# single-value keys. ``sensitive_access`` is left out: it reports only on a list of sensitive resources given in
# its configuration, and this project has none to give (without one it reports nothing, at the cost of one
# expansion of every allowed action).
COMMUNITY_AUDITORS = ("advanced_policy_elements", "credentials_exposure", "permissions_management", "privilege_escalation",
                      "single_value_condition_too_permissive")


@functools.lru_cache(maxsize=4096)
def _analyse(text: str) -> tuple[tuple[str, str], ...]:
    """Parliament's own checks, then the community auditors above, as ``include_community_auditors`` runs them
    (an auditor's exception becomes an EXCEPTION finding). Each of three auditors expands every allowed
    action again; the expansion is computed once per policy here, which makes the auditors about four times
    cheaper and changes no finding."""
    module = parliament()
    policy = module.analyze_policy_string(text)
    if policy.is_valid and policy.statements:
        policy.get_allowed_actions = functools.cache(policy.get_allowed_actions)
        for name in COMMUNITY_AUDITORS:
            auditor = importlib.import_module(f"parliament.community_auditors.{name}")
            try:
                auditor.audit(policy)
            except Exception as error:  # noqa: BLE001 - reported as parliament reports it
                policy.add_finding("EXCEPTION", detail=str(error), location={"community_auditor": name})
    return tuple((f.issue, _detail(f)) for f in policy.findings)


def _detail(finding: Any) -> str:
    """What the finding is about: parliament's detail, or the actions a community auditor lists in its location."""
    actions = (finding.location or {}).get("actions")
    detail = finding.detail or (sorted(actions) if actions else "")  # an auditor's actions come from a set: sorted, so a line is stable
    return detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True, default=str)


def analyse(document: Document) -> list[Finding]:
    return [Finding(issue, detail, document) for issue, detail in _analyse(json.dumps(for_parliament(document), sort_keys=True))]


def all_findings(*assembly_dirs: Path, stacks: Collection[str] | None = None) -> list[Finding]:
    """Parliament's findings on every policy document of these cloud assemblies (of their ``stacks`` only, if given)."""
    return [finding for directory in assembly_dirs for document in policy_documents(directory, stacks) for finding in analyse(document)]


def unaccepted(findings: Iterable[Finding]) -> list[str]:
    """The findings ``acknowledged.py`` does not accept, one line each."""
    from tests.oracles.acknowledged import accepts

    return [finding.line() for finding in findings if not accepts(finding)]


def parliament_findings(*assembly_dirs: Path, stacks: Collection[str] | None = None) -> list[str]:
    """Parliament's findings on these assemblies (``stacks`` of them) that ``acknowledged.py`` does not accept, one line each."""
    return unaccepted(all_findings(*assembly_dirs, stacks=stacks))
