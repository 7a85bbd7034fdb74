"""Text encodings of CSV files: detection (BOM, strict UTF-8, strict GB18030) and a
stream that hands pyarrow UTF-8 bytes whatever the file's encoding (文本编码)."""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hutong.core.errors import Invalid
from hutong.datastore.readers.common import READ_CHUNK_BYTES

UTF8 = "utf-8"
UTF8_SIG = "utf-8-sig"
GB18030 = "gb18030"


@dataclass
class _Undecodable:
    offset: int
    byte: int
    line: int

    def describe(self) -> str:
        return f"byte 0x{self.byte:02X} at offset {self.offset:,} (line {self.line})"


def _first_undecodable(path: Path, encoding: str, start: int) -> tuple[_Undecodable | None, int]:
    """Where strict decoding first fails (None if the file decodes), streaming chunk by chunk;
    and how many double quotes the file holds (odd means a quote may never close)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = start
    quotes = 0
    with path.open("rb") as file:
        file.seek(start)
        while True:
            chunk = file.read(READ_CHUNK_BYTES)
            quotes += chunk.count(b'"')  # 0x22 is never part of a UTF-8/GB18030 multibyte char
            pending = decoder.getstate()[0]
            if chunk and not pending and chunk.isascii():
                offset += len(chunk)
                continue
            try:
                decoder.decode(chunk, not chunk)
            except UnicodeDecodeError as exc:
                # The decoder reports positions in its buffered bytes plus this chunk.
                where = offset - len(pending) + exc.start
                return _Undecodable(where, exc.object[exc.start], _line_at(path, where)), quotes
            if not chunk:
                return None, quotes
            offset += len(chunk)


def _line_at(path: Path, offset: int) -> int:
    line = 1
    with path.open("rb") as file:
        remaining = offset
        while remaining > 0:
            chunk = file.read(min(READ_CHUNK_BYTES, remaining))
            if not chunk:
                break
            line += chunk.count(b"\n")
            remaining -= len(chunk)
    return line


def detect_encoding(path: Path, head: bytes) -> tuple[str, int]:
    """The encoding (BOM, else strict UTF-8, else strict GB18030) and the file's quote count."""
    if head.startswith(codecs.BOM_UTF8):
        failure, quotes = _first_undecodable(path, UTF8, len(codecs.BOM_UTF8))
        if failure is None:
            return UTF8_SIG, quotes
        raise Invalid(
            "the file starts with a UTF-8 byte order mark but is not UTF-8 text: "
            f"{failure.describe()} is not UTF-8",
            extra={"offset": failure.offset, "line": failure.line},
        )
    utf8_failure, quotes = _first_undecodable(path, UTF8, 0)
    if utf8_failure is None:
        return UTF8, quotes
    gb_failure, quotes = _first_undecodable(path, GB18030, 0)
    if gb_failure is None:
        return GB18030, quotes
    raise Invalid(
        f"not UTF-8 or GB18030 text: {utf8_failure.describe()} is not UTF-8, and "
        f"{gb_failure.describe()} is not GB18030; save the file as UTF-8 and load it again",
        extra={"offset": utf8_failure.offset, "line": utf8_failure.line},
    )


class Utf8Stream(io.RawIOBase):
    """A text file as a stream of UTF-8 bytes: UTF-8 passes through, GB18030 is transcoded.

    ``raw_position`` counts the file's bytes consumed, for progress.
    """

    def __init__(self, path: Path, *, encoding: str, start: int) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._file.seek(start)
        self.raw_position = start
        self._decoder = (
            codecs.getincrementaldecoder(GB18030)("strict") if encoding == GB18030 else None
        )
        self._pending = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not self._pending and self._decoder is None:
            count = self._file.readinto(view)
            self.raw_position += count
            return count
        while not self._pending and not self._eof:
            chunk = self._file.read(READ_CHUNK_BYTES)
            self.raw_position += len(chunk)
            self._eof = not chunk
            if self._decoder is not None:
                self._pending = self._decoder.decode(chunk, self._eof).encode(UTF8)
            else:
                self._pending = chunk
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def skip(self, count: int) -> None:
        while count > 0:
            data = self.read(min(count, READ_CHUNK_BYTES))
            if not data:
                return
            count -= len(data)

    def close(self) -> None:
        self._file.close()
        super().close()
