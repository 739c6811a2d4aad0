"""Inference paths for the minilm family: plain fp32 and the faster ones it ships.

``torch-fp32`` is plain PyTorch: texts in the order given, ``batch_size`` at a time, each
batch padded to its longest sentence. It is the reference the others are measured against
(``python -m benchmarks.minilm_speed``).

``torch-bf16`` (the default where the CPU multiplies bfloat16 natively: AMX or AVX512-BF16)
casts the fp32 weights to bfloat16 at load time and traces the module into a
TorchScript graph (no Python between operators; exactly the eager module's logits, checked at
load); oneDNN then runs the matrix products on the CPU's bfloat16 units. It changes test
accuracy by under 0.1 point on every head (``benchmarks/results/minilm_speed.json``). Where the
caller gives a folder (``runtime_cache``), the traced graph is kept on disk for the next process
(:mod:`~emotion_clf.models.minilm.torch_bf16`), which loads it without building the module.

``onnx-int8`` (the default elsewhere) exports the network to ONNX, quantises its linear
layers to int8 per output channel and runs it in ONNX Runtime
(:mod:`~emotion_clf.models.minilm.onnx_int8`): on a CPU without bfloat16 units, 2.9x
``torch-int8``'s rate at batch 1, 1.16x at batch 32, and within 0.3 point of fp32's accuracy
on every head (``torch-int8``: up to 1). Where the export or ONNX Runtime fails, the runtime
falls back to ``torch-int8`` and the log says why. The int8 graph is kept per weights in the
process and, where the caller gives a folder (``runtime_cache``), on disk for the next process
(:mod:`~emotion_clf.models.minilm.graph_cache`); a graph found there runs without the PyTorch
module ever being built.

``torch-int8`` quantises every linear layer of the encoder to int8 per output channel,
activations quantised on the fly (dynamic quantisation, PyTorch eager); the heads stay fp32.
It is about 1.7x fp32 at batch 32 and loses up to 0.4 point of accuracy here.

All fast paths are derived from the fp32 safetensors at load time, deterministically: a
bundle stores only fp32 weights. All of them also sort a call's texts by token count before cutting
them into batches, so that a long call (an evaluation, a batch job) pads each batch to about
its own length, cut a batch further where a pass of its own costs less than the padding it
saves (a server's batch of 32 sentences holds a few long ones), and put the results back in
the caller's order.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emotion_clf.data.schema import HEADS
from emotion_clf.models.minilm import onnx_int8, torch_bf16
from emotion_clf.models.minilm.batching import PASS_TOKENS, sorted_batches
from emotion_clf.models.minilm.network import Network
from emotion_clf.models.minilm.tokenizer import Tokenizer, pad_ids, tokenize

if TYPE_CHECKING:
    import torch
    from torch import nn

    from emotion_clf.models.minilm.encoder import MultiTaskMiniLM

logger = logging.getLogger(__name__)

PLAIN_RUNTIME = "torch-fp32"
BF16_RUNTIME = "torch-bf16"
INT8_RUNTIME = "torch-int8"
ONNX_INT8_RUNTIME = "onnx-int8"
AUTO_RUNTIME = "auto"
RUNTIMES: tuple[str, ...] = (PLAIN_RUNTIME, BF16_RUNTIME, INT8_RUNTIME, ONNX_INT8_RUNTIME)


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AMX tiles or AVX512-BF16)."""
    import torch

    checks: list[Callable[[], bool]] = [
        getattr(torch.cpu, name)
        for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
        if hasattr(torch.cpu, name)
    ]
    if not checks:
        logger.info("this torch cannot tell whether the CPU has bfloat16 units; assuming not")
    return any(check() for check in checks)


def check_runtime(name: str) -> str:
    """``name`` if it names a runtime or ``auto``, else ValueError; probes nothing (the CPU
    probe behind ``auto`` imports torch)."""
    if name != AUTO_RUNTIME and name not in RUNTIMES:
        raise ValueError(
            f"unknown minilm runtime {name!r}; choose one of {(AUTO_RUNTIME, *RUNTIMES)}"
        )
    return name


def resolve_runtime(name: str) -> str:
    """``auto`` becomes ``torch-bf16`` on CPUs with native bfloat16, else ``onnx-int8``."""
    if check_runtime(name) == AUTO_RUNTIME:
        return BF16_RUNTIME if native_bf16() else ONNX_INT8_RUNTIME
    return name


def quantize_encoder(module: MultiTaskMiniLM) -> MultiTaskMiniLM:
    """A copy of ``module`` whose encoder linear layers are dynamic int8; heads stay fp32."""
    import torch
    from torch import nn
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    quantized = copy.deepcopy(module).eval()
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; the API still works in torch 2.13
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantized.encoder = quantize_dynamic(
            quantized.encoder, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
    return quantized


TRACE_SAMPLE = ("a first sentence, long enough that the second one is padded", "hi")


def sample_ids(tokenizer: Tokenizer, *, max_length: int) -> list[list[list[int]]]:
    """The token ids of :func:`check_batches`, unpadded (read without torch)."""
    return [
        tokenize(tokenizer, texts, max_length=max_length)
        for texts in (TRACE_SAMPLE, TRACE_SAMPLE[:1])
    ]


def check_batches(tokenizer: Tokenizer, *, pad_id: int, max_length: int) -> list[onnx_int8.Batch]:
    """What a derived graph is made from and checked on: :data:`TRACE_SAMPLE` padded (so the
    attention mask is applied), then its first sentence alone (no padding)."""
    from emotion_clf.models.minilm.encoder import pad

    return [pad(ids, pad_id=pad_id) for ids in sample_ids(tokenizer, max_length=max_length)]


# One traced graph per architecture for the life of the process, its parameters emptied: a
# new load of the same architecture gets a copy of it holding the new weights. Every trace
# compiles a new TorchScript type whose graphs stay in the global compilation unit until the
# process ends (about 10 MiB for MiniLM-L6: a server grew by that much on every model swap);
# a copy shares its type and graphs, and the warmed-up plan of the graph executor with them.
_GRAPHS: dict[str, torch.jit.ScriptModule] = {}


def architecture(module: nn.Module) -> str:
    """What a traced graph of ``module`` depends on besides its weights' values: the module
    class, the encoder's config, and every parameter's and buffer's name, shape and dtype."""
    config = getattr(getattr(module, "encoder", None), "config", None)
    tensors = [*module.named_parameters(), *module.named_buffers()]
    return repr(
        (
            type(module).__qualname__,
            config.to_json_string() if config is not None else None,
            [(name, tuple(t.shape), str(t.dtype)) for name, t in tensors],
        )
    )


def with_weights(graph: torch.jit.ScriptModule, module: nn.Module) -> torch.jit.ScriptModule:
    """A copy of ``graph`` (same type, same compiled graphs) holding ``module``'s tensors,
    shared, not copied."""
    import torch

    with torch.inference_mode(False):  # an inference-mode copy's tensors refuse the graph's ops
        copied = copy.deepcopy(graph)
    source = {**dict(module.named_parameters()), **dict(module.named_buffers())}
    for name, tensor in [*copied.named_parameters(), *copied.named_buffers()]:
        tensor.data = source[name].data
    return copied


def weightless(graph: torch.jit.ScriptModule) -> torch.jit.ScriptModule:
    """A copy of ``graph`` whose parameters are empty: the template :func:`with_weights` copies."""
    import torch

    with torch.inference_mode(False):
        template = copy.deepcopy(graph)
    for tensor in template.parameters():
        tensor.data = torch.empty(0, dtype=tensor.dtype)
    return template


def traced(module: nn.Module, tokenizer: Tokenizer, *, pad_id: int, max_length: int) -> nn.Module:
    """``module`` as a traced TorchScript graph, or ``module`` itself where that fails.

    Eager PyTorch runs Python between every operator of the 6 layers: for the short sentences
    a server sees, that is most of a pass (the graph is 1.5x eager at batch 1 to 32 here,
    ``research/minilm_traced.py``), and it holds the interpreter lock the server's event
    loop needs. Tracing and the check add about half a second to a load.
    The graph is traced on a padded batch (so the attention mask is always applied), once per
    architecture and process (later loads copy it with their own weights, :data:`_GRAPHS`),
    and every load's graph must give exactly the eager module's logits on a padded and an
    unpadded batch, three times each (the first calls of a TorchScript graph run a profiling
    plan); otherwise, or where tracing fails, the eager module is kept and the log says why.
    TorchScript is deprecated in torch 2.13 in favour of torch.compile, which needs a C++
    compiler at load time; this is the path that needs none, and the eager fallback keeps
    working without it.
    """
    import torch

    sample, single = check_batches(tokenizer, pad_id=pad_id, max_length=max_length)
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", FutureWarning)  # transformers, on attribute probes
            key = architecture(module)
            template = _GRAPHS.get(key)
            if template is not None:
                graph = with_weights(template, module.eval())
            else:
                # not frozen: freezing folds the weights into the graph as constants, so no
                # later load could share it (and each frozen graph stayed in the compilation
                # unit: 54 MiB per load)
                graph = torch.jit.trace(module.eval(), sample, strict=False, check_trace=False)
            for inputs in (sample, single):
                want = module(*inputs)
                for _ in range(3):
                    got = graph(*inputs)
                    if any(not torch.equal(want[h], got[h]) for h in HEADS):
                        raise ValueError("the traced graph's logits differ from the eager module's")
            if template is None:
                _GRAPHS[key] = weightless(graph)
    except Exception as exc:  # any failure keeps the eager module, which is always correct
        logger.warning("minilm runs eager PyTorch: tracing it failed (%s)", exc)
        return module
    return graph


class Runtime:
    """Runs the multi-task network over texts and returns raw logits per head.

    ``network``: a :class:`~emotion_clf.models.minilm.network.Network` (a module is taken as
    :meth:`Network.of <emotion_clf.models.minilm.network.Network.of>` it). ``runtime_cache``:
    the folder of the disk cache of derived graphs
    (:mod:`~emotion_clf.models.minilm.graph_cache`), None for none. ``onnx-int8`` builds the
    network's module only where the graph is in neither its memo nor the disk cache
    (:attr:`module` stays None while the session runs): with the graph in one, no torch is
    imported. ``torch-bf16`` builds it only where its traced graph is not in the disk cache
    (:mod:`~emotion_clf.models.minilm.torch_bf16`): with the graph there, :attr:`module` is
    the graph read back and transformers is not imported. ``threads``: torch's intra-op
    threads for the PyTorch paths, ONNX
    Runtime's for ``onnx-int8`` (:func:`~emotion_clf.models.minilm.onnx_int8.session_threads`);
    0 leaves the default.
    """

    def __init__(
        self,
        network: Network | MultiTaskMiniLM,
        tokenizer: Tokenizer,
        *,
        name: str,
        max_length: int,
        batch_size: int,
        runtime_cache: Path | None = None,
        threads: int = 0,
    ) -> None:
        network = network if isinstance(network, Network) else Network.of(network)
        self.name = resolve_runtime(name)
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.pass_tokens: float | None = PASS_TOKENS  # None: only the batch_size cut
        self.pad_id = int(tokenizer.pad_token_id)
        self.sizes = dict(network.sizes)
        self.module: nn.Module | None = None
        # the ONNX Runtime session of onnx-int8 (None elsewhere, or where it could not be
        # built: then this runtime is torch-int8)
        self.session: Any = (
            self._onnx_session(network, runtime_cache, threads)
            if self.name == ONNX_INT8_RUNTIME
            else None
        )
        if self.session is None and threads > 0:
            import torch

            torch.set_num_threads(threads)
        if self.name == BF16_RUNTIME:
            self.module = self._bf16_module(network, runtime_cache)
        elif self.name == INT8_RUNTIME:
            self.module = quantize_encoder(network.module())
        elif self.name == PLAIN_RUNTIME:
            self.module = network.module().eval()

    def _bf16_module(self, network: Network, cache_dir: Path | None) -> nn.Module:
        """The traced bf16 graph: read from the disk cache, or traced (:func:`traced`) and
        stored there; the key is computed only where there is a cache."""
        import torch

        def build() -> nn.Module:
            return traced(
                copy.deepcopy(network.module()).to(torch.bfloat16),
                self.tokenizer,
                pad_id=self.pad_id,
                max_length=self.max_length,
            )

        if cache_dir is None:
            return build()
        key = torch_bf16.graph_key(
            network.digest(), sample=sample_ids(self.tokenizer, max_length=self.max_length)
        )
        module, _ = torch_bf16.bf16_graph(build, key=key, cache_dir=cache_dir)
        return module

    def _onnx_session(self, network: Network, cache_dir: Path | None, threads: int) -> Any:
        try:
            return onnx_int8.int8_session(
                lambda: network.module().eval(),
                lambda: check_batches(
                    self.tokenizer, pad_id=self.pad_id, max_length=self.max_length
                ),
                key=onnx_int8.graph_key(network.digest()),
                cache_dir=cache_dir,
                threads=onnx_int8.session_threads(threads),
            )
        except Exception as exc:  # any failure keeps a working int8 path
            logger.warning(
                "minilm runs torch-int8: the onnx-int8 path could not be built (%s: %s)",
                type(exc).__name__,
                exc,
            )
            self.name = INT8_RUNTIME
            return None

    def logits(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        if not texts:
            return {h: np.zeros((0, n), np.float32) for h, n in self.sizes.items()}
        if self.name == PLAIN_RUNTIME:
            return self._plain(texts)
        return self._sorted(texts)

    def _run(self, input_ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        if self.session is not None:
            return onnx_int8.run(self.session, input_ids, mask)
        assert self.module is not None  # every path without a session has its module
        import torch

        with torch.inference_mode():
            out = self.module(torch.from_numpy(input_ids), torch.from_numpy(mask))
        return {head: out[head].float().numpy() for head in HEADS}

    def _plain(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        parts: dict[str, list[np.ndarray]] = {head: [] for head in HEADS}
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            ids = tokenize(self.tokenizer, batch, max_length=self.max_length)
            out = self._run(*pad_ids(ids, pad_id=self.pad_id))
            for head in HEADS:
                parts[head].append(out[head])
        return {head: np.concatenate(parts[head]) for head in HEADS}

    def _sorted(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        ids = tokenize(self.tokenizer, texts, max_length=self.max_length)
        out = {h: np.empty((len(texts), n), np.float32) for h, n in self.sizes.items()}
        lengths = [len(row) for row in ids]
        for rows in sorted_batches(
            lengths, batch_size=self.batch_size, pass_tokens=self.pass_tokens
        ):
            input_ids, mask = pad_ids([ids[i] for i in rows], pad_id=self.pad_id)
            logits = self._run(input_ids, mask)
            for head in HEADS:
                out[head][rows] = logits[head]
        return out
