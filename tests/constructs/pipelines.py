"""What the test modules of ExportPipeline, RestorePipeline and CopyPipeline check the same way, on the session's
``declared_pipelines`` stack (tests/constructs/conftest.py): the resources a pipeline exposes, and its failure
alarm (an SnsAlarm of its definition, published by the shared pipeline role to the topic it exposes)."""
from __future__ import annotations

from typing import Any

from aws_cdk import aws_datapipeline as datapipeline

from ddb_datapipeline import DataPipeline, PipelineRoles
from ddb_datapipeline.constructs.pipeline_roles import NodeRole


def fields(pipeline: dict[str, Any], object_id: str) -> dict[str, Any]:
    (obj,) = [o for o in pipeline["Properties"]["PipelineObjects"] if o["Id"] == object_id]
    return {f["Key"]: f.get("StringValue", {"ref": f.get("RefValue")}) for f in obj["Fields"]}


def field_values(pipeline: dict[str, Any], key: str) -> list[Any]:
    """Every value of field ``key`` in the definition's objects."""
    return [f.get("StringValue") for o in pipeline["Properties"]["PipelineObjects"] for f in o["Fields"] if f["Key"] == key]


def pipeline_of(built: Any, made: Any) -> dict[str, Any]:
    return built.template.to_json()["Resources"][built.stack.get_logical_id(made.pipeline.resource)]


def check_exposed_and_alarm(built: Any, made: Any) -> None:
    """The typed properties are the resources in the template, and its failure alarm reaches the exposed topic."""
    stack = built.stack
    shared = stack.node.find_child("Alerts")
    assert made.alert_topic is shared.topic and made.alert_key is shared.key
    assert isinstance(made.roles, PipelineRoles) and made.roles is stack.node.find_child("DdbPipelineRoles")
    assert isinstance(made.nodes, NodeRole)
    assert isinstance(made.pipeline, DataPipeline) and isinstance(made.pipeline.resource, datapipeline.CfnPipeline)
    pipeline = pipeline_of(built, made)
    assert stack.resolve(made.pipeline_id) == {"Ref": stack.get_logical_id(made.pipeline.resource)}
    topic = stack.resolve(made.alert_topic.topic_arn)
    role = stack.resolve(made.roles.pipeline_role.role_name)
    assert fields(pipeline, "Default")["role"] == role
    failing = [o["Id"] for o in pipeline["Properties"]["PipelineObjects"] if {"Key": "onFail", "RefValue": "FailureAlarm"} in o["Fields"]]
    assert failing, "no object of the definition raises the failure alarm"
    alarm = fields(pipeline, "FailureAlarm")
    assert (alarm["type"], alarm["topicArn"], alarm["role"]) == ("SnsAlarm", topic, role)
    publish = [s for p in built.template.find_resources("AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
               if s.get("Sid") == "PublishFailureAlarms"]
    assert publish == [{"Sid": "PublishFailureAlarms", "Action": "sns:Publish", "Effect": "Allow", "Resource": topic}]
    key = stack.resolve(made.alert_key.key_arn)
    encrypt = [s for p in built.template.find_resources("AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
               if s.get("Sid") == "EncryptFailureAlarms"]
    assert [s["Resource"] for s in encrypt] == [key]
