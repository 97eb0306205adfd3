"""The files the EMR DynamoDB connector's export writes and its import reads, so a local run can write an
export and read one back exactly as ``DynamoDBExport`` / ``DynamoDBImport`` (emr-dynamodb-tools) do.

What follows is taken from awslabs/emr-dynamodb-connector's source (read, not copied):

- a line per item, Gson with HTML escaping off, attributes in the item's order, type keys in "V1 casing"
  (``s n b sS nS bS m l bOOL nULL``, nested M and L the same way), binary as padded standard base64:
  AttributeValueSerializer.java, DynamoDBItemWritable.java (writeStream), DynamoDBUtil.java (getGson,
  base64EncodeByteArray), ExportRecordWriter.java;
- files named by UUID.randomUUID(), a new one every 100,000 items (ExportMapper.java), plus the codec's
  extension, ".gz" for gzip (ExportOutputFormat.java); a ``manifest``, never compressed, listing each file by
  absolute URL with its extension (ExportManifestRecordWriter.java, ExportManifestEntry.java,
  ExportFileHeader.java, ExportManifestOutputFormat.java, DynamoDBExport.java);
- reading: only the manifest's URLs, version 3, no manifest = the older Hive format (ImportInputFormat.java,
  ImportRecordReaderFactory.java); the codec by the file's extension, lines ended by \n, \r or \r\n
  (ImportRecordReader.java); type keys in any case, and an empty set, list or map, or no known type key, read
  as an empty attribute value ``{}`` that DynamoDB refuses on write (AttributeValueDeserializer.java,
  DynamoDBItemWritable.java readFieldsStream/fixMalformedJson).
"""
from __future__ import annotations

import base64
import gzip
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from . import LocalDeployError

MANIFEST_NAME = "manifest"
FORMAT_VERSION = 3
GZIP_SUFFIX = ".gz"
ITEMS_PER_FILE = 100_000

# boto3's type key -> the key the export writes
_CONNECTOR_KEYS = {"S": "s", "N": "n", "B": "b", "SS": "sS", "NS": "nS", "BS": "bS", "M": "m", "L": "l", "BOOL": "bOOL", "NULL": "nULL"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))  # String.trim() drops every char <= U+0020


class ExportFormatError(LocalDeployError):
    """An export the connector's import would not read; the message is one line."""


@dataclass(frozen=True)
class ExportSummary:
    files: tuple[str, ...]  # s3:// URI of each data file, in the order written
    items: int
    bytes: int  # size of the data files as stored (compressed when compressed), manifest excluded


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


def _text(raw: Any) -> str:
    # JsonElement.getAsString: strings, numbers (kept as their literal text) and booleans
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return raw
    raise ExportFormatError(f"expected a JSON string, got {_gson_json(raw)[:60]}")


def _unbase64(raw: Any) -> bytes:
    """Lenient like commons-codec's decodeBase64: stops at '=', skips foreign chars, takes URL-safe letters."""
    letters = re.sub(r"[^A-Za-z0-9+/_-]", "", _text(raw).split("=", 1)[0]).translate(str.maketrans("-_", "+/"))
    letters = letters[: len(letters) - 1] if len(letters) % 4 == 1 else letters
    return base64.b64decode(letters + "=" * (-len(letters) % 4))


def _expect(raw: Any, kind: type, what: str) -> Any:
    if not isinstance(raw, kind):
        raise ExportFormatError(f"expected a JSON {what}, got {_gson_json(raw)[:60]}")
    return raw


def _from_connector(node: Any) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    for key, raw in node.items():  # the first type key that holds a value wins, as in the deserializer
        kind = key.upper() if len(key.upper()) == len(key) else ""  # equalsIgnoreCase is per char: "ß" is not "SS"
        if kind == "S":
            return {"S": _text(raw)}
        if kind == "N":
            return {"N": _text(raw)}
        if kind == "B":
            return {"B": _unbase64(raw)}
        if kind in ("BOOL", "NULL"):  # getAsBoolean: a JSON boolean, or Boolean.parseBoolean of the text
            return {kind: raw if isinstance(raw, bool) else _text(raw).lower() == "true"}
        if kind in ("SS", "NS", "BS", "L") and _expect(raw, list, "array"):
            if kind == "BS":
                return {"BS": [_unbase64(member) for member in raw]}
            if kind == "L":
                return {"L": [_from_connector(member) for member in raw]}
            return {kind: [_text(member) for member in raw]}
        if kind == "M" and _expect(raw, dict, "object"):
            return {"M": {name: _from_connector(member) for name, member in raw.items()}}
    return {}


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
        return json.loads(text, parse_int=str, parse_float=str, parse_constant=str)  # numbers keep their text
    except json.JSONDecodeError as error:
        raise ExportFormatError(f"not a JSON item: {error.msg} at column {error.colno}") from None


# ---------------------------------------------------------------- a whole export


def _directory(directory_uri: str) -> str:
    if not directory_uri.startswith("s3://") or not directory_uri[5:].strip("/"):
        raise ValueError(f"an export directory is an s3://bucket/prefix URI, got {directory_uri!r}")
    return directory_uri.rstrip("/")


def _manifest(urls: Iterable[str]) -> bytes:
    """The header's closing brace dropped, ",\\n", '"entries": [\\n', entries joined by ",\\n", "\\n]}"."""
    entries = ",\n".join(_gson_json({"url": url, "mandatory": True}) for url in urls)
    header = _gson_json({"name": "DynamoDB-export", "version": FORMAT_VERSION})[:-1]
    return f'{header},\n"entries": [\n{entries}\n]}}'.encode()


def write_export(
    put_object: Callable[[str, bytes], None], directory_uri: str, items: Iterable[Mapping[str, Any]], *, compress: bool, rotate_every: int = ITEMS_PER_FILE
) -> ExportSummary:
    """Write ``items`` as one mapper of the export would: data files, then the manifest that lists them."""
    if rotate_every < 1:
        raise ValueError(f"rotate_every must be at least 1, got {rotate_every}")
    directory = _directory(directory_uri)
    suffix = GZIP_SUFFIX if compress else ""
    files: list[str] = []
    written = stored = 0
    remaining = iter(items)
    while chunk := list(islice(remaining, rotate_every)):  # ExportMapper opens a file when an item arrives
        body = "".join(item_to_line(item) + "\n" for item in chunk).encode()
        body = gzip.compress(body, mtime=0) if compress else body
        files.append(f"{directory}/{uuid.uuid4()}{suffix}")
        put_object(files[-1], body)
        written, stored = written + len(chunk), stored + len(body)
    # the single reducer gets the mapper's key for each file, its name reversed, and lists them in key order
    listed = sorted(files, key=lambda uri: uri.rsplit("/", 1)[1].removesuffix(suffix)[::-1])
    put_object(f"{directory}/{MANIFEST_NAME}", _manifest(listed))
    return ExportSummary(files=tuple(files), items=written, bytes=stored)


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
