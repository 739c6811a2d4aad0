"""One managed online endpoint as a rollout sees it (:class:`~.rollout.TrafficTarget`).

:class:`EndpointTarget` sets the live split and the mirror through the endpoint entity, and
checks a colour: the smoke test through the deployment-targeting header
(:func:`scoring_checker`, with the endpoint's key or token), then, where a hold gives the step
real traffic, the colour's production figures (:mod:`.metrics`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from emotion_clf.azure.ml.smoke import check_scoring
from emotion_clf.azure.rollout import COLOURS
from emotion_clf.azure.sdk import credential

logger = logging.getLogger(__name__)

Checker = Callable[[str, str], tuple[bool, str]]  # (colour, version) -> (passed, detail)


def serving_colour(traffic: Mapping[str, int]) -> str | None:
    """The colour with the most live traffic, or None when nothing serves yet."""
    live = {c: int(w) for c, w in (traffic or {}).items() if c in COLOURS and int(w) > 0}
    return max(live, key=lambda c: live[c]) if live else None


class EndpointTarget:
    """One endpoint as :func:`roll_out` sees it: traffic weights and a per-colour check (the
    smoke test, then, where set, the colour's production figures over the step)."""

    def __init__(self, ml_client: Any, endpoint: str, *, check: Checker, versions: dict[str, str]):
        self.ml = ml_client
        self.endpoint = endpoint
        self._check = check
        self.versions = versions  # colour -> the version it should serve
        self.weights: dict[str, int] = {}  # the live split, as last set
        self.mirrored: dict[str, int] = {}
        self.production: Callable[[str], tuple[bool, str]] | None = None

    def share(self, colour: str) -> int:
        """The percent of live requests (served or mirrored) ``colour`` gets now."""
        return self.weights.get(colour, 0) + self.mirrored.get(colour, 0)

    def set_traffic(self, weights: Mapping[str, int]) -> None:
        entity = self.ml.online_endpoints.get(name=self.endpoint)
        entity.traffic = {c: int(w) for c, w in weights.items()}
        entity.mirror_traffic = {}  # a deployment cannot take live and mirrored traffic at once
        self.ml.online_endpoints.begin_create_or_update(entity).result()
        self.weights, self.mirrored = dict(entity.traffic), {}
        logger.info("endpoint %s traffic: %s", self.endpoint, entity.traffic)

    def mirror(self, colour: str, percent: int) -> None:
        entity = self.ml.online_endpoints.get(name=self.endpoint)
        entity.mirror_traffic = {colour: percent} if percent else {}
        self.ml.online_endpoints.begin_create_or_update(entity).result()
        self.mirrored = dict(entity.mirror_traffic)

    def check(self, colour: str) -> tuple[bool, str]:
        passed, detail = self._check(colour, self.versions.get(colour, ""))
        if not passed or self.production is None:
            return passed, detail
        judged, figures = self.production(colour)
        return judged, f"{detail}; {figures}"


def endpoint_credential(ml_client: Any, endpoint: Any) -> str | None:
    """What a caller sends as ``Authorization: Bearer``: the key or Azure ML token
    (``get_keys``), or an Entra token for Azure ML's scope (``aad_token``)."""
    if getattr(endpoint, "auth_mode", "key") == "aad_token":
        return str(credential().get_token("https://ml.azure.com/.default").token)
    keys = ml_client.online_endpoints.get_keys(name=endpoint.name)
    return getattr(keys, "primary_key", None) or getattr(keys, "access_token", None)


def scoring_checker(ml_client: Any, endpoint: str) -> Checker:
    """The live check: :func:`check_scoring` on the endpoint's scoring URI, with its key
    or token."""

    def check(colour: str, version: str) -> tuple[bool, str]:
        entity = ml_client.online_endpoints.get(name=endpoint)
        report = check_scoring(
            entity.scoring_uri,
            key=endpoint_credential(ml_client, entity),
            deployment=colour,
            version=version or None,
        )
        failed = ", ".join(f"{r.name}: {r.detail}" for r in report.failures)
        return report.passed, failed or f"{len(report.results)} scenarios passed"

    return check
