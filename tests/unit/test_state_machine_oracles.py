"""The state machine oracles (tests/oracles/state_machines.py) on small hand-made definitions: each kind of
mistake they exist for is found, named by state, operation and member, and a correct definition passes."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.oracles.state_machines import Definition, asl_findings, botocore_findings

TABLE = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"
EXPORT: dict[str, Any] = {
    "StartAt": "Export",
    "States": {
        "Export": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:exportTableToPointInTime",
            "Parameters": {"TableArn": TABLE, "S3Bucket": "exports", "S3Prefix": "exports/orders", "ExportFormat": "DYNAMODB_JSON",
                           "IncrementalExportSpecification": {"ExportFromTime.$": "$.from", "ExportViewType": "NEW_AND_OLD_IMAGES"}},
            "Next": "Runs",
        },
        "Runs": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:listExecutions",
            "Parameters": {"StateMachineArn": "arn:aws:states:eu-west-1:111111111111:stateMachine:m", "StatusFilter": "RUNNING"},
            "Next": "Import",
        },
        "Import": {
            "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:importTable", "QueryLanguage": "JSONata",
            "Arguments": {"S3BucketSource": {"S3Bucket": "exports", "S3KeyPrefix": "{% $states.input.export %}"},
                          "InputFormat": "DYNAMODB_JSON",
                          "TableCreationParameters": {"TableName": "{% $states.input.table %}",
                                                      "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                                                      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                                                      "BillingMode": "PAY_PER_REQUEST"}},
            "Next": "Alarm",
        },
        "Alarm": {
            "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "arn:aws:sns:eu-west-1:111111111111:alerts", "Message.$": "$.message", "Subject": "FAILED"},
            "End": True,
        },
    },
}


def changed(edit: Any) -> Definition:
    body = copy.deepcopy(EXPORT)
    edit(body["States"])
    return Definition("Team/Machine", body)


def test_a_correct_definition_has_no_finding():
    assert botocore_findings([Definition("Team/Machine", EXPORT)]) == []


@pytest.mark.parametrize("edit, expected", [
    (lambda s: s["Export"]["Parameters"].update({"S3Prefx": "x"}),
     "Team/Machine Export (aws-sdk:dynamodb:exportTableToPointInTime): ExportTableToPointInTime: ExportTableToPointInTimeInput "
     "has no member 'S3Prefx'"),
    (lambda s: s["Export"]["Parameters"].pop("S3Bucket"),
     "Team/Machine Export (aws-sdk:dynamodb:exportTableToPointInTime): ExportTableToPointInTime: ExportTableToPointInTimeInput "
     "requires 'S3Bucket'"),
    (lambda s: s["Export"]["Parameters"].update({"ExportFormat": "JSON"}),
     "ExportTableToPointInTime.ExportFormat: 'JSON' is not one of DYNAMODB_JSON, ION"),
    (lambda s: s["Export"]["Parameters"]["IncrementalExportSpecification"].update({"ExportViewType": "NEW_IMAGES"}),
     "ExportTableToPointInTime.IncrementalExportSpecification.ExportViewType: 'NEW_IMAGES' is not one of NEW_IMAGE, NEW_AND_OLD_IMAGES"),
    (lambda s: s["Export"]["Parameters"].update({"TableArn.$": "$.table"}) or s["Export"]["Parameters"].update({"S3Bucket": 7}),
     "ExportTableToPointInTime.S3Bucket: 7 is not a string"),
    (lambda s: s["Export"]["Parameters"].update({"TableArn": ["a"]}), "ExportTableToPointInTime.TableArn: [\"a\"] is not a string"),
    # Step Functions names an SDK task's members in PascalCase, even where the API's are camelCase (sfn's).
    (lambda s: s["Runs"]["Parameters"].update({"stateMachineArn": s["Runs"]["Parameters"].pop("StateMachineArn")}),
     "ListExecutionsInput has no member 'stateMachineArn'"),
    (lambda s: s["Runs"].update({"Resource": "arn:aws:states:::aws-sdk:sfn:listExecution"}), "sfn has no operation ListExecution"),
    (lambda s: s["Runs"].update({"Resource": "arn:aws:states:::aws-sdk:stepfunction:listExecutions"}),
     "service 'stepfunction' (botocore 'stepfunction') has no botocore model"),
    # JSONata: Arguments at every depth; a {% %} value is dynamic, a literal is checked.
    (lambda s: s["Import"]["Arguments"]["S3BucketSource"].update({"KeyPrefix": "x"}), "S3BucketSource has no member 'KeyPrefix'"),
    (lambda s: s["Import"]["Arguments"]["TableCreationParameters"]["KeySchema"][0].update({"KeyType": "PARTITION"}),
     "ImportTable.TableCreationParameters.KeySchema[0].KeyType: 'PARTITION' is not one of HASH, RANGE"),
    (lambda s: s["Import"]["Arguments"]["TableCreationParameters"].pop("KeySchema"), "TableCreationParameters requires 'KeySchema'"),
    (lambda s: s["Alarm"]["Parameters"].pop("TopicArn") and s["Alarm"]["Parameters"].update({"Topic": "x"}),
     "Team/Machine Alarm (sns:publish): Publish: PublishInput has no member 'Topic'"),
    (lambda s: s["Alarm"].update({"Resource": "arn:aws:states:::sns:publishBatch"}),
     "the optimized integration 'sns:publishBatch' is not in the oracle's table"),
])
def test_botocore_finds_each_mistake(edit, expected):
    findings = botocore_findings([changed(edit)])
    assert any(expected in line for line in findings), findings


@pytest.fixture(scope="module")
def asl_results() -> list[str]:
    """asl-validator on a correct definition and four broken ones, in one node process."""
    def unreachable(s: Any) -> None:
        s["Runs"]["Next"] = "Nowhere"

    def bad_type(s: Any) -> None:
        s["Alarm"]["Type"] = "Publish"

    def bad_path(s: Any) -> None:
        s["Export"]["ResultPath"] = "$$.x["

    def both_end_and_next(s: Any) -> None:
        s["Alarm"]["Next"] = "Export"

    broken = [changed(edit) for edit in (unreachable, bad_type, bad_path, both_end_and_next)]
    named = [Definition(f"Team/Broken{i}", d.body) for i, d in enumerate(broken)]
    return asl_findings([Definition("Team/Good", EXPORT), *named])


def test_asl_validator_passes_a_correct_definition(asl_results):
    assert not [line for line in asl_results if line.startswith("Team/Good:")]


@pytest.mark.parametrize("label, expected", [
    ("Team/Broken0", "Missing 'StartAt'|'Next'|'Default' target: Nowhere"),
    ("Team/Broken1", "/States/Alarm/Type is invalid"),
    ("Team/Broken2", "/States/Export/ResultPath is invalid"),
    ("Team/Broken3", "State \"Alarm\" MUST contain exactly one of \"End\", \"Next\""),
])
def test_asl_validator_finds_each_mistake(asl_results, label, expected):
    assert any(line.startswith(f"{label}:") and expected in line for line in asl_results), asl_results
