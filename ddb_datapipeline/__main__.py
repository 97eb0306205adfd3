"""Command line: ``python -m ddb_datapipeline validate FILE...``, ``review``, ``permissions``, ``check-deployed``, ``estimate``,
``check``, ``plan-stacks`` and ``acceptance``.

``validate`` lints any Data Pipeline definition in the JSON file format (this project's, a
hand-written one, or one exported with ``aws datapipeline get-pipeline-definition``) with the same
validator the stacks use at synth time, so teams can check legacy pipelines before touching them.
``review`` writes the pull-request report from a synthesized ``cdk.out``. ``estimate`` prints each
configured pipeline's duration, capacity and estimated cost from ``cdk.json``. ``check`` runs every
configuration check that needs no synth (the loader, the planner, the estimates' refusals) in about a second. ``check-deployed`` reads
a deployed environment stack back (read-only), as the delivery pipeline does after each stage.
``plan-stacks`` prints the tables a planned ``table_stacks`` would move and the lines that keep them.

Exit codes: 0 clean, 1 violations found, 2 unusable input (missing file, bad JSON, not a
definition). For ``validate``, only errors make exit 1: warnings are printed and exit 0. User
mistakes are one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .definition.model import Parameter, PipelineDefinition
from .definition.render import DefinitionFormatError, from_definition_file, parameters_from_file, values_from_file
from .definition.rule_registry import RULES, SelectorError, check_selectors, is_selected, markdown
from .definition.validator import Violation, chosen, errors, validate

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


@dataclasses.dataclass(frozen=True)
class Supplied:
    """Parameters and values given beside the definition, as to ``aws datapipeline
    put-pipeline-definition``: when given, they replace the definition file's own."""

    parameters: tuple[Parameter, ...] | None = None
    values: tuple[tuple[str, str], ...] | None = None


def _read_parameters(file_name: str) -> tuple[Parameter, ...]:
    data = _load(file_name)
    try:
        return parameters_from_file(data)
    except DefinitionFormatError as error:
        raise InputError(f"{file_name}: not a parameter objects file: {error}") from None


def _read_values(file_name: str) -> tuple[tuple[str, str], ...]:
    data = _load(file_name)
    try:
        return values_from_file(data)
    except DefinitionFormatError as error:
        raise InputError(f"{file_name}: not a parameter values file: {error}") from None


def supplied_inputs(parameter_objects: str | None, values_uri: str | None, values: Sequence[str] | None) -> Supplied:
    """Reads --parameter-objects, --parameter-values-uri and --parameter-values (``id=value``, the
    AWS CLI's syntax; an id given twice is an array value). Raises InputError on a user mistake."""
    if values_uri is not None and values is not None:
        raise InputError("--parameter-values and --parameter-values-uri exclude each other (as in the AWS CLI)")
    supplied_values: tuple[tuple[str, str], ...] | None = None
    if values is not None:
        pairs = []
        for item in values:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise InputError(f"--parameter-values: '{item}' is not id=value (e.g. myDDBTableName=Orders); "
                                 "FILE arguments go before the options")
            pairs.append((key.strip(), value))
        supplied_values = tuple(pairs)
    elif values_uri is not None:
        supplied_values = _read_values(_file_of(values_uri))
    parameters = None if parameter_objects is None else _read_parameters(_file_of(parameter_objects))
    return Supplied(parameters, supplied_values)


def _file_of(uri: str) -> str:
    """The AWS CLI spells local files file://PATH; a plain path is accepted too."""
    return uri.removeprefix("file://")


@dataclasses.dataclass(frozen=True)
class Selection:
    """--select and --ignore: rule ids or prefixes (``DP1``, ``DP304``); empty select keeps every rule."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


def check_file(file_name: str, supplied: Supplied = Supplied(), *, require_values: bool = False,
               selection: Selection = Selection()) -> tuple[Violation, ...]:
    """The violations of one definition file that the selection keeps; raises InputError when it is not a
    definition."""
    data = _load(file_name)
    try:
        definition: PipelineDefinition = from_definition_file(data)
    except DefinitionFormatError as error:
        raise InputError(f"{file_name}: not a pipeline definition: {error}") from None
    if supplied.parameters is not None:
        definition = dataclasses.replace(definition, parameters=supplied.parameters)
    if supplied.values is not None:
        definition = dataclasses.replace(definition, values=supplied.values)
    found = validate(definition, require_values=require_values)
    return chosen(found, select=selection.select, ignore=selection.ignore)


def _as_json(found: list[tuple[str, Violation]]) -> str:
    """One object per finding, in the order printed as text (files as given, then definition order)."""
    return json.dumps(
        [
            {"file": name, "object": v.object_id, "field": v.field, "id": v.code, "rule": v.check,
             "severity": v.severity, "message": v.rule}
            for name, v in found
        ],
        indent=2,
    )


def run_validate(files: Sequence[str], supplied: Supplied = Supplied(), *, require_values: bool = False,
                 output_format: str = "text", selection: Selection = Selection(), fail_on: str = "error") -> int:
    worst = EXIT_CLEAN
    found: list[tuple[str, Violation]] = []
    for file_name in files:
        try:
            violations = check_file(file_name, supplied, require_values=require_values, selection=selection)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            worst = EXIT_UNUSABLE
            continue
        found += [(file_name, v) for v in violations]
        if output_format == "text":
            for violation in violations:
                print(f"{file_name}: {violation.coded()}")
        failing = errors(violations) if fail_on == "error" else violations
        if failing and worst == EXIT_CLEAN:
            worst = EXIT_VIOLATIONS
    if output_format == "json":
        print(_as_json(found))
    if worst != EXIT_UNUSABLE:  # an unusable file gets its one line and nothing more
        failing = len(errors(v for _, v in found))
        detail = f" ({_count(failing, 'error')}, {_count(len(found) - failing, 'warning')})" if len(found) > failing else ""
        print(f"{_count(len(files), 'file')} checked, {_count(len(found), 'violation')}{detail}", file=sys.stderr)
    return worst


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def list_rules(output_format: str, selection: Selection = Selection()) -> int:
    """The rules of the registry the selection keeps (all by default): one line each (text), an array (json) or,
    for all of them, docs/linter-rules.md (markdown)."""
    rules = tuple(r for r in RULES if is_selected(r.id, select=selection.select, ignore=selection.ignore))
    if output_format == "markdown":
        print(markdown(rules), end="")
    elif output_format == "json":
        print(json.dumps([dataclasses.asdict(rule) for rule in rules], indent=2))
    else:
        for rule in rules:
            print(f"{rule.id} {rule.severity:<7} {rule.check:<26} {rule.title}")
    return EXIT_CLEAN


def _validate_command(args: argparse.Namespace) -> int:
    select, ignore = tuple(args.select or ()), tuple(args.ignore or ())
    try:
        check_selectors("--select", select)
        check_selectors("--ignore", ignore)
    except SelectorError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.list_rules:
        return list_rules(args.format, Selection(select, ignore))
    try:
        if args.format == "markdown":
            raise InputError("--format markdown: 'markdown' is not allowed for findings; expected text or json "
                             "(markdown is for --list-rules)")
        if not args.files:
            raise InputError("validate needs at least one FILE (FILE arguments go before the options)")
        supplied = supplied_inputs(args.parameter_objects, args.parameter_values_uri, args.parameter_values)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    return run_validate(args.files, supplied, require_values=args.require_values, output_format=args.format,
                        selection=Selection(select, ignore), fail_on=args.fail_on)


def run_review(cdk_out: str, out: str, base: str | None, *, cfn_guard: str | None = None, checkov: str | None = None,
               acknowledgments: str | None = None) -> int:
    """Writes the review; with ``cfn_guard`` (the @cdklabs/cdk-validator-cfnguard package directory) or
    ``checkov`` (its executable), also ``checks.md``. Exit 2 when a check it runs or was asked to run did
    not run (cfn-lint not installed, a tool that failed: the report says which), else 1 when a finding has
    no acknowledgment or an acknowledgment matches nothing."""
    from .assembly import AssemblyError
    from .review.checks import ChecksError
    from .review.report import build_review

    tools = cfn_guard is not None or checkov is not None
    if tools and acknowledgments is None:
        print("error: --acknowledgments is required with --cfn-guard or --checkov", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        summary = build_review(Path(cdk_out), Path(out), Path(base) if base else None,
                               guard_package=Path(cfn_guard) if cfn_guard else None,
                               checkov=Path(checkov) if checkov else None,
                               acknowledgments=Path(acknowledgments) if acknowledgments else None)
    except (AssemblyError, DefinitionFormatError, ChecksError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    written = ", ".join(["README.md", *(["diff.md"] if base else []), *(["checks.md"] if tools else [])])
    print(f"review written to {out}/ ({written}): {summary.line()}")
    if summary.checks_line:
        print(f"policy checks: {summary.checks_line}")
    for line in summary.not_run:
        print(f"error: {line}", file=sys.stderr)
    if summary.not_run:
        return EXIT_UNUSABLE
    if summary.checks_failed:
        print(f"error: policy check findings without an acknowledgment, or stale acknowledgments: see {out}/checks.md",
              file=sys.stderr)
        return EXIT_VIOLATIONS
    return EXIT_CLEAN


def run_permissions(cdk_out: str, as_markdown: bool) -> int:
    from .assembly import AssemblyError, load_assembly
    from .permissions.assembly_view import load_world
    from .permissions.audit import checked_line, cluster_isolation, isolation_line, outcomes
    from .permissions.expand import ModelGap
    from .permissions.report import markdown

    try:
        world = load_world(load_assembly(Path(cdk_out)))
        if as_markdown:
            print(markdown(world))
            return EXIT_CLEAN
        results = outcomes(world)
        crossings = cluster_isolation(world)
    except (AssemblyError, DefinitionFormatError, ModelGap, StopIteration) as error:
        print(f"error: {error or 'the assembly lacks a pipeline the tables of docs/permissions.md show'}", file=sys.stderr)
        return EXIT_UNUSABLE
    denied = [o for o in results if not o.decision.allowed]
    for outcome in denied:
        print(outcome.line())
    print(checked_line(pipelines=len(world.pipelines), machines=len(world.state_machines), calls=len(results),
                       denied=len(denied)), file=sys.stderr)
    # The isolation check: each node role adds steps to its own pipeline's clusters and to no other's.
    breaches = [c for c in crossings if c.wrong]
    for crossing in breaches:
        print(crossing.line())
    print(isolation_line(crossings), file=sys.stderr)
    return EXIT_VIOLATIONS if denied or breaches else EXIT_CLEAN


def run_check_deployed(stack: str, region: str, role_arn: str | None, table_stacks: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from .deployed_check import check_stack, session_for

    found = 0
    session = session_for(region, role_arn)
    for name, is_table_stack in [(stack, False), *((t, True) for t in table_stacks or [])]:
        try:
            findings = check_stack(session, name, table_stack=is_table_stack)
        except (BotoCoreError, ClientError) as error:
            print(f"error: {name} in {region}: {error}", file=sys.stderr)
            return EXIT_UNUSABLE
        for finding in findings:
            print(f"{name}: {finding}")
        print(f"{name}: {len(findings)} problem{'s' if len(findings) != 1 else ''}", file=sys.stderr)
        found += len(findings)
    return EXIT_VIOLATIONS if found else EXIT_CLEAN


def _unreadable_configuration(cdk_json: str, error: Exception) -> int:
    """One line for a cdk.json that is missing, not JSON, or refused by the configuration's rules."""
    from .config import ConfigError

    if isinstance(error, FileNotFoundError):
        print(f"error: {cdk_json}: no such file", file=sys.stderr)
    else:
        prefix = "configuration error" if isinstance(error, ConfigError) else "error"
        print(f"{prefix}: {error}".splitlines()[0], file=sys.stderr)
    return EXIT_UNUSABLE


def run_estimate(cdk_json: str, output: str, env: str | None) -> int:
    from .config import load_environments, select_environments
    from .estimate_report import as_text, read_context, records

    try:
        context = read_context(Path(cdk_json))
        environments = select_environments(load_environments(context), env)
    except (ValueError, OSError) as error:  # ConfigError and JSONDecodeError are ValueErrors
        return _unreadable_configuration(cdk_json, error)
    rows = records(environments)
    print(json.dumps(rows, indent=2) if output == "json" else as_text(rows))
    return EXIT_CLEAN


def run_check(cdk_json: str, env: str | None) -> int:
    """Every configuration check that needs no synth, on the context of ``cdk_json``: exit 0 with one summary line
    on stdout, or 2 with the one-line error on stderr. Imports no CDK (that alone takes seconds)."""
    from .config import ConfigError
    from .config.cdk_json import check_duplicate_keys
    from .config.planning import plan

    try:
        text = Path(cdk_json).read_text(encoding="utf-8")
    except OSError as error:
        print(f"error: {cdk_json}: cannot read: {error.strerror or error}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        check_duplicate_keys(text, cdk_json)
        document = json.loads(text)
        context = document.get("context") if isinstance(document, dict) else None
        if not isinstance(context, dict):
            raise ConfigError(f"{cdk_json}: no \"context\" object; expected the project's cdk.json")
        checked = plan({**{key: context.get(key) for key in ("environments", "delivery")}, "env": env})
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    tables = [table for config in checked.environments for table in config.tables]
    native = sum(table.native for table in tables)
    copies = sum(len(table.copies) for table in tables)
    delivery = ", a delivery pipeline" if checked.delivery is not None else ""
    print(f"{cdk_json}: configuration OK: {_count(len(checked.environments), 'environment')}{delivery}, "
          f"{_count(len(tables), 'table')} ({native} native), {_count(copies, 'copy')}".replace("copys", "copies"))
    return EXIT_CLEAN


def run_plan_stacks(cdk_json: str, env: str, table_stacks: int, assignment: str | None) -> int:
    """Prints which tables a planned ``table_stacks`` (and ``stack_assignment``) would move, and the
    ``stack_group`` lines that keep them where they are; exit 0, or 2 on unusable input."""
    from .config.cdk_json import check_cdk_json
    from .config.stack_groups import MAX_TABLE_STACKS
    from .config.stack_plan import plan_stacks
    from .estimate_report import read_context

    if not 1 <= table_stacks <= MAX_TABLE_STACKS:
        print(f"error: --table-stacks: {table_stacks} is not allowed; expected a whole number from 1 to {MAX_TABLE_STACKS}",
              file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        check_cdk_json(Path(cdk_json))  # a repeated environment key would plan the one the CDK CLI keeps, unsaid
        found = plan_stacks(read_context(Path(cdk_json)), env, table_stacks=table_stacks, assignment=assignment)
    except (ValueError, OSError) as error:  # ConfigError and JSONDecodeError are ValueErrors
        return _unreadable_configuration(cdk_json, error)
    print("\n".join(found.lines()))
    return EXIT_CLEAN


def parser() -> argparse.ArgumentParser:
    from .config.stack_groups import ASSIGNMENTS

    root = argparse.ArgumentParser(prog="python -m ddb_datapipeline", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("validate", help="check Data Pipeline definition files (JSON file format)",
                                description="Prints every finding as 'FILE: object.field: ID message' (warnings as "
                                            "'FILE: object.field: warning: ID message'). Exit 0 when there is no error "
                                            "(warnings allowed; with --fail-on warning, no finding at all), 1 otherwise, 2 when a file is not a definition. "
                                            "--list-rules prints the rule registry (docs/linter-rules.md with "
                                            "--format markdown).")
    check.add_argument("files", nargs="*", metavar="FILE", help="definition files (put them before the options)")
    check.add_argument("--parameter-objects", metavar="FILE",
                       help='parameters in a separate file ({"parameters": [...]}); replace the definition\'s')
    check.add_argument("--parameter-values-uri", metavar="FILE",
                       help='values in a separate file ({"values": {...}}); replace the definition\'s')
    check.add_argument("--parameter-values", nargs="+", metavar="ID=VALUE",
                       help="values as the AWS CLI takes them; replace the definition's")
    check.add_argument("--require-values", action="store_true",
                       help="report parameters without value or default (as the synth-time check does)")
    check.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                       help="json: one array of {file, object, field, id, rule, severity, message} on stdout; "
                            "markdown: with --list-rules only")
    check.add_argument("--select", nargs="+", metavar="ID",
                       help="report only the rules whose id starts with one of these (e.g. DP3 DP101)")
    check.add_argument("--ignore", nargs="+", metavar="ID",
                       help="leave out the rules whose id starts with one of these (e.g. DP1); the longer match "
                            "wins over --select")
    check.add_argument("--fail-on", choices=("error", "warning"), default="error",
                       help="warning: exit 1 on any finding the selection keeps, warnings included (as this "
                            "project's synth does), e.g. --fail-on warning --select DP610 in CI")
    check.add_argument("--list-rules", action="store_true", help="print every rule: id, severity, family, title")
    review = commands.add_parser("review", help="write the review report of a synthesized cloud assembly",
                                 description="Writes README.md, one JSON definition per pipeline and, with "
                                             "--base, diff.md.")
    review.add_argument("--cdk-out", default="cdk.out", help="synthesized cloud assembly (default: cdk.out)")
    review.add_argument("--out", default="review", help="directory to write (default: review)")
    review.add_argument("--base", help="baseline cloud assembly to compare with; writes diff.md")
    review.add_argument("--cfn-guard", help="@cdklabs/cdk-validator-cfnguard package directory: runs its cfn-guard with "
                                            "its Control Tower rules on the templates; writes checks.md")
    review.add_argument("--checkov", help="checkov executable: runs its CloudFormation checks; writes checks.md")
    review.add_argument("--acknowledgments", help="TOML file of acknowledged findings (required with --cfn-guard or --checkov)")
    permissions = commands.add_parser("permissions", help="check every pipeline's runtime calls against the synthesized policies",
                                      description="Expands the runtime permission model for every pipeline of a synthesized "
                                                  "cloud assembly and evaluates each call against its identity and resource "
                                                  "policies. Prints one line per denied call. Exit 0 all allowed, 1 denials, 2 unusable input.")
    permissions.add_argument("--cdk-out", default="cdk.out", help="synthesized cloud assembly (default: cdk.out)")
    permissions.add_argument("--markdown", action="store_true", help="print the per-kind tables of docs/permissions.md instead")
    deployed = commands.add_parser("check-deployed", help="read a deployed environment stack back (read-only)",
                                   description="Checks stack status, bucket encryption and TLS policy, table "
                                               "status and each pipeline's state. Exit 0 healthy, 1 problems, 2 unreachable.")
    deployed.add_argument("--stack", required=True, help="stack name, e.g. DdbDataPipeline-prod")
    deployed.add_argument("--region", required=True)
    deployed.add_argument("--role-arn", help="role to assume first (e.g. the bootstrap lookup role of the account)")
    deployed.add_argument("--table-stack", action="append", default=[], help="a table stack of the environment (repeatable)")
    estimate = commands.add_parser("estimate", help="duration, capacity and estimated cost of every configured pipeline",
                                   description="Reads the environments of cdk.json (no synthesis, no AWS call) and prints, per "
                                               "pipeline, the capacity units per second it may use, bytes and items per second, "
                                               "hours including EMR start-up, useful core nodes, instance-hours and an estimated "
                                               "cost. Tables without size_gib show rates only. Exit 0, or 2 on unusable input.")
    estimate.add_argument("--cdk-json", default="cdk.json", help="file whose context to read (default: cdk.json)")
    estimate.add_argument("--env", help="one environment only")
    estimate.add_argument("--format", choices=("text", "json"), default="text", help="json: one array of pipeline objects")
    configuration = commands.add_parser("check", help="every configuration check that needs no synth, in about a second",
                                        description="Loads and plans the environments (and delivery) of cdk.json as the app does "
                                                    "before synth, estimates included; no synthesis, no AWS call. Exit 0 with a "
                                                    "one-line summary, 2 with the one-line configuration error.")
    configuration.add_argument("--cdk-json", default="cdk.json", help="file whose context to read (default: cdk.json)")
    configuration.add_argument("--env", help="one environment only (every environment is still checked against the others)")
    stacks = commands.add_parser("plan-stacks", help="which tables a change of table_stacks or stack_assignment would move",
                                 description="Reads the environments of cdk.json (no synthesis, no AWS call) and prints, for "
                                             "the planned table_stacks, the tables that would change stacks (from-stack -> "
                                             "to-stack) and the stack_group lines that keep them where they are. "
                                             "Exit 0, or 2 on unusable input.")
    stacks.add_argument("--env", required=True, help="the environment")
    stacks.add_argument("--table-stacks", type=int, required=True, metavar="N", help="the planned table_stacks (1-99)")
    stacks.add_argument("--assignment", choices=ASSIGNMENTS,
                        help="the planned stack_assignment (default: the stated one, else rendezvous)")
    stacks.add_argument("--cdk-json", default="cdk.json", help="file whose context to read (default: cdk.json)")
    from .acceptance.cli import add_parser as add_acceptance

    add_acceptance(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "validate":
        return _validate_command(args)
    if args.command == "permissions":
        return run_permissions(args.cdk_out, args.markdown)
    if args.command == "check":
        return run_check(args.cdk_json, args.env)
    if args.command == "estimate":
        return run_estimate(args.cdk_json, args.format, args.env)
    if args.command == "plan-stacks":
        return run_plan_stacks(args.cdk_json, args.env, args.table_stacks, args.assignment)
    if args.command == "acceptance":
        from .acceptance.cli import run_acceptance

        return run_acceptance(args)
    if args.command == "check-deployed":
        return run_check_deployed(args.stack, args.region, args.role_arn, args.table_stack)
    return run_review(args.cdk_out, args.out, args.base, cfn_guard=args.cfn_guard, checkov=args.checkov,
                      acknowledgments=args.acknowledgments)


if __name__ == "__main__":
    sys.exit(main())
