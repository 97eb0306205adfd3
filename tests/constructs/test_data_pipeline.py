"""DataPipeline on a bare Stack: a checked definition rendered into a CfnPipeline named after its structure, its tags,
and what it refuses (an invalid definition, more than the service's 10 tags, counted after a scope's tags). One synth."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from ddb_datapipeline import ClusterSpec, DataPipeline
from ddb_datapipeline.definition.common import PipelineSettings
from ddb_datapipeline.definition.export import ExportSpec, build_export_definition
from ddb_datapipeline.definition.validator import DefinitionError
from tests.conftest import with_fields
from tests.constructs.test_props import ENV

SETTINGS = PipelineSettings(region="eu-west-1", role="PipelineRole", resource_role="NodesProfile", log_uri="s3://bucket/logs/orders-export/",
                            alarm_topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts")
DEFINITION = build_export_definition(ExportSpec(table_name="orders", output_uri="s3://bucket/exports/orders", read_ratio=0.25,
                                                cluster=ClusterSpec()), SETTINGS)


@pytest.fixture(scope="module")
def built() -> tuple[DataPipeline, Template]:
    stack = cdk.Stack(cdk.App(), "Pipelines", env=ENV)
    made = DataPipeline(stack, "Export", name_prefix="ddb-test-orders-export", description="Exports orders", definition=DEFINITION,
                        activate=False, tags={"team": "data"})
    return made, Template.from_stack(stack)


def test_the_pipeline_is_named_after_its_structure_and_not_activated_when_asked(built):
    made, template = built
    assert made.pipeline_name == f"ddb-test-orders-export-{DEFINITION.fingerprint()}"
    template.has_resource_properties("AWS::DataPipeline::Pipeline", {
        "Name": made.pipeline_name, "Description": "Exports orders", "Activate": False,
        "PipelineTags": [{"Key": "team", "Value": "data"}],
        "PipelineObjects": Match.array_with([Match.object_like({"Id": "FailureAlarm", "Fields": Match.array_with([
            {"Key": "topicArn", "StringValue": "arn:aws:sns:eu-west-1:111111111111:alerts"}])})]),
    })
    assert made.definition is DEFINITION


def test_an_invalid_definition_is_refused_naming_the_pipeline_and_the_rule():
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    broken = with_fields(DEFINITION, "DDBSourceTable", readThroughputPercent="5")
    with pytest.raises(DefinitionError) as caught:
        DataPipeline(stack, "Export", name_prefix="ddb-test-orders-export", description="d", definition=broken, activate=False, tags={})
    assert str(caught.value).startswith("ddb-test-orders-export is invalid: 1 violation")
    assert "readThroughputPercent" in str(caught.value)


def test_more_than_ten_tags_are_refused_and_so_are_those_a_scope_adds():
    stack = cdk.Stack(cdk.App(), "Team", env=ENV)
    with pytest.raises(ValueError, match=r"^ddb-test: 11 pipeline tags; the service allows at most 10$"):
        DataPipeline(stack, "Many", name_prefix="ddb-test", description="d", definition=DEFINITION, activate=False,
                     tags={f"t{i}": "x" for i in range(11)})
    DataPipeline(stack, "Ten", name_prefix="ddb-ten", description="d", definition=DEFINITION, activate=False,
                 tags={f"t{i}": "x" for i in range(10)})
    cdk.Tags.of(stack).add("owner", "team")  # counted at synth, after the tag aspects ran
    with pytest.raises(RuntimeError, match=r"ddb-ten: 11 pipeline tags \(owner, t0, .*\); the service allows at most 10"):
        Template.from_stack(stack)
