#!/usr/bin/env python3
"""Composition root: cdk.json context -> validated configuration -> one stack per environment."""
import sys
from pathlib import Path

# isort: off
import ddb_datapipeline  # noqa: F401  first: it points jsii at the pinned Node before aws_cdk starts jsii (pinned_node.py)
from ddb_datapipeline.config import ConfigError
from ddb_datapipeline.config.cdk_json import check_cdk_json


def cdk_json_path() -> Path:
    """The file the CDK CLI read: it runs the app in the directory of its cdk.json. Run by hand from
    elsewhere, the app checks the project's own file next to this one."""
    here = Path.cwd() / "cdk.json"
    return here if here.is_file() else Path(__file__).resolve().with_name("cdk.json")


if __name__ == "__main__":
    # A repeated key in cdk.json is refused before aws_cdk is imported, which starts jsii's Node process (about 1.5 s
    # of CPU for nothing when the app stops at once); main() checks again for the tests that call it directly.
    try:
        check_cdk_json(cdk_json_path())
    except ConfigError as early:
        print(f"configuration error: {early}", file=sys.stderr)
        sys.exit(2)

import aws_cdk as cdk  # noqa: E402

# isort: on
from ddb_datapipeline.app_builder import synthesize  # noqa: E402
from ddb_datapipeline.definition.validator import DefinitionError  # noqa: E402
from ddb_datapipeline.validation_plugin import DataPipelineChecks  # noqa: E402


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
