"""The review's building blocks without a synthesis: reading CloudFormation shapes back, placeholders
for intrinsics, Mermaid for awkward object ids, and the subset parser the other tests rely on."""
from __future__ import annotations

import pytest

from ddb_datapipeline.definition.common import PipelineSettings, ScheduleSpec
from ddb_datapipeline.definition.emr import ClusterSpec
from ddb_datapipeline.definition.export import ExportSpec, build_export_definition
from ddb_datapipeline.definition.model import PipelineDefinition, PipelineObject, Ref
from ddb_datapipeline.definition.render import DefinitionFormatError, from_cloudformation, to_cloudformation
from ddb_datapipeline.definition.restore import RestoreSpec, build_restore_definition
from ddb_datapipeline.review import intrinsics, markdown
from ddb_datapipeline.review.mermaid import flowchart

from .mermaid_subset import MermaidError, parse

SETTINGS = PipelineSettings(
    region="eu-west-1",
    role="PipelineRole",
    resource_role="ResourceRole",
    log_uri="s3://bucket/logs/orders-export/",
    alarm_topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts",
)
CLUSTER = ClusterSpec(core_instance_count=2)


def definitions() -> list[PipelineDefinition]:
    return [
        build_export_definition(ExportSpec("orders", "s3://b/exports/orders", 0.3, CLUSTER, ScheduleSpec("1 day"), True), SETTINGS),
        build_restore_definition(RestoreSpec("orders", "orders-restore", "s3://b/exports/orders", 0.4, CLUSTER), SETTINGS),
    ]


@pytest.mark.parametrize("definition", definitions(), ids=["export", "restore"])
def test_cloudformation_shape_reads_back_to_the_same_model(definition):
    assert from_cloudformation(to_cloudformation(definition)) == definition


@pytest.mark.parametrize(
    "properties, message",
    [
        ([], "expected the Properties object"),
        ({"PipelineObjects": [{"Name": "x"}]}, r"PipelineObjects\[0\]: expected an object with a string Id"),
        ({"PipelineObjects": [{"Id": "A", "Fields": [{"Key": "k"}]}]}, "exactly one of StringValue and RefValue"),
        ({"PipelineObjects": [{"Id": "A", "Fields": [{"Key": "role", "StringValue": {"Ref": "R"}}]}]}, "A.role: value .* is not a string"),
        ({"ParameterValues": [{"Id": "myX", "StringValue": 5}]}, "values.myX: value 5 is not a string"),
    ],
)
def test_a_shape_that_is_not_a_definition_is_refused_with_its_place(properties, message):
    with pytest.raises(DefinitionFormatError, match=message):
        from_cloudformation(properties)


def test_intrinsics_read_as_placeholders():
    join = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Bucket1"}, "/*"]]}
    assert intrinsics.text(join) == "arn:${AWS::Partition}:s3:::${Bucket1}/*"
    assert intrinsics.text({"Fn::GetAtt": ["Role1", "Arn"]}) == "${Role1.Arn}"
    assert intrinsics.text({"Fn::GetAtt": "Role1.Arn"}) == "${Role1.Arn}"
    assert intrinsics.text({"Fn::Sub": ["${A}-x", {"A": {"Ref": "T"}}]}) == "${T}-x"
    assert intrinsics.text({"Fn::Select": [1, ["a", {"Ref": "B"}]]}) == "${B}"
    assert intrinsics.text({"Fn::ImportValue": "Shared"}) == "${Import:Shared}"
    assert intrinsics.text({"Fn::Base64": "x"}) == '${Base64("x")}'
    assert intrinsics.text(True) == "true" and intrinsics.text(5) == "5"
    assert intrinsics.resolve({"Key": "role", "StringValue": {"Ref": "R"}}) == {"Key": "role", "StringValue": "${R}"}


def test_markdown_cells_survive_pipes_backticks_and_emphasis():
    assert markdown.code("a|b") == "`a\\|b`"
    assert markdown.code("a`b") == "`` a`b ``"
    assert markdown.text("*x* _y_ <b>") == "\\*x\\* \\_y\\_ \\<b\\>"


def test_awkward_object_ids_still_give_a_valid_diagram():
    definition = PipelineDefinition(objects=(
        PipelineObject.build("end", type="Schedule", period="1 day"),
        PipelineObject.build('say "hi" <b>#1</b>', type="ShellCommandActivity", schedule=Ref("end"),
                             runsOn=Ref("a-b"), onFail=Ref("gone")),
        PipelineObject.build("a-b", type="EmrCluster"),
        PipelineObject.build("a_b", type="Ec2Resource"),
        PipelineObject.build("odd key", type="S3DataNode", **{"my weird": Ref("a_b")}),
    ))
    chart = parse(flowchart(definition))
    labels = sorted(label.split("<br/>")[0] for label in chart.nodes.values())
    assert labels == sorted(["end", "say #34;hi#34; #60;b#62;#35;1#60;/b#62;", "a-b", "a_b", "odd key", "gone"])
    assert len(set(chart.nodes)) == 6
    assert sorted(label for _, label, _ in chart.edges) == ["my weird", "onFail", "runsOn", "schedule"]


@pytest.mark.parametrize(
    "source",
    [
        "graph TD\n    a[\"x\"]",
        "flowchart LR\n    a[x]",
        "flowchart LR\n    a[\"x\"]\n    a -->|input| b",
        "flowchart LR\n    a[\"x\"]\n    a[\"y\"]",
        "flowchart LR\n    end[\"x\"]",
        "flowchart LR\n    a[\"x \"y\" \"]",
    ],
    ids=["header", "unquoted", "undeclared", "twice", "keyword", "raw-quote"],
)
def test_the_subset_parser_rejects_what_mermaid_would_not_take(source):
    with pytest.raises(MermaidError):
        parse(source)


def test_another_stacks_output_reads_as_that_stack_and_output():
    """A table stack names its environment stack's bucket through Fn::GetStackOutput; the report shows
    which stack and output, and a definition that uses it stays text the validator can read."""
    from ddb_datapipeline.review.intrinsics import text

    reference = {"Fn::GetStackOutput": {"StackName": "DdbDataPipeline-big", "Region": "us-east-1", "OutputName": "PublishOutputRefExportBucket"}}
    assert text(reference) == "${DdbDataPipeline-big.PublishOutputRefExportBucket}"
    assert text({"Fn::Join": ["", ["s3://", reference, "/exports/orders"]]}) == "s3://${DdbDataPipeline-big.PublishOutputRefExportBucket}/exports/orders"


def test_the_summary_counts_state_machines_only_where_there_are_some():
    from ddb_datapipeline.review.report import ReviewSummary

    plain = ReviewSummary(files=(), stacks=2, pipelines=4, violations=0, nag_findings=0, lint_findings=0)
    assert plain.line() == "2 stacks, 4 pipelines (0 definition violations, 0 denied runtime calls), 0 cdk-nag findings, 0 cfn-lint findings"
    native = ReviewSummary(files=(), stacks=1, pipelines=0, violations=0, nag_findings=0, lint_findings=0, state_machines=1)
    assert "0 denied runtime calls), 1 state machine, 0 cdk-nag" in native.line()
