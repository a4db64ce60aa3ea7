"""The engine's passphrase secrets provider, decrypting in this process: no `pulumi` run per stack.

A stack file that uses the passphrase provider holds `encryptionsalt: v1:<salt>:v1:<nonce>:<check>`:
the key is PBKDF2-HMAC-SHA256 of the passphrase over that salt, 1,000,000 rounds, 32 bytes, and
`<check>` is "pulumi" encrypted with it, which tells a wrong passphrase; every `secure:` value is
`v1:<nonce>:<ciphertext>`, AES-256-GCM with a 12-byte nonce (pkg/secrets/passphrase/manager.go and
sdk/go/common/resource/config/crypt.go of the engine this project builds; tests/e2e/test_passphrase.py
holds this module to the `pulumi` CLI's own answers).

The derivation is the whole cost (about 0.26 CPU-s), so a key is derived once per distinct salt and
passphrase for the life of this process, and kept in its memory only: nothing derived or decrypted is
ever written anywhere. Stacks the tool writes share their environment's salt
(operations/project/writer.py), so one derivation serves a whole environment. Only decryption is done
here; encrypting stays the engine's (`pulumi config set --secret`).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path
from typing import Any, Mapping, Optional

ITERATIONS = 1_000_000
KEY_BYTES = 32
CHECK_PLAINTEXT = "pulumi"
PASSPHRASE_PROVIDERS = (None, "", "passphrase", "default")  # `secretsprovider:` values meaning this provider


class PassphraseError(Exception):
    """The value cannot be decrypted here (the message names the reason, never a value)."""


class WrongPassphrase(PassphraseError):
    pass


def passphrase_of(env: Mapping[str, str], base_dir: Optional[Path] = None) -> Optional[str]:
    """The passphrase as the engine reads it: PULUMI_CONFIG_PASSPHRASE (even empty), else the trimmed
    content of PULUMI_CONFIG_PASSPHRASE_FILE (relative to `base_dir`, where the engine runs: the
    project); None when neither is set."""
    if "PULUMI_CONFIG_PASSPHRASE" in env:
        return env["PULUMI_CONFIG_PASSPHRASE"]
    path = env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if path:
        try:
            return ((base_dir or Path.cwd()) / Path(path).expanduser()).resolve().read_text().strip()
        except OSError as exc:
            raise PassphraseError(f"unable to read PULUMI_CONFIG_PASSPHRASE_FILE: {exc.strerror or exc}") from None
    return None


def salt_of(stack_file: Mapping[str, Any]) -> Optional[str]:
    """The stack file's `encryptionsalt` when its secrets are the passphrase provider's; None otherwise
    (a cloud KMS or another provider: only the engine decrypts those)."""
    salt = stack_file.get("encryptionsalt")
    if not isinstance(salt, str) or stack_file.get("secretsprovider") not in PASSPHRASE_PROVIDERS \
            or stack_file.get("encryptedkey"):
        return None
    return salt


def _aesgcm(key: bytes):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _open(cipher, value: str) -> str:
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != "v1":
        raise PassphraseError("not a passphrase-encrypted value (v1:<nonce>:<ciphertext>)")
    try:
        nonce, ciphertext = base64.b64decode(parts[1], validate=True), base64.b64decode(parts[2], validate=True)
    except ValueError:
        raise PassphraseError("bad value: not base64") from None
    if len(nonce) != 12:
        raise PassphraseError("bad value: nonce size is incorrect")
    from cryptography.exceptions import InvalidTag

    try:
        return cipher.decrypt(nonce, ciphertext, None).decode("utf-8")
    except InvalidTag:
        raise WrongPassphrase("the value does not decrypt with this passphrase") from None


class Keyring:
    """Keys by (salt, passphrase), derived on first use and held in this process's memory only."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], Any] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self.derivations = 0

    def cipher(self, encryption_salt: str, passphrase: str):
        """The stack's cipher; WrongPassphrase when the salt's check value does not open with it."""
        # Keyed by a hash of the passphrase: the passphrase itself is not kept beyond this call.
        ident = (encryption_salt, hashlib.sha256(passphrase.encode("utf-8")).hexdigest())
        with self._lock:
            if ident in self._keys:
                return self._keys[ident]
            lock = self._locks.setdefault(ident, threading.Lock())
        with lock:  # one derivation per salt, however many threads ask at once
            with self._lock:
                if ident in self._keys:
                    return self._keys[ident]
            version, salt_text, check = (encryption_salt.split(":", 2) + ["", ""])[:3]
            if version != "v1" or not check:
                raise PassphraseError("unknown encryption salt format")
            try:
                salt = base64.b64decode(salt_text, validate=True)
            except ValueError:
                raise PassphraseError("bad encryption salt: not base64") from None
            # hashlib releases the GIL while it derives: other threads keep reading meanwhile.
            cipher = _aesgcm(hashlib.pbkdf2_hmac("sha256", passphrase.encode("utf-8"), salt, ITERATIONS, KEY_BYTES))
            try:
                matches = _open(cipher, check) == CHECK_PLAINTEXT
            except WrongPassphrase:
                matches = False
            if not matches:
                raise WrongPassphrase("incorrect passphrase")
            with self._lock:
                self._keys[ident] = cipher
                self.derivations += 1
            return cipher

    def decrypt(self, encryption_salt: str, passphrase: str, value: str) -> str:
        return _open(self.cipher(encryption_salt, passphrase), value)


KEYRING = Keyring()  # this process's keys: a command's run derives each salt's key once


def decrypted_settings(stack_file: Mapping[str, Any], keys: list[str], env: Mapping[str, str],
                       base_dir: Optional[Path] = None, keyring: Keyring = KEYRING) -> dict[str, Any]:
    """The stack's top-level config values at `keys`, `secure:` ones decrypted in memory. Raises
    PassphraseError when the stack's secrets are not the passphrase provider's, no passphrase is set,
    or a value does not decrypt (the caller then asks the engine, or names the problem)."""
    config = stack_file.get("config") or {}
    wanted = {k: config[k] for k in keys if k in config}
    encrypted = {k: v["secure"] for k, v in wanted.items() if isinstance(v, dict) and set(v) == {"secure"}}
    if not encrypted:
        return wanted
    salt = salt_of(stack_file)
    if salt is None:
        raise PassphraseError("the stack's secrets are not the passphrase provider's")
    passphrase = passphrase_of(env, base_dir)
    if passphrase is None:
        raise PassphraseError("PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set")
    return {**wanted, **{k: keyring.decrypt(salt, passphrase, str(v)) for k, v in encrypted.items()}}
