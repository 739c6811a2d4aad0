"""The minilm tokenizer: the folder's ``tokenizer.json`` run by the ``tokenizers`` library.

transformers' fast BERT tokenizer is this same ``tokenizers`` pipeline (normaliser, word
splitting, WordPiece, ``[CLS] ... [SEP]`` template) with the per-call settings applied around
it; importing transformers to get it costs a command such as ``emotion-clf predict`` more than
the rest of its model load (``python -m benchmarks.cli_predict_start``). This adapter offers
what the family uses, for training and inference alike: token ids per text with the special
tokens, truncated to ``max_length``, unpadded (:func:`tokenize`), and the padding id, with
which :func:`pad_ids` pads a batch for the network. ``tests/models/test_minilm_tokenizer.py``
holds it to transformers' ids and attention masks on every sentence of the bundled data and on
odd inputs.

The file's own padding and truncation settings (``tokenizer.json`` asks for a fixed 128) are
replaced: no padding (:func:`pad_ids` pads a batch to its longest row, as transformers'
``padding=True`` does), truncation to the caller's ``max_length``. A configured
``tokenizers.Tokenizer`` is never changed afterwards, so threads can share one: each
``max_length`` gets its own copy.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tokenizers

from emotion_clf.errors import BundleError

TOKENIZER_FILE = "tokenizer.json"
# where transformers finds the padding token, first match wins
PAD_SOURCES = ("tokenizer_config.json", "special_tokens_map.json")
DEFAULT_PAD = "[PAD]"


def _token_name(value: Any) -> str | None:
    """A special token as the config files write it: a string, or ``{"content": ...}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    return None


def pad_token(folder: Path, spec: dict[str, Any]) -> str:
    """The padding token's text: from the tokenizer config files where they name it, else
    from ``tokenizer.json``'s own padding section, else ``[PAD]``."""
    for name in PAD_SOURCES:
        path = folder / name
        if path.is_file():
            config = json.loads(path.read_text(encoding="utf-8"))
            found = _token_name(config.get("pad_token")) if isinstance(config, dict) else None
            if found:
                return found
    padding = spec.get("padding") or {}
    return _token_name(padding.get("pad_token")) or DEFAULT_PAD


class Tokenizer:
    """Token ids for texts, as transformers' fast tokenizer of the same folder gives them
    (``tokenizer(texts, truncation=True, max_length=n)["input_ids"]``)."""

    def __init__(self, spec: str, *, pad_token_id: int, source: str = "tokenizer") -> None:
        self._spec = spec  # tokenizer.json's text: each max_length's copy is built from it
        self.pad_token_id = pad_token_id
        self.source = source
        self._by_length: dict[int, tokenizers.Tokenizer] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: Path) -> Tokenizer:
        """The tokenizer of a Hugging Face folder (its ``tokenizer.json`` and, where present,
        the config files naming the padding token). Raises BundleError where it is unusable."""
        path = folder / TOKENIZER_FILE
        try:
            text = path.read_text(encoding="utf-8")
            spec = json.loads(text)
            if not isinstance(spec, dict):
                raise ValueError("not a JSON object")
            pad = pad_token(folder, spec)
        except (OSError, ValueError) as exc:  # ValueError: JSON and UTF-8 errors too
            raise BundleError(f"{path}: not a usable tokenizer: {exc}") from exc
        try:
            parsed = tokenizers.Tokenizer.from_str(text)
        except Exception as exc:  # tokenizers reports a file it cannot read as a bare Exception
            raise BundleError(f"{path}: not a usable tokenizer: {exc}") from exc
        pad_id = parsed.token_to_id(pad)
        if pad_id is None:
            raise BundleError(f"{path}: the padding token {pad!r} is not in the vocabulary")
        return cls(text, pad_token_id=int(pad_id), source=str(path))

    def _configured(self, max_length: int) -> tokenizers.Tokenizer:
        with self._lock:
            found = self._by_length.get(max_length)
            if found is None:
                found = tokenizers.Tokenizer.from_str(self._spec)
                found.no_padding()
                found.enable_truncation(max_length=max_length)
                self._by_length[max_length] = found
            return found

    def encode(self, texts: Sequence[str], *, max_length: int) -> list[list[int]]:
        """Token ids per text, the special tokens included, at most ``max_length`` each."""
        if not texts:
            return []
        encoded = self._configured(max_length).encode_batch(list(texts), add_special_tokens=True)
        return [e.ids for e in encoded]

    def __repr__(self) -> str:
        return f"Tokenizer({self.source!r}, pad_token_id={self.pad_token_id})"


def load_tokenizer(folder: Path) -> Tokenizer:
    """The tokenizer of ``folder`` (a pretrained folder, or a bundle's ``encoder/``)."""
    return Tokenizer.from_folder(folder)


def tokenize(tokenizer: Tokenizer, texts: Sequence[str], *, max_length: int) -> list[list[int]]:
    """Token ids per text, with the special tokens, truncated to ``max_length``, unpadded."""
    return tokenizer.encode(texts, max_length=max_length)


def pad_ids(ids: Sequence[Sequence[int]], *, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to the longest row: ``(input_ids, attention_mask)`` as int64 arrays."""
    width = max(len(row) for row in ids)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return input_ids, mask
