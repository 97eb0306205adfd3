"""One run of a deployed pipeline, from its definition as the emulator stores it (GetPipelineDefinition),
not from the Python objects that built it: a step whose arguments are swapped, a folder expression that
resolves elsewhere or a precondition on the wrong key fails here as it would on AWS.

What a run does, per object type of the definition (AWS Data Pipeline Developer Guide; the connector's
tools for the steps): ``#{...}`` resolved from parameter values, the fields of ``input``/``output`` and
``node``, and the date functions of the scheduled start (``ddb_datapipeline.definition.run_time``);
activities in ``dependsOn`` order; an input's ``S3KeyExists`` precondition checked as the pipeline role;
an ``EmrActivity`` removes its output folder when its first step says so (``_remove_output``), then runs its
connector step as the node role, its arguments read as Hadoop's
GenericOptionsParser reads them (``hadoop_arguments``: ``-D`` options count only before the first argument)
and then as the tool's ``run`` reads them: ``DynamoDBExport`` refuses an output folder that exists
(FileOutputFormat.checkOutputSpecs), divides the scan among its map tasks as connector 4.11.0 does and
writes a data file per map task, the manifest and ``_SUCCESS``; ``DynamoDBImport`` reads the files the
manifest lists and fails on the first batch DynamoDB refuses (``connector_format.refusal``); the cleanup command deletes its
folder; the guard a restore's step dependsOn (``definition.guard``) is run as it is on the cluster, its
``command`` by ``/bin/sh`` with the expanded ``scriptArgument`` values as its positional parameters, and the run
fails there when it exits non-zero; a ``HiveCopyActivity`` copies the items its ``filterSql`` keeps, a ``HiveActivity`` running this
project's projection script the items its WHERE keeps, cut to its attributes, and one running the count after a
copy fails unless each item the WHERE keeps in the source is in the target by key; an activity that fails publishes
its ``onFail`` alarm to the topic, as the alarm's role. Every call is first decided by ``Access``, and
reads and writes are paced at the connector's rate for the step's throughput ratio (``drill_rate.py``).
Before any activity, the stored definition is held to the validator's ``parameter_code``: a parameter that reaches a
code field other than behind a guard fails the run before anything runs (an activation value would be code).
An activity that fails is attempted again up to its ``maximumRetries`` (none when the definition states
none), as Data Pipeline does, with the same scheduled start and so the same folders; ``fail_attempts``
makes the first attempts of an activity fail after its map tasks wrote their files, the fault a retry
must survive.
"""
from __future__ import annotations

import json
import math
import re
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ddb_datapipeline.acceptance.connector_format import (
    cluster_map_tasks,
    export_split,
    map_task_items,
    read_export,
    refusal,
    write_data_files,
    write_export,
)
from ddb_datapipeline.definition.emr import OUTPUT_FOLDER, removed_folder
from ddb_datapipeline.definition.guard import read_guard
from ddb_datapipeline.definition.hive_projection import ProjectionScript, UnreadableScript, read_script
from ddb_datapipeline.definition.hive_tables import statements_of
from ddb_datapipeline.definition.hive_verify import VerifyScript, read_verify_script
from ddb_datapipeline.definition.injection_rules import parameter_code
from ddb_datapipeline.definition.model import Field, Parameter, PipelineDefinition, PipelineObject
from ddb_datapipeline.definition.run_time import UnknownExpression, evaluate
from ddb_datapipeline.definition.view import DefinitionView

from .drill_access import Access, RunFailed
from .drill_rate import Pacer, read_units, table_units, write_units
from .hive_filter import keeps

_EXPRESSION = re.compile(r"#\{([^{}]*)\}")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_CLEANUP = re.compile(r"^aws s3 rm --recursive(?: --only-show-errors)? (s3://\S+)$")
# Hadoop's GenericOptionsParser: its options, each taking one value (GenericOptionsParser.buildGeneralOptions)
_GENERIC_OPTIONS = ("D", "fs", "jt", "conf", "libjars", "files", "archives", "tokenCacheFile")
DEFAULT_RATIO = "0.5"  # DynamoDBConstants.DEFAULT_THROUGHPUT_PERCENTAGE, when a tool is given no ratio
_JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)")
_JAVA_INT = re.compile(r"[+-]?\d+")


@dataclass
class RunResult:
    pipeline: str
    items: int = 0
    bytes: int = 0
    files: int = 0
    seconds: float = 0.0
    rates: list[str] = field(default_factory=list)  # the rate each read and write held, of the ratio's limit
    exports: list[str] = field(default_factory=list)  # s3:// folders a DynamoDBExport wrote
    attempts: dict[str, list[str]] = field(default_factory=dict)  # activity -> the error of each failed attempt


def hadoop_arguments(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(``-Dkey=value`` options, the tool's arguments) as ToolRunner's GenericOptionsParser splits a step's
    tokens: commons-cli's GnuParser with stopAtNonOption, so options count only before the first argument.
    Its flatten step still cuts a later ``-Dk=v`` into ``-D`` and ``k=v``, which the tool then gets as two
    arguments (measured with connector 4.11.0 on Hadoop 3.3.4: ``Could not parse segment count (value: -D)``)."""
    flat: list[str] = []
    for index, token in enumerate(tokens):  # GnuParser.flatten
        name = token.lstrip("-")
        if token.startswith("-") and token != "-" and name not in _GENERIC_OPTIONS and token[1:2] == "D" and len(token) > 2:
            flat += ["-D", token[2:]]
        elif token.startswith("-") and token != "-" and name not in _GENERIC_OPTIONS:
            flat += tokens[index:]  # an option it does not know: it and the rest are arguments
            break
        else:
            flat.append(token)
    options: list[str] = []
    index = 0
    while index < len(flat) and flat[index].startswith("-") and flat[index].lstrip("-") in _GENERIC_OPTIONS:
        value = flat[index + 1] if index + 1 < len(flat) else ""
        if flat[index] == "-D":
            options.append(f"-D{value}")
        index += 2
    return options, flat[index:]


def java_double(text: str) -> float | None:
    """Double.parseDouble of a tool's ratio argument, None where Java throws (hexadecimal forms aside)."""
    trimmed = text.strip("".join(chr(code) for code in range(0x21)))
    if not _JAVA_DOUBLE.fullmatch(trimmed):
        return None
    return float(trimmed.rstrip("fFdD"))


def java_int(text: str) -> int | None:
    """Integer.parseInt of a tool's segment count, None where Java throws."""
    return int(text) if _JAVA_INT.fullmatch(text) and -(2**31) <= int(text) < 2**31 else None


def gzip_output(options: list[str]) -> bool:
    """Whether a step's Hadoop options (``-Dkey=value``) make its output files gzip: compression on (the
    current or the older property name) with the gzip codec; another codec is refused (ValueError)."""
    settings = dict(option.removeprefix("-D").partition("=")[::2] for option in options)
    on = "true" in (settings.get("mapreduce.output.fileoutputformat.compress"), settings.get("mapred.output.compress"))
    codec = settings.get("mapreduce.output.fileoutputformat.compress.codec") or settings.get("mapred.output.compression.codec")
    if on and codec != "org.apache.hadoop.io.compress.GzipCodec":
        raise ValueError(f"compression codec {codec or 'Hadoop default (deflate)'} is not one this runner writes (gzip)")
    return on


def _s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key.rstrip("/")


def projected(item: Mapping[str, Any], attributes: Iterable[str]) -> dict[str, Any]:
    """The item the projection writes: the attributes it has, of those named (a missing one leaves no entry)."""
    return {name: item[name] for name in attributes if name in item}


_DROP = re.compile(r"DROP TABLE IF EXISTS (\w+)")
_CREATE = re.compile(r"CREATE (?:EXTERNAL )?TABLE (\w+) ")


def hive_catalogue(tables: set[str], script: str, where: str) -> set[str]:
    """The tables a cluster's Hive knows after ``script``: Hive keeps a table for the cluster's life, so a
    second CREATE of a name fails (AlreadyExistsException) unless a DROP came first."""
    known = set(tables)
    for statement in statements_of(script):
        if dropped := _DROP.fullmatch(statement):
            known.discard(dropped[1])
        elif created := _CREATE.match(statement):
            if created[1] in known:
                raise RunFailed(f"{where}: Hive has a table {created[1]} on this cluster already (an earlier script made it), "
                                "so CREATE fails")
            known.add(created[1])
    return known


def _key_of(item: Mapping[str, Any], keys: Iterable[str]) -> tuple[str, ...]:
    """An item's key values as the join compares them: the JSON of each (the connector's item column)."""
    return tuple(json.dumps(item.get(key), sort_keys=True, default=str) for key in keys)


def emulated_table(table: str) -> str:
    """The name the emulator holds a table under: a table named by ARN is in another account on AWS, and in
    the emulator's one account here (its access was decided with the ARN)."""
    return table.rsplit("/", 1)[-1] if table.startswith("arn:") else table


def stored_definition(stored: Mapping[str, Any]) -> PipelineDefinition:
    """A GetPipelineDefinition answer as the validator's model (objects, parameters, values)."""
    objects = tuple(PipelineObject(o["id"], o.get("name", o["id"]), tuple(
        Field(f["key"], f["refValue"], is_ref=True) if "refValue" in f else Field(f["key"], f.get("stringValue", ""))
        for f in o.get("fields", []))) for o in stored.get("pipelineObjects", []))
    parameters = tuple(Parameter(p["id"], tuple((a["key"], a.get("stringValue", "")) for a in p.get("attributes", [])))
                       for p in stored.get("parameterObjects", []))
    values = tuple((v["id"], v.get("stringValue", "")) for v in stored.get("parameterValues", []))
    return PipelineDefinition(objects=objects, parameters=parameters, values=values)


class PipelineRun:
    def __init__(self, name: str, stored: Mapping[str, Any], *, clients: Callable[[str, str], Any], access: Access, region: str,
                 scheduled_start: datetime, overrides: Mapping[str, str] | None = None,
                 fail_attempts: Mapping[str, int] | None = None) -> None:
        self.name = name
        self.home = region  # the pipeline's region: where Data Pipeline itself (preconditions, alarms) calls from
        self.errors: dict[str, str] = {}
        self.hive_tables: dict[str, set[str]] = {}  # cluster -> the tables its Hive knows (hive_catalogue)
        self.objects = {o["id"]: o for o in stored.get("pipelineObjects", [])}
        defaults = {p["id"]: a["stringValue"] for p in stored.get("parameterObjects", []) for a in p.get("attributes", [])
                    if a["key"] == "default"}
        self.parameters = {**defaults, **{v["id"]: v["stringValue"] for v in stored.get("parameterValues", [])}, **(overrides or {})}
        self.clients = clients
        self.access = access
        self.scheduled_start = scheduled_start
        self.result = RunResult(name)
        self.fail_attempts = dict(fail_attempts or {})  # activity -> how many first attempts fail once their map tasks wrote
        self.attempt: dict[str, int] = {}
        self.definition = stored_definition(stored)

    # ------------------------------------------------------------------ reading the definition
    def values(self, object_id: str, key: str) -> list[tuple[str, bool]]:
        """(value, is reference) of a field, inherited from ``parent`` and then ``Default``."""
        chain = [object_id]
        while (parent := self._raw(chain[-1], "parent")) and parent[0][0] not in chain:
            chain.append(parent[0][0])
        for candidate in [*chain, "Default"]:
            if found := self._raw(candidate, key):
                return found
        return []

    def _raw(self, object_id: str, key: str) -> list[tuple[str, bool]]:
        obj = self.objects.get(object_id, {"fields": []})
        return [(f.get("stringValue", f.get("refValue", "")), "refValue" in f) for f in obj["fields"] if f["key"] == key]

    def ref(self, object_id: str, key: str) -> str | None:
        found = [value for value, is_ref in self.values(object_id, key) if is_ref]
        return found[0] if found else None

    def field(self, object_id: str, key: str, *, node: str | None = None) -> str:
        found = self.values(object_id, key)
        if not found:
            raise RunFailed(f"{self.name} {object_id}: no {key}")
        return self.expand(found[0][0], object_id, node=node)

    def expand(self, text: str, object_id: str, *, node: str | None = None) -> str:
        def value(match: re.Match[str]) -> str:
            body = match.group(1).strip()
            if body in self.parameters:
                return self.parameters[body]
            if body.startswith(("input.", "output.", "node.")):
                holder, _, key = body.partition(".")
                target = node if holder == "node" else self.ref(object_id, holder)
                if target is None:
                    raise RunFailed(f"{self.name} {object_id}: #{{{body}}} names no {holder}")
                if key == "@pipelineId":
                    return self.name
                if key == "@scheduledStartTime":
                    return self.scheduled_start.strftime("%Y-%m-%dT%H:%M:%S")
                if key == "name":
                    return str(self.objects.get(target, {}).get("name", target))
                if key == "errorMessage":
                    return self.errors.get(target, "")
                return self.field(target, key)
            try:
                return evaluate(body, self.scheduled_start)
            except UnknownExpression as error:
                raise RunFailed(f"{self.name} {object_id}: {error}") from None
        return _EXPRESSION.sub(value, text)

    def of_type(self, *types: str) -> list[str]:
        return [i for i in self.objects if self.values(i, "type") and self.values(i, "type")[0][0] in types]

    # ------------------------------------------------------------------ running
    def run(self) -> RunResult:
        started = time.monotonic()
        refused = list(parameter_code(DefinitionView(self.definition)))
        if refused:
            raise RunFailed(f"{self.name}: refused before any activity: {refused[0]}")
        for activity in self._in_order():
            self._attempts(activity)
        self.result.seconds = time.monotonic() - started
        return self.result

    def _attempts(self, activity: str) -> None:
        """The activity, then a retry after each failure while ``maximumRetries`` allows; the last failure
        raises the alarm and fails the run with that attempt's error."""
        stated = self.values(activity, "maximumRetries")
        retries = int(self.expand(stated[0][0], activity)) if stated else 0
        for attempt in range(1, retries + 2):
            self.attempt[activity] = attempt
            try:
                self._run_activity(activity)
                return
            except RunFailed as error:
                self.result.attempts.setdefault(activity, []).append(str(error))
                if attempt > retries:
                    self.errors[activity] = str(error)
                    self._alarm(activity)
                    raise

    def _in_order(self) -> list[str]:
        activities = self.of_type("EmrActivity", "ShellCommandActivity", "HiveCopyActivity", "HiveActivity")
        done: list[str] = []
        while len(done) < len(activities):
            ready = [a for a in activities if a not in done and all(d in done for d, _ in self.values(a, "dependsOn"))]
            if not ready:
                raise RunFailed(f"{self.name}: dependsOn of {', '.join(a for a in activities if a not in done)} never resolves")
            done.append(ready[0])
        return done

    def _region(self, activity: str) -> str:
        cluster = self.ref(activity, "runsOn")
        return self.field(cluster, "region") if cluster and self.values(cluster, "region") else self.home

    def _nodes(self) -> str:
        return self.access.profile_role_arn(self.field("Default", "resourceRole"))

    def _run_activity(self, activity: str) -> None:
        kind = self.values(activity, "type")[0][0]
        where = f"{self.name} {activity}"
        for node in (self.ref(activity, "input"),):
            for precondition, _ in self.values(node, "precondition") if node else []:
                self._precondition(where, precondition)
        if kind == "EmrActivity":
            self._remove_output(activity, where)
            self._step(activity, where)
        elif kind == "ShellCommandActivity" and len(self.values(activity, "command")) == 1 and read_guard(self.values(activity, "command")[0][0]):
            self._guard(activity, where)
        elif kind == "ShellCommandActivity":
            self._cleanup(activity, where)
        elif kind == "HiveActivity":
            self._hive_script(activity, where)
        else:
            self._hive_copy(activity, where)

    def _precondition(self, where: str, precondition: str) -> None:
        key_uri = self.field(precondition, "s3Key")
        role = self.access.role_arn(self.field(precondition, "role"))
        bucket, key = _s3(key_uri)
        self.access.check_objects(f"{where} {precondition}", role, ["s3:GetObject"], bucket, key, self.home, writes=False)
        client = self.clients("s3", self.home)
        try:
            client.head_object(Bucket=bucket, Key=key)
        except client.exceptions.ClientError:
            raise RunFailed(f"{where}: precondition {precondition} never holds: {key_uri} does not exist") from None

    def _step(self, activity: str, where: str) -> None:
        step = self.expand(self.values(activity, "step")[-1][0], activity)  # the connector's, after any removal
        parts = [p.replace("\\,", ",") for p in _UNESCAPED_COMMA.split(step)]
        options, arguments = hadoop_arguments(parts[2:])
        tool = parts[1].rsplit(".", 1)[-1] if len(parts) > 1 else ""
        region = self._region(activity)
        nodes = self._nodes()
        if tool == "DynamoDBExport" and len(arguments) >= 2:
            folder, table = arguments[:2]
            ratio = self._tool_ratio(where, tool, arguments, "read")
            segments = java_int(arguments[3]) if len(arguments) > 3 else None
            if len(arguments) > 3 and segments is None:
                raise RunFailed(f"{where}: {tool} exits with -1: Error: Could not parse segment count (value: {arguments[3]})")
            try:
                compress = gzip_output(options)
            except ValueError as error:
                raise RunFailed(f"{where}: {error}") from None
            self._export(where, nodes, table, folder, region, compress, ratio, activity=activity, segments=segments)
        elif tool == "DynamoDBImport" and len(arguments) >= 2:  # arguments after the ratio are ignored
            folder, table = arguments[:2]
            self._import(where, nodes, folder, table, region, self._tool_ratio(where, tool, arguments, "write"))
        elif tool in ("DynamoDBExport", "DynamoDBImport"):
            raise RunFailed(f"{where}: {tool} exits with -1: Error: Not enough parameters (arguments {arguments})")
        else:
            raise RunFailed(f"{where}: step {tool} with arguments {arguments} is not a connector export or import")

    @staticmethod
    def _tool_ratio(where: str, tool: str, arguments: list[str], kind: str) -> str:
        """The tool's third argument as its ``run`` parses it (Double.parseDouble), or the connector's default."""
        if len(arguments) < 3:
            return DEFAULT_RATIO
        value = java_double(arguments[2])
        if value is None:
            raise RunFailed(f"{where}: {tool} exits with -1: Error: Could not parse {kind} ratio (value: {arguments[2]})")
        return str(value)  # the tool sets Double.toString of it in the job's configuration

    def _remove_output(self, activity: str, where: str) -> None:
        """The steps before the connector's: each must remove the activity's own output folder (EMR's
        command-runner.jar running hadoop fs -rm -r -f), which deletes its files and its folder marker."""
        for raw, _ in self.values(activity, "step")[:-1]:
            if removed_folder(raw) != OUTPUT_FOLDER:
                raise RunFailed(f"{where}: step {raw!r} is neither the connector's nor the removal of the output folder")
            folder = self.expand(OUTPUT_FOLDER, activity)
            bucket, prefix = _s3(folder)
            region, nodes, said = self._region(activity), self._nodes(), f"{where} (removing {folder})"
            s3 = self.clients("s3", region)
            self.access.check_listing(said, nodes, bucket, f"{prefix}/", region)
            keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
                    for o in page.get("Contents", [])]
            for key in [*keys, f"{prefix}_$folder$"]:
                self.access.check_objects(said, nodes, ["s3:DeleteObject"], bucket, key, region, writes=False)
                s3.delete_object(Bucket=bucket, Key=key)

    def _pacer(self, where: str, client: Any, table: str, region: str, ratio: str, *, writes: bool) -> Pacer:
        """The connector's rate on the table: ``ratio`` (a throughput percent, 0.1-1.0) of its capacity."""
        try:
            share = float(ratio)
        except ValueError:
            raise RunFailed(f"{where}: throughput ratio '{ratio}' is not a number (the step's arguments are out of order?)") from None
        try:
            description = client.describe_table(TableName=table)["Table"]
        except client.exceptions.ResourceNotFoundException:
            raise RunFailed(f"{where}: table {table} does not exist in {region}") from None
        return Pacer(max(1.0, math.floor(table_units(description, writes=writes) * share)))

    def _table_client(self, where: str, principal: str, table: str, region: str, ratio: str, *,
                      writes: bool) -> tuple[Any, str, Pacer]:
        """(client, the table's name in the emulator, its pacer) for a connector's read or write, once the
        principal may make it: DescribeTable first, as the connector does, then Scan or BatchWriteItem."""
        if not table or table.startswith("s3://"):
            raise RunFailed(f"{where}: '{table}' is not a table name (the step's arguments are out of order?)")
        action = "dynamodb:BatchWriteItem" if writes else "dynamodb:Scan"
        self.access.check_table(where, principal, ["dynamodb:DescribeTable", action], table, region, writes=writes)
        table = emulated_table(table)
        client = self.clients("dynamodb", region)
        return client, table, self._pacer(where, client, table, region, ratio, writes=writes)

    def _scan(self, where: str, principal: str, table: str, region: str, ratio: str,
              before_scan: Callable[[Any, str], None] | None = None) -> list[dict[str, Any]]:
        """The table's items; ``before_scan(client, table)`` runs after DescribeTable, before the first Scan."""
        client, table, pacer = self._table_client(where, principal, table, region, ratio, writes=False)
        if before_scan is not None:
            before_scan(client, table)
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(TableName=table):  # pages of 1 MB, as DynamoDB returns them
            items += page["Items"]
            pacer.spend(read_units(page["Items"]))
        self.result.rates.append(f"read {pacer.words('RCU')}")
        return items

    def _write(self, where: str, principal: str, table: str, region: str, items: list[dict[str, Any]], ratio: str) -> None:
        client, table, pacer = self._table_client(where, principal, table, region, ratio, writes=True)
        for start in range(0, len(items), 25):
            batch = items[start:start + 25]
            for number, item in enumerate(batch, start=start + 1):
                if reason := refusal(item):  # the batch fails, the job with it; earlier batches stay written
                    raise RunFailed(f"{where}: DynamoDB refuses item {number} of {len(items)} (ValidationException, "
                                    f"{reason}), so BatchWriteItem and the job fail")
            client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": item}} for item in batch]})
            pacer.spend(write_units(batch))
        self.result.rates.append(f"write {pacer.words('WCU')}")
        self.result.items = len(items)

    def _export(self, where: str, nodes: str, table: str, folder: str, region: str, compress: bool, ratio: str, *,
                activity: str, segments: int | None) -> None:
        """DynamoDBExport: DescribeTable, the output check, the scan divided among the map tasks, their files
        written straight into the folder, then the manifest and ``_SUCCESS``."""
        if not folder.startswith("s3://"):
            raise RunFailed(f"{where}: '{folder}' is not an s3:// folder (the step's arguments are out of order?)")
        bucket, prefix = _s3(folder)
        s3 = self.clients("s3", region)
        described: dict[str, Any] = {}

        def output_check(client: Any, name: str) -> None:
            """FileOutputFormat.checkOutputSpecs: the job is refused before any map task when the folder exists."""
            described.update(client.describe_table(TableName=name)["Table"])
            self.access.check_listing(where, nodes, bucket, f"{prefix}/", region)
            if s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/", MaxKeys=1).get("KeyCount", 0):
                raise RunFailed(f"{where}: org.apache.hadoop.mapred.FileAlreadyExistsException: Output directory "
                                f"{folder.rstrip('/')} already exists")

        items = self._scan(where, nodes, table, region, ratio, before_scan=output_check)
        split = export_split(read_units=table_units(described, writes=False), table_bytes=int(described.get("TableSizeBytes") or 0),
                             ratio=float(ratio), cluster_tasks=cluster_map_tasks(self._core_nodes(activity)), segments=segments)
        partition_key = next(k["AttributeName"] for k in described["KeySchema"] if k["KeyType"] == "HASH")
        tasks = map_task_items(items, partition_key=partition_key, split=split)

        def put(uri: str, body: bytes) -> None:
            target_bucket, key = _s3(uri)
            self.access.check_objects(where, nodes, ["s3:PutObject"], target_bucket, key, region, writes=True)
            s3.put_object(Bucket=target_bucket, Key=key, Body=body)

        if self.attempt.get(activity, 1) <= self.fail_attempts.get(activity, 0):
            wrote = write_data_files(put, folder, tasks, compress=compress)
            raise RunFailed(f"{where}: attempt {self.attempt[activity]} failed after its map tasks wrote {len(wrote.files)} "
                            f"files into {folder.rstrip('/')} (a fault the run was asked to make)")
        summary = write_export(put, folder, tasks, compress=compress)
        self.result.items, self.result.files = summary.items, len(summary.files)
        self.result.bytes += summary.bytes
        self.result.exports.append(folder.rstrip("/"))

    def _core_nodes(self, activity: str) -> int:
        """The core nodes of the cluster the activity runs on (``coreInstanceCount``, 1 when not stated)."""
        cluster = self.ref(activity, "runsOn")
        return int(self.field(cluster, "coreInstanceCount")) if cluster and self.values(cluster, "coreInstanceCount") else 1

    def _import(self, where: str, nodes: str, folder: str, table: str, region: str, ratio: str) -> None:
        if not folder.startswith("s3://"):
            raise RunFailed(f"{where}: '{folder}' is not an s3:// folder (the step's arguments are out of order?)")
        s3 = self.clients("s3", region)

        def get(uri: str) -> bytes:
            bucket, key = _s3(uri)
            self.access.check_objects(where, nodes, ["s3:GetObject"], bucket, key, region, writes=False)
            try:
                return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            except s3.exceptions.NoSuchKey:
                raise RunFailed(f"{where}: {uri} does not exist") from None

        try:
            items = read_export(get, folder)
        except ValueError as error:  # ExportFormatError: no manifest, a listed file missing
            raise RunFailed(f"{where}: {error}") from None
        self._write(where, nodes, table, region, items, ratio)

    def _cleanup(self, activity: str, where: str) -> None:
        command = self.field(activity, "command")
        match = _CLEANUP.match(command)
        if match is None:
            raise RunFailed(f"{where}: the command {command!r} is not the cleanup this runner knows")
        bucket, prefix = _s3(match.group(1))
        region = self._region(activity)
        nodes = self._nodes()
        s3 = self.clients("s3", region)
        self.access.check_listing(where, nodes, bucket, f"{prefix}/", region)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
            for obj in page.get("Contents", []):
                self.access.check_objects(where, nodes, ["s3:DeleteObject"], bucket, obj["Key"], region, writes=False)
                s3.delete_object(Bucket=bucket, Key=obj["Key"])

    def _guard(self, activity: str, where: str) -> None:
        """The guard's fixed command, run by a POSIX shell with the expanded arguments as ``$1``...; only a
        command ``read_guard`` reads back gets here, so nothing else from a definition runs on this machine."""
        command = self.values(activity, "command")[0][0]
        arguments = [self.expand(value, activity) for value, _ in self.values(activity, "scriptArgument")]
        done = subprocess.run(["/bin/sh", "-c", command, activity, *arguments], capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise RunFailed(f"{where}: the guard exits with {done.returncode} for {arguments!r}: {done.stderr.strip()}")

    def _hive_copy(self, activity: str, where: str) -> None:
        source, target = self.ref(activity, "input"), self.ref(activity, "output")
        if source is None or target is None:
            raise RunFailed(f"{where}: a HiveCopyActivity needs an input and an output")
        nodes = self._nodes()
        items = self._scan(where, nodes, self.field(source, "tableName"), self.field(source, "region"),
                           self.field(source, "readThroughputPercent"))
        sql = self.field(activity, "filterSql") if self.values(activity, "filterSql") else ""
        kept = [item for item in items if not sql or keeps(sql, item)]
        self._write(where, nodes, self.field(target, "tableName"), self.field(target, "region"), kept,
                    self.field(target, "writeThroughputPercent"))

    def _hive_script(self, activity: str, where: str) -> None:
        """One of this project's Hive scripts, read back after Data Pipeline's expressions are replaced: a
        projection (``hive_projection``) or the count after a copy (``hive_verify``)."""
        text = self.field(activity, "hiveScript")
        cluster = self.ref(activity, "runsOn") or ""
        self.hive_tables[cluster] = hive_catalogue(self.hive_tables.get(cluster, set()), text, where)
        try:
            self._hive_projection(where, read_script(text))
            return
        except UnreadableScript as projection:
            try:
                count = read_verify_script(text)
            except UnreadableScript as error:
                raise RunFailed(f"{where}: a script neither a projection ({projection}) nor a count ({error})") from None
        self._hive_count(where, count)

    def _hive_count(self, where: str, script: VerifyScript) -> None:
        """The rows the WHERE keeps in the source, each looked up in the target by its key values."""
        source, target = dict(script.source_properties), dict(script.target_properties)
        nodes = self._nodes()
        rates = len(self.result.rates)
        kept = [item for item in self._scan(where, nodes, source["dynamodb.table.name"], source["dynamodb.region"],
                                            source["dynamodb.throughput.read.percent"])
                if not script.where or keeps(script.where, item)]
        held = {_key_of(item, script.keys) for item in self._scan(where, nodes, target["dynamodb.table.name"], target["dynamodb.region"],
                                                                   target["dynamodb.throughput.read.percent"])}
        self.result.rates[rates:] = [f"count {rate}" for rate in self.result.rates[rates:]]
        missing = sum(_key_of(item, script.keys) not in held for item in kept)
        if missing:
            raise RunFailed(f"{where}: {missing} of the {len(kept)} items the copy should have taken are not in "
                            f"{target['dynamodb.table.name']} (the count after the copy)")

    def _hive_projection(self, where: str, script: ProjectionScript) -> None:
        """The rows the projection's WHERE keeps, each cut to its attributes."""
        source, target = dict(script.source_properties), dict(script.target_properties)
        nodes = self._nodes()
        items = self._scan(where, nodes, source["dynamodb.table.name"], source["dynamodb.region"],
                           source["dynamodb.throughput.read.percent"])
        kept = [projected(item, script.attributes) for item in items if not script.where or keeps(script.where, item)]
        self._write(where, nodes, target["dynamodb.table.name"], target["dynamodb.region"], kept,
                    target["dynamodb.throughput.write.percent"])

    def _alarm(self, activity: str) -> None:
        alarm = self.ref(activity, "onFail")
        if alarm is None:
            return
        topic = self.field(alarm, "topicArn")
        region = topic.split(":")[3]
        role = self.access.role_arn(self.field(alarm, "role"))
        self.access.check(f"{self.name} {alarm}", role, "sns:Publish", self.access.model_name(topic), region)
        message = self.field(alarm, "message", node=activity)
        self.clients("sns", region).publish(TopicArn=topic, Subject=self.field(alarm, "subject", node=activity)[:100], Message=message)
