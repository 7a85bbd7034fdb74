"""The node's secrets on disk: the Ed25519 signing key and the subject-key HMAC secret.

Both are created at init, in owner-only files under ``$HUTONG_HOME/keys``; neither is
stored in the database nor logged.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hutong.core.errors import Invalid, NotFound

SIGNING_KEY_FILE = "node_ed25519.pem"
SUBJECT_KEY_FILE = "subject_hmac.key"


def write_secret(path: Path, data: bytes) -> None:
    """Write a new owner-only file (never world-readable, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def ensure_subject_key(keys_dir: Path) -> None:
    """Create the subject-key HMAC secret if it does not exist yet."""
    path = keys_dir / SUBJECT_KEY_FILE
    if not path.exists():
        write_secret(path, secrets.token_bytes(32))


@dataclass(frozen=True)
class NodeKeys:
    signing: Ed25519PrivateKey
    subject_hmac: bytes

    @property
    def public_raw(self) -> bytes:
        return self.signing.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


@lru_cache(maxsize=8)
def load_keys(keys_dir: Path) -> NodeKeys:
    """The node's keys from ``keys_dir``. Raises NotFound before init."""
    pem = keys_dir / SIGNING_KEY_FILE
    if not pem.exists():
        raise NotFound(f"no node key in {keys_dir}: run `hutong init`")
    key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise Invalid("the node key file does not hold an Ed25519 key")
    ensure_subject_key(keys_dir)
    return NodeKeys(signing=key, subject_hmac=(keys_dir / SUBJECT_KEY_FILE).read_bytes())
