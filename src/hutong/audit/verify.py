"""Verify the log from storage or from an export, and export it for a third party.

Verification recomputes every leaf hash from the entry bytes, rebuilds the Merkle tree
and checks each signed checkpoint's signature and root. It names the first entry whose
bytes no longer match, or the first checkpoint the entries do not reproduce.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hutong.audit.archive import archived_payloads
from hutong.audit.checkpoints import origin_of
from hutong.audit.entry import canonical
from hutong.audit.merkle import Frontier
from hutong.audit.models import AuditCheckpoint
from hutong.audit.note import NoteError, open_note, parse_checkpoint, verifier_key
from hutong.core.keys import load_keys
from hutong.identity import service as identity_service

EXPORT_FORMAT = "hutong-audit-export/1"
Progress = Callable[[int], None]


@dataclass
class VerifyReport:
    """What a verification found."""

    entries: int = 0
    checkpoints: int = 0
    ok: bool = True
    problem: str | None = None
    bad_entry: int | None = None
    bad_checkpoint: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def fail(
        self, problem: str, *, entry: int | None = None, checkpoint: int | None = None
    ) -> VerifyReport:
        self.ok = False
        self.problem = problem
        self.bad_entry = entry
        self.bad_checkpoint = checkpoint
        return self

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "notes"}


def _check_notes(
    checkpoints: Sequence[tuple[int, bytes | None, str]], vkey: str, report: VerifyReport
) -> list[tuple[int, bytes]] | None:
    """Open every checkpoint note with the verifier key; return (size, root) in size order."""
    out = []
    for size, stored_root, note in sorted(checkpoints, key=lambda c: c[0]):
        try:
            body, _names = open_note(note, [vkey])
            cp = parse_checkpoint(body)
        except NoteError as exc:
            report.fail(f"checkpoint {size}: {exc}", checkpoint=size)
            return None
        if cp.size != size or (stored_root is not None and cp.root != stored_root):
            report.fail(
                f"checkpoint {size}: its stored size or root differs from its signed note",
                checkpoint=size,
            )
            return None
        out.append((cp.size, cp.root))
    return out


def verify_stream(
    chunks: Iterable[Sequence[tuple[int, bytes, bytes | None]]],
    checkpoints: Sequence[tuple[int, bytes | None, str]],
    vkey: str,
    *,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify entries (index, canonical bytes, stored leaf hash or None) against checkpoints."""
    started = time.perf_counter()
    report = VerifyReport()
    heads = _check_notes(checkpoints, vkey, report)
    if heads is None:
        return report
    report.checkpoints = len(heads)
    pending = iter(heads)
    head = next(pending, None)
    frontier = Frontier()
    expected = 0
    sha = hashlib.sha256
    for chunk in chunks:
        if not chunk:
            continue
        first = chunk[0][0]
        if first != expected or chunk[-1][0] != expected + len(chunk) - 1:
            missing = expected if first != expected else _first_gap(chunk, expected)
            report.entries = expected
            return report.fail(f"entry {missing} is missing: the log has a gap", entry=missing)
        hashes = [sha(b"\x00" + payload).digest() for _, payload, _ in chunk]
        for (index, _payload, stored), computed in zip(chunk, hashes, strict=True):
            if stored is not None and stored != computed:
                report.entries = index
                return report.fail(
                    f"entry {index} has been altered: its bytes no longer match its leaf hash",
                    entry=index,
                )
        pos = 0
        while head is not None and head[0] <= expected + len(hashes):
            cut = head[0] - expected
            frontier.extend(hashes[pos:cut])
            pos = cut
            if frontier.root() != head[1]:
                report.entries = head[0]
                return report.fail(
                    f"the entries up to {head[0]} do not reproduce signed checkpoint {head[0]}: "
                    "an entry before it was altered, removed or inserted",
                    checkpoint=head[0],
                )
            head = next(pending, None)
        frontier.extend(hashes[pos:])
        expected += len(chunk)
        if progress:
            progress(expected)
    report.entries = expected
    if head is not None:
        return report.fail(
            f"checkpoint {head[0]} covers entries that are not there (the log has {expected})",
            checkpoint=head[0],
        )
    report.seconds = time.perf_counter() - started
    return report


def _first_gap(chunk: Sequence[tuple[int, bytes, bytes | None]], expected: int) -> int:
    for offset, (index, _, _) in enumerate(chunk):
        if index != expected + offset:
            return expected + offset
    return expected + len(chunk)  # pragma: no cover


def _db_chunks(
    session: Session, chunk_rows: int, home: Path
) -> Iterator[list[tuple[int, bytes, bytes]]]:
    """Entries in index order, straight from the driver (a server-side cursor on PostgreSQL)."""
    raw = session.connection().connection.driver_connection
    postgres = session.get_bind().dialect.name == "postgresql"
    cursor = raw.cursor(name="hutong_verify") if postgres else raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute("SELECT leaf_index, payload, leaf_hash FROM audit_entry ORDER BY leaf_index")
        while part := cursor.fetchmany(chunk_rows):
            missing = [int(i) for i, p, _ in part if p is None]
            if missing:
                archived = archived_payloads(session, home, missing)
                part = [(i, p if p is not None else archived[int(i)], h) for i, p, h in part]
            yield part
    finally:
        cursor.close()


def node_vkey(*, session: Session, keys_dir: Path) -> str:
    """This node's checkpoint verifier key."""
    node = identity_service.require_node(session=session)
    return verifier_key(origin_of(node.code), load_keys(keys_dir).signing.public_key())


def verify_database(
    *,
    session: Session,
    keys_dir: Path,
    home: Path | None = None,
    workers: int = 1,
    chunk_rows: int = 65536,
    progress: Progress | None = None,
) -> VerifyReport:
    """Recompute the whole log from storage and check every checkpoint.

    ``home`` is the node home (archived entry bytes live under it; default: the keys
    folder's parent). With ``workers`` > 1, blocks of the log are read and hashed in that
    many processes, and this one folds their hashes and checks the checkpoints.
    """
    home = home if home is not None else keys_dir.parent
    vkey = node_vkey(session=session, keys_dir=keys_dir)
    checkpoints = [
        (int(s), bytes(r), n)
        for s, r, n in session.execute(
            select(AuditCheckpoint.tree_size, AuditCheckpoint.root_hash, AuditCheckpoint.note)
        )
    ]
    if workers > 1:
        from hutong.audit.verify_blocks import verify_blocks, worker_target

        target = worker_target(session)
        if target is not None:
            return verify_blocks(session, home, target, checkpoints, vkey, workers, progress)
    chunks = _db_chunks(session, chunk_rows, home)
    return verify_stream(chunks, checkpoints, vkey, progress=progress)


def export_jsonl(
    *,
    session: Session,
    keys_dir: Path,
    out: IO[str],
    home: Path | None = None,
    chunk_rows: int = 65536,
    progress: Progress | None = None,
) -> int:
    """Write the log as JSON Lines: a header, entries, and each checkpoint after its last entry."""
    vkey = node_vkey(session=session, keys_dir=keys_dir)
    checkpoints = list(
        session.execute(
            select(AuditCheckpoint.tree_size, AuditCheckpoint.note).order_by(
                AuditCheckpoint.tree_size
            )
        )
    )
    out.write(
        json.dumps(
            {
                "format": EXPORT_FORMAT,
                "verifier_key": vkey,
                "canonical_form": "RFC 8785 (JCS)",
                "leaf_hash": "SHA-256(0x00 || canonical entry), RFC 6962",
            },
            ensure_ascii=False,
        )
        + "\n"
    )
    pending = iter(checkpoints)
    head = next(pending, None)
    count = 0
    while head is not None and head[0] == 0:
        out.write(json.dumps({"checkpoint": head[1]}, ensure_ascii=False) + "\n")
        head = next(pending, None)
    for chunk in _db_chunks(session, chunk_rows, home if home is not None else keys_dir.parent):
        for index, payload, _ in chunk:
            out.write('{"index":' + str(index) + ',"entry":' + payload.decode("utf-8") + "}\n")
            count += 1
            while head is not None and head[0] == index + 1:
                out.write(json.dumps({"checkpoint": head[1]}, ensure_ascii=False) + "\n")
                head = next(pending, None)
        if progress:
            progress(count)
    return count


def verify_export(
    path: Path, vkey: str, *, chunk_rows: int = 65536, progress: Progress | None = None
) -> VerifyReport:
    """Verify an export offline with only the node's verifier key.

    Each entry's canonical bytes are recomputed from the JSON object (RFC 8785 form).
    """
    checkpoints: list[tuple[int, bytes | None, str]] = []
    with path.open(encoding="utf-8") as fh:  # first pass: the checkpoints
        for line_no, line in enumerate(fh, 1):
            if line.startswith('{"checkpoint"'):
                note = json.loads(line)["checkpoint"]
                try:
                    size = parse_checkpoint(note.split("\n\n", 1)[0] + "\n").size
                except NoteError as exc:
                    return VerifyReport().fail(f"line {line_no}: {exc}")
                checkpoints.append((size, None, note))

    def chunks() -> Iterator[list[tuple[int, bytes, bytes | None]]]:
        batch: list[tuple[int, bytes, bytes | None]] = []
        with path.open(encoding="utf-8") as fh:
            header = json.loads(fh.readline() or "{}")
            if header.get("format") != EXPORT_FORMAT:
                raise ValueError("not a hutong audit export")
            for line in fh:
                if line.startswith('{"checkpoint"'):
                    continue
                obj = json.loads(line)
                batch.append((int(obj["index"]), canonical(obj["entry"]), None))
                if len(batch) >= chunk_rows:
                    yield batch
                    batch = []
        if batch:
            yield batch

    try:
        return verify_stream(chunks(), checkpoints, vkey, progress=progress)
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        return VerifyReport().fail(f"the export cannot be read: {exc}")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
