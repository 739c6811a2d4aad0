"""The ``torch-bf16`` path's traced graph kept on disk, so that the next process loads it
instead of building the PyTorch module, casting it and tracing it.

A load on this path (:func:`~emotion_clf.models.minilm.runtime.traced`) imports transformers'
BERT code, builds the module from the bundle's tensors
(:mod:`~emotion_clf.models.minilm.network`), casts it to bfloat16, traces it and checks the
graph against the eager module: most of what ``emotion-clf predict`` spent before its answer
(``python -m benchmarks.cli_predict_start``). The graph that comes out is a TorchScript module
holding its bf16 weights; :func:`bf16_graph` stores it as a TorchScript archive
(``torch.jit.save``) in the disk cache (:data:`~emotion_clf.models.minilm.graph_cache.TORCH_BF16`),
under a key naming everything it depends on (:func:`graph_inputs`), and a later load with the
same key reads it back (``torch.jit.load``): no module is built, transformers is not imported
and nothing is traced.

A graph read back is not checked against the eager module, since building that module is what
the cache saves: it is trusted as the ONNX path trusts its graph, by its key and by the entry's
integrity (the sha256 in its header). The graph was checked when it was traced, and it is the
same graph: the archive holds the traced code and the very tensors, and its logits are the
traced graph's, bit for bit (``tests/models/test_minilm_bf16_cache.py``).

Why loading an archive is acceptable here: ``torch.jit.load`` (torch 2.13) reads the archive in
C++: the module's TorchScript code (compiled by TorchScript's own compiler, which has no access
to Python) and its tensors and attributes, through TorchScript's own unpickler, which resolves
only TorchScript types and a fixed set of tensor constructors: Python's ``pickle`` is never
called, and a Python callable named in the archive is an unknown type, refused (tested). Its
docstring still warns that a crafted archive can run code: the archive's code runs, and a
parser can have bugs. So an entry is read only where this user wrote it and no one else can
write it (:attr:`~emotion_clf.models.minilm.graph_cache.GraphCache.trusted_owner`): whoever
could replace it could as well replace the installed package in the same home.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emotion_clf.models.minilm.graph_cache import TORCH_BF16

if TYPE_CHECKING:
    from torch import nn

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
# the code a graph comes from, read, not imported: the network (encoder.py) and its building
# from the tensors (network.py), the cast, trace and check (runtime.py) and this module
SOURCES = tuple(HERE / name for name in ("encoder.py", "network.py", "runtime.py", "torch_bf16.py"))
# torch traces and serialises the graph; transformers' BERT code is what it traces
LIBRARIES = ("torch", "transformers")
DTYPE = "bfloat16"
#: bump when what the key stands for changes without any of its inputs changing
KEY_FORMAT = 1


def package_version(name: str) -> str:
    return importlib.metadata.version(name)


def code_fingerprint() -> str:
    """sha256 of the code a graph comes from (:data:`SOURCES`)."""
    digest = hashlib.sha256()
    for source in SOURCES:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def graph_inputs(network_digest: str, *, sample: list[list[list[int]]]) -> dict[str, Any]:
    """Everything a traced bf16 graph depends on: its key is their sha256.

    ``network_digest`` names the weights and the encoder's configuration
    (:meth:`~emotion_clf.models.minilm.network.Network.digest`); ``sample``: the token ids the
    graph is traced and checked on (:func:`~emotion_clf.models.minilm.runtime.check_batches`,
    unpadded), which the bundle's tokenizer gives.
    """
    return {
        "format": KEY_FORMAT,
        "network": network_digest,
        "dtype": DTYPE,
        "sample": sample,
        "code": code_fingerprint(),
        "versions": {name: package_version(name) for name in LIBRARIES},
    }


def graph_key(network_digest: str, *, sample: list[list[list[int]]]) -> str:
    inputs = graph_inputs(network_digest, sample=sample)
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest()


def dump(graph: Any) -> bytes:
    """``graph`` (a TorchScript module) as a TorchScript archive."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript, in torch 2.13
        torch.jit.save(graph, buffer)
    return buffer.getvalue()


def load(archive: bytes) -> Any:
    """The TorchScript module of ``archive``, on the CPU, in eval mode (as it was saved)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(io.BytesIO(archive), map_location="cpu")


def bf16_graph(
    build: Callable[[], nn.Module], *, key: str, cache_dir: Path | None
) -> tuple[nn.Module, str]:
    """The module to run and where it came from: ``"disk"`` (the graph of ``key`` read from
    the cache in ``cache_dir``) or ``"built"`` by ``build()``, which traces and checks it.
    A traced graph that was built is stored for the next load; an eager module (``build``
    falls back to it where tracing fails) is not. A stored graph that torch cannot load is
    reported, built again and replaced."""
    if cache_dir is not None:
        stored = TORCH_BF16.read(cache_dir, key)
        if stored is not None:
            try:
                return load(stored), "disk"
            except (RuntimeError, ValueError) as exc:  # what torch raises for a bad archive
                logger.warning(
                    "the cached %s %s cannot be loaded (%s); building it again",
                    TORCH_BF16.what,
                    TORCH_BF16.entry_path(cache_dir, key),
                    first_line(exc),
                )
    module = build()
    if cache_dir is not None:
        import torch

        if isinstance(module, torch.jit.ScriptModule):
            try:
                archive = dump(module)
            except RuntimeError as exc:  # the module runs; only the next load pays for it
                logger.warning("cannot store the %s: %s", TORCH_BF16.what, first_line(exc))
            else:
                TORCH_BF16.write(cache_dir, key, archive)
    return module, "built"


def first_line(exc: Exception) -> str:
    """The first line of torch's message (its C++ errors go on with a trace)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
