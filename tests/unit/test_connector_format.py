"""The EMR DynamoDB connector's export format (ddb_datapipeline/acceptance/connector_format.py): lines, data files, manifest,
map tasks; and the same model against the files the real connector 4.11.0 wrote (tests/golden/connector-4.11.0)."""
from __future__ import annotations

import base64
import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ddb_datapipeline.acceptance.connector_format import (
    EMPTY_VALUE,
    SEVERAL_TYPES,
    ExportFormatError,
    cluster_map_tasks,
    export_split,
    item_to_line,
    line_to_item,
    manifest_body,
    manifest_order,
    map_task_items,
    read_export,
    refusal,
    write_export,
)
from tests.golden.golden_items import golden_items, large_item

DIRECTORY = "s3://backups/exports/orders/2027-01-15"

EVERY_TYPE: dict[str, Any] = {
    "pk": {"S": "order-1"},
    "n": {"N": "-12345678901234567890.123"},
    "b": {"B": b"\x00\xff\x10binary"},
    "ss": {"SS": ["a", "ünï", 'q"uote']},
    "ns": {"NS": ["1", "2.5", "-3"]},
    "bs": {"BS": [b"\x01", b"\x02\x03"]},
    "m": {"M": {"inner": {"M": {"deep": {"L": [{"N": "1"}, {"S": "x"}]}}}, "flag": {"BOOL": False}}},
    "l": {"L": [{"S": "s"}, {"N": "2"}, {"B": b"\xfe"}, {"NULL": True}, {"BOOL": True}, {"SS": ["z"]}, {"M": {"k": {"NS": ["7"]}}}, {"L": [{"N": "0"}]}]},
    "flag": {"BOOL": True},
    "none": {"NULL": True},
}


class Store(dict[str, bytes]):
    """An in-memory S3: put_object/get_object by full s3:// URI; a missing object raises KeyError."""

    def put(self, uri: str, body: bytes) -> None:
        self[uri] = body

    def get(self, uri: str) -> bytes:
        return self[uri]


def format_error(call: Any, *args: Any) -> str:
    with pytest.raises(ExportFormatError) as raised:
        call(*args)
    message = str(raised.value)
    assert "\n" not in message
    return message


def items(count: int) -> list[dict[str, Any]]:
    return [{"pk": {"S": f"k{index}"}, "n": {"N": str(index)}, "b": {"B": bytes([index])}} for index in range(count)]


def fixed_uuids(monkeypatch: pytest.MonkeyPatch, *numbers: int) -> None:
    names = iter(uuid.UUID(int=number) for number in numbers)
    monkeypatch.setattr(uuid, "uuid4", lambda: next(names))


# ---------------------------------------------------------------- one line


def test_every_type_round_trips_through_one_line() -> None:
    line = item_to_line(EVERY_TYPE)
    assert "\n" not in line
    assert line_to_item(line) == EVERY_TYPE


def test_the_line_is_the_one_the_connector_writes() -> None:
    # Gson's reflection over the SDK v1 AttributeValue: its field names (nULLValue, not nULL), nested M and L the
    # same way; DynamoDBUtil.getGson (compact, disableHtmlEscaping, so <&=' stay raw; Gson's JsonWriter still
    # escapes U+2028) and base64EncodeByteArray (standard, padded). The golden tests below check it per line.
    item = {
        "id": {"S": "a<&='é\u2028"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\x01"},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1"]},
        "bs": {"BS": [b"\xff"]},
        "m": {"M": {"l": {"L": [{"N": "1"}, {"NULL": True}]}}},
        "t": {"BOOL": True},
        "z": {"NULL": True},
    }
    assert item_to_line(item) == (
        '{"id":{"s":"a<&=\'é\\u2028"},"n":{"n":"1.50"},"b":{"b":"AAE="},"ss":{"sS":["x","y"]},"ns":{"nS":["1"]},'
        '"bs":{"bS":["/w=="]},"m":{"m":{"l":{"l":[{"n":"1"},{"nULLValue":true}]}}},"t":{"bOOL":true},"z":{"nULLValue":true}}'
    )


def test_type_keys_are_read_only_under_their_exact_field_name() -> None:
    # Gson's reflection matches field names exactly and skips other names: an upper-case key or the nULL an
    # earlier version of this model wrote leaves an AttributeValue with no type, which DynamoDB refuses.
    line = '{"a":{"S":"x"},"b":{"nULL":true},"c":{"Null":true},"d":{"nULLValue":true},"e":{"bOOL":false},"f":{"nS":["2"]}}'
    item = line_to_item(line)
    assert item == {"a": {}, "b": {}, "c": {}, "d": {"NULL": True}, "e": {"BOOL": False}, "f": {"NS": ["2"]}}
    assert refusal(item) == f"a: {EMPTY_VALUE}"
    assert refusal(line_to_item('{"pk":{"s":"k"},"l":{"l":[{"m":{"x":{"nULL":true}}}]}}')) == f"l[0].x: {EMPTY_VALUE}"


def test_what_the_import_makes_of_odd_values() -> None:
    # every field set is kept, so two types make a value DynamoDB refuses; empty lists and maps are values;
    # a JSON null leaves the field unset; Gson's String adapter keeps a JSON number's text; commons-codec
    # decodes URL-safe, unpadded base64; Boolean.parseBoolean reads a string.
    line = '{"l":{"l":[]},"m":{"m":{}},"s":{"sS":[],"s":"kept"},"x":{"unknown":1},"z":{"s":null,"n":"1"},"t":{"bOOL":"TRUE"}}'
    assert line_to_item(line) == {"l": {"L": []}, "m": {"M": {}}, "s": {"SS": [], "S": "kept"}, "x": {}, "z": {"N": "1"}, "t": {"BOOL": True}}
    assert refusal(line_to_item('{"s":{"sS":["a"],"s":"kept"}}')) == f"s: {SEVERAL_TYPES}"
    assert refusal(line_to_item('{"l":{"l":[]},"m":{"m":{"e":{"l":[]}}}}')) is None
    assert line_to_item('{"n":{"n":1.50},"b":{"b":"_w"}}') == {"n": {"N": "1.50"}, "b": {"B": b"\xff"}}
    assert line_to_item("") == {}  # an empty line is an empty item (fixMalformedJson makes it "{}")


def test_older_hive_lines_are_read_as_fixMalformedJson_reads_them() -> None:
    line = 'attr1\x03{"s":"seattle"}\x02attr2\x03{"nS":["123","456"]}'
    assert line_to_item(line) == {"attr1": {"S": "seattle"}, "attr2": {"NS": ["123", "456"]}}


def test_a_broken_line_is_refused_in_one_line() -> None:
    assert "not a JSON item" in format_error(line_to_item, '{"a":{"s":"x"}')
    assert "expected a JSON array" in format_error(line_to_item, '{"a":{"sS":"x"}}')
    assert "expected a JSON boolean" in format_error(line_to_item, '{"a":{"bOOL":1}}')  # nextBoolean on a number
    assert "expected a JSON object for an attribute value" in format_error(line_to_item, '{"a":"x"}')


def test_values_not_in_boto3_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="exactly one type key"):
        item_to_line({"a": {"S": "x", "N": "1"}})
    with pytest.raises(TypeError, match="binary must be bytes"):
        item_to_line({"a": {"B": "not bytes"}})


# ---------------------------------------------------------------- write_export


def test_a_new_file_every_rotate_every_items_and_a_manifest_listing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_uuids(monkeypatch, 3, 1, 2)
    store = Store()
    summary = write_export(store.put, DIRECTORY + "/", [items(7)], compress=False, rotate_every=3)

    name = "00000000-0000-0000-0000-00000000000{}".format
    assert summary.files == tuple(f"{DIRECTORY}/{name(n)}" for n in (3, 1, 2))
    assert summary.items == 7
    assert summary.bytes == sum(len(store[uri]) for uri in summary.files)
    assert sorted(store) == sorted([*summary.files, f"{DIRECTORY}/manifest", f"{DIRECTORY}/_SUCCESS"])
    assert store[f"{DIRECTORY}/_SUCCESS"] == b""
    assert [store[uri].decode().count("\n") for uri in summary.files] == [3, 3, 1]
    assert store[summary.files[0]].decode().splitlines()[0] == '{"pk":{"s":"k0"},"n":{"n":"0"},"b":{"b":"AA=="}}'
    # ExportManifestRecordWriter: header without its "}", ",\n", "\"entries\": [\n", entries joined by ",\n", "\n]}";
    # entries in the single reducer's key order, the file name reversed (ExportMapper), so 1, 2, 3 here.
    manifest = store[f"{DIRECTORY}/manifest"].decode()
    assert manifest == (
        '{"name":"DynamoDB-export","version":3,\n"entries": [\n'
        + ",\n".join(f'{{"url":"{DIRECTORY}/{name(n)}","mandatory":true}}' for n in (1, 2, 3))
        + "\n]}"
    )
    parsed = json.loads(manifest)
    assert parsed["version"] == 3 and all(entry["url"].startswith("s3://backups/") for entry in parsed["entries"])


def test_compressed_files_are_gzip_named_gz_and_listed_with_the_suffix() -> None:
    store = Store()
    summary = write_export(store.put, DIRECTORY, [items(4)], compress=True, rotate_every=3)
    assert len(summary.files) == 2 and all(uri.endswith(".gz") for uri in summary.files)
    assert all(store[uri][:2] == b"\x1f\x8b" for uri in summary.files)
    assert gzip.decompress(store[summary.files[1]]).decode() == '{"pk":{"s":"k3"},"n":{"n":"3"},"b":{"b":"Aw=="}}\n'
    manifest = json.loads(store[f"{DIRECTORY}/manifest"])  # the manifest itself is never compressed
    assert sorted(entry["url"] for entry in manifest["entries"]) == sorted(summary.files)
    assert sorted(read_export(store.get, DIRECTORY), key=str) == sorted(items(4), key=str)


def test_no_items_is_a_manifest_without_entries() -> None:
    store = Store()
    summary = write_export(store.put, DIRECTORY, [[], []], compress=False)
    assert summary.files == () and summary.items == 0 and summary.bytes == 0
    assert store[f"{DIRECTORY}/manifest"] == b'{"name":"DynamoDB-export","version":3,\n"entries": [\n\n]}'
    assert read_export(store.get, DIRECTORY) == []


def test_the_directory_is_an_s3_uri() -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        write_export(Store().put, "/tmp/export", [items(1)], compress=False)


# ---------------------------------------------------------------- read_export


def test_only_the_files_the_manifest_lists_are_read() -> None:
    store = Store()
    expected = [EVERY_TYPE, *items(5)]
    write_export(store.put, DIRECTORY, [expected], compress=False, rotate_every=2)
    store.put(f"{DIRECTORY}/unlisted", item_to_line({"pk": {"S": "stray"}}).encode() + b"\n")
    store.put(f"{DIRECTORY}/_SUCCESS", b"")
    found = read_export(store.get, DIRECTORY)
    assert len(found) == 6 and sorted(found, key=str) == sorted(expected, key=str)


def test_lines_end_as_hadoop_s_line_reader_ends_them() -> None:
    store = Store()
    write_export(store.put, DIRECTORY, [], compress=False)
    store.put(f"{DIRECTORY}/manifest", json.dumps({"version": 3, "entries": [{"url": f"{DIRECTORY}/crlf"}]}).encode())
    store.put(f"{DIRECTORY}/crlf", b'{"a":{"s":"1"}}\r\n{"a":{"s":"2"}}\r{"a":{"s":"3\xc2\x85"}}')
    assert read_export(store.get, DIRECTORY) == [{"a": {"S": "1"}}, {"a": {"S": "2"}}, {"a": {"S": "3\x85"}}]


def test_no_manifest_is_refused_naming_the_directory() -> None:
    store = Store()
    store.put(f"{DIRECTORY}/0f0e", item_to_line(EVERY_TYPE).encode())
    message = format_error(read_export, store.get, DIRECTORY)
    assert message.startswith(f"no manifest in {DIRECTORY}:") and "Hive" in message


def test_a_listed_file_that_is_missing_is_named() -> None:
    store = Store()
    summary = write_export(store.put, DIRECTORY, [items(4)], compress=True, rotate_every=2)
    del store[summary.files[1]]
    assert format_error(read_export, store.get, DIRECTORY) == f"{DIRECTORY}/manifest lists {summary.files[1]}, which does not exist"


def test_urls_are_absolute_so_a_copied_export_still_points_at_the_original() -> None:
    store = Store()
    summary = write_export(store.put, DIRECTORY, [items(3)], compress=False)
    copy = "s3://other-bucket/copied"
    for uri in [*summary.files, f"{DIRECTORY}/manifest"]:
        store.put(copy + uri[len(DIRECTORY) :], store.pop(uri))
    assert f"lists {summary.files[0]}, which does not exist" in format_error(read_export, store.get, copy)


def test_a_missing_object_may_be_botocore_s_no_such_key() -> None:
    def get(uri: str) -> bytes:
        raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "gone"}}, "GetObject")

    assert "no manifest in" in format_error(read_export, get, DIRECTORY)


def test_the_codec_is_chosen_by_name_as_the_import_chooses_it() -> None:
    store = Store()
    write_export(store.put, DIRECTORY, [], compress=False)
    store.put(f"{DIRECTORY}/manifest", json.dumps({"version": 3, "entries": [{"url": f"{DIRECTORY}/plain"}]}).encode())
    store.put(f"{DIRECTORY}/plain", gzip.compress(b'{"a":{"s":"1"}}\n'))
    assert "does not end in .gz" in format_error(read_export, store.get, DIRECTORY)


def test_another_version_is_refused() -> None:
    store = Store()
    store.put(f"{DIRECTORY}/manifest", b'{"name":"DynamoDB-export","version":2,"entries":[]}')
    assert "unknown version 2" in format_error(read_export, store.get, DIRECTORY)


def test_each_map_task_writes_its_own_files() -> None:
    store = Store()
    summary = write_export(store.put, DIRECTORY, [items(3), [], items(5)[3:]], compress=False, rotate_every=2)
    assert [store[uri].decode().count("\n") for uri in summary.files] == [2, 1, 2]  # task 1: 2 + 1, task 2: none, task 3: 2
    assert {line_to_item(line)["pk"]["S"] for line in store[summary.files[2]].decode().splitlines()} == {"k3", "k4"}


# ---------------------------------------------------------------- the map tasks


def test_the_split_follows_the_connector_s_arithmetic() -> None:
    # TaskCalculator with Hadoop's defaults: 8 slots a node, 2 for the application master, 1 for the reducer
    assert [cluster_map_tasks(nodes) for nodes in (1, 2, 3)] == [5, 13, 21]
    # on demand: 40,000 units -> 400 segments; 40,000 x 0.25 / 100 = 100 mappers for throughput, the cluster's 5 win
    assert export_split(read_units=40_000, table_bytes=0, ratio=0.25, cluster_tasks=5) == export_split(
        read_units=40_000, table_bytes=0, ratio=0.25, cluster_tasks=5, segments=None)
    assert (export_split(read_units=40_000, table_bytes=0, ratio=0.25, cluster_tasks=5).segments,
            export_split(read_units=40_000, table_bytes=0, ratio=0.25, cluster_tasks=5).tasks) == (400, 5)
    # 250 provisioned units at 0.5: 2 segments, 125 // 100 = 1 mapper; 3 GiB: 3 segments for size
    assert export_split(read_units=250, table_bytes=0, ratio=0.5, cluster_tasks=5).tasks == 1
    assert export_split(read_units=250, table_bytes=3 * 1024**3, ratio=1.0, cluster_tasks=5).segments == 3
    # the fourth argument sets the segments, and no more mappers than segments
    split = export_split(read_units=40_000, table_bytes=0, ratio=0.25, cluster_tasks=5, segments=3)
    assert (split.segments, split.tasks) == (3, 3)


# ---------------------------------------------------------------- against the real connector 4.11.0

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "connector-4.11.0"
HARNESS_ROOT = "file:/tmp/golden-4.11.0"  # where the harness ran the real tools (PROVENANCE.md)
ON_DEMAND_SPLIT = {"segments": None, "read_units": 40_000, "table_bytes": 0, "ratio": 0.25}


def golden_store(folder: str, *, source: str | None = None) -> tuple[Store, str]:
    """A golden folder as an export in S3, its manifest's URLs moved there as a copied export's must be."""
    store, directory = Store(), f"s3://golden/{folder}"
    for path in (GOLDEN / folder).iterdir():
        body = path.read_bytes()
        if path.name == "manifest":
            body = body.replace(f"{HARNESS_ROOT}/{source or folder.removeprefix('export-')}".encode(), directory.encode())
        store.put(f"{directory}/{path.name}", body)
    return store, directory


def canonical(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items sorted by key, so file and task order do not matter."""
    return sorted(found, key=lambda item: item["pk"]["S"])


def data_files(folder: str) -> list[Path]:
    return sorted(path for path in (GOLDEN / folder).iterdir() if path.name not in ("manifest", "_SUCCESS"))


def lines_of(path: Path) -> list[str]:
    body = path.read_bytes()
    return (gzip.decompress(body) if path.suffix == ".gz" else body).decode().splitlines()


@pytest.mark.parametrize("folder", ["export-plain", "export-gzip", "export-segments"])
def test_the_reader_reads_each_real_export_to_the_items_put_in(folder: str) -> None:
    store, directory = golden_store(folder)
    assert canonical(read_export(store.get, directory)) == canonical(golden_items())


def test_the_reader_reads_the_real_export_of_an_item_near_400_kb() -> None:
    store, directory = golden_store("export-large")
    assert read_export(store.get, directory) == [large_item()]
    (path,) = data_files("export-large")  # the item in a gzip file of 1,267 bytes: its value is a repeated pattern
    assert [json.loads(line) for line in lines_of(path)] == [json.loads(item_to_line(large_item()))]


@pytest.mark.parametrize("folder", ["export-plain", "export-gzip"])
def test_the_real_export_writes_a_file_per_map_task_a_manifest_and_success(folder: str) -> None:
    store, directory = golden_store(folder)
    files = data_files(folder)
    assert len(files) == 5 and (GOLDEN / folder / "_SUCCESS").read_bytes() == b""
    suffix = ".gz" if folder == "export-gzip" else ""
    assert all(path.name.endswith(suffix) and uuid.UUID(path.name.removesuffix(suffix)) for path in files)
    # the manifest lists every data file and, byte for byte, is what this model writes for those file names
    listed = [entry["url"] for entry in json.loads(store[f"{directory}/manifest"])["entries"]]
    assert sorted(listed) == sorted(f"{directory}/{path.name}" for path in files)
    assert store[f"{directory}/manifest"] == manifest_body(manifest_order(f"{directory}/{path.name}" for path in files))


@pytest.mark.parametrize(("folder", "segments"), [("export-plain", None), ("export-gzip", None), ("export-segments", 3)])
def test_the_split_puts_each_item_in_the_file_the_real_export_put_it_in(folder: str, segments: int | None) -> None:
    split = export_split(read_units=40_000, table_bytes=0, ratio=0.25, cluster_tasks=cluster_map_tasks(1), segments=segments)
    ours = {frozenset(item["pk"]["S"] for item in task) for task in map_task_items(golden_items(), partition_key="pk", split=split) if task}
    real = {frozenset(line_to_item(line)["pk"]["S"] for line in lines_of(path)) for path in data_files(folder)}
    assert ours == real


@pytest.mark.parametrize("folder", ["export-plain", "export-gzip"])
def test_the_writer_writes_each_item_as_the_real_export_wrote_it(folder: str) -> None:
    """Per line, parsed: Gson's attribute order is a hash map's, so the text is compared as JSON."""
    real = {line_to_item(line)["pk"]["S"]: json.loads(line) for path in data_files(folder) for line in lines_of(path)}
    ours = {item["pk"]["S"]: json.loads(item_to_line(item)) for item in golden_items()}
    assert ours == real


def test_the_real_import_of_the_writer_s_files_restores_every_item() -> None:
    """import-input is what this model's writer made of the golden items; import-result.json what the real
    DynamoDBImport then wrote to the table. The writer must still write exactly those lines."""
    result = json.loads((GOLDEN / "import-result.json").read_text())

    def decoded(value: dict[str, Any]) -> dict[str, Any]:
        ((kind, raw),) = value.items()
        if kind == "B":
            return {kind: base64.b64decode(raw)}
        if kind == "BS":
            return {kind: [base64.b64decode(member) for member in raw]}
        if kind in ("M", "L"):
            members = raw.items() if kind == "M" else enumerate(raw)
            converted = {name: decoded(member) for name, member in members}
            return {kind: converted if kind == "M" else list(converted.values())}
        return {kind: raw}

    assert canonical([{name: decoded(value) for name, value in item.items()} for item in result]) == canonical(golden_items())
    imported = sorted(json.dumps(json.loads(line), sort_keys=True) for path in data_files("import-input") for line in lines_of(path))
    written = sorted(json.dumps(json.loads(item_to_line(item)), sort_keys=True) for item in golden_items())
    assert written == imported
