"""The permission model's error-semantics rule (permissions/native_expand.py): a Task that catches a "not found"
error must be able to receive it; an error the model has no entry for is a gap, not skipped."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ddb_datapipeline.permissions.expand import ModelGap
from ddb_datapipeline.permissions.native_calls import NOT_FOUND_S3_KEY
from ddb_datapipeline.permissions.native_expand import _caught_not_found

MACHINE = SimpleNamespace(label="Team/ddb-dev-orders-native-incremental")


def catching(*errors: str) -> dict:
    return {"Type": "Task", "Catch": [{"ErrorEquals": list(errors), "Next": "Handled"}]}


def test_a_caught_missing_s3_key_asks_for_the_listing_and_dynamodbs_not_found_errors_for_nothing_more():
    assert list(_caught_not_found(MACHINE, catching("S3.NoSuchKeyException"))) == [NOT_FOUND_S3_KEY]
    assert list(_caught_not_found(MACHINE, catching("DynamoDb.ResourceNotFoundException", "States.ALL"))) == []
    assert list(_caught_not_found(MACHINE, {"Type": "Task"})) == []


@pytest.mark.parametrize("error", ["S3.NoSuchBucketException", "Sfn.StateMachineDoesNotExistException", "Sns.NotFoundException"])
def test_a_caught_not_found_error_the_model_does_not_know_is_a_gap(error):
    with pytest.raises(ModelGap, match=f"Team/ddb-dev-orders-native-incremental: a Task catches {error}; what it takes"):
        list(_caught_not_found(MACHINE, catching(error)))
