"""The files the EMR DynamoDB connector 4.11.0 writes on export and reads on import, so a local run writes
an export and reads one back exactly as ``DynamoDBExport`` / ``DynamoDBImport`` (emr-dynamodb-tools) do.

Sources: awslabs/emr-dynamodb-connector at 4.11.0 (commit cbed033), read, not copied; every point below is
also checked against files the real tools wrote (tests/golden/connector-4.11.0, PROVENANCE.md there):

- a line per item: the item's ``Map<String, AttributeValue>`` (AWS SDK for Java v1) serialized by Gson's
  reflection, so the type keys are the SDK class's field names ``s n b sS nS bS m l nULLValue bOOL``; HTML
  escaping off; binary through the ByteBuffer adapter as padded standard base64 (DynamoDBItemWritable.java
  writeStream, DynamoDBUtil.java getGson/base64EncodeByteArray, ExportRecordWriter.java). The attribute order
  is a hash map's, so files are compared per parsed line, never byte for byte;
- one data file per map task that read at least one item, named by UUID.randomUUID() and rotated every
  100,000 items, plus the codec's extension, ".gz" for gzip (ExportMapper.java, ExportOutputFormat.java),
  written straight into the output folder, not under ``_temporary``; a ``manifest``, never compressed,
  listing each file by absolute URL in the single reducer's order (ExportManifestRecordWriter.java,
  ExportManifestEntry.java, ExportFileHeader.java, ExportManifestOutputFormat.java); ``_SUCCESS`` from
  Hadoop's FileOutputCommitter at job commit;
- the map tasks: the scan's segments and the mappers they are dealt to round-robin
  (AbstractDynamoDBInputFormat.java getSplits/getNumSegments/getNumMappers, DynamoDBSplitGenerator.java,
  TaskCalculator.java, RoundRobinYarnContainerAllocator.java);
- reading: only the manifest's URLs, version 3, no manifest = the older Hive format (ImportInputFormat.java,
  ImportRecordReaderFactory.java); the codec by the file's extension, lines ended by \n, \r or \r\n
  (ImportRecordReader.java); Gson's reflection again, so a type key is read only under its exact field name,
  other names are skipped, and a value with no type or two types set is built as such and refused by
  DynamoDB when written (``refusal``).
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

MANIFEST_NAME = "manifest"
SUCCESS_NAME = "_SUCCESS"
FORMAT_VERSION = 3
GZIP_SUFFIX = ".gz"
ITEMS_PER_FILE = 100_000

# boto3's type key -> the AttributeValue field Gson writes and reads (AWS SDK for Java v1, declaration order)
_CONNECTOR_KEYS = {"S": "s", "N": "n", "B": "b", "SS": "sS", "NS": "nS", "BS": "bS", "M": "m", "L": "l", "NULL": "nULLValue", "BOOL": "bOOL"}
_BOTO3_KEYS = {field: kind for kind, field in _CONNECTOR_KEYS.items()}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))  # String.trim() drops every char <= U+0020

# DynamoDB's ValidationException for an AttributeValue with no type or more than one (also moto's wording)
EMPTY_VALUE = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
SEVERAL_TYPES = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"


class ExportFormatError(ValueError):
    """An export the connector's import would not read; the message is one line."""


@dataclass(frozen=True)
class ExportSummary:
    files: tuple[str, ...]  # s3:// URI of each data file, in the order written
    items: int
    bytes: int  # size of the data files as stored (compressed when compressed), manifest excluded


class _Number(str):
    """A JSON number's literal text: Gson reads it as a string's text, but never as a boolean."""


# ---------------------------------------------------------------- one item <-> one line


def _gson_json(value: Any) -> str:
    """JSON as Gson writes it with HTML escaping off: compact, non-ASCII raw, U+2028/U+2029 escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _base64(raw: Any, where: str) -> str:
    if isinstance(raw, str | int):
        raise TypeError(f"{where}: binary must be bytes, got {type(raw).__name__}")
    return base64.b64encode(bytes(raw)).decode("ascii")  # bytes, bytearray, memoryview, boto3's Binary


def _to_connector(value: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise ValueError(f"{where}: an attribute value has exactly one type key, got {value!r}")
    ((kind, raw),) = value.items()
    if kind not in _CONNECTOR_KEYS:
        raise ValueError(f"{where}: unknown type key {kind!r}")
    out: Any
    if kind in ("S", "N"):
        if not isinstance(raw, str):
            raise TypeError(f"{where}: {kind} must be a str, got {type(raw).__name__}")
        out = raw
    elif kind == "B":
        out = _base64(raw, where)
    elif kind in ("SS", "NS", "BS"):
        members = sorted(raw) if isinstance(raw, set | frozenset) else list(raw)  # a Python set: sorted, so deterministic
        out = [_base64(member, where) if kind == "BS" else str(member) for member in members]
    elif kind == "M":
        out = {name: _to_connector(member, f"{where}.{name}") for name, member in raw.items()}
    elif kind == "L":
        out = [_to_connector(member, f"{where}[{index}]") for index, member in enumerate(raw)]
    else:  # BOOL, NULL
        out = bool(raw)
    return {_CONNECTOR_KEYS[kind]: out}


def item_to_line(item: Mapping[str, Any]) -> str:
    """One item in boto3's low-level shape as the export's line (without the newline)."""
    return _gson_json({name: _to_connector(value, name) for name, value in item.items()})


def _short(raw: Any) -> str:
    return _gson_json(raw)[:60]


def _text(raw: Any) -> str:
    """Gson's String adapter: a JSON string, a number's literal text, a boolean as true/false."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return str(raw)
    raise ExportFormatError(f"expected a JSON string, got {_short(raw)}")


def _unbase64(raw: Any) -> bytes:
    """The ByteBuffer adapter: the primitive's text through commons-codec's lenient decodeBase64 (stops at
    '=', skips foreign chars, takes URL-safe letters)."""
    if isinstance(raw, list | dict):
        raise ExportFormatError(f"expected a JSON string of base64, got {_short(raw)}")
    letters = re.sub(r"[^A-Za-z0-9+/_-]", "", _text(raw).split("=", 1)[0]).translate(str.maketrans("-_", "+/"))
    letters = letters[: len(letters) - 1] if len(letters) % 4 == 1 else letters
    return base64.b64decode(letters + "=" * (-len(letters) % 4))


def _boolean(raw: Any) -> bool:
    """Gson's Boolean adapter: a JSON boolean, or Boolean.parseBoolean of a string; a number fails the read."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and not isinstance(raw, _Number):
        return raw.lower() == "true"
    raise ExportFormatError(f"expected a JSON boolean, got {_short(raw)}")


def _array(raw: Any) -> list[Any]:
    if not isinstance(raw, list):
        raise ExportFormatError(f"expected a JSON array, got {_short(raw)}")
    return raw


def _from_connector(node: Any) -> dict[str, Any]:
    """Gson's reflective read of one AttributeValue: each field named exactly (case counts) and not JSON null
    is set, other names are skipped. The result holds every type set: none or several is a value DynamoDB
    refuses on write (``refusal``), as the real import's BatchWriteItem does."""
    if not isinstance(node, dict):
        raise ExportFormatError(f"expected a JSON object for an attribute value, got {_short(node)}")
    value: dict[str, Any] = {}
    for key, raw in node.items():
        kind = _BOTO3_KEYS.get(key)
        if kind is None or raw is None:
            continue
        if kind in ("S", "N"):
            value[kind] = _text(raw)
        elif kind == "B":
            value[kind] = _unbase64(raw)
        elif kind in ("SS", "NS"):
            value[kind] = [_text(member) for member in _array(raw)]
        elif kind == "BS":
            value[kind] = [_unbase64(member) for member in _array(raw)]
        elif kind == "L":
            value[kind] = [_from_connector(member) for member in _array(raw)]
        elif kind == "M":
            if not isinstance(raw, dict):
                raise ExportFormatError(f"expected a JSON object, got {_short(raw)}")
            value[kind] = {name: _from_connector(member) for name, member in raw.items()}
        else:  # NULL, BOOL
            value[kind] = _boolean(raw)
    return value


def line_to_item(line: str) -> dict[str, Any]:
    """One line of an export (or of the older Hive format) as boto3's low-level item; binary as bytes."""
    text = line.strip(_JAVA_TRIM)
    if text and not text.startswith("{"):
        # fixMalformedJson turns ^B into "," and ^C into ":" and lets Gson's lenient reader take the bare names
        pairs = [attribute.partition("\x03") for attribute in text.split("\x02")]
        return {name: _from_connector(_json(value)) for name, _, value in pairs}
    parsed = _json(text or "{}")
    if not isinstance(parsed, dict):
        raise ExportFormatError(f"not a JSON object: {text[:60]}")
    return {name: _from_connector(value) for name, value in parsed.items()}


def _json(text: str) -> Any:
    try:
        return json.loads(text, parse_int=_Number, parse_float=_Number, parse_constant=_Number)  # numbers keep their text
    except json.JSONDecodeError as error:
        raise ExportFormatError(f"not a JSON item: {error.msg} at column {error.colno}") from None


def refusal(item: Mapping[str, Any]) -> str | None:
    """What DynamoDB answers when this item is written, if it refuses one of its values: an AttributeValue
    with no type (a type key the import does not know, e.g. ``nULL`` or ``S``) or with several."""
    def walk(value: Mapping[str, Any], where: str) -> str | None:
        if len(value) != 1:
            return f"{where}: {EMPTY_VALUE if not value else SEVERAL_TYPES}"
        ((kind, raw),) = value.items()
        members = raw.items() if kind == "M" else enumerate(raw) if kind == "L" else ()
        for name, member in members:
            if found := walk(member, f"{where}.{name}" if kind == "M" else f"{where}[{name}]"):
                return found
        return None
    return next((found for name, value in item.items() if (found := walk(value, name))), None)


# ---------------------------------------------------------------- the map tasks of an export

# TaskCalculator and RoundRobinYarnContainerAllocator with Hadoop's defaults (yarn-default.xml and the
# mapred-default.xml of Hadoop 2, which the connector was built for): a node of 8192 MB in slots of 1024 MB,
# 1024 MB per mapper and reducer, 1536 MB for the application master. Measured: 5 mappers on one node.
NODE_MEMORY_MB = 8192
SLOT_MEMORY_MB = 1024
MAP_MEMORY_MB = 1024
REDUCE_MEMORY_MB = 1024
APP_MASTER_MEMORY_MB = 1536
EXPORT_REDUCERS = 1  # DynamoDBExport: setNumReduceTasks(1), the reducer that writes the manifest
MAX_SCAN_SEGMENTS = 1_000_000
BYTES_PER_SEGMENT = 1024**3  # DynamoDBConstants.MAX_BYTES_PER_SEGMENT
UNITS_PER_SEGMENT = 100  # DynamoDBConstants.MIN_IO_PER_SEGMENT
UNITS_PER_MAPPER = 100  # AbstractDynamoDBInputFormat.MIN_READ_THROUGHPUT_PER_MAP


def cluster_map_tasks(nodes: int) -> int:
    """The mappers the connector thinks a cluster of ``nodes`` core nodes runs at once (TaskCalculator):
    every slot left once the application master (first node) and the reducer (round-robin from the second
    node) have theirs. On EMR the instance type's YARN settings change these figures."""
    slot = SLOT_MEMORY_MB
    free = [NODE_MEMORY_MB // slot] * nodes
    if not free:
        return 0
    free[0] -= math.ceil(APP_MASTER_MEMORY_MB / slot)
    node = 1
    for _ in range(EXPORT_REDUCERS):
        node = 0 if node >= nodes else node
        if free[node] < math.ceil(REDUCE_MEMORY_MB / slot):
            return 0
        free[node] -= math.ceil(REDUCE_MEMORY_MB / slot)
        node += 1
    return sum(slots // math.ceil(MAP_MEMORY_MB / slot) for slots in free)


@dataclass(frozen=True)
class ExportSplit:
    """How the export divides the scan: ``segments`` parallel-scan segments dealt round-robin to ``tasks``
    map tasks, the task of segment s being s % tasks (DynamoDBSplitGenerator)."""

    segments: int
    tasks: int


def export_split(*, read_units: int, table_bytes: int, ratio: float, cluster_tasks: int, segments: int | None = None) -> ExportSplit:
    """The split ``getSplits`` makes: ``read_units`` is the table's read capacity (40,000 on demand),
    ``segments`` the optional fourth argument of DynamoDBExport."""
    if segments is not None and segments >= 1:
        count = min(segments, MAX_SCAN_SEGMENTS)
    else:
        count = min(max(table_bytes // BYTES_PER_SEGMENT, int(read_units / UNITS_PER_SEGMENT), 1), MAX_SCAN_SEGMENTS)
    configured = max(1, math.floor(read_units * ratio))
    mappers = min(cluster_tasks, configured // UNITS_PER_MAPPER)
    mappers = max(min(mappers, MAX_SCAN_SEGMENTS), 1)
    return ExportSplit(segments=count, tasks=min(mappers, count))


def segment_of(key: Mapping[str, Any], segments: int) -> int:
    """The parallel-scan segment an item falls in, by its partition key value. DynamoDB keeps its rule to
    itself; this is the emulator's (moto: the first byte of the MD5 of the key's text, binary as base64,
    modulo the segment count), so locally an item lands in the file the real tool puts it in."""
    ((kind, raw),) = key.items()
    text = _base64(raw, "key") if kind == "B" else str(raw)
    return hashlib.md5(text.encode("utf-8")).digest()[0] % segments


def map_task_items(items: Iterable[Mapping[str, Any]], *, partition_key: str, split: ExportSplit) -> list[list[Mapping[str, Any]]]:
    """The items each map task reads, in scan order within a task."""
    tasks: list[list[Mapping[str, Any]]] = [[] for _ in range(split.tasks)]
    for item in items:
        tasks[segment_of(item[partition_key], split.segments) % split.tasks].append(item)
    return tasks


# ---------------------------------------------------------------- a whole export


def _directory(directory_uri: str) -> str:
    if not directory_uri.startswith("s3://") or not directory_uri[5:].strip("/"):
        raise ValueError(f"an export directory is an s3://bucket/prefix URI, got {directory_uri!r}")
    return directory_uri.rstrip("/")


def manifest_body(urls: Iterable[str]) -> bytes:
    """The header's closing brace dropped, ",\\n", '"entries": [\\n', entries joined by ",\\n", "\\n]}"."""
    entries = ",\n".join(_gson_json({"url": url, "mandatory": True}) for url in urls)
    header = _gson_json({"name": "DynamoDB-export", "version": FORMAT_VERSION})[:-1]
    return f'{header},\n"entries": [\n{entries}\n]}}'.encode()


def write_data_files(put_object: Callable[[str, bytes], None], directory_uri: str, map_tasks: Iterable[Iterable[Mapping[str, Any]]], *,
                     compress: bool, rotate_every: int = ITEMS_PER_FILE) -> ExportSummary:
    """What the map tasks write, straight into the folder: per task a file when its first item arrives and
    again every ``rotate_every`` items (ExportMapper); a task without items writes nothing."""
    if rotate_every < 1:
        raise ValueError(f"rotate_every must be at least 1, got {rotate_every}")
    directory = _directory(directory_uri)
    suffix = GZIP_SUFFIX if compress else ""
    files: list[str] = []
    written = stored = 0
    for task in map_tasks:
        remaining = iter(task)
        while chunk := list(islice(remaining, rotate_every)):
            body = "".join(item_to_line(item) + "\n" for item in chunk).encode()
            body = gzip.compress(body, mtime=0) if compress else body
            files.append(f"{directory}/{uuid.uuid4()}{suffix}")
            put_object(files[-1], body)
            written, stored = written + len(chunk), stored + len(body)
    return ExportSummary(files=tuple(files), items=written, bytes=stored)


def manifest_order(files: Iterable[str]) -> list[str]:
    """The single reducer gets each file's name reversed as its key (ExportMapper) and lists them in key order."""
    return sorted(files, key=lambda uri: uri.rsplit("/", 1)[1].removesuffix(GZIP_SUFFIX)[::-1])


def write_export(put_object: Callable[[str, bytes], None], directory_uri: str, map_tasks: Iterable[Iterable[Mapping[str, Any]]], *,
                 compress: bool, rotate_every: int = ITEMS_PER_FILE) -> ExportSummary:
    """A whole successful export: the map tasks' data files, the reducer's manifest listing them, then the
    job commit's empty ``_SUCCESS``."""
    summary = write_data_files(put_object, directory_uri, map_tasks, compress=compress, rotate_every=rotate_every)
    directory = _directory(directory_uri)
    put_object(f"{directory}/{MANIFEST_NAME}", manifest_body(manifest_order(summary.files)))
    put_object(f"{directory}/{SUCCESS_NAME}", b"")
    return summary


def _fetch(get_object: Callable[[str], bytes], uri: str) -> bytes | None:
    """The object, or None when get_object says there is none: KeyError, FileNotFoundError, botocore's NoSuchKey."""
    try:
        return get_object(uri)
    except (KeyError, FileNotFoundError):
        return None
    except Exception as error:
        response = getattr(error, "response", None)
        details = response.get("Error") if isinstance(response, dict) else None
        if isinstance(details, dict) and details.get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise


def _listed_urls(body: bytes, directory: str) -> list[str]:
    try:
        manifest = json.loads(body.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as error:
        raise ExportFormatError(f"{directory}/{MANIFEST_NAME} is not JSON: {error.msg} at line {error.lineno}") from None
    if not isinstance(manifest, dict) or manifest.get("version") != FORMAT_VERSION:
        version = manifest.get("version") if isinstance(manifest, dict) else None
        raise ExportFormatError(f"{directory}/{MANIFEST_NAME}: unknown version {version!r}, the import reads version {FORMAT_VERSION}")
    entries = manifest.get("entries", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) and isinstance(entry.get("url"), str) for entry in entries):
        raise ExportFormatError(f"{directory}/{MANIFEST_NAME}: entries must be a list of objects with a url")
    return [entry["url"] for entry in entries]


def _lines(url: str, body: bytes) -> list[str]:
    if url.endswith(GZIP_SUFFIX):
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as error:
            raise ExportFormatError(f"{url} ends in {GZIP_SUFFIX} but is not gzip: {error}") from None
    elif body[:2] == b"\x1f\x8b":
        raise ExportFormatError(f"{url} holds gzip but its name does not end in {GZIP_SUFFIX}: the import picks the codec by name")
    pieces = _LINE_BREAK.split(body.decode("utf-8", errors="replace"))
    return pieces[:-1] if pieces[-1] == "" else pieces


def read_export(get_object: Callable[[str], bytes], directory_uri: str) -> list[dict[str, Any]]:
    """The items of the export in ``directory_uri``: the files its manifest lists, in the manifest's order.

    ``get_object(uri)`` returns an object's bytes and raises KeyError, FileNotFoundError or botocore's
    NoSuchKey when there is none. The URLs are read as listed, even outside the directory, as the import does.
    """
    directory = _directory(directory_uri)
    manifest = _fetch(get_object, f"{directory}/{MANIFEST_NAME}")
    if manifest is None:
        raise ExportFormatError(f"no {MANIFEST_NAME} in {directory}: the import would read every file there in the older Hive format, never written here")
    items: list[dict[str, Any]] = []
    for url in _listed_urls(manifest, directory):
        body = _fetch(get_object, url)
        if body is None:
            raise ExportFormatError(f"{directory}/{MANIFEST_NAME} lists {url}, which does not exist")
        for number, line in enumerate(_lines(url, body), start=1):
            try:
                items.append(line_to_item(line))
            except ExportFormatError as error:
                raise ExportFormatError(f"{url} line {number}: {error}") from None
    return items
