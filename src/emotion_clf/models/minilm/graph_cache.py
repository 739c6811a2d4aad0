"""The disk cache of the graphs minilm derives from its weights: one file per graph, named by
its key.

Deriving a fast path from a bundle's fp32 weights costs seconds at every load, in every process
(each ``emotion-clf predict``, each server worker): exporting, checking and quantising the
int8 ONNX graph (:mod:`~emotion_clf.models.minilm.onnx_int8`), or building the PyTorch module,
casting it to bfloat16 and tracing it (:mod:`~emotion_clf.models.minilm.torch_bf16`). A graph
depends only on what its key names (the weights, the code and library versions that made it,
the settings), so a process that finds the key's file reads the graph instead. The folder is
given by the caller (an entry point passes ``<home>/.cache/runtime``); ``None`` keeps nothing
on disk. Each kind of graph is a :class:`GraphCache` (:data:`ONNX_INT8`, :data:`TORCH_BF16`).

An entry is one file, ``minilm-<kind>-<key>.bin``: a header line with the kind, the format, the
key and the graph's sha256, then the serialised graph. It is written through a temp file in the
same folder and renamed in place (:func:`emotion_clf.files.write_atomic`), so a reader sees a
whole entry or none, and of two processes building the same graph at once the last rename wins,
both whole. An entry that does not match its header (cut short, overwritten with something
else, another key or format) is reported and treated as absent: the caller builds the graph
again and the new file replaces it. A cache that cannot be written (a read-only home, a full
disk) costs the next process the build, nothing else.

The header's sha256 finds damage, not tampering: whoever can write the file can write a
matching header. An ONNX graph is data for ONNX Runtime; a TorchScript archive also carries
the code its module runs. So a kind whose graphs carry code (``trusted_owner``) reads only an
entry that this user owns and that no one else may write (checked on the open file, as ssh
checks its keys): one a process of this user wrote, not one another account of a shared home
put there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from emotion_clf.files import write_atomic

logger = logging.getLogger(__name__)

#: bump when the entry's layout changes: older files stop matching their header
ENTRY_FORMAT = 1
SUFFIX = ".bin"


@dataclass(frozen=True)
class GraphCache:
    """The entries of one kind of graph in a cache folder.

    ``kind`` names the files (``minilm-<kind>-<key>.bin``) and their header; ``what`` is how
    the log names a graph; ``trusted_owner``: read only this user's entries, writable by no one
    else (for graphs that carry code).
    """

    kind: str
    what: str
    trusted_owner: bool = False

    @property
    def prefix(self) -> str:
        return f"minilm-{self.kind}-"

    @property
    def magic(self) -> bytes:
        return f"emotion-clf-{self.kind}".encode()

    def entry_path(self, folder: Path, key: str) -> Path:
        return folder / f"{self.prefix}{key}{SUFFIX}"

    def _header(self, key: str, graph: bytes) -> bytes:
        digest = hashlib.sha256(graph).hexdigest()
        return b"%s %d %s %s\n" % (self.magic, ENTRY_FORMAT, key.encode(), digest.encode())

    def read(self, folder: Path, key: str) -> bytes | None:
        """The graph stored for ``key``, or None when there is none or it is damaged or not
        trusted (logged)."""
        path = self.entry_path(folder, key)
        try:
            with path.open("rb") as handle:
                if self.trusted_owner:
                    refused = untrusted(os.fstat(handle.fileno()))
                    if refused:
                        logger.warning(
                            "the cached %s %s %s; building it again", self.what, path, refused
                        )
                        return None
                content = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning(
                "cannot read the cached %s %s (%s); building it again", self.what, path, exc
            )
            return None
        header, newline, graph = content.partition(b"\n")
        if not newline or header + newline != self._header(key, graph):
            logger.warning(
                "the cached %s %s is damaged (its content does not match its header); "
                "building it again",
                self.what,
                path,
            )
            return None
        return graph

    def write(self, folder: Path, key: str, graph: bytes) -> Path | None:
        """Store ``graph`` for ``key`` atomically; the entry's path, or None where it could
        not be written (logged: the graph is still used, the next process builds it again)."""
        path = self.entry_path(folder, key)
        try:
            return write_atomic(path, self._header(key, graph) + graph)
        except OSError as exc:
            logger.warning("cannot write the %s to the cache %s (%s)", self.what, path, exc)
            return None


def untrusted(status: os.stat_result) -> str | None:
    """Why a file with ``status`` is not to be trusted for code, or None: it must be a plain
    file owned by this user, which neither its group nor others may write."""
    if not stat.S_ISREG(status.st_mode):
        return "is not a plain file"
    if status.st_uid != os.getuid():
        return f"belongs to another user (uid {status.st_uid})"
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"may be written by others (mode {stat.filemode(status.st_mode)})"
    return None


ONNX_INT8 = GraphCache("onnx-int8", "int8 graph")
TORCH_BF16 = GraphCache("torch-bf16", "bf16 TorchScript graph", trusted_owner=True)
