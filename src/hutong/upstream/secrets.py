"""Sealing the static auth header value of an upstream endpoint (AES-256-GCM).

The value must be sent to the provider's API on every call, so it cannot be hashed as
API keys and passwords are: it is encrypted with a node key that lives in an owner-only
file beside the node's other keys (``$HUTONG_HOME/keys/upstream_aead.key``), never in
the database, so a copy of the database alone does not reveal it. The endpoint's id is
the associated data: a sealed value moved to another endpoint's row does not open.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hutong.core.errors import Invalid
from hutong.core.keys import write_secret

UPSTREAM_KEY_FILE = "upstream_aead.key"
NONCE_BYTES = 12


def _key(keys_dir: Path) -> bytes:
    path = keys_dir / UPSTREAM_KEY_FILE
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it first
            write_secret(path, AESGCM.generate_key(bit_length=256))
    return path.read_bytes()


def seal(value: str, *, keys_dir: Path, endpoint_id: str) -> bytes:
    """The value encrypted for one endpoint: nonce + ciphertext (with its tag)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key(keys_dir)).encrypt(
        nonce, value.encode("utf-8"), endpoint_id.encode("utf-8")
    )
    return nonce + sealed


def open_sealed(sealed: bytes, *, keys_dir: Path, endpoint_id: str) -> str:
    """The value sealed by ``seal``. Raises Invalid if the key or the row does not match."""
    try:
        plain = AESGCM(_key(keys_dir)).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], endpoint_id.encode("utf-8")
        )
    except InvalidTag:
        raise Invalid(
            "the upstream endpoint's auth header value does not open with this node's key; "
            "register it again",
            field="auth_header_value",
        ) from None
    return plain.decode("utf-8")
