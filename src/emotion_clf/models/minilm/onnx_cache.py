"""The disk cache of minilm's int8 ONNX graphs: one file per graph, named by its key.

Exporting a network to ONNX, checking the export and quantising it costs seconds at every load
(:mod:`~emotion_clf.models.minilm.onnx_int8`), in every process: each ``emotion-clf predict``,
each server worker. The graph depends only on what its key names (the weights, the code and
library versions that made it, the export settings), so a process that finds the key's file
reads the graph instead. The folder is given by the caller (an entry point passes
``<home>/.cache/runtime``); ``None`` keeps nothing on disk.

An entry is one file, ``minilm-onnx-int8-<key>.bin``: a header line with the format, the key and
the graph's sha256, then the serialised graph. It is written through a temp file in the same
folder and renamed in place (:func:`emotion_clf.files.write_atomic`), so a reader sees a whole
entry or none, and of two processes building the same graph at once the last rename wins, both
whole. An entry that does not match its header (cut short, overwritten with something else,
another key or format) is reported and treated as absent: the caller builds the graph again and
the new file replaces it. A cache that cannot be written (a read-only home, a full disk) costs
the next process the build, nothing else.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from emotion_clf.files import write_atomic

logger = logging.getLogger(__name__)

#: bump when the entry's layout changes: older files stop matching their header
ENTRY_FORMAT = 1
MAGIC = b"emotion-clf-onnx-int8"
PREFIX = "minilm-onnx-int8-"
SUFFIX = ".bin"


def entry_path(folder: Path, key: str) -> Path:
    return folder / f"{PREFIX}{key}{SUFFIX}"


def _header(key: str, graph: bytes) -> bytes:
    digest = hashlib.sha256(graph).hexdigest()
    return b"%s %d %s %s\n" % (MAGIC, ENTRY_FORMAT, key.encode(), digest.encode())


def read_entry(folder: Path, key: str) -> bytes | None:
    """The graph stored for ``key``, or None when there is none or it is damaged (logged)."""
    path = entry_path(folder, key)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("cannot read the cached int8 graph %s (%s); building it again", path, exc)
        return None
    header, newline, graph = content.partition(b"\n")
    if not newline or header + newline != _header(key, graph):
        logger.warning(
            "the cached int8 graph %s is damaged (its content does not match its header); "
            "building it again",
            path,
        )
        return None
    return graph


def write_entry(folder: Path, key: str, graph: bytes) -> Path | None:
    """Store ``graph`` for ``key`` atomically; the entry's path, or None where it could not be
    written (logged: the graph is still used, the next process builds it again)."""
    path = entry_path(folder, key)
    try:
        return write_atomic(path, _header(key, graph) + graph)
    except OSError as exc:
        logger.warning("cannot write the int8 graph to the cache %s (%s)", path, exc)
        return None
