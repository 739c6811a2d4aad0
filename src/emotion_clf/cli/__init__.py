"""The ``emotion-clf`` command line: thin commands that parse, call the package, print.

Errors the package raises on purpose (:class:`~emotion_clf.errors.EmotionClfError`) are shown
as one clear message and an exit code, without a traceback.
"""

from __future__ import annotations

import logging
import sys

import typer

from emotion_clf.cli import azure as azure_commands
from emotion_clf.cli import data as data_commands
from emotion_clf.cli import drift as drift_commands
from emotion_clf.cli import feedback as feedback_commands
from emotion_clf.cli import health as health_commands
from emotion_clf.cli import lifecycle as lifecycle_commands
from emotion_clf.cli import models as model_commands
from emotion_clf.cli import performance as performance_commands
from emotion_clf.cli import predict as predict_commands
from emotion_clf.cli import registry as registry_commands
from emotion_clf.cli import report as report_commands
from emotion_clf.cli import serve as serve_commands
from emotion_clf.cli import settings as settings_commands
from emotion_clf.cli import shadow as shadow_commands
from emotion_clf.cli.output import error
from emotion_clf.errors import EmotionClfError

app = typer.Typer(
    name="emotion-clf",
    help="Train, evaluate, register, promote and serve the text emotion classifier.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)
model_commands.register(app)
app.command()(predict_commands.predict)
lifecycle_commands.register(app)
serve_commands.register(app)
shadow_commands.register(app)
health_commands.register(app)
performance_commands.register(app)
settings_commands.register(app)
app.add_typer(registry_commands.app, name="registry")
app.add_typer(data_commands.app, name="data")
app.add_typer(report_commands.app, name="report")
app.add_typer(drift_commands.app, name="drift")
app.add_typer(feedback_commands.app, name="feedback")
app.add_typer(azure_commands.app, name="azure")


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        app()
    except EmotionClfError as exc:
        error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)


__all__ = ["app", "main"]
