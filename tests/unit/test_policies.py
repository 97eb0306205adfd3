"""The one TLS-only rule the review, the local smoke check and the post-deploy check share."""
from ddb_datapipeline.policies import is_tls_only

DENY_HTTP = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def test_a_deny_of_everyone_without_tls_is_tls_only():
    assert is_tls_only({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}, DENY_HTTP]})
    assert is_tls_only({"Statement": {**DENY_HTTP, "Principal": "*"}})


def test_a_narrower_or_missing_deny_is_not():
    assert not is_tls_only({"Statement": [{**DENY_HTTP, "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}]})
    assert not is_tls_only({"Statement": [{**DENY_HTTP, "Effect": "Allow"}]})
    assert not is_tls_only({"Statement": [{**DENY_HTTP, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})
    assert not is_tls_only({})
