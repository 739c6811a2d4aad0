"""Lines of a file in bounded memory, however long a line is.

Python's own line iteration (``for line in handle``, ``readline()``) returns each line whole,
so one line of two gigabytes (a file without a newline, a sparse file of zeros) is held whole
before anything can look at it. :func:`read_lines` reads fixed-size chunks instead and keeps at
most ``max_bytes`` of a line: a longer line is passed over to its end, counted, and comes out
as a :class:`Line` without its bytes, so the reader can report it by number and go on with the
next line.

Lines end as Python's text files with ``newline=""`` end them (``\\n``, ``\\r\\n`` or ``\\r``),
and keep their ends, so the ``csv`` module reads them as it reads a file and line numbers match
what an editor shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from emotion_clf.errors import DataError

CHUNK_BYTES = 256 * 1024  # read at a time: a long line costs a chunk, never more than the limit
BOM = b"\xef\xbb\xbf"


class Line(NamedTuple):
    """One physical line: its number (from 1), its bytes with its end, and its length.

    ``data`` is None for a line longer than the limit (``size`` is then its whole length).
    """

    number: int
    data: bytes | None
    size: int


def read_lines(
    handle: BinaryIO, *, max_bytes: int, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[Line]:
    """Every line of a binary stream, none held beyond ``max_bytes`` (its end included).

    Parameters
    ----------
    handle
        A file opened in binary mode.
    max_bytes
        The longest line kept; a longer one comes out with ``data=None``.
    chunk_bytes
        How much is read at a time.
    """
    number = 0
    pieces: list[bytes] = []  # the current line so far, while it is within the limit
    size = 0  # the current line's length so far
    open_cr = False  # the current line ended with \r at a chunk's end: a \n may follow

    def finish() -> Line:
        nonlocal number, pieces, size
        number += 1
        line = Line(number, b"".join(pieces) if size <= max_bytes else None, size)
        pieces, size = [], 0
        return line

    def add(part: bytes) -> None:
        nonlocal pieces, size
        size += len(part)
        if size <= max_bytes:
            pieces.append(part)
        elif pieces:
            pieces = []  # too long: its bytes are dropped, only its length is counted

    while chunk := handle.read(chunk_bytes):
        if open_cr:
            open_cr = False
            if chunk.startswith(b"\n"):
                add(b"\n")
                chunk = chunk[1:]
            yield finish()
        parts = chunk.splitlines(keepends=True)
        last = len(parts) - 1
        for i, part in enumerate(parts):
            end = part[-1]  # splitlines gives no empty part
            whole = end == 10 or (end == 13 and i < last)  # \n, or \r with no \n after it
            if whole and not size and len(part) <= max_bytes:  # most lines: all in one chunk
                number += 1
                yield Line(number, part, len(part))
                continue
            add(part)
            if whole:
                yield finish()
            elif end == 13:
                open_cr = True
    if size:
        yield finish()


def decode_line(line: Line, source: str) -> str:
    """A kept line as text: UTF-8, with the byte-order mark of the file's first line dropped."""
    assert line.data is not None, "a line over the limit has no text"
    data = line.data[len(BOM) :] if line.number == 1 and line.data.startswith(BOM) else line.data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text ({exc.reason})", file=source, line=line.number) from exc


def too_long(line: Line, max_bytes: int) -> str:
    """Why a line over the limit is not read."""
    return f"the line is {line.size:,} bytes long; the limit is {max_bytes:,} bytes"
