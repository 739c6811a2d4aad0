"""The label schema: the one place that names the labels and their hierarchy.

Seven emotions, thirty sub-emotions, three intensities. Every sub-emotion belongs to exactly
one emotion, so a prediction can always be made consistent with the hierarchy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emotion_clf.errors import BundleError

HEADS: tuple[str, str, str] = ("emotion", "sub_emotion", "intensity")

EMOTIONS: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "anger",
    "disgust",
    "sadness",
    "fear",
)

# sub-emotion -> its emotion, as observed in every labelled row of the bundled data.
SUB_EMOTION_PARENT: Mapping[str, str] = {
    "admiration": "happiness",
    "amusement": "happiness",
    "anger": "anger",
    "annoyance": "anger",
    "approval": "happiness",
    "aversion": "disgust",
    "caring": "happiness",
    "confusion": "surprise",
    "curiosity": "happiness",
    "desire": "happiness",
    "disappointment": "sadness",
    "disapproval": "disgust",
    "disgust": "disgust",
    "embarrassment": "fear",
    "excitement": "happiness",
    "fear": "fear",
    "gratitude": "happiness",
    "grief": "sadness",
    "joy": "happiness",
    "love": "happiness",
    "melancholy": "sadness",
    "nervousness": "fear",
    "neutral": "neutral",
    "optimism": "happiness",
    "pride": "happiness",
    "realization": "surprise",
    "relief": "happiness",
    "remorse": "sadness",
    "sadness": "sadness",
    "surprise": "surprise",
}

INTENSITIES: tuple[str, ...] = ("mild", "moderate", "strong")

# Spellings found in the raw data, mapped to the three normalised levels. The normalised
# names themselves are accepted as they are. Anything else is an error, never a guess.
INTENSITY_ALIASES: Mapping[str, str] = {
    "neutral": "mild",
    "mild": "mild",
    "moderate": "moderate",
    "intense": "strong",
    "overwhelming": "strong",
    "strong": "strong",
}


def normalise_token(value: str) -> str:
    """Case- and whitespace-insensitive form of a label as written."""
    return " ".join(value.strip().lower().replace("_", " ").replace("-", " ").split())


@dataclass(frozen=True)
class LabelSchema:
    """Label names per head and the sub-emotion -> emotion hierarchy.

    The order of each tuple is the column order of every probability array in the package.
    """

    emotions: tuple[str, ...]
    sub_emotions: tuple[str, ...]
    intensities: tuple[str, ...]
    parent: Mapping[str, str] = field(hash=False)

    def __post_init__(self) -> None:
        missing = [s for s in self.sub_emotions if self.parent.get(s) not in self.emotions]
        if missing:
            raise BundleError(f"label schema: sub-emotions without a known emotion: {missing}")

    def labels(self, head: str) -> tuple[str, ...]:
        if head == "emotion":
            return self.emotions
        if head == "sub_emotion":
            return self.sub_emotions
        if head == "intensity":
            return self.intensities
        raise KeyError(f"unknown head {head!r}; heads are {', '.join(HEADS)}")

    def parent_index(self) -> list[int]:
        """For each sub-emotion column, the column of its emotion."""
        return [self.emotions.index(self.parent[s]) for s in self.sub_emotions]

    def children(self, emotion: str) -> tuple[str, ...]:
        return tuple(s for s in self.sub_emotions if self.parent[s] == emotion)

    def to_dict(self) -> dict[str, Any]:
        return {
            "emotions": list(self.emotions),
            "sub_emotions": list(self.sub_emotions),
            "intensities": list(self.intensities),
            "parent": {s: self.parent[s] for s in self.sub_emotions},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelSchema:
        try:
            return cls(
                emotions=tuple(data["emotions"]),
                sub_emotions=tuple(data["sub_emotions"]),
                intensities=tuple(data["intensities"]),
                parent=dict(data["parent"]),
            )
        except (KeyError, TypeError) as exc:
            raise BundleError(f"label schema is malformed: {exc}") from exc

    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


SCHEMA = LabelSchema(
    emotions=EMOTIONS,
    sub_emotions=tuple(sorted(SUB_EMOTION_PARENT)),
    intensities=INTENSITIES,
    parent=SUB_EMOTION_PARENT,
)


def normalise_emotion(value: str) -> str | None:
    token = normalise_token(value)
    return token if token in EMOTIONS else None


def normalise_sub_emotion(value: str) -> str | None:
    token = normalise_token(value)
    return token if token in SUB_EMOTION_PARENT else None


def normalise_intensity(value: str) -> str | None:
    return INTENSITY_ALIASES.get(normalise_token(value))
