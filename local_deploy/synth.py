"""The local deploy's synth, in this process: the cloud assembly ``cdk synth -c local=true`` writes, without
starting the CDK CLI and a second Python for it (2 to 3 s of every local deploy on a 2-core machine).

The CDK CLI is still what bootstraps, deploys and destroys (``--app <assembly>``). What the CLI adds to a
synth is added here: the context it passes to every app (construct paths on resources, version reporting),
a fresh output directory, and its refusal of an assembly that carries an error annotation. An
unacknowledged cdk-nag finding stops the synth itself (CDK's failSynthOnValidationErrors default), in
one line that points at the validation report.
"""
from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import LocalDeployError

# The context the CDK CLI gives an app on every synth (unless cdk.json turns it off, which ours does not).
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
}


def synthesize_local(context: Mapping[str, Any], env: str | None, outdir: Path, *, local: bool = True) -> None:
    """Writes the local assembly of ``context`` (one environment with ``env``) into ``outdir``, or with
    ``local=False`` the assembly as ``cdk synth`` writes it for AWS (what the drill decides calls with);
    raises LocalDeployError with one line on a configuration mistake or an error annotation."""
    from aws_cdk import cx_api

    from ddb_datapipeline.app_builder import LOCAL_CONTEXT_KEY, in_process_app, synthesize
    from ddb_datapipeline.config import ConfigError
    from ddb_datapipeline.definition.validator import DefinitionError

    full = {**context, **CLI_CONTEXT, LOCAL_CONTEXT_KEY: local, **({"env": env} if env else {})}
    shutil.rmtree(outdir, ignore_errors=True)
    try:
        assembly, _ = synthesize(in_process_app(context=full, outdir=str(outdir)), full)
    except (ConfigError, DefinitionError) as error:
        raise LocalDeployError(f"configuration error: {error}") from None
    except RuntimeError as error:  # jsii's form of CDK's ValidationError: a finding of a validation plugin (cdk-nag)
        first = str(error).splitlines()[0] if str(error) else ""
        if not first.startswith("ValidationFailed"):
            raise
        raise LocalDeployError(f"synth failed: {first} (report: {outdir / 'validation-report.json'})") from None
    errors = [
        f"{message.id}: {message.entry.data}"
        for stack in assembly.stacks_recursively
        for message in stack.messages
        if message.level == cx_api.SynthesisMessageLevel.ERROR
    ]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise LocalDeployError(f"synth failed: {errors[0]}{more}")
