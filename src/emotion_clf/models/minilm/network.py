"""A trained minilm network as a runtime needs it: a module, or the tensors to build one from.

Building the :class:`~emotion_clf.models.minilm.encoder.MultiTaskMiniLM` of a bundle imports
torch and transformers' BERT code, makes a fresh encoder and fills it: the largest part of a
load once the derived graph (the int8 ONNX graph, or the traced bf16 graph) comes from the disk
cache (:mod:`~emotion_clf.models.minilm.graph_cache`), so the largest part of what a command
such as ``emotion-clf predict`` would spend on the model before its answer
(``python -m benchmarks.cli_predict_start``). Those paths never run the module, so a loaded
bundle keeps its fp32 tensors, as numpy arrays read without torch, and builds the module only
when something asks for it (a graph to derive, the fp32 and torch-int8 runtimes, saving,
training code); the tensors are dropped then. Until then they take the memory the module
would. A :class:`Network` also gives the digest that names the weights in the caches of
derived graphs, the same whether it is computed from the arrays or from the module built from
them.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emotion_clf.errors import BundleError

if TYPE_CHECKING:
    import torch

    from emotion_clf.models.minilm.encoder import MultiTaskMiniLM

CONFIG_FILE = "config.json"

# a loaded bundle's tensors are numpy arrays (read without torch), a module's are torch tensors
Tensor = Any  # np.ndarray | torch.Tensor


def tensor_record(tensor: Tensor) -> tuple[str, tuple[int, ...], np.ndarray]:
    """A tensor's dtype as torch names it, its shape and its bytes (a flat uint8 view, not a
    copy), whether it is a numpy array or a torch tensor (so both give one digest)."""
    if isinstance(tensor, np.ndarray):
        array = np.ascontiguousarray(tensor)
        return f"torch.{array.dtype.name}", tuple(array.shape), array.reshape(-1).view(np.uint8)
    import torch

    value = tensor.detach().contiguous().cpu()
    data = value.reshape(-1).view(torch.uint8).numpy()
    return str(value.dtype), tuple(value.shape), data


def weights_digest(tensors: Mapping[str, Tensor]) -> str:
    """sha256 of every tensor's name, dtype, shape and bytes, in name order: the same for a
    module's torch tensors and the numpy arrays of the file they were saved to."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        dtype, shape, data = tensor_record(tensors[name])
        digest.update(f"{name}|{dtype}|{shape}|".encode())
        digest.update(data.data)  # the buffer itself: hashed without a copy
    return digest.hexdigest()


def copy_tensors(module: torch.nn.Module, tensors: Mapping[str, Tensor], *, source: str) -> None:
    """Copy ``tensors`` (torch tensors or numpy arrays) into ``module``; they must be exactly
    its state, shapes included."""
    import torch

    targets = module.state_dict()  # shares storage with the module's parameters
    missing, unexpected = sorted(set(targets) - set(tensors)), sorted(set(tensors) - set(targets))
    if missing or unexpected:
        raise BundleError(f"{source}: missing tensors {missing}, unexpected {unexpected}")
    with torch.no_grad():
        for name in sorted(tensors):
            tensor = torch.as_tensor(tensors[name])
            if tensor.shape != targets[name].shape:
                raise BundleError(
                    f"{source}: {name} has shape {tuple(tensor.shape)}, "
                    f"expected {tuple(targets[name].shape)}"
                )
            targets[name].copy_(tensor)


class Network:
    """A network and the encoder configuration it was made with (``config.json``'s bytes):
    a module given as it is (:meth:`of`), or tensors built into one on first use
    (:meth:`deferred`). Safe to share between models and threads: the module is built once."""

    def __init__(
        self,
        *,
        config_json: bytes,
        sizes: Mapping[str, int],
        module: MultiTaskMiniLM | None = None,
        tensors: dict[str, Tensor] | None = None,
        dropout: float = 0.0,
        source: str = "weights",
    ) -> None:
        self.config_json = config_json
        self.sizes = dict(sizes)
        self._module = module
        self._tensors = tensors
        self._dropout = dropout
        self._source = source
        self._lock = threading.Lock()

    @classmethod
    def of(cls, module: MultiTaskMiniLM, *, config_json: bytes | None = None) -> Network:
        """``module`` itself; ``config_json`` defaults to its encoder's configuration."""
        if config_json is None:
            config_json = module.encoder.config.to_json_string().encode("utf-8")
        return cls(config_json=config_json, sizes=module.head_sizes(), module=module)

    @classmethod
    def deferred(
        cls,
        tensors: dict[str, Tensor],
        *,
        config_json: bytes,
        sizes: Mapping[str, int],
        dropout: float,
        source: str,
    ) -> Network:
        """A network built from ``tensors`` when first asked for; ``source`` names them in
        errors (a missing tensor or a wrong shape is found then)."""
        return cls(
            config_json=config_json, sizes=sizes, tensors=tensors, dropout=dropout, source=source
        )

    @property
    def built(self) -> bool:
        return self._module is not None

    def module(self) -> MultiTaskMiniLM:
        """The module, built from the tensors the first time (in eval mode)."""
        with self._lock:
            if self._module is None:
                assert self._tensors is not None  # one of the two is always set
                self._module = self._build(self._tensors)
                self._tensors = None
            return self._module

    def _build(self, tensors: Mapping[str, Tensor]) -> MultiTaskMiniLM:
        from emotion_clf.models.minilm.encoder import MultiTaskMiniLM, empty_encoder

        with tempfile.TemporaryDirectory(prefix="emotion-clf-encoder-") as folder:
            (Path(folder) / CONFIG_FILE).write_bytes(self.config_json)
            encoder = empty_encoder(Path(folder))
        module = MultiTaskMiniLM(encoder, self.sizes, dropout=self._dropout)
        copy_tensors(module, tensors, source=self._source)
        return module.eval()

    def digest(self) -> str:
        """sha256 of the configuration and of every tensor (:func:`weights_digest`): the
        same for the tensors and for the module built from them."""
        with self._lock:
            tensors = self._tensors if self._module is None else self._module.state_dict()
            assert tensors is not None
            weights = weights_digest(tensors)
        config = hashlib.sha256(self.config_json).hexdigest()
        return hashlib.sha256(f"{config}|{weights}".encode()).hexdigest()
