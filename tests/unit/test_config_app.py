"""Through ``app.main``, as the CDK CLI runs it: every kind of configuration mistake ends in exactly one
``configuration error:`` line and exit code 2, before CDK builds anything; repeated keys in cdk.json
included. No case reaches the build, so these stay fast (one subprocess checks the real entry point)."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest

from ddb_datapipeline.config import ConfigError
from ddb_datapipeline.config.cdk_json import check_duplicate_keys
from tests.conftest import ROOT, cdk_json_context

sys.path.insert(0, str(ROOT))
import app as entry  # noqa: E402  (app.py sits at the repository root)

USER_PART = {key: value for key, value in cdk_json_context().items() if key in ("environments", "delivery")}
OWNED = {"partition_key": {"name": "pk", "type": "S"}}


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(context: dict[str, Any]) -> None:
        node = context
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _rename_dev_to_delivery(context: dict[str, Any]) -> None:
    context["environments"]["delivery"] = context["environments"].pop("dev")
    context["delivery"]["stages"][0]["environment"] = "delivery"


def _clone_prod(context: dict[str, Any]) -> None:
    context["environments"]["prod2"] = copy.deepcopy(context["environments"]["prod"])


def _dr_declares_a_copy_target(context: dict[str, Any]) -> None:
    context["environments"]["dr"] = {"account": "111111111111", "region": "us-west-2", "tables": [{"name": "orders", "owned": OWNED}]}


def _two_copies_into_one_table(context: dict[str, Any]) -> None:
    orders = {"name": "orders", "owned": OWNED, "copies": [{"target_table": "orders-analytics", "account": "222222222222", "owned": True}]}
    context["environments"]["staging"] = {"account": "333333333333", "region": "us-east-1", "tables": [orders]}


PROD = ("environments", "prod")
DEV = ("environments", "dev")
CASES = {
    # across environments
    "same table declared twice": (_clone_prod, "environments.prod2.tables[orders].name: 'orders' is not allowed"),
    "declared where another copies": (_dr_declares_a_copy_target, "environments.dr.tables[orders].name: 'orders' is not allowed"),
    "two writers": (_two_copies_into_one_table, "environments.staging.tables[orders].copies[0].target_table: 'orders-analytics' is not allowed"),
    "stack name taken": (_rename_dev_to_delivery, "environments.delivery: 'delivery' is not allowed"),
    # existence
    "not a region": (_set(*DEV, "region", value="eu-west-9"), "environments.dev.region: 'eu-west-9' is not allowed"),
    "no Data Pipeline there": (_set(*DEV, "region", value="eu-central-1"), "environments.dev.region: 'eu-central-1' is not allowed"),
    "copy to no region": (_set(*PROD, "tables", 0, "copies", 0, "region", value="us-west-3"), "copies[0].region: 'us-west-3' is not allowed"),
    "February 30": (_set(*PROD, "tables", 0, "export", "start", value="2027-02-30T00:00:00"), "export.start: '2027-02-30T00:00:00' is not allowed"),
    "no such release": (_set(*PROD, "emr", "release_label", value="emr-5.36.9"), "emr.release_label: 'emr-5.36.9' is not allowed"),
    "no such instance type": (_set(*PROD, "emr", "core_instance_type", value="m5.xlarg"), "such as 'm5.xlarge' (the nearest)"),
    "bucket S3 refuses": (_set(*DEV, "export_bucket", value={"existing_bucket_name": "192.168.5.4"}), "existing_bucket_name: '192.168.5.4' is not allowed"),
    "address twice": (_set(*DEV, "alarm_emails", value=["a@example.com", "a@example.com"]), "alarm_emails[1]: 'a@example.com' is not allowed"),
    "empty branch": (_set("delivery", "source", "branch", value=""), "delivery.source.branch: '' is not allowed"),
    "sort key is the partition key": (_set(*DEV, "tables", 0, "owned", "sort_key", "name", value="pk"), "owned.sort_key.name: 'pk' is not allowed"),
    "storage class without transition": (_set(*DEV, "export_bucket", "transition_storage_class", value="GLACIER"), "transition_storage_class: 'GLACIER' is not allowed"),
}


@pytest.mark.parametrize("name", CASES)
def test_each_mistake_is_one_configuration_error_line(name, capsys):
    change, expected = CASES[name]
    context = copy.deepcopy(USER_PART)
    change(context)
    assert entry.main(cdk.App(context=context)) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("configuration error: ") and expected in lines[0], err
    assert "Traceback" not in err


def test_the_shipped_cdk_json_has_no_repeated_keys():
    check_duplicate_keys((ROOT / "cdk.json").read_text())


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"context": {"environments": {"prod": {}, "dev": {}, "prod": {}}}}', 'cdk.json: key "prod" appears twice in context.environments; expected each key once'),
        ('{"app": "x", "app": "y"}', 'cdk.json: key "app" appears twice at the top level'),
        ('{"context": {"environments": {"dev": {"tables": [{"name": "a"}, {"name": "b", "name": "c"}]}}}}', 'cdk.json: key "name" appears twice in context.environments.dev.tables[1]'),
        ('{"context": {"environments": {"dev": {"region": "eu-west-1",}}}}', "cdk.json: not valid JSON ("),
    ],
)
def test_repeated_keys_are_named(text, expected):
    with pytest.raises(ConfigError) as caught:
        check_duplicate_keys(text)
    assert str(caught.value).startswith(expected) and "\n" not in str(caught.value)


def test_the_app_checks_the_cdk_json_of_its_working_directory(tmp_path, monkeypatch, capsys):
    text = (ROOT / "cdk.json").read_text()
    settings = json.loads(text)
    prod = json.dumps(settings["context"]["environments"]["prod"])
    # Text, not a dict: a dict cannot hold the repeat. A second prod block after the first.
    repeated = text.replace('"prod": {', f'"prod": {prod}, "prod": {{', 1)
    (tmp_path / "cdk.json").write_text(repeated)
    monkeypatch.chdir(tmp_path)
    assert entry.main(cdk.App(context=copy.deepcopy(USER_PART))) == 2
    assert capsys.readouterr().err.strip() == (
        'configuration error: cdk.json: key "prod" appears twice in context.environments; expected each key once (the CDK CLI would silently keep only the last)'
    )


def test_app_py_run_as_the_cli_runs_it_prints_one_line(tmp_path):
    """The real entry point in a subprocess: the repeated key is found before any context is used, and before the
    CDK is imported (importing aws_cdk starts jsii's Node process: -X importtime lists every import on stderr)."""
    (tmp_path / "cdk.json").write_text('{"app": "python app.py", "context": {"delivery": null, "delivery": null}}')
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "out")}
    env.pop("CDK_CONTEXT_JSON", None)
    result = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "app.py")], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert "ddb_datapipeline.config.cdk_json" in imported and not [name for name in imported if name.startswith(("aws_cdk", "jsii"))]
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert lines == ['configuration error: cdk.json: key "delivery" appears twice in context; expected each key once (the CDK CLI would silently keep only the last)']
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.template.json"))
