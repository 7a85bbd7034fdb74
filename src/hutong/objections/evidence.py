"""Evidence files of an objection: type told by content (magic bytes), size-bounded, stored
by SHA-256 under ``$HUTONG_HOME/uploads/evidence`` with owner-only permissions.

The name a filer gives is kept as a label only; it never becomes part of a path.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from hutong.core.errors import Invalid, TooLarge

ALLOWED = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
CHUNK = 1 << 16
HEAD = 8192


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str
    filename: str


def clean_name(name: str | None) -> str:
    """A display name: the last path part, without control characters, at most 255 long."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return text[:255] or "evidence"


def evidence_dir(uploads_dir: Path) -> Path:
    return uploads_dir / "evidence"


def path_of(uploads_dir: Path, sha256: str) -> Path:
    """Where a stored file lives (its name is its hash)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise Invalid("not a stored evidence file", field="evidence")
    return evidence_dir(uploads_dir) / sha256


def store(
    *, source: BinaryIO, filename: str | None, uploads_dir: Path, max_bytes: int
) -> StoredFile:
    """Check and store one file. Raises TooLarge, Invalid (empty, or not PDF, PNG or JPEG)."""
    folder = evidence_dir(uploads_dir)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"an evidence file has at most {max_bytes} bytes", field="file")
                if len(head) < HEAD:
                    head += chunk[: HEAD - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise Invalid("the evidence file is empty", field="file")
        kind = filetype.guess(head)
        media = kind.mime if kind is not None else ""
        if media not in ALLOWED:
            raise Invalid(
                "evidence must be a PDF, PNG or JPEG file (told by its content, not its name)",
                field="file",
                value=media or "unknown",
            )
        sha = digest.hexdigest()
        final = path_of(uploads_dir, sha)
        os.chmod(tmp, 0o600)
        os.replace(tmp, final)
        return StoredFile(sha256=sha, size=size, media_type=media, filename=clean_name(filename))
    finally:
        tmp.unlink(missing_ok=True)
