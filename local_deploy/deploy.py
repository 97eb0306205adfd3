"""``make deploy-local`` / ``make destroy-local``: the whole deploy flow against a local AWS.

deploy: pick the target (``AWS_ENDPOINT_URL`` if set, else the server kept by an earlier
``KEEP=1`` run, else a new moto server on a free localhost port), synthesize with ``local=true`` into
``cdk.out.local/`` (in this process: ``synth.py``), ``cdk bootstrap`` every (account, region) the stacks target, ``cdk deploy --all``,
run the smoke check, print the summary, and stop the server it started (unless kept).
destroy: ``cdk destroy --all`` on the kept server (or ``AWS_ENDPOINT_URL``), then stop the kept server.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import LocalDeployError
from . import emulator as emulator_module
from .cdk_cli import CLI, ROOT, CliResult, cli_path, describe_deploy_failure, run_cli
from .emulator import Emulator
from .smoke import ClientFactory, SmokeReport, read_assembly, smoke_check
from .synth import synthesize_local

ASSEMBLY_DIR = ROOT / "cdk.out.local"
STATE_DIR = ROOT / ".local"
BOOTSTRAP_STACK = "CDKToolkit"
HEALTHY = ("CREATE_COMPLETE", "UPDATE_COMPLETE")

# What a local deploy to moto cannot prove: shown with every summary.
NOT_PROVED = (
    "IAM permissions are not enforced (the runtime permission check, python -m ddb_datapipeline permissions, and cdk-nag cover them, not this deploy)",
    "pipelines are stored, never validated or run by the emulator (no EMR cluster, no export file, no activation checks)",
    "properties moto ignores (not checked): table point-in-time recovery and resource policies; bucket versioning, "
    "public access block, lifecycle rules, access logging, object ownership and Object Lock",
)


@dataclass
class Options:
    env: str | None = None
    keep: bool = False
    destroy: bool = False
    port: int | None = None
    verbose: bool = False
    context: Mapping[str, Any] | None = None  # the whole cdk.json context; None: cdk.json as it is
    endpoint: str | None = None  # an emulator to use (starts nothing); default: $AWS_ENDPOINT_URL
    endpoint_origin: str | None = None  # who started ``endpoint`` when this process did (the drill), for the output
    assembly_dir: Path = ASSEMBLY_DIR
    state_dir: Path = STATE_DIR
    cli: Path = CLI
    out: Callable[[str], None] = print

    @property
    def state_file(self) -> Path:
        return self.state_dir / "emulator.json"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "deploy-local.log"


@dataclass
class Target:
    emulator: Emulator
    origin: str  # "started", "kept", "AWS_ENDPOINT_URL"
    stop_at_end: bool

    @property
    def endpoint(self) -> str:
        return self.emulator.endpoint


@dataclass
class DeployResult:
    endpoint: str
    report: SmokeReport
    timings: dict[str, float] = field(default_factory=dict)
    destroyed: list[str] = field(default_factory=list)
    retained: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- configuration


def project_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def environments(options: Options) -> list[Any]:
    """The environments to deploy, as ``app_builder.plan`` selects them (without importing the CDK)."""
    from ddb_datapipeline.config import ConfigError, load_environments, select_environments

    context = options.context if options.context is not None else project_context()
    try:
        return select_environments(load_environments(context), options.env)
    except ConfigError as error:
        raise LocalDeployError(f"configuration error: {error}") from None


# ---------------------------------------------------------------- the target


def _read_state(options: Options) -> dict[str, Any] | None:
    try:
        return json.loads(options.state_file.read_text())
    except (OSError, ValueError):
        return None


def kept_emulator(options: Options) -> Emulator | None:
    """The server an earlier ``--keep`` run left running, if it still runs and answers."""
    state = _read_state(options)
    if state is None:
        return None
    emulator = Emulator(endpoint=state["endpoint"], pid=state.get("pid"), port=state.get("port"), log_path=Path(state["log"]) if state.get("log") else None)
    if emulator.pid and emulator_module.is_our_server(emulator.pid) and emulator_module.answers(emulator.endpoint):
        return emulator
    options.state_file.unlink(missing_ok=True)  # stale: the server is gone
    return None


def _given_endpoint(options: Options) -> str | None:
    return options.endpoint or os.environ.get("AWS_ENDPOINT_URL") or None


def acquire_target(options: Options) -> Target:
    endpoint = _given_endpoint(options)
    if endpoint:
        if options.port is not None:
            raise LocalDeployError("--port conflicts with AWS_ENDPOINT_URL: unset one of them")
        if not emulator_module.answers(endpoint, moto=False):
            raise LocalDeployError(f"AWS_ENDPOINT_URL={endpoint} does not answer: start that emulator or unset AWS_ENDPOINT_URL")
        return Target(Emulator(endpoint=endpoint.rstrip("/")), "AWS_ENDPOINT_URL", stop_at_end=False)
    kept = kept_emulator(options)
    if kept is not None:
        if options.port is not None and options.port != kept.port:
            raise LocalDeployError(f"an emulator kept by an earlier run is on port {kept.port}: run make destroy-local first to use port {options.port}")
        return Target(kept, "kept", stop_at_end=False)
    started = emulator_module.start(port=options.port, log_path=options.state_dir / "emulator.log", stop_with_parent=not options.keep)
    if options.keep:
        options.state_dir.mkdir(parents=True, exist_ok=True)
        options.state_file.write_text(
            json.dumps({"endpoint": started.endpoint, "pid": started.pid, "port": started.port, "log": str(started.log_path)}) + "\n"
        )
    return Target(started, "started", stop_at_end=not options.keep)


def release_target(target: Target) -> None:
    if target.stop_at_end:
        emulator_module.stop(target.emulator)


# ---------------------------------------------------------------- steps


class _Steps:
    def __init__(self, options: Options, target: Target) -> None:
        self.options = options
        self.target = target
        self.timings: dict[str, float] = {}
        self.clients = ClientFactory(target.endpoint)

    def cli(self, step: str, arguments: list[str], region: str) -> CliResult:
        self.options.out(f"  {step}...")
        result = run_cli(
            arguments,
            endpoint=self.target.endpoint,
            region=region,
            cwd=ROOT,
            log_path=self.options.log_path,
            echo=self.options.verbose,
            cli=self.options.cli,
        )
        self.timings[step] = self.timings.get(step, 0.0) + result.seconds
        return result

    def synth(self) -> None:
        self.options.out("  synth...")
        started = time.monotonic()
        context = self.options.context if self.options.context is not None else project_context()
        synthesize_local(context, self.options.env, self.options.assembly_dir)
        self.timings["synth"] = time.monotonic() - started

    def stack_regions(self) -> dict[str, str]:
        return {stack.name: stack.region for stack in read_assembly(self.options.assembly_dir)}

    def construct_paths(self) -> dict[tuple[str, str], str]:
        """(stack, logical id) -> construct path below the stack, for error messages."""
        paths = {}
        for stack in read_assembly(self.options.assembly_dir):
            for logical, resource in stack.template.get("Resources", {}).items():
                path = resource.get("Metadata", {}).get("aws:cdk:path", "")
                if path:
                    paths[(stack.name, logical)] = path.split("/", 1)[-1].removesuffix("/Resource")
        return paths

    def bootstrap(self) -> list[str]:
        from botocore.exceptions import ClientError

        environments_ = sorted({f"aws://{stack.account}/{stack.region}" for stack in read_assembly(self.options.assembly_dir)})
        missing = []
        for environment in environments_:
            region = environment.rsplit("/", 1)[1]
            try:
                status = self.clients("cloudformation", region).describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"][0]["StackStatus"]
            except ClientError:
                status = None
            if status not in HEALTHY:
                missing.append(environment)
        if missing:
            result = self.cli("bootstrap", ["bootstrap", "--app", str(self.options.assembly_dir), *missing], region="us-east-1")
            if result.returncode != 0:
                raise LocalDeployError(describe_deploy_failure(result, clients=self.clients, stack_regions={}, action="bootstrap"))
        return missing

    def deploy(self) -> None:
        result = self.cli(
            "deploy",
            ["deploy", "--app", str(self.options.assembly_dir), "--all", "--require-approval", "never", "--method=direct", "--progress", "events"],
            region="us-east-1",
        )
        if result.returncode != 0:
            raise LocalDeployError(
                describe_deploy_failure(result, clients=self.clients, stack_regions=self.stack_regions(), paths=self.construct_paths())
            )

    def destroy(self) -> tuple[list[str], list[str]]:
        from botocore.exceptions import ClientError

        regions = self.stack_regions()
        result = self.cli("destroy", ["destroy", "--app", str(self.options.assembly_dir), "--all", "--force"], region="us-east-1")
        if result.returncode != 0:
            raise LocalDeployError(
                describe_deploy_failure(result, clients=self.clients, stack_regions=regions, paths=self.construct_paths(), action="destroy")
            )
        left = []
        for name, region in regions.items():
            try:
                status = self.clients("cloudformation", region).describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
            except ClientError:
                continue  # gone
            if status != "DELETE_COMPLETE":
                left.append(f"{name} ({status})")
        if left:
            raise LocalDeployError(f"destroy left stacks behind: {', '.join(left)}")
        return sorted(regions), retained_resources(self.options.assembly_dir)


def retained_resources(assembly_dir: Path) -> list[str]:
    """Resources a stack deletion keeps by design (``retain_data``): they outlive ``destroy``."""
    kept = []
    names = {"AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName"}
    for stack in read_assembly(assembly_dir):
        counts: Counter = Counter()
        for resource in stack.template.get("Resources", {}).values():
            if resource.get("DeletionPolicy") != "Retain":
                continue
            name = resource.get("Properties", {}).get(names.get(resource["Type"], ""), None)
            if resource["Type"] == "AWS::DynamoDB::Table" and isinstance(name, str):
                kept.append(f"{stack.name}: table {name}")
            else:
                counts[resource["Type"]] += 1
        kept += [f"{stack.name}: {count} x {type_}" for type_, count in sorted(counts.items())]
    return kept


# ---------------------------------------------------------------- commands


def deploy(options: Options) -> DeployResult:
    """The whole flow; raises LocalDeployError (one line) on any failure, after stopping what it started."""
    started = time.monotonic()
    configured = environments(options)  # a configuration mistake stops before anything starts
    cli_path(options.cli)  # so does a missing CDK CLI, before seconds of synth
    target = acquire_target(options)
    steps = _Steps(options, target)
    options.out(f"Local deploy to {target.endpoint} ({options.endpoint_origin or origin(target)})")
    try:
        steps.synth()
        bootstrapped = steps.bootstrap()
        if not bootstrapped:
            options.out("  bootstrap: already done on this emulator")
        steps.deploy()
        smoke_started = time.monotonic()
        report = smoke_check(target.endpoint, options.assembly_dir, configured)
        steps.timings["smoke check"] = time.monotonic() - smoke_started
        result = DeployResult(target.endpoint, report, steps.timings)
        for line in summary(result, target):
            options.out(line)
        report.raise_for_differences()
        if options.destroy:
            result.destroyed, result.retained = steps.destroy()
            for line in destroy_summary(result.destroyed, result.retained):
                options.out(line)
        result.timings["total"] = time.monotonic() - started
        options.out(f"Done in {result.timings['total']:.1f} s.{_after(target)}")
        return result
    finally:
        release_target(target)


def destroy(options: Options) -> list[str]:
    """Destroys the stacks on the kept server (or AWS_ENDPOINT_URL), then stops the kept server."""
    if not _given_endpoint(options) and kept_emulator(options) is None:
        options.out(
            "Nothing to destroy: no emulator kept by `make deploy-local KEEP=1` is running and AWS_ENDPOINT_URL is not set "
            "(a plain `make deploy-local` stops its emulator, and its stacks go with it)."
        )
        return []
    target = acquire_target(options)
    steps = _Steps(options, target)
    options.out(f"Local destroy on {target.endpoint} ({origin(target)})")
    try:
        if not (options.assembly_dir / "manifest.json").exists():
            steps.synth()
        destroyed, retained = steps.destroy()
        for line in destroy_summary(destroyed, retained):
            options.out(line)
        return destroyed
    finally:
        if target.origin == "kept":
            emulator_module.stop(target.emulator)
            options.state_file.unlink(missing_ok=True)
            options.out(f"Stopped the kept emulator (pid {target.emulator.pid}).")


def origin(target: Target) -> str:
    if target.origin == "AWS_ENDPOINT_URL":
        return "AWS_ENDPOINT_URL; nothing started"
    if target.origin == "kept":
        return f"emulator kept by an earlier run, pid {target.emulator.pid}"
    kept = "" if target.stop_at_end else ", kept running after this command"
    return f"moto server started on a free port, pid {target.emulator.pid}{kept}"


def _after(target: Target) -> str:
    if target.stop_at_end:
        return " Emulator stopped."
    if target.origin == "AWS_ENDPOINT_URL":
        return ""
    return f" Emulator still running at {target.endpoint}: make destroy-local stops it."


# ---------------------------------------------------------------- output


def _table(rows: list[list[str]], indent: str = "    ") -> Iterator[str]:
    if not rows:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        yield indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()


def summary(result: DeployResult, target: Target | None = None) -> list[str]:
    report = result.report
    lines = ["", "Stacks"]
    lines += _table([[s.name, s.region, s.status] for s in report.stacks])
    lines += ["Tables"]
    lines += _table([[t.environment, t.region, t.name, t.keys, t.billing, t.state] for t in report.tables])
    lines += ["Buckets"]
    lines += _table([[b.stack, b.name, b.encryption, "TLS-only" if b.tls_only else "NOT TLS-only"] for b in report.buckets])
    lines += [f"Roles ({len(report.roles)}) and instance profiles ({len(report.instance_profiles)}): trust as synthesized" if report.roles else "Roles: none"]
    lines += ["Pipelines"]
    lines += _table([[p.stack, p.name, p.pipeline_id, p.state] for p in report.pipelines])
    if report.not_modelled:
        skipped = ", ".join(f"{type_} ({count})" for type_, count in sorted(report.not_modelled.items()))
        lines += [f"Not modelled by the emulator (skipped, not checked): {skipped}"]
    lines += ["Not proved by a local deploy:"] + [f"  - {item}" for item in NOT_PROVED]
    timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in result.timings.items())
    if report.ok:
        lines += [f"Smoke check passed: {report.checks} checks against the synthesized templates and the configuration ({timings})."]
    else:
        lines += [f"Smoke check FAILED: {len(report.differences)} difference(s) in {report.checks} checks:"]
        lines += [f"  - {difference}" for difference in report.differences]
    return lines


def destroy_summary(destroyed: list[str], retained: list[str]) -> list[str]:
    lines = [f"Destroyed: {', '.join(destroyed) or 'nothing'}"]
    if retained:
        lines += ["Kept by DeletionPolicy Retain (in AWS they outlive the stacks):"] + [f"  - {item}" for item in retained]
    return lines
