"""The ``emotion-clf`` command line: thin commands that parse, call the package, print.

Errors the package raises on purpose (:class:`~emotion_clf.errors.EmotionClfError`) are shown
as one clear message and an exit code, without a traceback; what a library said behind one
(SQL, its help links) only with ``emotion-clf --log-level debug``.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from emotion_clf.cli import health as health_commands
from emotion_clf.cli import lifecycle as lifecycle_commands
from emotion_clf.cli import models as model_commands
from emotion_clf.cli import performance as performance_commands
from emotion_clf.cli import predict as predict_commands
from emotion_clf.cli import serve as serve_commands
from emotion_clf.cli import settings as settings_commands
from emotion_clf.cli import shadow as shadow_commands
from emotion_clf.cli.lazy import lazy_groups
from emotion_clf.cli.output import (
    MARKUP,
    LogLevel,
    LogLevelOption,
    error,
    set_log_level,
    show_error,
)
from emotion_clf.errors import EmotionClfError

app = typer.Typer(
    name="emotion-clf",
    help="Train, evaluate, register, promote and serve the text emotion classifier.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=MARKUP,
    add_completion=False,
    # the command groups, imported when used (emotion_clf.cli.lazy): `emotion-clf predict`
    # does not import the Azure SDK wrappers, deployment specs or report builders
    cls=lazy_groups(
        registry="emotion_clf.cli.registry:app",
        data="emotion_clf.cli.data:app",
        report="emotion_clf.cli.report:app",
        drift="emotion_clf.cli.drift:app",
        feedback="emotion_clf.cli.feedback:app",
        azure="emotion_clf.cli.azure:app",
        backbone="emotion_clf.cli.backbone:app",
    ),
)
model_commands.register(app)
app.command()(predict_commands.predict)
lifecycle_commands.register(app)
serve_commands.register(app)
shadow_commands.register(app)
health_commands.register(app)
performance_commands.register(app)
settings_commands.register(app)


def _print_version(value: bool) -> None:
    if value:
        from emotion_clf.version import __version__

        print(f"emotion-clf {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    log_level: LogLevelOption = LogLevel.warning,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    set_log_level(log_level)


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        app()
    except EmotionClfError as exc:
        show_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(130)


__all__ = ["app", "main"]
