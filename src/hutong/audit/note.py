"""Signed notes and checkpoints of the audit log (C2SP signed-note and tlog-checkpoint).

A checkpoint is the text ``<origin>\\n<tree size>\\n<base64 root hash>\\n`` plus optional
extension lines; hutong adds one, ``time <RFC 3339 UTC>``, the moment the node signed it
(docs/decisions/0006-merkle-log-implementation.md). A signed note is that text, a blank
line, and one line per signature::

    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>

The key ID is ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]``. A verifier is
configured with verifier keys ``<name>+<hex key ID>+<base64(0x01 || public key)>``; the
same format as Go's ``golang.org/x/mod/sumdb/note``, so other C2SP tools can check a
hutong checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "TIME_EXTENSION",
    "Checkpoint",
    "NoteError",
    "add_signature",
    "format_checkpoint",
    "key_id",
    "open_note",
    "parse_checkpoint",
    "sign_note",
    "verifier_key",
]

ALG_ED25519 = 0x01
"""The signed-note signature type byte of Ed25519."""

MAX_SIGNATURES = 100
"""Signature lines accepted in one note (the spec asks verifiers to cap, and to accept 16)."""

TIME_EXTENSION = "time"
"""Keyword of hutong's checkpoint extension line ``time <RFC 3339 UTC>``."""

_DASH = "\u2014"  # em dash that starts a signature line
_ROOT_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class NoteError(ValueError):
    """A note or checkpoint that is malformed, signed by no known key, or badly signed."""


@dataclass(frozen=True)
class Checkpoint:
    """检查点: the log's tree head at a size, as a checkpoint note's text states it."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def time(self) -> dt.datetime | None:
        """When the node signed it (its ``time`` extension line), or None if absent."""
        for line in self.extensions:
            keyword, _, value = line.partition(" ")
            if keyword == TIME_EXTENSION:
                return _parse_time(value)
        return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Standard base64 with padding, canonical only (what it re-encodes to)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise NoteError(f"malformed {what}: not base64") from None
    if _b64(raw) != text:
        raise NoteError(f"malformed {what}: not canonical base64")
    return raw


def _valid_name(name: str) -> bool:
    """Key names are non-empty, without Unicode spaces or plus signs."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _check_text(text: str, what: str) -> None:
    """Valid UTF-8 without ASCII control characters other than newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"malformed {what}: not valid UTF-8") from None
    for c in text:
        if c < " " and c != "\n":
            raise NoteError(f"malformed {what}: control character {c!r}")


def _format_time(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("checkpoint time must be timezone-aware")
    return when.astimezone(dt.UTC).strftime(_TIME_FORMAT)


def _parse_time(value: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        raise NoteError(f"malformed checkpoint: bad time {value!r}") from None


def _public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    material = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + _public_bytes(public_key)
    return hashlib.sha256(material).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key text ``<name>+<hex key ID>+<base64(0x01 || public key)>``.

    Raises ValueError for a key name with spaces or plus signs, or an empty one.
    """
    if not _valid_name(name):
        raise ValueError(f"bad key name {name!r}")
    encoded = _b64(bytes([ALG_ED25519]) + _public_bytes(public_key))
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def _parse_verifier_key(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    parts = text.split("+", 2)  # the key data is base64 and may hold "+"
    if len(parts) != 3:
        raise NoteError(f"malformed verifier key {text!r}: want name+keyid+key")
    name, id_hex, encoded = parts
    if not _valid_name(name) or not _KEY_ID_HEX.fullmatch(id_hex):
        raise NoteError(f"malformed verifier key {text!r}")
    raw = _b64decode(encoded, "verifier key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError(f"malformed verifier key {text!r}: not an Ed25519 key")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public_key) != bytes.fromhex(id_hex):
        raise NoteError(f"malformed verifier key {text!r}: key ID does not match the key")
    return name, bytes.fromhex(id_hex), public_key


def format_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    extensions: Iterable[str] = (),
    *,
    time: dt.datetime | None = None,
) -> str:
    """The checkpoint note text for a tree head; ``time`` adds the ``time`` line first.

    The origin doubles as the log's key name, so it follows the key-name rules. Raises
    ValueError for a bad origin, a negative size, a root that is not 32 bytes, or an
    empty or multi-line extension line.
    """
    if not _valid_name(origin):
        raise ValueError(f"bad origin {origin!r}: non-empty, no spaces, no '+'")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"bad tree size {size!r}")
    if not isinstance(root, bytes) or len(root) != _ROOT_SIZE:
        raise ValueError(f"root hash must be {_ROOT_SIZE} bytes")
    lines = [origin, str(size), _b64(root)]
    if time is not None:
        lines.append(f"{TIME_EXTENSION} {_format_time(time)}")
    for line in extensions:
        if not line or "\n" in line:
            raise ValueError(f"bad extension line {line!r}")
        lines.append(line)
    body = "\n".join(lines) + "\n"
    _check_text(body, "checkpoint")
    parse_checkpoint(body)  # one time line at most, and every rule the reader applies
    return body


def parse_checkpoint(body: str) -> Checkpoint:
    """Read a checkpoint note text (the body :func:`open_note` returns).

    Raises NoteError naming what is malformed: fewer than three lines, an empty origin,
    a size that is not plain decimal, a root that is not base64 of 32 bytes, an empty
    extension line, or a ``time`` line that is repeated or not RFC 3339 UTC.
    """
    if not body.endswith("\n"):
        raise NoteError("malformed checkpoint: does not end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("malformed checkpoint: fewer than three lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteError("malformed checkpoint: empty origin line")
    if not _DECIMAL.fullmatch(size_text):
        raise NoteError(f"malformed checkpoint: tree size {size_text!r} is not decimal")
    root = _b64decode(root_text, "checkpoint root hash")
    if len(root) != _ROOT_SIZE:
        raise NoteError(f"malformed checkpoint: root hash is {len(root)} bytes, not 32")
    if any(not line for line in extensions):
        raise NoteError("malformed checkpoint: empty extension line")
    times = [line for line in extensions if line.partition(" ")[0] == TIME_EXTENSION]
    if len(times) > 1:
        raise NoteError("malformed checkpoint: more than one time line")
    checkpoint = Checkpoint(origin, int(size_text), root, tuple(extensions))
    _ = checkpoint.time  # raises NoteError if the time line is malformed
    return checkpoint


def _signature_line(body: str, name: str, key: Ed25519PrivateKey) -> str:
    if not _valid_name(name):
        raise ValueError(f"bad key name {name!r}")
    signature = key.sign(body.encode("utf-8"))
    return f"{_DASH} {name} {_b64(key_id(name, key.public_key()) + signature)}\n"


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    """The signed note: ``body``, a blank line, and the signature line of key ``name``.

    Raises ValueError if the body is empty, does not end with a newline or holds control
    characters, or if the key name is bad.
    """
    if not body.endswith("\n"):
        raise ValueError("note text must end with a newline")
    _check_text(body, "note text")
    return f"{body}\n{_signature_line(body, name, key)}"


def add_signature(note: str, name: str, key: Ed25519PrivateKey) -> str:
    """The note with one more signature line (a cosignature) by key ``name``.

    Existing signatures are kept unchecked. Raises NoteError for a malformed note.
    """
    body, _ = _split_note(note)
    return note + _signature_line(body, name, key)


def _split_note(text: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Split a signed note into its text and its (name, key ID, signature) lines."""
    _check_text(text, "note")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise NoteError("malformed note: no signature lines")
    if not block.endswith("\n"):
        raise NoteError("malformed note: does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        fields = line.split(" ")
        if len(fields) != 3 or fields[0] != _DASH:
            raise NoteError(f"malformed note: bad signature line {line!r}")
        _, name, encoded = fields
        if not _valid_name(name):
            raise NoteError(f"malformed note: bad key name {name!r}")
        raw = _b64decode(encoded, "note signature")
        if len(raw) < 5:
            raise NoteError(f"malformed note: signature by {name} is too short")
        signatures.append((name, raw[:4], raw[4:]))
    return body, signatures


def open_note(text: str, verifier_keys: Sequence[str]) -> tuple[str, list[str]]:
    """Check a signed note; return its text and the names of the known keys that signed it.

    Signatures by unknown keys (another name or key ID) are ignored, as the spec says.
    Raises NoteError: "malformed ..." for a note or verifier key not in the format, "bad
    signature by <name>" when a known key's signature does not verify, and "no signature
    by a known key" when no known key signed.
    """
    known: dict[tuple[str, bytes], Ed25519PublicKey] = {}
    for vkey in verifier_keys:
        key_name, kid, key = _parse_verifier_key(vkey)
        known[(key_name, kid)] = key
    body, signatures = _split_note(text)
    message = body.encode("utf-8")
    verified: list[str] = []
    unknown: list[str] = []
    for name, kid, signature in signatures:
        public_key = known.get((name, kid))
        if public_key is None:
            unknown.append(name)
            continue
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            raise NoteError(f"bad signature by {name}: wrong length")
        try:
            public_key.verify(signature, message)
        except InvalidSignature:
            raise NoteError(f"bad signature by {name}") from None
        if name not in verified:
            verified.append(name)
    if not verified:
        signers = ", ".join(unknown)
        raise NoteError(f"no signature by a known key (signed by unknown keys: {signers})")
    return body, verified
