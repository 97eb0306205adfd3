"""From one synthesized pipeline to the concrete requests it makes when it runs.

Reads the definition the way the service does: the Default object names the roles and the log
folder, each EmrCluster is launched in its region, each activity's input and output data nodes say
which table, folder or bucket is read or written, preconditions and alarms add their own calls.
Parameters take their stored values; the run-time folder name becomes a sample date.
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass

from ..definition.emr import OUTPUT_FOLDER, pushdown_off, removed_folder
from ..definition.guard import read_guard
from ..definition.hive_projection import UnreadableScript, read_script
from ..definition.hive_verify import read_verify_script
from ..definition.model import PipelineDefinition, PipelineObject
from .assembly_view import Bucket, Pipeline, StateMachine, World
from .evaluator import Request
from .runtime_calls import CALLS, NODES, ROLE, RuntimeCall, folder_ancestors

SAMPLE_RUN = "2026-01-31-00-00-00"
SAMPLE_PIPELINE_ID = "df-0example"
SAMPLE_CLUSTER_ID = "j-0example"
SAMPLE_FILE = "5e1c7a2b-part-00000.gz"
_CLEANUP = re.compile(r"^aws s3 rm --recursive(?: --only-show-errors)? #\{input\.directoryPath\}$")


Fact = str | Sequence[str]  # a placeholder's value; a list gives one request per item
_NO_TAGS: Mapping[str, str] = {}


class ModelGap(ValueError):
    """The definition uses something the runtime model has no rows for: the check cannot vouch for it."""


@dataclass(frozen=True)
class Expected:
    """One request a pipeline (or a native-engine state machine) makes, with the model row it comes from."""

    pipeline: Pipeline | StateMachine
    call: RuntimeCall
    request: Request
    facts: Mapping[str, str]


def _substitute(definition: PipelineDefinition, value: str) -> str:
    def parameter(match: re.Match[str]) -> str:
        found = definition.value_of(match.group(1))
        return found if found is not None else match.group(0)

    value = re.sub(r"#\{(my[A-Za-z0-9_]+)\}", parameter, value)
    return re.sub(r"#\{format\(@scheduledStartTime, *'[^']*'\)\}", SAMPLE_RUN, value)


def _field(definition: PipelineDefinition, obj: PipelineObject, key: str) -> str | None:
    raw = obj.value(key)
    return None if raw is None else _substitute(definition, raw)


def _s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ModelGap(f"{uri!r} is not an s3:// location")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key.rstrip("/")


def _table_arn(name: str, region: str, account: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"


class _Expansion:
    def __init__(self, world: World, pipeline: Pipeline) -> None:
        self.world = world
        self.pipeline = pipeline
        self.definition = pipeline.definition
        default = self.definition.object("Default")
        self.role_arn = f"arn:aws:iam::{pipeline.account}:role/{_field(self.definition, default, 'role')}"
        profile = _field(self.definition, default, "resourceRole")
        self.profile_arn = f"arn:aws:iam::{pipeline.account}:instance-profile/{profile}"
        if self.profile_arn not in world.instance_profiles:
            raise ModelGap(f"instance profile {profile} is not declared in the assembly")
        self.nodes_arn = world.instance_profiles[self.profile_arn]
        self.base = {
            "account": pipeline.account,
            "home": pipeline.region,
            "region": pipeline.region,
            "role_arn": self.role_arn,
            "nodes_arn": self.nodes_arn,
            "profile_arn": self.profile_arn,
            "pipeline_arn": f"arn:aws:datapipeline:{pipeline.region}:{pipeline.account}:pipeline/{SAMPLE_PIPELINE_ID}",
        }

    def run(self) -> Iterator[Expected]:
        default = self.definition.object("Default")
        log_bucket, log_folder = _s3(_field(self.definition, default, "pipelineLogUri") or "")
        yield from self._emit("pipeline", {**self._bucket_facts(log_bucket, "log_"), "log_folder": log_folder,
                                           "log_object_arn": f"arn:aws:s3:::{log_bucket}/{log_folder}/{SAMPLE_PIPELINE_ID}/activity/attempt/stdout.gz"},
                              flags={"log_bucket_kms"} if self.world.buckets.get(log_bucket) and self.world.buckets[log_bucket].key_arn else set())
        for obj in self.definition.objects:
            kind = obj.type
            if kind == "EmrCluster":
                yield from self._emit("EmrCluster", self._cluster_facts(obj))
            elif kind == "EmrActivity":
                yield from self._activity(obj)
            elif kind in ("HiveCopyActivity", "HiveActivity"):
                yield from self._hive_copy(obj)
            elif kind == "ShellCommandActivity":
                yield from self._shell(obj)
            elif kind == "S3KeyExists":
                bucket, key = _s3(_field(self.definition, obj, "s3Key") or "")
                yield from self._emit("S3KeyExists", {**self._bucket_facts(bucket), "object_arn": f"arn:aws:s3:::{bucket}/{key}",
                                                      "folder": key.rsplit("/", 1)[0]}, principal_field=obj)
            elif kind == "SnsAlarm":
                yield from self._alarm(obj)
            elif kind in ("Default", "Schedule", "DynamoDBDataNode", "S3DataNode", "DynamoDBExportDataFormat"):
                continue  # their calls are made by the activities that use them
            elif kind in ("EmrConfiguration", "Property"):
                continue  # settings the cluster's applications read on its nodes: no AWS call
            else:
                raise ModelGap(f"object {obj.id} of type {kind} has no rows in the runtime model")

    def _cluster_facts(self, cluster: PipelineObject) -> dict[str, str]:
        region = _field(self.definition, cluster, "region") or self.pipeline.region
        return {"region": region, "cluster_arn": f"arn:aws:elasticmapreduce:{region}:{self.pipeline.account}:cluster/{SAMPLE_CLUSTER_ID}"}

    def _activity(self, activity: PipelineObject) -> Iterator[Expected]:
        """The connector's step (the last), after the step that removes the output folder, if any (``emr``)."""
        cluster = self.definition.object(activity.value("runsOn") or "")
        facts = self._cluster_facts(cluster)
        *before, raw = activity.values("step") or [""]
        for earlier in before:
            if removed_folder(earlier) != OUTPUT_FOLDER:
                raise ModelGap(f"{activity.id}: the runtime model knows no calls for the step {earlier!r}")
            yield from self._folder("clears S3DataNode", self.definition.object(activity.value("output") or ""), facts)
        step = _substitute(self.definition, raw)
        jar_bucket, jar_key = _s3(step.split(",", 1)[0])
        yield from self._emit("EmrActivity", {**facts, "jar_arn": f"arn:aws:s3:::{jar_bucket}/{jar_key}"})
        acl = {"canned_acl"} if "fs.s3.canned.acl" in step else set()
        for direction, ref in (("reads", activity.value("input")), ("writes", activity.value("output"))):
            node = self.definition.object(ref or "")
            if node.type == "DynamoDBDataNode":
                yield from self._table(f"{direction} DynamoDBDataNode", node, facts)
            elif node.type == "S3DataNode":
                yield from self._folder(f"{direction} S3DataNode", node, facts, acl)
            else:
                raise ModelGap(f"{activity.id} {direction} a {node.type}, which the runtime model does not cover")

    def _hive_copy(self, activity: PipelineObject) -> Iterator[Expected]:
        """A HiveCopyActivity, or a HiveActivity running one of this project's scripts, reads (and writes) its
        tables through the connector's Hive storage handler on the nodes, with the same DynamoDB client (and
        calls) as the connector's tools; Task Runner runs it as a step of the cluster (the EmrCluster rows).
        Only tables are modelled, and only the scripts ``hive_projection`` (reads its input, writes its
        output) and ``hive_verify`` (reads both its inputs, the first through the WHERE) write."""
        cluster = self.definition.object(activity.value("runsOn") or "")
        facts = self._cluster_facts(cluster)
        reads, writes = activity.values("input"), activity.values("output")
        if activity.type == "HiveActivity":
            script = activity.value("hiveScript") or ""
            try:
                filters = bool(read_script(script).where)
            except UnreadableScript:
                try:
                    filters = bool(read_verify_script(script).where)
                except UnreadableScript as error:
                    raise ModelGap(f"{activity.id}: a HiveActivity script the runtime model does not cover ({error})") from None
        else:
            filters = bool(activity.value("filterSql"))
        for direction, refs in (("reads", reads), ("writes", writes)):
            for index, ref in enumerate(refs):
                node = self.definition.object(ref)
                if node.type != "DynamoDBDataNode":
                    raise ModelGap(f"{activity.id} {direction} a {node.type}: the runtime model covers {activity.type} between tables only")
                yield from self._table(f"{direction} DynamoDBDataNode", node, facts)
                if direction == "reads" and index == 0 and filters and not pushdown_off(self.definition, cluster):
                    yield from self._table("filters DynamoDBDataNode", node, facts)

    def _table(self, trigger: str, node: PipelineObject, cluster: Mapping[str, str]) -> Iterator[Expected]:
        name = _field(self.definition, node, "tableName") or ""
        region = _field(self.definition, node, "region") or cluster["region"]
        arn = _table_arn(name, region, self.pipeline.account)
        table_region, table_account, table = arn.split(":")[3], arn.split(":")[4], arn.split("/", 1)[1]
        declared = self.world.tables.get(arn)
        # A table the assembly only references may be encrypted with a customer managed key of its account.
        key_arn = declared.key_arn if declared else f"arn:aws:kms:{table_region}:{table_account}:key/referenced-{table}"
        flags = {"table_cmk"} if declared is None or declared.encryption == "CUSTOMER_MANAGED" else set()
        if table_account != self.pipeline.account:
            flags.add("cross_account")
        yield from self._emit(trigger, {**cluster, "table_arn": arn, "table": table, "table_region": table_region,
                                        "table_account": table_account, "key_arn": key_arn or "",
                                        "query_arn": [arn, f"{arn}/index/example"]}, flags=flags)

    def _folder(self, trigger: str, node: PipelineObject, cluster: Mapping[str, str], flags: Set[str] = frozenset()) -> Iterator[Expected]:
        bucket, folder = _s3(_field(self.definition, node, "directoryPath") or "")
        ancestors = [*folder_ancestors(folder), folder]
        facts = {
            **cluster,
            **self._bucket_facts(bucket),
            "folder": folder,
            "object_arn": f"arn:aws:s3:::{bucket}/{folder}/{SAMPLE_FILE}",
            "ancestor_arns": [f"arn:aws:s3:::{bucket}/{a}" for a in ancestors],
            "marker_arns": [f"arn:aws:s3:::{bucket}/{a}_$folder$" for a in ancestors],
            "ancestor_prefixes": [f"{a}/" for a in ancestors],
            "folder_arns": [f"arn:aws:s3:::{bucket}/{folder}", f"arn:aws:s3:::{bucket}/{folder}_$folder$"],
            "folder_marker_arns": [f"arn:aws:s3:::{bucket}/{a}_$folder$" for a in ancestors[-2:]],
        }
        key = self.world.buckets[bucket].key_arn if bucket in self.world.buckets else None
        yield from self._emit(trigger, {**facts, "key_arn": key or ""}, flags=({"bucket_kms"} if key else set()) | set(flags))

    def _shell(self, activity: PipelineObject) -> Iterator[Expected]:
        command = activity.value("command") or ""
        if read_guard(command) is not None and activity.value("input") is None and activity.value("output") is None:
            return  # a shell ``case`` on its argument (definition/guard.py): no AWS call; Task Runner's own are the EmrCluster rows
        node = self.definition.object(activity.value("input") or "")
        if not _CLEANUP.match(command) or node.type != "S3DataNode":
            raise ModelGap(f"{activity.id}: the runtime model knows no calls for the command {command!r}")
        cluster = self._cluster_facts(self.definition.object(activity.value("runsOn") or ""))
        yield from self._folder("deletes S3DataNode", node, cluster)

    def _alarm(self, alarm: PipelineObject) -> Iterator[Expected]:
        topic_arn = _field(self.definition, alarm, "topicArn") or ""
        topic = self.world.topics.get(topic_arn)
        key = topic.key_arn if topic else None
        yield from self._emit("SnsAlarm", {"topic_arn": topic_arn, "topic_region": topic_arn.split(":")[3], "key_arn": key or ""},
                              flags={"topic_kms"} if key else set(), principal_field=alarm)

    def _bucket_facts(self, bucket: str, prefix: str = "") -> dict[str, str]:
        # A bucket the assembly only references (a team's existing bucket) is taken to be in the
        # pipeline's account and region, with no bucket policy and S3-managed encryption: what the
        # construct was told about it (a bucket key given to it shows up as that grant) is all it knows.
        declared = self.world.buckets.get(bucket) or Bucket(bucket, self.pipeline.account, self.pipeline.region, None, None)
        return {f"{prefix}bucket": bucket, f"{prefix}bucket_arn": f"arn:aws:s3:::{bucket}", "bucket_account": declared.account,
                "bucket_region": declared.region, f"{prefix}key_arn": declared.key_arn or ""}

    def _emit(self, trigger: str, facts: Mapping[str, Fact], *, flags: Set[str] = frozenset(),
              principal_field: PipelineObject | None = None) -> Iterator[Expected]:
        role_arn = self.role_arn
        if principal_field is not None and principal_field.value("role"):
            role_arn = f"arn:aws:iam::{self.pipeline.account}:role/{_field(self.definition, principal_field, 'role')}"
        merged = {**self.base, **facts, "role_arn": role_arn}
        for call in CALLS:
            if call.trigger != trigger or (call.when is not None and call.when not in flags):
                continue
            principal = {ROLE: role_arn, NODES: self.nodes_arn}.get(call.principal, call.principal)
            role = self.world.roles.get(principal)
            yield from requests_of(self.pipeline, call, principal, merged, principal_tags=role.tags if role else {},
                                   resource_tags=self.pipeline.tags if call.on_cluster else {})


def requests_of(subject: Pipeline | StateMachine, call: RuntimeCall, principal: str, facts: Mapping[str, Fact], *,
                principal_tags: Mapping[str, str] = _NO_TAGS, resource_tags: Mapping[str, str] = _NO_TAGS) -> Iterator[Expected]:
    """The requests one model row makes as ``principal``, with the context every request carries (TLS,
    the region, the caller's ARN, account and tags (``principal_tags``, the role's own in the template);
    only the source keys for a service assuming a role). ``resource_tags``: the tags the resource carries,
    which the request carries as ``aws:ResourceTag/<key>`` and ``<service>:ResourceTag/<key>``."""
    for action in call.actions:
        service = action.split(":", 1)[0]
        tagged = {f"{prefix}:ResourceTag/{key}": value for key, value in resource_tags.items() for prefix in ("aws", service)}
        for resource, context in fill(call, facts):
            context = {"aws:SecureTransport": "true", "aws:RequestedRegion": str(facts["region"]), **tagged, **context}
            if not principal.startswith("service:"):
                account = principal.split(":")[4] if principal.startswith("arn:") else subject.account
                context |= {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account}
                context |= {f"aws:PrincipalTag/{key}": value for key, value in principal_tags.items()}
            if action.startswith("sts:"):  # a role assuming a role is still named by its ARN; a service is not
                context = {k: v for k, v in context.items() if k.startswith(("aws:Source", "aws:Principal"))}
            yield Expected(subject, call, Request(principal, action, resource, context), {k: str(v) for k, v in facts.items()})


def fill(call: RuntimeCall, facts: Mapping[str, Fact]) -> Iterator[tuple[str, dict[str, str]]]:
    """The call's resource and context with placeholders filled; a list-valued placeholder gives one
    request per value."""
    templates = {"__resource__": call.resource, **call.context}
    names = sorted({n for t in templates.values() for n in re.findall(r"\{(\w+)\}", t)})
    missing = [n for n in names if n not in facts]
    if missing:
        raise ModelGap(f"model row '{call.step}' needs {', '.join(missing)}, which {call.trigger} does not provide")
    choices: list[Sequence[str]] = [[v] if isinstance(v, str) else v for v in (facts[n] for n in names)]
    for combination in itertools.product(*choices):
        values = dict(zip(names, combination, strict=True))
        filled = {k: _fill_one(t, values) for k, t in templates.items()}
        resource = filled.pop("__resource__")
        yield resource, filled


def _fill_one(template: str, values: Mapping[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)


def expected_requests(world: World, pipeline: Pipeline) -> list[Expected]:
    return list(_Expansion(world, pipeline).run())


STEP_ACTION = "elasticmapreduce:AddJobFlowSteps"


def step_requests(world: World, caller: Pipeline, owner: Pipeline) -> list[Expected]:
    """``caller``'s node role adding a step to each cluster ``owner`` launches: the request Task Runner makes on
    its own cluster (the model's node-role cluster row) when ``owner`` is ``caller``, and the one code on
    ``caller``'s cluster could make on another pipeline's cluster otherwise. The cluster carries ``owner``'s
    tags (Data Pipeline propagates them), the request ``caller``'s node role's tags."""
    mine, theirs = _Expansion(world, caller), _Expansion(world, owner)
    row = next(c for c in CALLS if c.on_cluster and c.principal == NODES and STEP_ACTION in c.actions)
    row = dataclasses.replace(row, actions=(STEP_ACTION,))
    role = world.roles.get(mine.nodes_arn)
    found: list[Expected] = []
    for cluster in (obj for obj in owner.definition.objects if obj.type == "EmrCluster"):
        facts = {**mine.base, **theirs._cluster_facts(cluster)}
        found += requests_of(caller, row, mine.nodes_arn, facts, principal_tags=role.tags if role else {}, resource_tags=owner.tags)
    return found
