"""Readable text for CloudFormation intrinsic functions.

Synthesized templates carry bucket names, role names and ARNs as ``{"Ref": ...}`` or
``{"Fn::GetAtt": ...}`` because they are only known at deploy time. The report shows them as
placeholders in CloudFormation's own ``Fn::Sub`` notation (``${ExportBucketC5ED3E47}``,
``${RolesPipelineRole8C550129.Arn}``, ``${AWS::AccountId}``), which reads like the final string and
names the resource whose value will appear there.
"""
from __future__ import annotations

import json
import re
from typing import Any


def is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _FUNCTIONS | {"Ref"}


_FUNCTIONS = {
    "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs", "Fn::If", "Fn::ImportValue",
    "Fn::Join", "Fn::Length", "Fn::Select", "Fn::Split", "Fn::Sub", "Fn::ToJsonString", "Fn::Transform",
    "Fn::And", "Fn::Equals", "Fn::Not", "Fn::Or", "Fn::Contains", "Fn::EachMemberEquals",
    "Fn::EachMemberIn", "Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll", "Fn::GetStackOutput",
}


def text(value: Any) -> str:
    """One string for a template value: strings as they are, intrinsics as placeholders, scalars as
    JSON (``true``, ``5``), anything else as compact JSON with its intrinsics resolved."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if is_intrinsic(value):
        return _intrinsic(value)
    return json.dumps(resolve(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def resolve(value: Any) -> Any:
    """The same structure with every intrinsic replaced by its placeholder string."""
    if is_intrinsic(value):
        return _intrinsic(value)
    if isinstance(value, dict):
        return {key: resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item) for item in value]
    return value


def _intrinsic(node: dict[str, Any]) -> str:
    (name, args), = node.items()
    if name == "Ref":
        return "${" + text(args) + "}"
    if name == "Fn::GetAtt":
        parts = args.split(".", 1) if isinstance(args, str) else [text(a) for a in args]
        return "${" + ".".join(parts) + "}"
    if name == "Fn::Join" and isinstance(args, list) and len(args) == 2 and isinstance(args[1], list):
        return text(args[0]).join(text(item) for item in args[1])
    if name == "Fn::Sub":
        if isinstance(args, str):
            return args
        if isinstance(args, list) and len(args) == 2 and isinstance(args[1], dict):
            variables = {key: text(item) for key, item in args[1].items()}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: variables.get(m.group(1), m.group(0)), text(args[0]))
    if name == "Fn::Select" and isinstance(args, list) and len(args) == 2 and isinstance(args[1], list):
        index = args[0]
        if isinstance(index, (int, str)) and str(index).isdigit() and int(index) < len(args[1]):
            return text(args[1][int(index)])
    if name == "Fn::ImportValue":
        return "${Import:" + text(args) + "}"
    if name == "Fn::GetStackOutput" and isinstance(args, dict) and {"StackName", "OutputName"} <= set(args):
        # Another stack's output (a table stack reading its environment stack's bucket or role).
        return "${" + text(args["StackName"]) + "." + text(args["OutputName"]) + "}"
    short = name.removeprefix("Fn::")
    return "${" + short + "(" + json.dumps(resolve(args), sort_keys=True, separators=(",", ":")) + ")}"


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
