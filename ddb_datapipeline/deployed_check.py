"""A read-only check of a deployed environment stack, for the delivery pipeline's post-deploy step.

It reads only what the stack itself reports (its status, outputs and resources), so it needs no
configuration and no write permission: the CDK bootstrap's read-only lookup role is enough.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .policies import is_tls_only

EXPECTED_STATE = {"export": "SCHEDULED", "copy": "SCHEDULED", "restore": "PENDING"}
ON_DEMAND_STATES = {"SCHEDULED", "FINISHED", "ACTIVE"}  # an on-demand pipeline runs once on activation


@dataclass(frozen=True)
class Finding:
    resource: str
    problem: str

    def __str__(self) -> str:
        return f"{self.resource}: {self.problem}"


def _tags(description: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in description.get("tags", [])}


def _fields(description: dict[str, Any]) -> dict[str, str]:
    return {f["key"]: f.get("stringValue", "") for f in description.get("fields", [])}


def check_pipeline(datapipeline: Any, pipeline_id: str) -> list[Finding]:
    found = datapipeline.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"]
    if not found:
        return [Finding(pipeline_id, "pipeline does not exist")]
    description = found[0]
    kind = _tags(description).get("ddb-datapipeline:kind", "")
    state = _fields(description).get("@pipelineState", "")
    expected = EXPECTED_STATE.get(kind)
    allowed = ON_DEMAND_STATES if kind in ("export", "copy") else {expected}
    if expected is None:
        return [Finding(pipeline_id, f"tag ddb-datapipeline:kind is '{kind}'; expected export, restore or copy")]
    if state not in allowed:
        return [Finding(f"{description['name']} ({pipeline_id})", f"state is '{state}'; expected {' or '.join(sorted(allowed))} for a {kind} pipeline")]
    return []


def check_stack(session: Any, stack_name: str, *, table_stack: bool = False) -> list[Finding]:
    """Every problem found; an empty list means the stack looks healthy. A table stack (a large
    environment's) holds tables and pipelines only: the bucket is its environment stack's."""
    cloudformation = session.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    findings = []
    if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
        findings.append(Finding(stack_name, f"status is {stack['StackStatus']}"))
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    bucket = outputs.get("ExportBucketName")
    if not table_stack and bucket is None:
        findings.append(Finding(stack_name, "output ExportBucketName is missing"))
    elif bucket is not None:
        findings.extend(_check_bucket(session.client("s3"), bucket))
    datapipeline = session.client("datapipeline")
    for key, value in sorted(outputs.items()):
        if key.endswith("PipelineId"):
            findings.extend(check_pipeline(datapipeline, value))
    pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    for resource in (summary for page in pages for summary in page["StackResourceSummaries"]):
        check = RESOURCE_CHECKS.get(resource.get("ResourceType", ""))
        if check is not None:
            findings.extend(check(session, resource["PhysicalResourceId"]))
    return findings


def _check_table(session: Any, name: str) -> list[Finding]:
    table = session.client("dynamodb").describe_table(TableName=name)["Table"]
    return [] if table["TableStatus"] == "ACTIVE" else [Finding(table["TableName"], f"status is {table['TableStatus']}; expected ACTIVE")]


def _check_state_machine(session: Any, arn: str) -> list[Finding]:
    """A native engine's state machine: one that is not ACTIVE (being deleted) never runs again."""
    machine = session.client("stepfunctions").describe_state_machine(stateMachineArn=arn)
    status = machine.get("status", "")
    return [] if status == "ACTIVE" else [Finding(machine.get("name", arn), f"status is {status}; expected ACTIVE")]


def _check_schedule(session: Any, name: str) -> list[Finding]:
    """A native engine's schedule: a disabled one starts no export, and nothing else says so."""
    schedule = session.client("scheduler").get_schedule(Name=name)
    state = schedule.get("State", "")
    return [] if state == "ENABLED" else [Finding(f"schedule {name}", f"state is {state}; expected ENABLED")]


# What the check reads of each resource type it finds in the stack (read-only calls all).
RESOURCE_CHECKS: dict[str, Callable[[Any, str], list[Finding]]] = {
    "AWS::DynamoDB::Table": _check_table,
    "AWS::StepFunctions::StateMachine": _check_state_machine,
    "AWS::Scheduler::Schedule": _check_schedule,
}


def _check_bucket(s3: Any, bucket: str) -> list[Finding]:
    findings = []
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    if not rules:
        findings.append(Finding(bucket, "has no default encryption"))
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    if not is_tls_only(policy):
        findings.append(Finding(bucket, "bucket policy does not refuse plain HTTP"))
    return findings


def session_for(region: str, role_arn: str | None) -> Any:
    import boto3

    if role_arn is None:
        return boto3.Session(region_name=region)
    credentials = boto3.client("sts", region_name=region).assume_role(RoleArn=role_arn, RoleSessionName="ddb-datapipeline-check")["Credentials"]
    return boto3.Session(
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
