"""Command line: ``python -m ddb_datapipeline validate FILE...``, ``... review``, ``... permissions`` and ``... check-deployed``.

``validate`` lints any Data Pipeline definition in the JSON file format (this project's, a
hand-written one, or one exported with ``aws datapipeline get-pipeline-definition``) with the same
validator the stacks use at synth time, so teams can check legacy pipelines before touching them.
``review`` writes the pull-request report from a synthesized ``cdk.out``. ``check-deployed`` reads
a deployed environment stack back (read-only), as the delivery pipeline does after each stage.

Exit codes: 0 clean, 1 violations found, 2 unusable input (missing file, bad JSON, not a
definition). User mistakes are one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .definition.render import DefinitionFormatError, from_definition_file
from .definition.validator import Violation, validate

EXIT_CLEAN, EXIT_VIOLATIONS, EXIT_UNUSABLE = 0, 1, 2


class InputError(Exception):
    """An input the user named cannot be used; str() is the one-line message."""


def _load(file_name: str) -> object:
    try:
        text = Path(file_name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{file_name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file_name}: is a directory, expected a JSON definition file") from None
    except UnicodeDecodeError:
        raise InputError(f"{file_name}: not UTF-8 text") from None
    except OSError as error:
        raise InputError(f"{file_name}: cannot read: {error.strerror or error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{file_name}: not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None


def check_file(file_name: str) -> tuple[Violation, ...]:
    """The violations of one definition file; raises InputError when it is not a definition."""
    data = _load(file_name)
    try:
        definition = from_definition_file(data)
    except DefinitionFormatError as error:
        raise InputError(f"{file_name}: not a pipeline definition: {error}") from None
    return validate(definition)


def run_validate(files: Sequence[str]) -> int:
    worst, total = EXIT_CLEAN, 0
    for file_name in files:
        try:
            violations = check_file(file_name)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            worst = EXIT_UNUSABLE
            continue
        for violation in violations:
            print(f"{file_name}: {violation}")
        total += len(violations)
        if violations and worst == EXIT_CLEAN:
            worst = EXIT_VIOLATIONS
    if worst != EXIT_UNUSABLE:  # an unusable file gets its one line and nothing more
        checked = len(files)
        print(f"{checked} file{'s' if checked != 1 else ''} checked, {total} violation{'s' if total != 1 else ''}",
              file=sys.stderr)
    return worst


def run_review(cdk_out: str, out: str, base: str | None) -> int:
    from .assembly import AssemblyError
    from .review.report import build_review

    try:
        summary = build_review(Path(cdk_out), Path(out), Path(base) if base else None)
    except (AssemblyError, DefinitionFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    written = "README.md and diff.md" if base else "README.md"
    print(f"review written to {out}/ ({written}): {summary.line()}")
    return EXIT_CLEAN


def run_permissions(cdk_out: str, as_markdown: bool) -> int:
    from .assembly import AssemblyError, load_assembly
    from .permissions.assembly_view import load_world
    from .permissions.audit import outcomes
    from .permissions.expand import ModelGap
    from .permissions.report import markdown

    try:
        world = load_world(load_assembly(Path(cdk_out)))
        if as_markdown:
            print(markdown(world))
            return EXIT_CLEAN
        results = outcomes(world)
    except (AssemblyError, DefinitionFormatError, ModelGap, StopIteration) as error:
        print(f"error: {error or 'the assembly lacks a pipeline the README tables show'}", file=sys.stderr)
        return EXIT_UNUSABLE
    denied = [o for o in results if not o.decision.allowed]
    for outcome in denied:
        print(outcome.line())
    print(f"{len(world.pipelines)} pipelines, {len(results)} runtime calls checked, {len(denied)} denied", file=sys.stderr)
    return EXIT_VIOLATIONS if denied else EXIT_CLEAN


def run_check_deployed(stack: str, region: str, role_arn: str | None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from .deployed_check import check_stack, session_for

    try:
        findings = check_stack(session_for(region, role_arn), stack)
    except (BotoCoreError, ClientError) as error:
        print(f"error: {stack} in {region}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    for finding in findings:
        print(f"{stack}: {finding}")
    print(f"{stack}: {len(findings)} problem{'s' if len(findings) != 1 else ''}", file=sys.stderr)
    return EXIT_VIOLATIONS if findings else EXIT_CLEAN


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m ddb_datapipeline", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("validate", help="check Data Pipeline definition files (JSON file format)",
                                description="Prints every violation as 'FILE: object.field: rule'. "
                                            "Exit 0 when clean, 1 with violations, 2 when a file is not a definition.")
    check.add_argument("files", nargs="+", metavar="FILE")
    review = commands.add_parser("review", help="write the review report of a synthesized cloud assembly",
                                 description="Writes README.md, one JSON definition per pipeline and, with "
                                             "--base, diff.md.")
    review.add_argument("--cdk-out", default="cdk.out", help="synthesized cloud assembly (default: cdk.out)")
    review.add_argument("--out", default="review", help="directory to write (default: review)")
    review.add_argument("--base", help="baseline cloud assembly to compare with; writes diff.md")
    permissions = commands.add_parser("permissions", help="check every pipeline's runtime calls against the synthesized policies",
                                      description="Expands the runtime permission model for every pipeline of a synthesized "
                                                  "cloud assembly and evaluates each call against its identity and resource "
                                                  "policies. Prints one line per denied call. Exit 0 all allowed, 1 denials, 2 unusable input.")
    permissions.add_argument("--cdk-out", default="cdk.out", help="synthesized cloud assembly (default: cdk.out)")
    permissions.add_argument("--markdown", action="store_true", help="print the README's per-kind tables instead")
    deployed = commands.add_parser("check-deployed", help="read a deployed environment stack back (read-only)",
                                   description="Checks stack status, bucket encryption and TLS policy, table "
                                               "status and each pipeline's state. Exit 0 healthy, 1 problems, 2 unreachable.")
    deployed.add_argument("--stack", required=True, help="stack name, e.g. DdbDataPipeline-prod")
    deployed.add_argument("--region", required=True)
    deployed.add_argument("--role-arn", help="role to assume first (e.g. the bootstrap lookup role of the account)")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "validate":
        return run_validate(args.files)
    if args.command == "permissions":
        return run_permissions(args.cdk_out, args.markdown)
    if args.command == "check-deployed":
        return run_check_deployed(args.stack, args.region, args.role_arn)
    return run_review(args.cdk_out, args.out, args.base)


if __name__ == "__main__":
    sys.exit(main())
