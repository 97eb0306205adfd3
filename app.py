#!/usr/bin/env python3
"""Composition root: cdk.json context -> validated configuration -> one stack per environment."""
import sys

import aws_cdk as cdk

from ddb_datapipeline.app_builder import build, plan
from ddb_datapipeline.config import ConfigError
from ddb_datapipeline.definition.validator import DefinitionError


def main() -> int:
    app = cdk.App()
    context = {key: app.node.try_get_context(key) for key in ("environments", "env", "delivery")}
    try:
        build(app, plan(context))
    except (ConfigError, DefinitionError) as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
