"""``python -m local_deploy.scale 50 200 500`` (``make scale TABLES="50 200 500"``): synthesizes a generated
environment of each size, as ``make synth`` would (cdk-nag, the limit checks after the synth), runs the
runtime permission check on it, and prints one row per size: stacks, the largest stack's resources and
template bytes, the largest inline policy of any role, pipelines, calls checked and denied, seconds.

Too slow for ``make test`` at 200 and 500 tables (a synth costs about 0.14 s a table on a 2-core machine);
the tests synthesize 50 tables and this command proves the larger sizes when run.
"""
from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .deploy import project_context
from .generated import ENVIRONMENT, generated_context


@dataclass(frozen=True)
class ScaleRow:
    tables: int
    stacks: int
    max_resources: int
    max_template_bytes: int
    max_inline_policy: int
    pipelines: int
    calls: int
    denied: int
    seconds: float


def measure(tables: int, outdir: Path) -> ScaleRow:
    from ddb_datapipeline import limits
    from ddb_datapipeline.app_builder import in_process_app, synthesize
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.permissions.assembly_view import load_world
    from ddb_datapipeline.permissions.audit import outcomes as audit

    context = generated_context(tables, project_context())
    started = time.monotonic()
    app = in_process_app(context=context, outdir=str(outdir))
    # Without the app's DataPipelineChecks plugin: this command decides every runtime call itself below, and the
    # plugin's cluster isolation compares every pair of pipelines (quadratic in the tables).
    _, stacks = synthesize(app, context, checks=False)  # raises the one-line ConfigError of any limit crossed
    seconds = time.monotonic() - started
    templates = limits.stack_templates(outdir)
    outputs = limits.Outputs(templates, {})
    names = [stack.stack_name for stack in stacks[ENVIRONMENT].stacks()]
    resources = bytes_ = inline = 0
    for name in names:
        template = outputs.template(name)
        resources = max(resources, sum(1 for r in template.get("Resources", {}).values() if r.get("Type") != "AWS::CDK::Metadata"))
        bytes_ = max(bytes_, templates[name].path.stat().st_size)
        inline = max([inline, *(size.inline for size in limits.role_sizes(name, template, outputs).values())])
    world = load_world(load_assembly(outdir))
    outcomes = audit(world)
    return ScaleRow(tables, len(names), resources, bytes_, inline, len(world.pipelines), len(outcomes),
                    sum(1 for outcome in outcomes if not outcome.decision.allowed), seconds)


def main(argv: list[str]) -> int:
    sizes = [int(arg) for arg in argv] or [50]
    print("| tables | stacks | most resources in a stack | largest template (bytes) | largest inline policy of a role (characters) "
          "| pipelines | runtime calls checked | denied | synth (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"scale-{size}-") as outdir:
            row = measure(size, Path(outdir))
        print(f"| {row.tables} | {row.stacks} | {row.max_resources} | {row.max_template_bytes:,} | {row.max_inline_policy:,} "
              f"| {row.pipelines} | {row.calls:,} | {row.denied} | {row.seconds:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
