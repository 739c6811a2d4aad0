"""Where a minilm trains: a device name, checked without torch, and the torch device.

A bundle's parameters are validated at every load, ``device`` included (a bundle trained on a
GPU names ``cuda``); the inference path that reads its int8 graph from the disk cache imports
no torch, so the name is checked here by its form, the one ``torch.device`` takes for the two
kinds the family trains on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICE_NAME = re.compile(r"(cpu|cuda)(:[0-9]+)?")


def check_device_name(name: str) -> str:
    """``name`` if it names a CPU or a CUDA device (``cpu``, ``cuda``, ``cuda:N``), else
    ValueError."""
    if not DEVICE_NAME.fullmatch(name):
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', not {name!r}")
    return name


def training_device(name: str, *, present: bool = True) -> torch.device:
    """The torch device a training runs on: ``cpu``, or ``cuda``/``cuda:N`` where it exists
    (``present=False`` checks the name only: a bundle trained on a GPU loads without one)."""
    import torch

    device = torch.device(check_device_name(name))
    if present and device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r}: no CUDA GPU is visible to torch here")
    return device
