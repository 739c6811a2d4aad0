"""Containers on Azure: the container every service runs (:mod:`.spec`: image, resources,
environment, secrets, and the check of a deployed server), Container Instances
(:mod:`.aci`) and Container Apps with blue and green revisions (:mod:`.aca` plans,
:mod:`.aca_live` acts on a live app)."""

from __future__ import annotations

from emotion_clf.azure.containers.spec import (
    ContainerSpec,
    DeployCheck,
    check_deployed,
    container_spec,
)

__all__ = ["ContainerSpec", "DeployCheck", "check_deployed", "container_spec"]
