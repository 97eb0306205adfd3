"""``DataPipelineChecks``: this project's checks as a CDK policy validation plugin, for any CDK app.

A team adds it with ``App(policy_validation_beta1=[DataPipelineChecks()])`` (or
``Validations.of(app).add_plugins(DataPipelineChecks())``, as cdk-nag 3 is added); this project's own app adds the same
plugin in ``app_builder.build``, so ``make synth`` and a team's ``cdk synth`` fail the same way. Why a plugin rather
than an Aspect or a check after ``app.synth()``: the runtime permission check and the limits need the written
templates, which only exist after synthesis, and CDK runs validation plugins exactly there, writes their findings into
``cdk.out/validation-report.json`` next to cdk-nag's, fails the synth (``cdk synth`` exits 1; an in-process
``app.synth()`` under pytest raises), and lets a team acknowledge one finding by its id
(``DdbDataPipeline::RuntimePermission``) with ``Validations.of(construct).acknowledge``.

The checks themselves are CDK-free (``synth_checks.check_templates``); this class only translates their findings into
CDK's report types.
"""
from __future__ import annotations

import sys
from importlib import metadata

import aws_cdk as cdk
import jsii

from . import synth_checks

PLUGIN_NAME = "DdbDataPipeline"


def _version() -> str:
    try:
        return metadata.version("ddb-datapipeline")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "0.0.0"


@jsii.implements(cdk.IPolicyValidationPluginBeta1, cdk.IPolicyValidationPlugin)
class DataPipelineChecks:
    """Runs, on every synthesized template of the app: the runtime permission check (each call every Data Pipeline
    pipeline and native-engine state machine makes at run time must be allowed by the synthesized identity and
    resource policies), the cluster isolation check, AWS's per-stack limits (500 resources, the template size,
    IAM's policy sizes) and the Data Pipeline definition validator on each ``AWS::DataPipeline::Pipeline``.

    :param summary: print the figures of what was checked (pipelines, runtime calls, denied) to stderr after each
        synth; ``make synth`` shows them. Default: True.
    :param stack_limits: check AWS's per-stack limits too. This project's own app passes False: it checks them itself
        after the synth, with a message naming the configuration field to change. Default: True.
    """

    def __init__(self, *, summary: bool = True, stack_limits: bool = True) -> None:
        self._summary = summary
        self._stack_limits = stack_limits
        self.last_report: synth_checks.Report | None = None  # the findings of the latest synth, for a caller that wants figures

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return _version()

    @property
    def rule_ids(self) -> list[str]:
        return list(synth_checks.RULES)

    def validate(self, context: cdk.IPolicyValidationContextBeta1) -> cdk.PolicyValidationPluginReportBeta1:
        report = synth_checks.check_templates(list(context.template_paths), stack_limits=self._stack_limits)
        self.last_report = report
        if self._summary:
            for line in report.summary:
                print(line, file=sys.stderr)
        return cdk.PolicyValidationPluginReportBeta1(
            success=report.success,
            violations=[
                cdk.PolicyViolationBeta1(
                    rule_name=finding.rule,
                    description=finding.description,
                    fix=finding.fix,
                    severity=finding.severity,
                    violating_resources=[cdk.PolicyViolatingResourceBeta1(
                        resource_logical_id=finding.logical_id, template_path=finding.template_path, locations=[])],
                )
                for finding in report.findings
            ],
            plugin_version=self.version,
        )
