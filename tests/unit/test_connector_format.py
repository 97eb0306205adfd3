"""The EMR DynamoDB connector's export format (local_deploy/connector_format.py): lines, data files, manifest."""
from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_deploy.connector_format import ExportFormatError, item_to_line, line_to_item, read_export, write_export

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
    # AttributeValueSerializer.serialize with toV1FieldCasingStyle (first letter lower, rest upper), nested M and L
    # through the same serializer; DynamoDBUtil.getGson (compact, disableHtmlEscaping, so <&=' stay raw; Gson's
    # JsonWriter still escapes U+2028) and base64EncodeByteArray (standard, padded); attributes in the item's order.
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
        '"bs":{"bS":["/w=="]},"m":{"m":{"l":{"l":[{"n":"1"},{"nULL":true}]}}},"t":{"bOOL":true},"z":{"nULL":true}}'
    )


def test_type_keys_are_read_in_any_case() -> None:
    line = '{"a":{"S":"x"},"b":{"Ss":["y"]},"c":{"BOOL":true},"d":{"Null":true},"e":{"M":{"f":{"L":[{"N":"1"}]}}},"g":{"bs":["AAE="]},"h":{"nS":["2"]}}'
    assert line_to_item(line) == {
        "a": {"S": "x"},
        "b": {"SS": ["y"]},
        "c": {"BOOL": True},
        "d": {"NULL": True},
        "e": {"M": {"f": {"L": [{"N": "1"}]}}},
        "g": {"BS": [b"\x00\x01"]},
        "h": {"NS": ["2"]},
    }


def test_what_the_import_makes_of_odd_values() -> None:
    # AttributeValueDeserializer skips an empty set, list or map (next key, else an empty AttributeValue);
    # getAsString keeps a JSON number's text; commons-codec decodes URL-safe, unpadded base64.
    assert line_to_item('{"l":{"l":[]},"m":{"m":{}},"s":{"sS":[],"s":"kept"},"x":{"unknown":1}}') == {"l": {}, "m": {}, "s": {"S": "kept"}, "x": {}}
    assert line_to_item('{"n":{"n":1.50},"b":{"b":"_w"}}') == {"n": {"N": "1.50"}, "b": {"B": b"\xff"}}
    assert line_to_item("") == {}  # an empty line is an empty item (fixMalformedJson makes it "{}")


def test_older_hive_lines_are_read_as_fixMalformedJson_reads_them() -> None:
    line = 'attr1\x03{"s":"seattle"}\x02attr2\x03{"nS":["123","456"]}'
    assert line_to_item(line) == {"attr1": {"S": "seattle"}, "attr2": {"NS": ["123", "456"]}}


def test_a_broken_line_is_refused_in_one_line() -> None:
    assert "not a JSON item" in format_error(line_to_item, '{"a":{"s":"x"}')
    assert "expected a JSON array" in format_error(line_to_item, '{"a":{"sS":"x"}}')


def test_values_not_in_boto3_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="exactly one type key"):
        item_to_line({"a": {"S": "x", "N": "1"}})
    with pytest.raises(TypeError, match="binary must be bytes"):
        item_to_line({"a": {"B": "not bytes"}})


# ---------------------------------------------------------------- write_export


def test_a_new_file_every_rotate_every_items_and_a_manifest_listing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_uuids(monkeypatch, 3, 1, 2)
    store = Store()
    summary = write_export(store.put, DIRECTORY + "/", items(7), compress=False, rotate_every=3)

    name = "00000000-0000-0000-0000-00000000000{}".format
    assert summary.files == tuple(f"{DIRECTORY}/{name(n)}" for n in (3, 1, 2))
    assert summary.items == 7
    assert summary.bytes == sum(len(store[uri]) for uri in summary.files)
    assert sorted(store) == sorted([*summary.files, f"{DIRECTORY}/manifest"])
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
    summary = write_export(store.put, DIRECTORY, items(4), compress=True, rotate_every=3)
    assert len(summary.files) == 2 and all(uri.endswith(".gz") for uri in summary.files)
    assert all(store[uri][:2] == b"\x1f\x8b" for uri in summary.files)
    assert gzip.decompress(store[summary.files[1]]).decode() == '{"pk":{"s":"k3"},"n":{"n":"3"},"b":{"b":"Aw=="}}\n'
    manifest = json.loads(store[f"{DIRECTORY}/manifest"])  # the manifest itself is never compressed
    assert sorted(entry["url"] for entry in manifest["entries"]) == sorted(summary.files)
    assert sorted(read_export(store.get, DIRECTORY), key=str) == sorted(items(4), key=str)


def test_no_items_is_a_manifest_without_entries() -> None:
    store = Store()
    summary = write_export(store.put, DIRECTORY, [], compress=False)
    assert summary.files == () and summary.items == 0 and summary.bytes == 0
    assert store[f"{DIRECTORY}/manifest"] == b'{"name":"DynamoDB-export","version":3,\n"entries": [\n\n]}'
    assert read_export(store.get, DIRECTORY) == []


def test_the_directory_is_an_s3_uri() -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        write_export(Store().put, "/tmp/export", items(1), compress=False)


# ---------------------------------------------------------------- read_export


def test_only_the_files_the_manifest_lists_are_read() -> None:
    store = Store()
    expected = [EVERY_TYPE, *items(5)]
    write_export(store.put, DIRECTORY, expected, compress=False, rotate_every=2)
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
    summary = write_export(store.put, DIRECTORY, items(4), compress=True, rotate_every=2)
    del store[summary.files[1]]
    assert format_error(read_export, store.get, DIRECTORY) == f"{DIRECTORY}/manifest lists {summary.files[1]}, which does not exist"


def test_urls_are_absolute_so_a_copied_export_still_points_at_the_original() -> None:
    store = Store()
    summary = write_export(store.put, DIRECTORY, items(3), compress=False)
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
