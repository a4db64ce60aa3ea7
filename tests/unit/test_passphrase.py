"""The passphrase provider's decryption in this process (operations/engine/passphrase.py), on values made
here the way the engine makes them (crypt.go): the `pulumi` CLI's own values are tests/e2e/test_passphrase.py's."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from operations.engine.passphrase import (ITERATIONS, Keyring, PassphraseError, WrongPassphrase, decrypted_settings,
                                          passphrase_of, salt_of)

PASSPHRASE = "correct horse"


def engine_encrypt(key: bytes, plaintext: str) -> str:
    """symmetricCrypter.EncryptValue: v1:<nonce>:<AES-256-GCM ciphertext and tag>, base64."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), None)
    return f"v1:{base64.b64encode(nonce).decode()}:{base64.b64encode(sealed).decode()}"


@pytest.fixture(scope="module")
def salted():
    """A salt state as NewPassphraseSecretsManager writes it, and its key (one derivation for the module)."""
    salt = os.urandom(8)
    key = hashlib.pbkdf2_hmac("sha256", PASSPHRASE.encode(), salt, ITERATIONS, 32)
    return f"v1:{base64.b64encode(salt).decode()}:{engine_encrypt(key, 'pulumi')}", key


def test_one_derivation_per_salt_opens_every_value(salted):
    state, key = salted
    keyring = Keyring()
    values = {f"ciirus:password{n}": engine_encrypt(key, f"secret-{n}") for n in range(5)}
    for name, value in values.items():
        assert keyring.decrypt(state, PASSPHRASE, value) == "secret-" + name[-1]
    assert keyring.derivations == 1
    stack = {"encryptionsalt": state, "config": {"ciirus:username": "u", "ciirus:password": {"secure": values["ciirus:password0"]}}}
    assert decrypted_settings(stack, ["ciirus:username", "ciirus:password"], {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE},
                              keyring=keyring) == {"ciirus:username": "u", "ciirus:password": "secret-0"}
    assert keyring.derivations == 1


def test_a_wrong_passphrase_and_a_tampered_value_are_refused(salted):
    state, key = salted
    keyring = Keyring()
    with pytest.raises(WrongPassphrase, match="incorrect passphrase"):
        keyring.cipher(state, "not the passphrase")
    value = engine_encrypt(key, "secret")
    nonce, sealed = value.split(":")[1:]
    tampered = base64.b64decode(sealed)
    tampered = base64.b64encode(bytes([tampered[0] ^ 1]) + tampered[1:]).decode()
    with pytest.raises(WrongPassphrase):
        keyring.decrypt(state, PASSPHRASE, f"v1:{nonce}:{tampered}")
    with pytest.raises(PassphraseError, match="nonce size"):
        keyring.decrypt(state, PASSPHRASE, f"v1:{base64.b64encode(b'short').decode()}:{sealed}")
    with pytest.raises(PassphraseError, match="not a passphrase-encrypted value"):
        keyring.decrypt(state, PASSPHRASE, "v2:abc:def")


def test_passphrase_and_provider_as_the_engine_reads_them(tmp_path):
    assert passphrase_of({"PULUMI_CONFIG_PASSPHRASE": ""}) == ""  # set, even empty, wins
    (tmp_path / "phrase").write_text("  from a file\n")
    assert passphrase_of({"PULUMI_CONFIG_PASSPHRASE_FILE": "phrase"}, tmp_path) == "from a file"
    assert passphrase_of({}) is None
    assert salt_of({"encryptionsalt": "v1:x:y"}) == "v1:x:y"
    assert salt_of({"encryptionsalt": "v1:x:y", "secretsprovider": "passphrase"}) == "v1:x:y"
    assert salt_of({"secretsprovider": "awskms://alias/x", "encryptedkey": "abc"}) is None
    with pytest.raises(PassphraseError, match="not the passphrase provider's"):
        decrypted_settings({"secretsprovider": "awskms://alias/x", "config": {"k:p": {"secure": "AAA"}}}, ["k:p"],
                           {"PULUMI_CONFIG_PASSPHRASE": "x"})
    with pytest.raises(PassphraseError, match="PULUMI_CONFIG_PASSPHRASE"):
        decrypted_settings({"encryptionsalt": "v1:x:y", "config": {"k:p": {"secure": "v1:a:b"}}}, ["k:p"], {})
