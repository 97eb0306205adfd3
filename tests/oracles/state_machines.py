"""Two oracles for every state machine a test synthesizes, independent of this project's own model of them:

- botocore's service models (installed with boto3), for every AWS SDK task (``arn:aws:states:::aws-sdk:<service>:
  <action>``) and every optimized integration this file knows (``sns:publish``, ``events:putEvents``, ...): the
  operation exists, every member named at every depth exists (``Name.$`` names ``Name``, its value is dynamic),
  every required member is there, literal values have the member's type and, for an enum, one of its values.
  JSONata states (``Arguments``) likewise: a ``{% ... %}`` value is dynamic.
- asl-validator (npm, pinned in package.json), the Amazon States Language's JSON schemas and its path and ARN
  checks, on each definition, JSONPath and JSONata alike, in one node process that each test process keeps for all its calls.

Definitions are read from a cloud assembly (``cdk.out``) and their intrinsics resolved with
``ddb_datapipeline.template_resolver`` against stand-in names (a resource's logical id, a placeholder for another
stack's output): the shape of a definition, not its names, is what both oracles judge.
"""
from __future__ import annotations

import atexit
import json
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("asl_validate.js")

# Step Functions' AWS SDK integration names the service as the AWS SDK for Java v2 does; where botocore's name
# differs, this table maps it (source: Step Functions Developer Guide, "AWS SDK service integrations", the
# "service name" column for Step Functions and EventBridge; botocore's names read from botocore/data/). A service
# absent from here is looked up under its own name.
SDK_SERVICE_NAMES = {"sfn": "stepfunctions", "eventbridge": "events"}

# Optimized integrations (``arn:aws:states:::<service>:<action>``) whose parameters are the API's request members,
# as (botocore service, operation). Source: Step Functions Developer Guide, each integration's page ("Supported
# parameters" lists the API's request members). Another optimized resource is reported, not skipped.
OPTIMIZED = {
    "sns:publish": ("sns", "Publish"),
    "sqs:sendMessage": ("sqs", "SendMessage"),
    "events:putEvents": ("events", "PutEvents"),
    "states:startExecution": ("stepfunctions", "StartExecution"),
    "lambda:invoke": ("lambda", "Invoke"),
    "dynamodb:getItem": ("dynamodb", "GetItem"),
    "dynamodb:putItem": ("dynamodb", "PutItem"),
    "dynamodb:updateItem": ("dynamodb", "UpdateItem"),
    "dynamodb:deleteItem": ("dynamodb", "DeleteItem"),
}
# Where an optimized integration takes a JSON object for a member the API types as a string (Step Functions
# serializes it). Source: Step Functions Developer Guide, "Add EventBridge events" (Detail), "Publish messages to
# an Amazon SNS topic" (Message), "Send messages to an Amazon SQS queue" (MessageBody), "Start a new execution"
# (Input).
JSON_STRINGS = {("events:putEvents", "Entries[].Detail"), ("sns:publish", "Message"), ("sqs:sendMessage", "MessageBody"),
                ("states:startExecution", "Input")}
# AWS SDK integrations name members "in PascalCase, even if the native service API is in camelCase" (Step Functions
# Developer Guide, "AWS SDK service integrations", API naming conventions): the botocore member with its first
# letter upper-cased, except these (the same page: an API field "Equals" is "EqualsValue"; re:Post, "step function
# dynamodb query with boolean filter": DynamoDB's BOOL is "Bool").
SDK_MEMBER_NAMES = {"Equals": "EqualsValue", "BOOL": "Bool"}
# The suffixes an integration pattern adds to a Resource (Step Functions Developer Guide, "Integration patterns").
PATTERNS = (".waitForTaskToken", ".sync:2", ".sync")
PREFIX = "arn:aws:states:::"


@dataclass(frozen=True)
class Definition:
    """One state machine's definition, resolved, named ``label`` (stack/logical id) in findings."""

    label: str
    body: Mapping[str, Any]


def definitions_in(outdir: Path) -> list[Definition]:
    """Every state machine definition of every stack of the cloud assembly in ``outdir``."""
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.template_resolver import Resolver

    found = []
    for stack in load_assembly(outdir).stacks:
        machines = stack.resources_of_type("AWS::StepFunctions::StateMachine")
        if not machines:
            continue
        types = {logical: str(r.get("Type")) for logical, r in stack.resources.items()}
        resolve = Resolver(stack.name, stack.region or "us-east-1", stack.account or "123456789012", {k: k for k in types}, types,
                           lambda logical, type_, attribute: f"{logical}.{attribute}",
                           stack_output=lambda name, output: f"{name}.{output}", exported=lambda name: f"import.{name}")
        for logical, machine in machines.items():
            text = resolve(machine["Properties"]["DefinitionString"])
            found.append(Definition(f"{stack.name}/{logical}", json.loads(text)))
    return found


def states_of(definition: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """Every state at every depth (parallel branches, map processors), with its query language."""
    language = str(definition.get("QueryLanguage", "JSONPath"))
    for name, state in (definition.get("States") or {}).items():
        yield name, state, str(state.get("QueryLanguage", language))
        for branch in state.get("Branches") or []:
            yield from states_of({"QueryLanguage": language, **branch})
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from states_of({"QueryLanguage": language, **processor})


@cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@cache
def _service_model(name: str) -> Any:
    return _session().get_service_model(name)


def _operation(resource: str) -> tuple[str, Any] | str:
    """(the integration's key, botocore's operation model) of a Task's Resource, or why there is none."""
    integration = resource.removeprefix(PREFIX)
    for suffix in PATTERNS:
        integration = integration.removesuffix(suffix)
    if integration.startswith("aws-sdk:"):
        _, service, action = integration.split(":", 2)
        botocore_name = SDK_SERVICE_NAMES.get(service, service)
        try:
            model = _service_model(botocore_name)
        except Exception:  # botocore.exceptions.UnknownServiceError
            return f"service '{service}' (botocore '{botocore_name}') has no botocore model"
        wanted = action[:1].upper() + action[1:]
        names = {n.lower(): n for n in model.operation_names}
        if wanted.lower() not in names:
            return f"{service} has no operation {wanted} (from action '{action}')"
        return integration, model.operation_model(names[wanted.lower()])
    if integration not in OPTIMIZED:
        return f"the optimized integration '{integration}' is not in the oracle's table"
    service, operation = OPTIMIZED[integration]
    return integration, _service_model(service).operation_model(operation)


def _dynamic(value: Any, language: str) -> bool:
    return language == "JSONata" and isinstance(value, str) and value.strip().startswith("{%") and value.strip().endswith("%}")


LITERAL_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "blob": (str,), "timestamp": (str, int, float),
    "integer": (int,), "long": (int,), "float": (int, float), "double": (int, float), "boolean": (bool,),
    "list": (list,), "map": (dict,), "structure": (dict,),
}


def _check(value: Any, shape: Any, where: str, language: str, integration: str, findings: list[str]) -> None:
    """``value`` (a literal) against botocore's ``shape``; ``where`` the member path for findings."""
    if _dynamic(value, language):
        return
    kind = shape.type_name
    rule = where.split(".", 1)[1] if "." in where else where
    if kind == "string" and isinstance(value, dict | list) and (integration, _plain(rule)) in JSON_STRINGS:
        return
    expected = LITERAL_TYPES.get(kind, (object,))
    if not isinstance(value, expected) or (kind not in ("boolean",) and isinstance(value, bool)):
        findings.append(f"{where}: {json.dumps(value)[:60]} is not a {kind}")
        return
    if kind == "string" and shape.enum and value not in shape.enum:
        findings.append(f"{where}: '{value}' is not one of {', '.join(shape.enum)}")
    elif kind == "list":
        for index, item in enumerate(value):
            _check(item, shape.member, f"{where}[{index}]", language, integration, findings)
    elif kind == "map":
        for key, item in value.items():
            _check(item, shape.value, f"{where}.{key}", language, integration, findings)
    elif kind == "structure":
        _check_members(value, shape, where, language, integration, findings)


def _plain(path: str) -> str:
    """``Entries[0].Detail`` -> ``Entries[].Detail``."""
    import re

    return re.sub(r"\[\d+\]", "[]", path)


def member_names(shape: Any, integration: str) -> dict[str, str]:
    """The names a state gives the members of ``shape`` in ``integration`` -> botocore's names."""
    if not integration.startswith("aws-sdk:"):
        return {member: member for member in shape.members}
    return {SDK_MEMBER_NAMES.get(member, member[:1].upper() + member[1:]): member for member in shape.members}


def _check_members(value: Mapping[str, Any], shape: Any, where: str, language: str, integration: str, findings: list[str]) -> None:
    names = member_names(shape, integration)
    named = set()
    for key, item in value.items():
        dynamic = language == "JSONPath" and key.endswith(".$")
        name = key[:-2] if dynamic else key
        if name not in names:
            findings.append(f"{where}: {shape.name} has no member '{name}' (members: {', '.join(sorted(names))})")
            continue
        named.add(names[name])
        if not dynamic:
            _check(item, shape.members[names[name]], f"{where}.{name}", language, integration, findings)
    by_botocore = {member: name for name, member in names.items()}
    for required in shape.required_members:
        if required not in named:
            findings.append(f"{where}: {shape.name} requires '{by_botocore[required]}'")


def botocore_findings(definitions: Iterable[Definition]) -> list[str]:
    """Every Task of every definition against botocore's model of the operation it calls; one line per finding."""
    findings: list[str] = []
    for definition in definitions:
        for name, state, language in states_of(definition.body):
            resource = state.get("Resource")
            if state.get("Type") != "Task" or not isinstance(resource, str) or not resource.startswith(PREFIX):
                continue
            label = f"{definition.label} {name} ({resource.removeprefix(PREFIX)})"
            found = _operation(resource)
            if isinstance(found, str):
                findings.append(f"{label}: {found}")
                continue
            integration, operation = found
            arguments = state.get("Arguments") if language == "JSONata" else state.get("Parameters")
            if arguments is None:
                arguments = {}
            if _dynamic(arguments, language):
                continue
            if not isinstance(arguments, dict):
                findings.append(f"{label}: its {'Arguments' if language == 'JSONata' else 'Parameters'} are not an object")
                continue
            lines: list[str] = []
            _check_members(arguments, operation.input_shape, operation.name, language, integration, lines)
            findings += [f"{label}: {line}" for line in lines]
    return findings


class _Runner:
    """tests/oracles/asl_validate.js, started on a process's first call and kept for its later ones: one request line,
    one answer line. Its error output goes to a file, so a chatty node can never block on a full pipe."""

    def __init__(self) -> None:
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(["node", str(RUNNER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors,
                                        text=True, cwd=ROOT)
        atexit.register(self.close)

    def ask(self, bodies: list[Any]) -> list[list[str]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps(bodies) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # it has exited: reported below
        answer = self.process.stdout.readline()
        if not answer:
            self.process.wait()
            self.errors.seek(0)
            stderr = self.errors.read().decode(errors="replace").strip()
            raise RuntimeError(f"asl-validator's runner failed ({self.process.returncode}): {stderr[:500]}")
        results: list[list[str]] = json.loads(answer)
        return results

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()  # its input ends: it exits
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()


@cache
def _runner() -> _Runner:
    return _Runner()


def asl_findings(definitions: Iterable[Definition]) -> list[str]:
    """asl-validator on every definition, in this process's one node process (tests/oracles/asl_validate.js)."""
    items = list(definitions)
    if not items:
        return []
    results = _runner().ask([d.body for d in items])
    assert len(results) == len(items)
    return [f"{d.label}: {error}" for d, errors in zip(items, results, strict=True) for error in errors]


def check_assembly(outdir: Path) -> int:
    """Both oracles on every state machine of the assembly; fails with every finding. Returns how many
    definitions were judged."""
    definitions = definitions_in(outdir)
    findings = botocore_findings(definitions) + asl_findings(definitions)
    assert findings == [], "\n".join(findings)
    return len(definitions)
