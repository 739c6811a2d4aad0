"""``emotion-clf azure ...``: Azure's control plane, one sub-group per capability.

Each capability's module has a ``register(app)`` that adds its sub-groups here: containers
(``aci``, ``aca``) and Azure ML (``pipeline``, ``endpoint``, ``batch``).
"""

from __future__ import annotations

import logging

import typer

from emotion_clf.cli import azure_containers, azure_ml
from emotion_clf.cli.output import MARKUP

app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Deploy to Azure (needs the azure extra and EMOTION_CLF_AZURE_* settings).",
    no_args_is_help=True,
)
azure_containers.register(app)
azure_ml.register(app)

# azure-ai-ml announces each experimental schema class it loads, on every command
logging.getLogger("azure.ai.ml._utils._experimental").setLevel(logging.ERROR)
# azure-identity logs a failed DefaultAzureCredential chain as a 15-line warning, then raises;
# the CLI already turns that error into one line that says to run `az login`
logging.getLogger("azure.identity").setLevel(logging.ERROR)

__all__ = ["app"]
