"""Reads back what a deploy created and compares it with what the app produced and the configuration.

Two references, each for what it is good at:

- the synthesized cloud assembly (``cdk.out.local/``): every table, bucket, bucket policy, role,
  instance profile and pipeline of every stack, with CloudFormation's intrinsics (``Ref``,
  ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, pseudo parameters) resolved against the deployed stack's
  physical ids. Pipelines are compared object by object and field by field (order-insensitive within an
  object), with their parameter objects and values, name, description, tags and activation state;
- the configuration (``cdk.json``'s environments): each table's key schema and billing mode, and each
  pipeline's table, throughput ratios, schedule and EMR cluster, so a deploy that does not match the
  configuration is caught even when the template and the deployment agree.

Every difference is named (stack, resource, field, expected and deployed value); nothing stops at the
first one. Tables the configuration only references (not owned) are listed as "referenced, not deployed".
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ddb_datapipeline.assembly import AssemblyError, StackArtifact, load_assembly
from ddb_datapipeline.policies import is_tls_only
from ddb_datapipeline.template_resolver import Resolver, Unresolvable

from . import LocalDeployError
from .smoke_common import (
    Check,
    ClientFactory,
    buckets_listed,
    compare_fields,
    describe_table,
    field_tuples,
    iam_listed,
    key_schema,
    pipeline_definition,
    pipeline_descriptions,
    policy_document,
    principals,
)
from .smoke_config import check_configuration, check_stray_pipelines
from .smoke_report import BucketRow, PipelineRow, SmokeCheckFailed, SmokeReport, StackRow

__all__ = ["ClientFactory", "SmokeCheckFailed", "SmokeReport", "read_assembly", "smoke_check"]

OK_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
CHECKED_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::InstanceProfile",
    "AWS::DataPipeline::Pipeline",
)

# ---------------------------------------------------------------- the cloud assembly


def read_assembly(assembly_dir: Path) -> list[StackArtifact]:
    """The stacks of the local cloud assembly (every one has an account and region: local mode sets them)."""
    try:
        return list(load_assembly(assembly_dir).stacks)
    except AssemblyError as error:
        raise LocalDeployError(f"no usable cloud assembly in {assembly_dir}: {error}; synthesize first") from None



def smoke_check(endpoint: str, assembly_dir: Path, environments: list[Any]) -> SmokeReport:
    """Everything that differs, in one report; ``report.raise_for_differences()`` turns it into a failure."""
    from botocore.exceptions import BotoCoreError, ClientError

    report = SmokeReport(endpoint=endpoint)
    clients = ClientFactory(endpoint)
    check = Check(clients, report)
    stacks = read_assembly(assembly_dir)
    try:
        for stack in stacks:
            _check_stack(check, stack)
        check_configuration(check, environments)
        check_stray_pipelines(check, stacks, environments)
    except (BotoCoreError, ClientError) as error:
        raise LocalDeployError(f"smoke check could not read the deployment at {endpoint}: {error}") from None
    return report



def _check_stack(check: Check, stack: StackArtifact) -> None:
    from botocore.exceptions import ClientError

    cloudformation = check.clients("cloudformation", stack.region)
    try:
        status = cloudformation.describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        check.differ(stack.name, f"stack not found in {stack.region} ({error.response['Error'].get('Message', 'does not exist')})")
        return
    check.report.stacks.append(StackRow(stack.name, stack.region, status))
    check.count()
    if status not in OK_STATUSES:
        check.differ(stack.name, f"stack status is {status}, expected one of {', '.join(OK_STATUSES)}")
    deployed = cloudformation.describe_stack_resources(StackName=stack.name)["StackResources"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in deployed if r.get("LogicalResourceId")}
    resources = stack.template.get("Resources", {})
    types = {logical: resource["Type"] for logical, resource in resources.items()}
    account = stack.account if stack.account.isdigit() else check.clients("sts", stack.region).get_caller_identity()["Account"]

    def extra_attributes(logical: str, type_: str, attribute: str) -> str | None:
        if type_ == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            table = describe_table(check, stack.region, physical[logical])
            return table.get("LatestStreamArn") if table else None
        return None

    def stack_output(name: str, output: str) -> str:
        """What another deployed stack reports as its output (a table stack reads the environment stack's)."""
        described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        for found in described.get("Outputs", []):
            if found["OutputKey"] == output:
                return str(found["OutputValue"])
        raise Unresolvable(f"Fn::GetStackOutput: stack {name} has no output {output}")

    resolve = Resolver(stack.name, stack.region, account, physical, types, extra_attributes, stack_output=stack_output)

    missing_by_type: dict[str, list[str]] = defaultdict(list)
    present_types: set[str] = set()
    for logical, type_ in types.items():
        (present_types.add(type_) if logical in physical else missing_by_type[type_].append(logical))
    for type_, logicals in sorted(missing_by_type.items()):
        if type_ in CHECKED_TYPES or type_ in present_types:
            for logical in logicals:
                check.differ(f"{stack.name}/{logical}", f"{type_} was not deployed")
        else:
            check.report.not_modelled[type_] += len(logicals)

    for logical, resource in resources.items():
        if logical not in physical:
            continue
        where = f"{stack.name}/{logical}"
        properties = resource.get("Properties", {})
        try:
            checker = _CHECKERS.get(resource["Type"])
            if checker is not None:
                checker(check, stack, where, physical[logical], properties, resolve, resources)
        except Unresolvable as problem:
            check.differ(where, f"cannot compare: {problem}")


def _check_table(
    check: Check, stack: StackArtifact, where: str, name: str, properties: dict[str, Any], resolve: Resolver,
    resources: dict[str, Any],
) -> None:
    table = describe_table(check, stack.region, name)
    check.count()
    if table is None:
        check.differ(where, f"table {name} does not exist in {stack.region}")
        return
    expected_keys = key_schema(resolve(properties.get("AttributeDefinitions", [])), resolve(properties.get("KeySchema", [])))
    deployed_keys = key_schema(table.get("AttributeDefinitions", []), table.get("KeySchema", []))
    if expected_keys != deployed_keys:
        check.differ(where, f"table {name} key schema is {deployed_keys}, template says {expected_keys}")
    expected_billing = properties.get("BillingMode", "PROVISIONED")
    deployed_billing = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if expected_billing != deployed_billing:
        check.differ(where, f"table {name} billing mode is {deployed_billing}, template says {expected_billing}")
    check.count(2)


def _bucket_policy_of(resources: dict[str, Any], resolve: Resolver, bucket: str) -> dict[str, Any] | None:
    for resource in resources.values():
        if resource["Type"] == "AWS::S3::BucketPolicy":
            properties = resource.get("Properties", {})
            try:
                if resolve(properties.get("Bucket")) == bucket:
                    return resolve(properties.get("PolicyDocument", {}))
            except Unresolvable:
                continue
    return None


def _check_bucket(
    check: Check, stack: StackArtifact, where: str, name: str, properties: dict[str, Any], resolve: Resolver,
    resources: dict[str, Any],
) -> None:
    from botocore.exceptions import ClientError

    s3 = check.clients("s3", stack.region)
    check.count()
    try:
        if name not in buckets_listed(check, stack.region):  # not listed: asked for on its own, as before
            s3.head_bucket(Bucket=name)
    except ClientError:
        check.differ(where, f"bucket {name} does not exist")
        return
    expected_rules = resolve(properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []))
    try:
        deployed_rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError:
        deployed_rules = []
    encryption = "none"
    check.count()
    if not deployed_rules:
        check.differ(where, f"bucket {name} has no default encryption")
    else:
        default = deployed_rules[0].get("ApplyServerSideEncryptionByDefault", {})
        encryption = default.get("SSEAlgorithm", "?")
        for wanted in expected_rules:
            wanted_default = wanted.get("ServerSideEncryptionByDefault", {})
            for key, value in wanted_default.items():
                if str(default.get(key)) != str(value):
                    check.differ(where, f"bucket {name} encryption {key} is {default.get(key)!r}, template says {value!r}")
    expected_policy = _bucket_policy_of(resources, resolve, name)
    try:
        deployed_policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except ClientError:
        deployed_policy = None
    check.count(2)
    tls_only = deployed_policy is not None and is_tls_only(deployed_policy)
    if deployed_policy is None:
        check.differ(where, f"bucket {name} has no bucket policy (expected a TLS-only policy)")
    elif not tls_only:
        check.differ(where, f"bucket {name} policy has no Deny of aws:SecureTransport=false (not TLS-only)")
    if expected_policy is not None and deployed_policy is not None and expected_policy != deployed_policy:
        check.differ(where, f"bucket {name} policy differs from the template's")
    check.report.buckets.append(BucketRow(stack.name, name, encryption, tls_only))


def _check_role(
    check: Check, stack: StackArtifact, where: str, name: str, properties: dict[str, Any], resolve: Resolver,
    resources: dict[str, Any],
) -> None:
    from botocore.exceptions import ClientError

    check.count()
    # Listed with the other roles (iam_listed), or asked for on its own when the list does not have it.
    role = iam_listed(check, stack.region, "roles").get(name)
    try:
        role = role if role is not None else check.clients("iam", stack.region).get_role(RoleName=name)["Role"]
    except ClientError:
        check.differ(where, f"role {name} does not exist")
        return
    expected = principals(resolve(properties.get("AssumeRolePolicyDocument", {})))
    deployed = principals(policy_document(role.get("AssumeRolePolicyDocument", {})))
    check.count()
    if expected != deployed:
        missing = sorted(f"{kind}:{value}" for _, _, kind, value in expected - deployed)
        extra = sorted(f"{kind}:{value}" for _, _, kind, value in deployed - expected)
        check.differ(where, f"role {name} trust differs: missing {missing or 'nothing'}, unexpected {extra or 'nothing'}")
    trusted = sorted({value for _, _, _, value in deployed})
    check.report.roles.append(f"{name} (trusted by {', '.join(trusted)})")


def _check_instance_profile(
    check: Check, stack: StackArtifact, where: str, name: str, properties: dict[str, Any], resolve: Resolver,
    resources: dict[str, Any],
) -> None:
    from botocore.exceptions import ClientError

    check.count()
    profile = iam_listed(check, stack.region, "instance profiles").get(name)
    try:
        profile = profile if profile is not None else check.clients("iam", stack.region).get_instance_profile(
            InstanceProfileName=name)["InstanceProfile"]
    except ClientError:
        check.differ(where, f"instance profile {name} does not exist")
        return
    expected = sorted(resolve(properties.get("Roles", [])))
    deployed = sorted(r["RoleName"] for r in profile.get("Roles", []))
    check.count()
    if expected != deployed:
        check.differ(where, f"instance profile {name} holds roles {deployed}, template says {expected}")
    check.report.instance_profiles.append(f"{name} (role {', '.join(deployed) or 'none'})")


def _check_pipeline(
    check: Check, stack: StackArtifact, where: str, pipeline_id: str, properties: dict[str, Any], resolve: Resolver,
    resources: dict[str, Any],
) -> None:
    client = check.clients("datapipeline", stack.region)
    # Described with the region's other pipelines (pipeline_descriptions), or on its own when its region does not list it.
    listed = pipeline_descriptions(check, stack.region).get(pipeline_id)
    descriptions = [listed] if listed is not None else client.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"]
    check.count()
    if not descriptions:
        check.differ(where, f"pipeline {pipeline_id} does not exist")
        return
    description = descriptions[0]
    name = description.get("name", "")
    fields = {f["key"]: f.get("stringValue") for f in description.get("fields", [])}
    state = fields.get("@pipelineState", "?")
    check.report.pipelines.append(PipelineRow(stack.name, name, pipeline_id, state))
    label = f"pipeline {properties.get('Name', name)} ({pipeline_id})"
    if name != properties.get("Name"):
        check.differ(where, f"{label}: name is {name!r}, template says {properties.get('Name')!r}")
    expected_description = properties.get("Description", "")
    deployed_description = description.get("description", fields.get("description", ""))
    if expected_description != deployed_description:
        check.differ(where, f"{label}: description is {deployed_description!r}, template says {expected_description!r}")
    expected_tags = {t["Key"]: t["Value"] for t in resolve(properties.get("PipelineTags", []))}
    deployed_tags = {t["key"]: t["value"] for t in description.get("tags", [])}
    if expected_tags != deployed_tags:
        missing = {k: v for k, v in expected_tags.items() if deployed_tags.get(k) != v}
        extra = {k: v for k, v in deployed_tags.items() if k not in expected_tags}
        check.differ(where, f"{label}: tags differ: missing or changed {missing or 'none'}, unexpected {extra or 'none'}")
    activate = properties.get("Activate", True)
    activated = activate is True or str(activate).lower() == "true"
    if activated == (state == "PENDING"):
        expected_state = "activated (not PENDING)" if activated else "PENDING (never activated)"
        check.differ(where, f"{label}: state is {state}, expected {expected_state}")
    check.count(4)

    definition = pipeline_definition(check, stack.region, pipeline_id)
    expected_objects = {o["Id"]: o for o in resolve(properties.get("PipelineObjects", []))}
    deployed_objects = {o["id"]: o for o in definition.get("pipelineObjects", [])}
    for object_id in sorted(set(expected_objects) | set(deployed_objects)):
        check.count()
        if object_id not in deployed_objects:
            check.differ(where, f"{label}: object {object_id} missing from the deployed definition")
            continue
        if object_id not in expected_objects:
            check.differ(where, f"{label}: unexpected object {object_id} in the deployed definition")
            continue
        want, got = expected_objects[object_id], deployed_objects[object_id]
        if want.get("Name") != got.get("name"):
            check.differ(where, f"{label}: object {object_id} name is {got.get('name')!r}, expected {want.get('Name')!r}")
        for problem in compare_fields(field_tuples(want.get("Fields", [])), field_tuples(got.get("fields", []))):
            check.differ(where, f"{label}: object {object_id} {problem}")
    expected_parameters = {p["Id"]: p for p in resolve(properties.get("ParameterObjects", []))}
    deployed_parameters = {p["id"]: p for p in definition.get("parameterObjects", [])}
    for parameter_id in sorted(set(expected_parameters) | set(deployed_parameters)):
        check.count()
        if parameter_id not in deployed_parameters:
            check.differ(where, f"{label}: parameter {parameter_id} missing from the deployed definition")
        elif parameter_id not in expected_parameters:
            check.differ(where, f"{label}: unexpected parameter {parameter_id} in the deployed definition")
        else:
            want = field_tuples(expected_parameters[parameter_id].get("Attributes", []))
            got = field_tuples(deployed_parameters[parameter_id].get("attributes", []))
            for problem in compare_fields(want, got):
                check.differ(where, f"{label}: parameter {parameter_id} {problem.replace('field', 'attribute', 1)}")
    expected_values = [(v["Id"], "string", str(v["StringValue"])) for v in resolve(properties.get("ParameterValues", []))]
    deployed_values = [(v["id"], "string", str(v["stringValue"])) for v in definition.get("parameterValues", [])]
    check.count()
    for problem in compare_fields(expected_values, deployed_values):
        check.differ(where, f"{label}: parameter value {problem.replace('field ', '', 1)}")


_CHECKERS: dict[str, Callable[..., None]] = {
    "AWS::DynamoDB::Table": _check_table,
    "AWS::S3::Bucket": _check_bucket,
    "AWS::IAM::Role": _check_role,
    "AWS::IAM::InstanceProfile": _check_instance_profile,
    "AWS::DataPipeline::Pipeline": _check_pipeline,
}

