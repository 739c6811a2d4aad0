"""The ``onnx-int8`` inference path: the fp32 network exported to ONNX, its linear layers
quantised to int8, run by ONNX Runtime.

On a CPU without bfloat16 units this is minilm's fastest path: against ``torch-int8``
(PyTorch's dynamic quantisation, eager) 1.16x the sentences per second at batch 32, a third
of the latency of one sentence, and closer to fp32's labels (``benchmarks/minilm_speed.py``).
ONNX Runtime runs the whole graph in C++, so a call holds the interpreter lock for none of it.

Like the other fast paths it is derived from the bundle's fp32 weights at load time, never
stored in a bundle: the module is exported with PyTorch's TorchScript-based exporter (about 2 s;
the newer torch.export-based one took 14 s for this model), the export is checked against the
eager module's logits on a padded and an unpadded batch, then every MatMul's weights are
quantised per output channel (dynamic quantisation: activations are quantised on the fly).
The result is kept per process, keyed by the weights, so loading the same model again (a
rollback, ``with_runtime``) skips the 3-6 s of export and quantisation.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from emotion_clf.data.schema import HEADS

Batch = tuple[torch.Tensor, torch.Tensor]  # (input_ids, attention_mask), padded

INPUTS = ("input_ids", "attention_mask")
# the export must give the eager module's logits to within float32 reordering
EXPORT_TOLERANCE = 1e-4
OPSET = 17

# int8 graphs by weights: (architecture, weights' digest) -> serialised model. Two entries is
# a server's baseline and the model it swaps in or back.
_MEMO: OrderedDict[str, bytes] = OrderedDict()
_MEMO_SIZE = 2
_MEMO_LOCK = threading.Lock()


class _Heads(nn.Module):
    """The network with a tuple output, one tensor per head in :data:`HEADS` order (the
    exporter names outputs by position)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[Any, ...]:
        out = self.module(input_ids, attention_mask)
        return tuple(out[head] for head in HEADS)


def weights_key(module: nn.Module, architecture: str) -> str:
    """A digest of ``module``'s architecture and every tensor's name and bytes."""
    digest = hashlib.sha256(architecture.encode())
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


def export_fp32(module: nn.Module, sample: Batch, path: Path) -> None:
    """Write ``module`` as an fp32 ONNX graph, batch and length dynamic.

    The wrapper is put in eval mode first: after the export, the exporter sets every submodule
    to the mode it found on the wrapper, and a new module starts in training mode, so dropout
    would be live in ``module`` afterwards (and its logits would miss the check).
    """
    network = _Heads(module).eval()
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
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().removeFilter(hints)


def session(model: bytes, *, threads: int) -> Any:
    """An ONNX Runtime session on the CPU with ``threads`` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
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


def int8_model(module: nn.Module, checks: Sequence[Batch], *, architecture: str) -> bytes:
    """``module`` as an int8-quantised ONNX model (serialised), exported on ``checks[0]`` and
    checked on every batch of ``checks``; from the memo when these weights were converted
    before in this process."""
    key = weights_key(module, architecture)
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    with tempfile.TemporaryDirectory(prefix="emotion-clf-onnx-") as folder:
        fp32, int8 = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        export_fp32(module, checks[0], fp32)
        check_export(module, fp32.read_bytes(), checks)
        quantize(fp32, int8)
        model = int8.read_bytes()
    with _MEMO_LOCK:
        _MEMO[key] = model
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return model
