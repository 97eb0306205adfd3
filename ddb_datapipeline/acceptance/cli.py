"""``python -m ddb_datapipeline acceptance --env NAME`` and ``acceptance cleanup --env NAME --run-id ID``.

The command prints the plan and its estimated cost before anything is created, asks for confirmation (``--yes``
skips the question), refuses an environment whose ``retain_data`` is true unless ``--i-own-this-sandbox`` is given,
and one whose node roles may not use scratch tables (``acceptance: false``). Every AWS client comes from one boto3
session, made here and not at import (``AWS_PROFILE``/``--profile``, and ``AWS_ENDPOINT_URL`` for an emulator, as
boto3 reads them). SIGTERM is turned into the Ctrl-C the run already cleans up after.
"""
from __future__ import annotations

import argparse
import secrets
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from ..config.model import EnvironmentConfig
from .native import MachineRunner
from .plan import AcceptanceError, PlannedRun, check_run_id, plan_runs, refuse_environment, scratch_name
from .report import write_reports
from .run import Acceptance, AwsPipelineRunner, Clients, PipelineRunner, clean_run
from .trail import TRAIL_WAIT_SECONDS, ModelIndex, TrailLookup

EXIT_PASSED, EXIT_FAILED, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130
# What each native run does to the account, for the plan (native.py says why each is safe).
NATIVE_EFFECTS = {
    "export": "exports the configured table from point-in-time recovery: reads it, uses none of its capacity",
    "restore": "imports that export into a new table <restore prefix>-acceptance-<run id>",
    "copy": "exports the configured table again and imports it into a new table <copy prefix>-<export id>",
    "drill": "imports the newest export into <table>-drill-<export id>, counts it and deletes that table itself",
}
ITEM_BYTES = 1024  # about what a generated item weighs (items.py: every type, nested maps and lists)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "acceptance", help="run every pipeline of a deployed sandbox environment once against scratch tables, and report",
        description="Prints the plan and its estimated cost, then (after confirmation) creates scratch tables "
                    "<table>-acceptance-<run id>, runs a copy of every pipeline of the environment against them, starts every "
                    "native state machine once (export, restore into <prefix>-acceptance-<run id>, same-region copy, drill; the "
                    "configured table is only exported), verifies what moved by checksums, looks up CloudTrail for denied calls "
                    "of the project's roles, deletes everything it created and writes acceptance-<run id>.md and .json. "
                    "Exit 0 passed, 1 failed, 2 unusable input or refused, "
                    "130 interrupted (after cleanup). 'cleanup --run-id ID' deletes what a run left.")
    parser.add_argument("action", nargs="?", choices=("run", "cleanup"), default="run")
    parser.add_argument("--env", required=True, help="the deployed environment (of cdk.json)")
    parser.add_argument("--cdk-json", default="cdk.json", help="file whose context to read (default: cdk.json)")
    parser.add_argument("--cdk-out", default="cdk.out", help="the synthesized assembly, for the permission model's rows (default: cdk.out)")
    parser.add_argument("--run-id", help="the run's id (default: a new random one; required with cleanup)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--i-own-this-sandbox", action="store_true", help="accept an environment whose retain_data is true")
    parser.add_argument("--items", type=int, default=40, help="items seeded into each scratch source table (1-1000, default 40)")
    parser.add_argument("--timeout-minutes", type=int, default=180, help="per run (default 180)")
    parser.add_argument("--trail-wait-seconds", type=int, default=int(TRAIL_WAIT_SECONDS),
                        help="wait before looking up CloudTrail, which delivers events minutes late (default 300)")
    parser.add_argument("--no-trail", action="store_true", help="do not look up CloudTrail")
    parser.add_argument("--report-dir", default="acceptance-reports", help="where the reports go (default: acceptance-reports)")
    parser.add_argument("--profile", help="AWS profile of the sandbox account (default: boto3's default chain)")


def _environment(cdk_json: str, name: str) -> EnvironmentConfig:
    from ..config import load_environments, select_environments
    from ..estimate_report import read_context

    try:
        return select_environments(load_environments(read_context(Path(cdk_json))), name)[0]
    except FileNotFoundError:
        raise AcceptanceError(f"{cdk_json}: no such file") from None
    except ValueError as error:  # ConfigError and JSONDecodeError are ValueErrors
        raise AcceptanceError(str(error).splitlines()[0]) from None


def plan_lines(env: EnvironmentConfig, runs: tuple[PlannedRun, ...], run_id: str, items: int) -> list[str]:
    """What the run will create and run, and what it is estimated to cost (the estimator's figures, for tables of
    ``items`` items: the EMR clusters' start-up and minimum billing dominate)."""
    from ..estimate_report import records

    sized = replace(env, tables=tuple(replace(t, size_gib=max(items * ITEM_BYTES / 2**30, 1e-6), item_count=items) for t in env.tables))
    costs = {(row["table"], row["pipeline"]): row["estimated_cost_per_run"] for row in records([sized])}
    lines = [f"acceptance run {run_id} of {env.name} ({env.region}):"]
    for run in runs:
        if run.skipped:
            lines.append(f"  {run.label}: skipped ({run.skipped})")
        elif run.engine == "native":
            lines.append(f"  {run.label}: one execution of {run.name_prefix} ({NATIVE_EFFECTS[run.kind.removeprefix('native-').split('-')[0]]})")
        else:
            target = f" -> {scratch_name(run.target, run_id)}" if run.target else ""
            lines.append(f"  {run.label}: a copy of {run.name_prefix}<fingerprint> on {scratch_name(run.table, run_id)}{target}")
    if any(run.engine == "datapipeline" and not run.skipped for run in runs):
        total = sum(cost for cost in costs.values() if cost is not None)
        currency = next(iter(records([sized])), {}).get("currency", "USD")
        lines.append(f"  seeds {items} items into each source scratch table; deletes every table, pipeline and folder it creates")
        lines.append(f"  estimated cost: about {total:.2f} {currency} for the whole run (the estimator's per-run figures of every "
                     "pipeline: EMR instance-hours including start-up, Data Pipeline activities, requests)")
    if any(run.engine == "native" and not run.skipped for run in runs):
        lines.append("  native tables: never written; each export and copy reads the whole table from point-in-time recovery; "
                     "deletes every export, table and folder the executions create")
        lines.append("  native cost: DynamoDB's per-GB export charge for each export and copy (the table's size), its per-GB "
                     "import charge for the restore, the copy and the drill, a few hundred Step Functions state transitions; "
                     "no EMR (not in the estimator)")
    return lines


def _session_clients(profile: str | None, region: str) -> Clients:
    import boto3

    session = boto3.Session(profile_name=profile, region_name=region)
    cache: dict[tuple[str, str], Any] = {}

    def clients(service: str, where: str) -> Any:
        if (service, where) not in cache:
            cache[(service, where)] = session.client(service, region_name=where)
        return cache[(service, where)]

    return clients


def _model(cdk_out: str, out: Callable[[str], None]) -> ModelIndex | None:
    if not Path(cdk_out, "manifest.json").is_file():
        out(f"acceptance: no {cdk_out}/manifest.json: denied calls are listed without the permission model's rows (run make synth)")
        return None
    from ..assembly import load_assembly
    from ..permissions.assembly_view import load_world

    return ModelIndex.of(load_world(load_assembly(Path(cdk_out))))


def _answer(ask: Callable[[str], str], question: str) -> str:
    try:
        return ask(question).strip().lower()
    except EOFError:  # no terminal: no answer, so no run
        return ""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_acceptance(args: argparse.Namespace, *, clients: Clients | None = None, runner: PipelineRunner | None = None,
                   model: ModelIndex | None = None, trail_clients: Clients | None = None, machines: MachineRunner | None = None,
                   ask: Callable[[str], str] = input, out: Callable[[str], None] = print,
                   err: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> int:
    """The command; the keyword arguments replace what it would build (the tests' emulator, local runner, Step
    Functions runner polling often, and CloudTrail stand-in)."""
    try:
        env = _environment(args.cdk_json, args.env)
        run_id = check_run_id(args.run_id) if args.run_id else secrets.token_hex(4)
        if not 1 <= args.items <= 1000:
            raise AcceptanceError(f"--items: {args.items} is not allowed; expected a whole number from 1 to 1000")
        if args.timeout_minutes < 1:
            raise AcceptanceError(f"--timeout-minutes: {args.timeout_minutes} is not allowed; expected 1 or more")
        if args.action == "cleanup" and not args.run_id:
            raise AcceptanceError("acceptance cleanup: --run-id is required (the id the run printed)")
        clients = clients or _session_clients(args.profile, env.region)
        runner = runner or AwsPipelineRunner(clients)
        if args.action == "cleanup":
            deleted, left = clean_run(env, run_id, clients, runner, out, machines=machines)
            out(f"acceptance cleanup {run_id}: {len(deleted)} deleted, {len(left)} left")
            for line in left:
                out(f"LEFT: {line}")
            return EXIT_FAILED if left else EXIT_PASSED
        refuse_environment(env, owns_sandbox=args.i_own_this_sandbox)
        runs = plan_runs(env)
        for line in plan_lines(env, runs, run_id, args.items):
            out(line)
        if not args.yes and _answer(ask, "Create these tables and run these pipelines in the account? [y/N] ") not in ("y", "yes"):
            out("acceptance: nothing done")
            return EXIT_UNUSABLE
        trail = None
        if not args.no_trail:
            regions = tuple(sorted({env.region, *(c.region for t in env.tables for c in t.copies)}))
            from ..config.names import node_role_prefix

            trail = TrailLookup(trail_clients or clients, regions, (f"{node_role_prefix(env.name, env.region)}*",),
                                model if model is not None else _model(args.cdk_out, out), wait_seconds=args.trail_wait_seconds, out=out)
        acceptance = Acceptance(env, run_id, clients, runner, out, trail=trail, items=args.items,
                                timeout_seconds=args.timeout_minutes * 60.0, machines=machines)
        previous = signal.signal(signal.SIGTERM, _terminate)
        try:
            result = acceptance.execute()
        finally:
            signal.signal(signal.SIGTERM, previous)
    except AcceptanceError as error:
        err(f"error: {error}")
        return EXIT_UNUSABLE
    except Exception as error:  # an AWS error (botocore's ClientError, BotoCoreError): one line, after the cleanup ran
        if type(error).__module__.split(".")[0] not in ("botocore", "boto3"):
            raise
        err(f"error: AWS refused or failed a call of the acceptance run itself: {error}")
        return EXIT_FAILED
    markdown, document = write_reports(result, Path(args.report_dir), trail_checked=trail is not None and not result.interrupted)
    passed = sum(r.ok and not r.outcome.startswith("skipped") for r in result.runs)
    out(f"acceptance {run_id}: {'PASSED' if result.ok else 'FAILED'}: {passed} of {len(result.runs)} runs verified, "
        f"{len(result.denials)} denied calls, {len(result.left)} left; report {markdown} and {document}")
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_PASSED if result.ok else EXIT_FAILED
