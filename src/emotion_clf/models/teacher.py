"""The ``teacher`` family: a base-size encoder with the minilm family's heads and training.

MiniLM-L6 recipes stopped improving (more data, context, regularisation, decision rules and
GoEmotions transfer all land within a point); what is left is capacity. A base-size encoder
costs several times MiniLM's per sentence, which serving cannot pay, so this family's job is to
be judged and, where it is clearly better, to teach: its soft labels can train the minilm that
serves. Everything but the starting weights is the minilm family's (heads, hierarchy-consistent
decoding, bundle format), so a teacher registers, evaluates and serves like any family.

The weights come from a verified cache folder (:mod:`emotion_clf.models.backbones`), never a
hub; training needs ``make teacher`` first. It serves on plain torch by default: the int8 paths
were measured for MiniLM only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from emotion_clf.models.backbones import DEFAULT_BACKBONE, backbone_folder, backbone_spec
from emotion_clf.models.base import TrainingSources
from emotion_clf.models.minilm.model import DEFAULT_PARAMS, MiniLMModel
from emotion_clf.models.minilm.runtime import PLAIN_RUNTIME

TEACHER_PARAMS: dict[str, Any] = {**DEFAULT_PARAMS, "backbone": DEFAULT_BACKBONE}
TEACHER_PARAMS["runtime"] = PLAIN_RUNTIME


class TeacherModel(MiniLMModel):
    """A base-size encoder (default all-mpnet-base-v2, 109 M parameters) fine-tuned with the
    emotion, sub-emotion and intensity heads."""

    family: ClassVar[str] = "teacher"
    default_params: ClassVar[Mapping[str, Any]] = TEACHER_PARAMS

    def _check_params(self, params: Mapping[str, Any]) -> None:
        super()._check_params(params)
        backbone_spec(str(params["backbone"]))  # raises, naming the known ones

    def pretrained_folder(self, sources: TrainingSources | None) -> Path:
        spec = backbone_spec(str(self._params["backbone"]))
        return backbone_folder(spec, sources.backbones_dir if sources else None)
