"""Fix 22 of the emulator (local_deploy/moto_fixes.py): every botocore session of the process gets the service models
the first one read, and its clients build the same requests as a session reading them itself."""
from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore import loaders
from botocore.exceptions import UnknownServiceError

from local_deploy import moto_fixes
from tests.botocore_reads import count_file_reads


def answers(session: Any) -> list[Any]:
    """A service's model and endpoint rules as the session hands them out, and the request a client of it builds."""
    client = session.create_client("dynamodb", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    request: dict[str, Any] = {}

    def keep(params: dict[str, Any], **_: Any) -> None:
        request.update(url=params["url"], body=params["body"], target=params["headers"]["X-Amz-Target"])
        raise RuntimeError("sent no further")

    client.meta.events.register("before-call.dynamodb.GetItem", keep)
    with pytest.raises(RuntimeError, match="sent no further"):
        client.get_item(TableName="orders", Key={"pk": {"S": "order-1"}})
    return [session.get_service_data("dynamodb"), session.get_service_data("stepfunctions"),
            session.get_service_model("s3").operation_names,
            loaders.Loader.load_service_model(session.get_component("data_loader"), "dynamodb", "endpoint-rule-set-1"),
            request]


@pytest.fixture
def model_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The service model files read from disk (the loader's method restored after the test)."""
    return count_file_reads(monkeypatch, restore="load_service_model", suffixes=("service-2", "endpoint-rule-set-1"))


def test_a_second_session_answers_the_same_without_reading_the_models_again(model_reads: list[str]):
    own = answers(botocore.session.Session())
    read_by_one = len(model_reads)
    assert read_by_one == 4  # dynamodb's model and rules, stepfunctions' and s3's models
    moto_fixes.fix_service_models()
    first, second = botocore.session.Session(), botocore.session.Session()
    assert answers(first) == answers(second) == own
    assert len(model_reads) == 2 * read_by_one  # the first session after the fix read them; the second did not
    assert first.get_service_data("dynamodb") is second.get_service_data("dynamodb")


def test_an_unknown_service_is_refused_every_time(model_reads: list[str]):
    moto_fixes.fix_service_models()
    for _ in range(2):
        with pytest.raises(UnknownServiceError):
            botocore.session.Session().get_service_data("no-such-service")
