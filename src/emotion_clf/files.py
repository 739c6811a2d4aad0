"""Writing files so that readers see the old content or the new, never half of it."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)


def write_atomic(path: Path, data: bytes | str, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder, then rename it.

    The temp file is flushed and fsynced before the rename and the folder after it, so a
    crash leaves the whole file or none. Its name starts with a dot and ends in ``.tmp``, so
    readers globbing ``*.csv`` or ``*.json`` never pick it up. ``mode`` replaces the
    owner-only permissions of :func:`tempfile.mkstemp` (reports and bundles are shared).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
    return path


def write_json_atomic(path: Path, data: object) -> Path:
    """:func:`write_atomic` for a JSON document (indented, UTF-8)."""
    return write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        logger.debug("cannot open %s to fsync it: %s", folder, exc)
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
