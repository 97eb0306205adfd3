"""``CfnPipeline`` from a validated definition model.

The definition is checked against the service's rules here, at synth time, so a broken pipeline
never reaches CloudFormation. Its name carries the definition's structural fingerprint: a change an
activated pipeline refuses (an object removed, a reference or a schedule period changed) renames it,
and a rename makes CloudFormation replace the pipeline instead of failing the update.
"""
from __future__ import annotations

from collections.abc import Mapping

import jsii
from aws_cdk import aws_datapipeline as datapipeline
from constructs import Construct, IValidation

from ..definition.model import PipelineDefinition
from ..definition.render import to_cloudformation
from ..definition.validator import ensure_valid

MAX_PIPELINE_TAGS = 10


class DataPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name_prefix: str,
        description: str,
        definition: PipelineDefinition,
        activate: bool,
        tags: Mapping[str, str],
        stand_ins: Mapping[str, str] | None = None,
    ) -> None:
        """``stand_ins``: for each token in the definition that CloudFormation resolves to a name at deploy (a table
        it names), a name that follows the same rules; the validator reads the definition with them in place."""
        super().__init__(scope, id)
        if len(tags) > MAX_PIPELINE_TAGS:
            raise ValueError(f"{name_prefix}: {len(tags)} pipeline tags; the service allows at most {MAX_PIPELINE_TAGS}")
        ensure_valid(definition.with_stand_ins(stand_ins or {}), label=name_prefix)
        self.definition = definition
        self.pipeline_name = f"{name_prefix}-{definition.fingerprint()}"
        rendered = to_cloudformation(definition)
        self.resource = datapipeline.CfnPipeline(
            self,
            "Resource",
            name=self.pipeline_name,
            description=description,
            activate=activate,
            pipeline_objects=[
                datapipeline.CfnPipeline.PipelineObjectProperty(
                    id=obj["Id"],
                    name=obj["Name"],
                    fields=[
                        datapipeline.CfnPipeline.FieldProperty(
                            key=f["Key"], string_value=f.get("StringValue"), ref_value=f.get("RefValue")
                        )
                        for f in obj["Fields"]
                    ],
                )
                for obj in rendered["PipelineObjects"]
            ],
            parameter_objects=[
                datapipeline.CfnPipeline.ParameterObjectProperty(
                    id=p["Id"],
                    attributes=[
                        datapipeline.CfnPipeline.ParameterAttributeProperty(key=a["Key"], string_value=a["StringValue"])
                        for a in p["Attributes"]
                    ],
                )
                for p in rendered["ParameterObjects"]
            ],
            parameter_values=[
                datapipeline.CfnPipeline.ParameterValueProperty(id=v["Id"], string_value=v["StringValue"])
                for v in rendered["ParameterValues"]
            ],
            pipeline_tags=[datapipeline.CfnPipeline.PipelineTagProperty(key=k, value=v) for k, v in sorted(tags.items())],
        )
        self.pipeline_id = self.resource.ref
        self.node.add_validation(_TagQuota(self.resource, name_prefix))


@jsii.implements(IValidation)
class _TagQuota:
    """The pipeline's tags as deployed: its own and those a scope adds (``Tags.of(app).add``), counted after the
    tag aspects ran. Over the service's 10, CloudFormation would fail the deployment; a tag the pipeline needs
    (``ddb-datapipeline:nodes``, which its clusters must carry) must not be crowded out."""

    def __init__(self, resource: datapipeline.CfnPipeline, label: str) -> None:
        self.resource = resource
        self.label = label

    def validate(self) -> list[str]:
        keys = sorted(str(tag["key"]) for tag in self.resource.cdk_tag_manager.render_tags() or [])
        if len(keys) <= MAX_PIPELINE_TAGS:
            return []
        return [f"{self.label}: {len(keys)} pipeline tags ({', '.join(keys)}); the service allows at most {MAX_PIPELINE_TAGS}"]
