#!/usr/bin/env python3
"""Composition root: cdk.json context -> validated configuration -> one stack per environment."""
import sys
from pathlib import Path

# isort: off
import ddb_datapipeline  # noqa: F401  first: it points jsii at the pinned Node before aws_cdk starts jsii (pinned_node.py)
import aws_cdk as cdk

# isort: on
from ddb_datapipeline.app_builder import synthesize
from ddb_datapipeline.config import ConfigError
from ddb_datapipeline.config.cdk_json import check_cdk_json
from ddb_datapipeline.definition.validator import DefinitionError
from ddb_datapipeline.validation_plugin import DataPipelineChecks


def cdk_json_path() -> Path:
    """The file the CDK CLI read: it runs the app in the directory of its cdk.json. Run by hand from
    elsewhere, the app checks the project's own file next to this one."""
    here = Path.cwd() / "cdk.json"
    return here if here.is_file() else Path(__file__).resolve().with_name("cdk.json")


def main(app: cdk.App | None = None) -> int:
    """``app``: a test's App with its own context; the CLI's context arrives in the environment."""
    app = app or cdk.App()
    context = {key: app.node.try_get_context(key) for key in ("environments", "env", "delivery")}
    try:
        check_cdk_json(cdk_json_path())
        # The same validation plugin a team adds to its app; here it also prints what it checked (pipelines, runtime
        # calls, denied; cluster isolation), the figures make synth shows. A denied call fails the synth in CDK's report.
        synthesize(app, context, checks=DataPipelineChecks(summary=True, stack_limits=False))
    except (ConfigError, DefinitionError) as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
