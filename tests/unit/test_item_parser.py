"""local_deploy/item_parser.py: the local clients read DynamoDB answers exactly as botocore's own parser does, for
the drill's items (every type, nested, sparse), for values it leaves to botocore, and for other services' answers."""
from __future__ import annotations

import functools
import json

from botocore.parsers import JSONParser
from botocore.session import Session

from ddb_datapipeline.acceptance.items import REFERENCE_NOW, generate_items
from local_deploy.item_parser import ItemJSONParser, ItemParserFactory
from local_deploy.smoke_common import ClientFactory
from tests.dynamodb_json import encoded

ITEMS = generate_items(200, partition_key=("pk", "S"), sort_key=None, now=REFERENCE_NOW)
ODD = [{"S": "a", "N": "1"}, {"M": {"x": None}}, {"L": [None, {"S": "b"}]}, {"SS": ["a", None]}, {"S": None}, {},
       {"Q": "unknown"}, {"BS": ["AAE=", "/w=="]}, {"L": []}, {"M": {}}]


@functools.cache
def service_model(name: str):  # one load of the model (a new Session reads its JSON again)
    return Session().get_service_model(name)


def parsed(parser: JSONParser, service: str, operation: str, body: dict) -> dict:
    shape = service_model(service).operation_model(operation).output_shape
    answer = parser.parse({"status_code": 200, "headers": {}, "body": json.dumps(body).encode(), "context": {}}, shape)
    answer.pop("ResponseMetadata", None)
    return answer


def test_a_scan_answer_is_parsed_the_same():
    body = {"Count": len(ITEMS) + len(ODD), "ScannedCount": 3,
            "Items": [{k: encoded(v) for k, v in item.items()} for item in ITEMS] + [{"pk": {"S": f"o{i}"}, "odd": v} for i, v in enumerate(ODD)],
            "LastEvaluatedKey": {"pk": {"S": "p"}}}
    walked = parsed(JSONParser(), "dynamodb", "Scan", body)
    assert walked["Items"][:len(ITEMS)] == ITEMS  # botocore's own reading is the items put in
    assert parsed(ItemJSONParser(), "dynamodb", "Scan", body) == walked


def test_other_answers_are_parsed_the_same():
    body = {"Table": {"TableName": "t", "CreationDateTime": 1.7e9, "ItemCount": 3, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}
    assert parsed(ItemJSONParser(), "dynamodb", "DescribeTable", body) == parsed(JSONParser(), "dynamodb", "DescribeTable", body)
    machines = {"stateMachines": [{"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:m", "name": "m", "type": "STANDARD",
                                   "creationDate": 1.7e9}]}
    assert parsed(ItemJSONParser(), "stepfunctions", "ListStateMachines", machines) == parsed(JSONParser(), "stepfunctions", "ListStateMachines", machines)


def test_the_local_clients_use_it():
    client = ClientFactory("http://localhost:1")("dynamodb", "us-east-1")
    assert type(client._endpoint._response_parser_factory) is ItemParserFactory  # botocore keeps it there, nowhere public
    assert type(ItemParserFactory().create_parser("json")) is ItemJSONParser
