"""Agreement between the served model and the shadow candidate on live traffic.

The server logs the candidate's answers on sampled requests with the route ``shadow:<route>``
and the live answer's request id (:mod:`emotion_clf.serving.runtime.shadow`).
:func:`shadow_agreement` pairs each shadow record with the live record of the same request and
text, and counts, per head, how often the two agree: overall, per live label, with examples
where they differ.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from emotion_clf.data.schema import HEADS
from emotion_clf.monitoring.predictions import LoggedPrediction

SHADOW_PREFIX = "shadow:"  # the route prefix the server writes (serving.shadow)


@dataclass(frozen=True)
class Disagreement:
    request_id: str | None
    text: str | None  # None unless the server logs texts
    text_sha256: str | None
    head: str
    served: str
    candidate: str


@dataclass
class HeadAgreement:
    agree: int = 0
    total: int = 0
    per_label: dict[str, list[int]] = field(default_factory=dict)  # live label -> [agree, n]

    @property
    def rate(self) -> float | None:
        return self.agree / self.total if self.total else None


@dataclass
class ShadowReport:
    pairs: int
    unpaired: int  # shadow records whose live record is not in the log read
    served_versions: dict[str, int]
    candidate_versions: dict[str, int]
    heads: dict[str, HeadAgreement]
    examples: list[Disagreement]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "unpaired": self.unpaired,
            "served_versions": self.served_versions,
            "candidate_versions": self.candidate_versions,
            "agreement": {
                head: {
                    "rate": h.rate,
                    "agree": h.agree,
                    "total": h.total,
                    "per_label": {
                        label: {"agree": a, "total": n, "rate": a / n}
                        for label, (a, n) in sorted(h.per_label.items())
                    },
                }
                for head, h in self.heads.items()
            },
            "examples": [e.__dict__ for e in self.examples],
        }


def _key(record: LoggedPrediction) -> tuple[str | None, str | None]:
    return record.request_id, record.text_sha256 or record.text


def shadow_agreement(records: Iterable[LoggedPrediction], *, examples: int = 10) -> ShadowReport:
    """Pair shadow and live records by (request id, text) and count agreement per head."""
    live: dict[tuple[str | None, str | None], LoggedPrediction] = {}
    shadow: list[LoggedPrediction] = []
    for record in records:
        if record.route.startswith(SHADOW_PREFIX):
            shadow.append(record)
        elif record.request_id is not None:
            live[_key(record)] = record
    heads = {head: HeadAgreement() for head in HEADS}
    served: Counter[str] = Counter()
    candidate: Counter[str] = Counter()
    found: list[Disagreement] = []
    pairs = unpaired = 0
    seen: defaultdict[str, int] = defaultdict(int)
    for record in shadow:
        match = live.get(_key(record)) if record.request_id is not None else None
        if match is None:
            unpaired += 1
            continue
        pairs += 1
        served[str(match.model_version)] += 1
        candidate[str(record.model_version)] += 1
        for head in HEADS:
            was, now = match.labels[head], record.labels[head]
            tally = heads[head]
            counts = tally.per_label.setdefault(was, [0, 0])
            counts[1] += 1
            tally.total += 1
            if was == now:
                tally.agree += 1
                counts[0] += 1
            elif len(found) < examples and seen[head] < examples:
                seen[head] += 1
                found.append(
                    Disagreement(
                        request_id=record.request_id,
                        text=match.text,
                        text_sha256=match.text_sha256,
                        head=head,
                        served=was,
                        candidate=now,
                    )
                )
    return ShadowReport(
        pairs=pairs,
        unpaired=unpaired,
        served_versions=dict(served),
        candidate_versions=dict(candidate),
        heads=heads,
        examples=found,
    )
