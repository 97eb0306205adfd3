"""The acceptance run (``ddb_datapipeline.acceptance``) on the local emulator: Data Pipeline does not run anything on
moto, so ``LocalRunner`` stands in for the service behind the product's ``PipelineRunner`` interface: it creates
the run's pipeline on the emulator as the service would (so cleanup finds and deletes it), then runs the definition
with the drill's local runner (``drill_run.PipelineRun``), every call decided first by the permission model
(``drill_access.Access``). A call the model refuses fails the run, as on AWS, and is also recorded as the CloudTrail
event AWS would have logged; ``RecordedTrail`` answers LookupEvents with those events, so the report's path from a
denied call to the model's row runs here.

A native environment's machines run on moto's Step Functions interpreter as the drill runs them (``drill_native``):
``native_machines`` reads the deployed machines, turns moto's execution on and re-creates each machine there under its
own name with its waits at 0 seconds; the product's ``AwsMachineRunner`` then starts them by name as on AWS, polling
every ``NATIVE_POLL_SECONDS``. The emulator's configured tables are empty, so each native table gets the drill's items
first (on AWS they hold the user's items, which the run never writes) and point-in-time recovery on (moto ignores the
template's setting). Dev-only: the product never imports this module.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ddb_datapipeline.acceptance.native import AwsMachineRunner
from ddb_datapipeline.acceptance.run import AwsPipelineRunner, JobOutcome, Out, PipelineJob

from .drill_access import Access, Refused, RunFailed
from .drill_native import NativeRunner, deployed_machines, execute_state_machines
from .drill_run import PipelineRun


@dataclass
class RecordedTrail:
    """A CloudTrail stand-in: the events recorded per region, answered by ``lookup_events`` pages."""

    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def record(self, region: str, principal: str, action: str, resource: str, reason: str) -> None:
        service, _, name = action.partition(":")
        self.events.setdefault(region, []).append({
            "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": f"{service}.amazonaws.com", "eventName": name,
            "errorCode": "AccessDenied", "errorMessage": reason, "resources": [{"ARN": resource}],
            "userIdentity": {"type": "AssumedRole", "sessionContext": {"sessionIssuer": {"type": "Role", "arn": principal,
                                                                                          "userName": principal.rsplit("/", 1)[-1]}}},
        })

    def client(self, region: str) -> Any:
        trail = self

        class Paginator:
            def paginate(self, **_: Any) -> Iterator[dict[str, Any]]:
                yield {"Events": [{"CloudTrailEvent": json.dumps(e)} for e in trail.events.get(region, [])]}

        class Client:
            def get_paginator(self, name: str) -> Paginator:
                assert name == "lookup_events"
                return Paginator()

        return Client()


class RecordingAccess(Access):
    """``Access`` that records each refused call in ``trail`` before the run fails on it."""

    trail: RecordedTrail

    def check(self, where: str, principal: str, action: str, resource: str, region: str, **context: str) -> None:
        try:
            super().check(where, principal, action, resource, region, **context)
        except Refused as refused:
            self.trail.record(region, principal, action, resource, str(refused).rsplit(": ", 1)[-1])
            raise


@dataclass(frozen=True)
class LocalRunner:
    """A ``PipelineRunner`` for the emulator. ``before_run(job)`` lets a test act in the middle of a run (an
    interruption)."""

    clients: Any
    access: Access
    trail: RecordedTrail
    before_run: Any = None

    def run(self, job: PipelineJob, *, progress: Out) -> JobOutcome:
        client = self.clients("datapipeline", job.region)
        pipeline_id = client.create_pipeline(name=job.name, uniqueId=job.name, tags=[{"key": k, "value": v} for k, v in job.tags])["pipelineId"]
        client.put_pipeline_definition(pipelineId=pipeline_id, **job.definition)
        if self.before_run is not None:
            self.before_run(job)
        access = RecordingAccess(self.access.world, self.access.names)
        access.trail = self.trail
        stored: Mapping[str, Any] = job.definition
        try:
            PipelineRun(job.name, stored, clients=self.clients, access=access, region=job.region,
                        scheduled_start=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                        overrides=dict(job.parameter_values)).run()
        except RunFailed as error:
            return JobOutcome("FAILED", str(error))
        progress(f"acceptance: {job.name}: FINISHED on the local runner")
        return JobOutcome("FINISHED")

    def remove(self, *, region: str, prefix: str) -> list[str]:
        return AwsPipelineRunner(self.clients).remove(region=region, prefix=prefix)


NATIVE_POLL_SECONDS = 0.1  # moto runs an execution on a thread of its own and ends these machines within a second


@dataclass(frozen=True)
class NativeStandIn:
    """The native machines of an environment, ready on moto's interpreter; ``close`` turns its execution off again."""

    endpoint: str
    machines: AwsMachineRunner

    def close(self) -> None:
        execute_state_machines(self.endpoint, on=False)


def native_machines(drill: Any, env: Any) -> NativeStandIn | None:
    """Seed each native table of ``env`` with the drill's items, turn its point-in-time recovery on, and put every
    deployed machine of ``env`` on moto's interpreter (moto's execution is turned on: ``NativeStandIn.close``)."""
    tables = [table for table in env.tables if table.native]
    if not tables:
        return None
    for table in tables:
        drill.seed(table, env.region)
        drill.clients("dynamodb", env.region).update_continuous_backups(
            TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    deployed = deployed_machines(drill.clients, env.region)  # read while moto's execution is off (drill_native)
    execute_state_machines(drill.endpoint, on=True)
    runner = NativeRunner(clients=drill.clients, region=env.region, deployed=deployed)
    for name in sorted(deployed):
        if name.startswith(f"ddb-{env.name}-"):
            runner.machine(name)
    return NativeStandIn(drill.endpoint, AwsMachineRunner(drill.clients, poll_seconds=NATIVE_POLL_SECONDS))


def acceptance_local(options: Any, items: int) -> int:
    """``make acceptance ENV=<env> LOCAL=1``: deploy on an emulator (one this command starts, or ``AWS_ENDPOINT_URL``'s),
    then run ``python -m ddb_datapipeline acceptance`` against it with ``LocalRunner`` in place of Data Pipeline and
    ``RecordedTrail`` in place of CloudTrail; a table the configuration only references gets the drill's stand-in
    first (the emulator has none). The exit code is the acceptance run's."""
    from ddb_datapipeline.__main__ import parser
    from ddb_datapipeline.acceptance.cli import run_acceptance
    from ddb_datapipeline.acceptance.trail import ModelIndex

    from .deploy import acquire_target, deploy, environments, origin, release_target
    from .drill import Drill

    environments(options)  # a configuration mistake stops before anything starts
    target = acquire_target(options)
    try:
        options.endpoint, options.endpoint_origin = target.endpoint, origin(target)
        deploy(options)
        drill = Drill(target.endpoint, options, items)
        for env in drill.environments:
            for table in env.tables:
                if table.owned is None and not table.native:
                    drill.stand_ins(env, table)
        for note in drill.notes:
            options.out(note)
        (env,) = [env for env in drill.environments if env.name == options.env]
        native = native_machines(drill, env)
        trail = RecordedTrail()
        args = parser().parse_args(["acceptance", "--env", options.env, "--yes", "--items", str(items), "--trail-wait-seconds", "0",
                                    "--report-dir", str(options.state_dir / "acceptance-reports")])
        model = ModelIndex.of(drill.access.world) if drill.access is not None else ModelIndex({})  # native only: no pipeline model
        try:
            return run_acceptance(args, clients=drill.clients, runner=LocalRunner(drill.clients, drill.access, trail),
                                  model=model, trail_clients=lambda service, region: trail.client(region),
                                  machines=native.machines if native else None, out=options.out)
        finally:
            if native is not None:
                native.close()
    finally:
        release_target(target)
