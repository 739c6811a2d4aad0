"""``emotion-clf azure ...``: one sub-group per Azure capability, each added by its module's
``register`` function (Azure ML: ``pipeline``, ``endpoint``, ``batch``)."""

from __future__ import annotations

import logging

import typer

from emotion_clf.cli import azure_ml

app = typer.Typer(
    help="Azure: training pipelines, online and batch endpoints (the [azure] extra).",
    no_args_is_help=True,
)
azure_ml.register(app)

# azure-ai-ml announces each experimental schema class it loads, on every command
logging.getLogger("azure.ai.ml._utils._experimental").setLevel(logging.ERROR)

__all__ = ["app"]
