"""The ``onnx-int8`` inference path: the fp32 network exported to ONNX, its linear layers
quantised to int8, run by ONNX Runtime.

On a CPU without bfloat16 units this is minilm's fastest path: faster than ``torch-int8``
(PyTorch's dynamic quantisation, eager) at every batch size and closer to fp32's labels
(``benchmarks/results/minilm_speed.json``).
ONNX Runtime runs the whole graph in C++, so a call holds the interpreter lock for none of it.

Like the other fast paths it is derived from the bundle's fp32 weights at load time, never
stored in a bundle: the module is exported with PyTorch's TorchScript-based exporter (several
times faster than the newer torch.export-based one for this model), the export is checked
against the eager module's logits on a padded and an unpadded batch, then every MatMul's weights are
quantised per output channel (dynamic quantisation: activations are quantised on the fly).
The result is kept per process, and on disk where the caller gives a folder
(:mod:`~emotion_clf.models.minilm.graph_cache`), under a key naming everything the graph depends
on (:func:`graph_inputs`): loading the same weights again (a rollback, ``with_runtime``, the next
``emotion-clf predict``, another server worker) skips the export and the quantisation, and with
them the building of the PyTorch module (:mod:`~emotion_clf.models.minilm.network`) and the
import of torch: only the export and its check import it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emotion_clf.data.schema import HEADS
from emotion_clf.models.minilm.graph_cache import ONNX_INT8

if TYPE_CHECKING:
    import torch
    from torch import nn

    Batch = tuple[torch.Tensor, torch.Tensor]  # (input_ids, attention_mask), padded

logger = logging.getLogger(__name__)

# the network's code, part of every graph's key (read, not imported: it imports torch)
ENCODER_SOURCE = Path(__file__).with_name("encoder.py")

INPUTS = ("input_ids", "attention_mask")
# the export must give the eager module's logits to within float32 reordering
EXPORT_TOLERANCE = 1e-4
OPSET = 17
# what quantize() asks ONNX Runtime's quantiser for (part of every graph's key)
QUANTISER: dict[str, Any] = {"method": "dynamic", "weight_type": "QInt8", "per_channel": True}
# the libraries whose versions can change the graph: the exporter, the traced model code, the
# ONNX format and the quantiser with the runtime that reads its output
LIBRARIES = ("torch", "transformers", "onnx", "onnxruntime")
#: bump when what the key stands for changes without any of its inputs changing
KEY_FORMAT = 1

# int8 graphs by key (:func:`graph_key`) -> serialised model. Two entries is a server's
# baseline and the model it swaps in or back.
_MEMO: OrderedDict[str, bytes] = OrderedDict()
_MEMO_SIZE = 2
_MEMO_LOCK = threading.Lock()


def package_version(name: str) -> str:
    return importlib.metadata.version(name)


def code_fingerprint() -> str:
    """sha256 of the code a graph comes from: the network (``encoder.py``) and its export and
    quantisation (this module)."""
    digest = hashlib.sha256()
    for source in (ENCODER_SOURCE, Path(__file__)):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def graph_inputs(network_digest: str) -> dict[str, Any]:
    """Everything an int8 graph depends on: its key is their sha256.

    ``network_digest`` names the weights and the encoder's configuration
    (:meth:`~emotion_clf.models.minilm.network.Network.digest`).
    """
    return {
        "format": KEY_FORMAT,
        "network": network_digest,
        "code": code_fingerprint(),
        "versions": {name: package_version(name) for name in LIBRARIES},
        "opset": OPSET,
        "quantiser": QUANTISER,
    }


def graph_key(network_digest: str) -> str:
    inputs = graph_inputs(network_digest)
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest()


def export_fp32(module: nn.Module, sample: Batch, path: Path) -> None:
    """Write ``module`` as an fp32 ONNX graph, batch and length dynamic.

    The wrapper is put in eval mode first: after the export, the exporter sets every submodule
    to the mode it found on the wrapper, and a new module starts in training mode, so dropout
    would be live in ``module`` afterwards (and its logits would miss the check).
    """
    import torch
    from torch import nn

    class Heads(nn.Module):
        """The network with a tuple output, one tensor per head in :data:`HEADS` order (the
        exporter names outputs by position)."""

        def __init__(self, module: nn.Module) -> None:
            super().__init__()
            self.module = module

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[Any, ...]:
            out = self.module(input_ids, attention_mask)
            return tuple(out[head] for head in HEADS)

    network = Heads(module).eval()
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with warnings.catch_warnings(), torch.no_grad():
        # the TorchScript-based exporter is deprecated in torch 2.9+ and the transformers
        # code it traces warns about Python booleans; the check below is what vouches for it
        warnings.simplefilter("ignore")
        torch.onnx.export(
            network,
            sample,
            str(path),
            input_names=list(INPUTS),
            output_names=list(HEADS),
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


class _QuantiserHints(logging.Filter):
    """Drops the quantiser's own warnings below ERROR. It logs on the root logger itself
    (``logging.warning``: a hint to pre-process the model first, for static quantisation), and
    a filter on the root logger sees only records logged there, not other loggers' records."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or "onnxruntime" not in record.pathname


def quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of ``source``'s MatMul weights, per output channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    hints = _QuantiserHints()
    logging.getLogger().addFilter(hints)
    try:
        quantize_dynamic(
            source,
            target,
            weight_type=getattr(QuantType, QUANTISER["weight_type"]),
            per_channel=QUANTISER["per_channel"],
        )
    finally:
        logging.getLogger().removeFilter(hints)


def session_threads(threads: int) -> int:
    """The intra-op threads of a session, counted as torch counts its own: ``threads`` where
    above 0 (the model's parameter), else ``OMP_NUM_THREADS`` where set (``emotion-clf serve
    --workers N`` gives each worker its share of the cores there), else 0: ONNX Runtime's
    default, one per physical core, as torch's. Read without torch, which this path need not
    import."""
    if threads > 0:
        return threads
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    if value:
        logger.warning("OMP_NUM_THREADS=%r is not a positive number; ignoring it", value)
    return 0


def session(model: bytes, *, threads: int) -> Any:
    """An ONNX Runtime session on the CPU with ``threads`` intra-op threads (0: its default,
    one per physical core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(0, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: it warns about unused initialisers
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def run(sess: Any, input_ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    outputs = sess.run(None, {"input_ids": input_ids, "attention_mask": mask})
    return {
        head: np.asarray(out, dtype=np.float32) for head, out in zip(HEADS, outputs, strict=True)
    }


def check_export(module: nn.Module, model: bytes, batches: Sequence[Batch]) -> None:
    """Raise unless the fp32 graph gives ``module``'s logits on every batch (``module`` as it
    is: in eval mode, or dropout makes them differ)."""
    import torch

    sess = session(model, threads=1)
    for input_ids, mask in batches:
        with torch.inference_mode():
            want = module(input_ids, mask)
        got = run(sess, input_ids.numpy(), mask.numpy())
        for head in HEADS:
            gap = float(np.abs(want[head].float().numpy() - got[head]).max())
            if gap > EXPORT_TOLERANCE:
                raise ValueError(
                    f"the ONNX export's {head} logits differ from the eager module's by {gap:.2g} "
                    f"on a batch of shape {tuple(input_ids.shape)}"
                )


def build_int8(module: nn.Module, checks: Sequence[Batch]) -> bytes:
    """``module`` as an int8-quantised ONNX model (serialised), exported on ``checks[0]`` and
    checked on every batch of ``checks`` (torch tensors)."""
    with tempfile.TemporaryDirectory(prefix="emotion-clf-onnx-") as folder:
        fp32, int8 = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        export_fp32(module, checks[0], fp32)
        check_export(module, fp32.read_bytes(), checks)
        quantize(fp32, int8)
        return int8.read_bytes()


def _remember(key: str, model: bytes) -> None:
    with _MEMO_LOCK:
        _MEMO[key] = model
        _MEMO.move_to_end(key)
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)


def int8_model(
    module: Callable[[], nn.Module],
    checks: Callable[[], Sequence[Batch]],
    *,
    key: str,
    cache_dir: Path | None,
    reuse: bool = True,
) -> tuple[bytes, str]:
    """The int8 graph of ``key`` and where it came from: ``"memo"`` (converted before in this
    process), ``"disk"`` (the cache in ``cache_dir``), or ``"built"`` from ``module()`` (in eval
    mode) and ``checks()`` by :func:`build_int8`, then stored in both. ``reuse=False`` builds it
    whatever the caches hold (and replaces their entries). Both are called only to build: a
    graph found in a cache needs neither the module nor torch."""
    if reuse:
        with _MEMO_LOCK:
            if key in _MEMO:
                _MEMO.move_to_end(key)
                return _MEMO[key], "memo"
        if cache_dir is not None:
            stored = ONNX_INT8.read(cache_dir, key)
            if stored is not None:
                _remember(key, stored)
                return stored, "disk"
    model = build_int8(module(), checks())
    if cache_dir is not None:
        ONNX_INT8.write(cache_dir, key, model)
    _remember(key, model)
    return model, "built"


def _session_errors() -> tuple[type[Exception], ...]:
    """What ONNX Runtime raises for a model it cannot load (its errors share no base class
    besides Exception)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("InvalidProtobuf", "InvalidGraph", "InvalidArgument", "Fail", "RuntimeException")
    return tuple(getattr(state, name) for name in names if hasattr(state, name))


def int8_session(
    module: Callable[[], nn.Module],
    checks: Callable[[], Sequence[Batch]],
    *,
    key: str,
    cache_dir: Path | None,
    threads: int,
) -> Any:
    """A session on the int8 graph of ``key`` (:func:`int8_model`). A stored graph that ONNX
    Runtime cannot load is reported, built again and replaced."""
    model, origin = int8_model(module, checks, key=key, cache_dir=cache_dir)
    try:
        return session(model, threads=threads)
    except _session_errors() as exc:
        if origin != "disk":
            raise
        logger.warning(
            "the cached int8 graph %s cannot be loaded (%s); building it again",
            ONNX_INT8.entry_path(cache_dir, key) if cache_dir else key,
            exc,
        )
    model, _ = int8_model(module, checks, key=key, cache_dir=cache_dir, reuse=False)
    return session(model, threads=threads)
