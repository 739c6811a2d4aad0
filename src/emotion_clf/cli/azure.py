"""``emotion-clf azure ...``: Azure's control plane, one sub-group per capability.

Each capability's module has a ``register(app)`` that adds its sub-groups here.
"""

from __future__ import annotations

import typer

from emotion_clf.cli import azure_containers

app = typer.Typer(
    help="Deploy to Azure (needs the azure extra and EMOTION_CLF_AZURE_* settings).",
    no_args_is_help=True,
)
azure_containers.register(app)

__all__ = ["app"]
