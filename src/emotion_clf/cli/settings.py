"""``emotion-clf settings``: every setting with its value now, or the reference page."""

from __future__ import annotations

from typing import Annotated

import typer

from emotion_clf.cli.output import console
from emotion_clf.config import SECTIONS, get_settings, settings_reference


def settings(
    markdown: Annotated[
        bool,
        typer.Option(
            "--markdown", help="Print the reference page (every variable, type, default)."
        ),
    ] = False,
) -> None:
    """The settings in effect (secrets hidden), section by section."""
    if markdown:
        print(settings_reference(), end="")
        return
    current = get_settings()
    for key, value in current.model_dump(exclude=set(SECTIONS)).items():
        console.print(f"{key} = {value}", markup=False, highlight=False)
    for key in SECTIONS:
        console.print(f"\n[bold]{key}[/bold]")
        for name, value in getattr(current, key).model_dump().items():
            console.print(f"  {name} = {value}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(settings)
