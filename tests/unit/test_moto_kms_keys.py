"""Fix 20 of the emulator (local_deploy/moto_fixes.py): a KMS key's private key is generated when a call first uses
it, and Sign, Verify and GetPublicKey answer as with moto's own key generated at CreateKey."""
from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key
from moto.kms import models

from local_deploy import moto_fixes

# moto runs in this process: moto_library puts the module on the worker that imports moto (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("moto_library")

ACCOUNT, REGION = "123456789012", "eu-west-1"
MESSAGE = b"what the key signs"
# (key spec, key usage, signing algorithm): an RSA key, an elliptic-curve key (moto generates the two kinds
# differently) and a symmetric key, for which moto 5.2.5 generates a 2,048-bit RSA key no call uses.
KEYS = [("RSA_2048", "SIGN_VERIFY", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P256", "SIGN_VERIFY", "ECDSA_SHA_256"),
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", None)]


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The key specs moto's own generate_private_key is called with (restored after the test)."""
    calls: list[str] = []
    original = models.generate_private_key

    def counting(key_spec: str) -> Any:
        calls.append(key_spec)
        return original(key_spec)

    monkeypatch.setattr(models, "generate_private_key", counting)
    return calls


def use(key_spec: str, key_usage: str, algorithm: str | None) -> dict[str, Any]:
    """What a client sees of one key: its metadata, and for a signing key a signature made and checked by moto,
    and the public key moto gives, checked against that signature by cryptography (outside moto)."""
    backend = models.KmsBackend(REGION, ACCOUNT)
    key = backend.create_key(policy=None, key_usage=key_usage, key_spec=key_spec, description="d", tags=None)
    seen: dict[str, Any] = {name: value for name, value in key.to_dict()["KeyMetadata"].items()
                            if name not in ("KeyId", "Arn", "CreationDate")}
    if algorithm is None:
        ciphertext, _ = backend.encrypt(key.id, b"secret", {})
        seen["decrypted"] = backend.decrypt(ciphertext, {})[0]
        return seen
    _, signature, _ = backend.sign(key.id, MESSAGE, algorithm)
    seen["verified"] = backend.verify(key.id, MESSAGE, signature, algorithm)[1]
    seen["tampered"] = backend.verify(key.id, MESSAGE + b"!", signature, algorithm)[1]
    public = load_der_public_key(backend.get_public_key(key.id)[1])
    seen["public key"] = type(public).__name__, public.key_size
    return seen


@pytest.mark.parametrize(("key_spec", "key_usage", "algorithm"), KEYS)
def test_a_key_answers_as_moto_s_own(generated: list[str], key_spec: str, key_usage: str, algorithm: str | None):
    before = use(key_spec, key_usage, algorithm)
    assert generated == [key_spec]
    moto_fixes.fix_kms_private_keys()
    assert use(key_spec, key_usage, algorithm) == before
    assert before.get("verified", True) and not before.get("tampered", False)


def test_the_private_key_is_generated_on_first_use_only(generated: list[str]):
    moto_fixes.fix_kms_private_keys()
    backend = models.KmsBackend(REGION, ACCOUNT)
    symmetric = backend.create_key(policy=None, key_usage="ENCRYPT_DECRYPT", key_spec="SYMMETRIC_DEFAULT", description="", tags=None)
    signing = backend.create_key(policy=None, key_usage="SIGN_VERIFY", key_spec="RSA_2048", description="", tags=None)
    ciphertext = backend.encrypt(symmetric.id, b"secret", {})[0]
    assert backend.decrypt(ciphertext, {})[0] == b"secret"
    assert generated == []  # neither CreateKey nor a symmetric key's calls generate a private key
    backend.get_public_key(signing.id)
    backend.get_public_key(signing.id)
    assert generated == ["RSA_2048"]  # once, at the first call that uses it
