"""Fix 21 of the emulator (local_deploy/moto_fixes.py): every botocore session of the process gets the endpoints
data the first one read, and answers the region and endpoint questions moto asks as a session reading it itself."""
from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from local_deploy import moto_fixes
from tests.botocore_reads import count_file_reads


def answers(session: Any) -> list[Any]:
    """What moto asks a session (ec2/models/availability_zones_and_regions.py, core/base_backend.py) and what a client's
    endpoint comes from."""
    resolver = session._get_internal_component("endpoint_resolver")
    return [session.get_available_regions("ec2"), session.get_available_regions("ec2", partition_name="aws-cn"),
            session.get_available_partitions(), session.get_available_regions("dynamodb", partition_name="aws-us-gov"),
            resolver.construct_endpoint("dynamodb", "eu-west-1"), resolver.construct_endpoint("states", "us-west-2")]


@pytest.fixture
def endpoint_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of endpoints.json files read from disk (the loader's method restored after the test)."""
    return count_file_reads(monkeypatch, restore="load_data_with_path", suffixes=("endpoints",))


def test_a_second_session_answers_the_same_without_reading_the_file_again(endpoint_reads: list[str]):
    own = answers(botocore.session.Session())
    assert len(endpoint_reads) == 1
    moto_fixes.fix_endpoint_data()
    first, second = botocore.session.Session(), botocore.session.Session()
    assert answers(first) == answers(second) == own
    assert len(endpoint_reads) == 2  # the first session after the fix read it; the second did not
    assert first._get_internal_component("endpoint_resolver")._endpoint_data is second._get_internal_component("endpoint_resolver")._endpoint_data


def test_other_data_is_still_read_per_session(endpoint_reads: list[str]):
    moto_fixes.fix_endpoint_data()
    models = [botocore.session.Session().get_service_model("sts") for _ in range(2)]
    assert models[0] is not models[1] and models[0].operation_names == models[1].operation_names
