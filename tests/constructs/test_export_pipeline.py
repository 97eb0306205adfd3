"""ExportPipeline on a bare Stack (the session's declared_pipelines, tests/constructs/conftest.py): its defaults, the
resources it exposes, its failure alarm on the stack's shared topic with the address it asked for, and its props'
errors (the full table of them: tests/constructs/test_props.py)."""
from __future__ import annotations

import pytest

from ddb_datapipeline import ExportPipeline, PipelineConfigurationError
from tests.constructs.pipelines import check_exposed_and_alarm, field_values, fields, pipeline_of
from tests.constructs.test_props import _stack


@pytest.fixture(scope="module")
def export(declared_pipelines):
    return declared_pipelines.stack.node.find_child("Export")


def test_defaults_a_daily_activated_export_of_a_quarter_of_the_read_capacity_compressed(declared_pipelines, export):
    pipeline = pipeline_of(declared_pipelines, export)
    assert pipeline["Properties"]["Activate"] is True
    assert pipeline["Properties"]["Name"].startswith("ddb-default-orders-export-")
    assert fields(pipeline, "DefaultSchedule")["period"] == "1 day"
    assert field_values(pipeline, "readThroughputPercent") == ["0.25"]
    tags = {t["Key"]: t["Value"] for t in pipeline["Properties"]["PipelineTags"]}
    assert {k: tags[k] for k in ("dynamodbdatapipeline", "ddb-datapipeline:kind", "ddb-datapipeline:table")} == {
        "dynamodbdatapipeline": "true", "ddb-datapipeline:kind": "export", "ddb-datapipeline:table": "orders"}


def test_exposes_what_it_made_and_alarms_on_the_shared_topic(declared_pipelines, export):
    check_exposed_and_alarm(declared_pipelines, export)


def test_the_address_it_asked_for_is_subscribed_to_the_shared_topic(declared_pipelines, export):
    declared_pipelines.template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": "oncall@example.com", "TopicArn": declared_pipelines.stack.resolve(export.alert_topic.topic_arn)})


@pytest.mark.parametrize(("props", "message"), [
    ({"read_ratio": 5.0}, "read_ratio: 5.0 is not allowed; expected a number from 0.1 to 1.0"),
    ({"alarm_emails": ("oncall",)}, "alarm_emails[0]: 'oncall' is not allowed; expected an email address such as oncall@example.com"),
    ({"alarm_emails": None}, "alarm_emails: None is not allowed; expected a list of email addresses"),
])
def test_a_wrong_prop_is_refused_in_one_line_naming_it(props, message):
    stack, table, bucket = _stack()
    with pytest.raises(PipelineConfigurationError) as caught:
        ExportPipeline(stack, "Export", table=table, bucket=bucket, **props)
    assert str(caught.value).startswith(f"Team/Export: {message}") and "\n" not in str(caught.value)
