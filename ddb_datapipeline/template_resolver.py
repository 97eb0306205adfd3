"""Resolves CloudFormation intrinsics of a synthesized template against a deployed stack.

The smoke check compares what was deployed with what was synthesized, so every ``Ref``,
``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub`` and pseudo parameter must become the physical value the
deployment has (the review's placeholders, in ``review/intrinsics.py``, serve the opposite purpose).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"

# The property that fixes a resource's physical name, where the template sets one.
NAME_PROPERTY = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Events::EventBus": "Name",
}


class Unresolvable(Exception):
    pass


_ARN_FORMATS = {
    "AWS::S3::Bucket": "arn:{partition}:s3:::{id}",
    "AWS::KMS::Key": "arn:{partition}:kms:{region}:{account}:key/{id}",
    "AWS::IAM::Role": "arn:{partition}:iam::{account}:role/{id}",
    "AWS::IAM::InstanceProfile": "arn:{partition}:iam::{account}:instance-profile/{id}",
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{id}",
    "AWS::SNS::Topic": "{id}",  # Ref of a topic is its ARN already
    "AWS::StepFunctions::StateMachine": "{id}",  # and so is Ref of a state machine
    "AWS::Events::EventBus": "arn:{partition}:events:{region}:{account}:event-bus/{id}",
    # CloudFormation's Fn::GetAtt Arn of a log group ends in ':*' (AWS::Logs::LogGroup return values).
    "AWS::Logs::LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{id}:*",
}


@dataclass
class Resolver:
    """Resolves a template value against a deployed stack."""

    stack_name: str
    region: str
    account: str
    physical: Mapping[str, str]  # logical id -> physical id
    types: Mapping[str, str]  # logical id -> resource type
    extra_attributes: Callable[[str, str, str], str | None] = lambda logical, type_, attribute: None
    # Another stack's output, resolved against that stack: (stack name, output name) -> value. A table
    # stack reads the environment stack's bucket, key, topic and roles this way (Fn::GetStackOutput).
    stack_output: Callable[[str, str], Any] | None = None
    # The same through an export (Fn::ImportValue, where "@aws-cdk/core:defaultCrossStackReferences" is strong).
    exported: Callable[[str], Any] | None = None

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Join":
                delimiter, items = value
                return delimiter.join(str(self(item)) for item in self(items))
            if key == "Fn::Sub":
                return self.sub(value)
            if key == "Fn::Select":
                index, items = value
                return self(items)[int(self(index))]
            if key == "Fn::Split":
                delimiter, source = value
                return str(self(source)).split(delimiter)
            if key == "Fn::GetStackOutput" and self.stack_output is not None:
                arguments = self(value)
                return self.stack_output(arguments["StackName"], arguments["OutputName"])
            if key == "Fn::ImportValue" and self.exported is not None:
                return self.exported(str(self(value)))
            if key.startswith("Fn::"):
                raise Unresolvable(f"{key} is not supported by the smoke check")
        return {key: self(value) for key, value in node.items()}

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self.stack_name,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.physical:
            return self.physical[name]
        raise Unresolvable(f"Ref {name}: no such deployed resource")

    def get_att(self, logical: str, attribute: str) -> str:
        if logical not in self.physical:
            raise Unresolvable(f"Fn::GetAtt {logical}.{attribute}: no such deployed resource")
        type_ = self.types[logical]
        physical = self.physical[logical]
        if attribute == "Arn" and type_ in _ARN_FORMATS:
            return _ARN_FORMATS[type_].format(partition=PARTITION, region=self.region, account=self.account, id=physical)
        if type_ == "AWS::SNS::Topic" and attribute == "TopicName":
            return physical.rsplit(":", 1)[-1]
        if type_ == "AWS::SNS::Topic" and attribute == "TopicArn":
            return physical
        found = self.extra_attributes(logical, type_, attribute)
        if found is None:
            raise Unresolvable(f"Fn::GetAtt {logical}.{attribute} ({type_}) is not supported by the smoke check")
        return found

    def sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else (value[0], self(value[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return self.get_att(logical, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)
