"""The CLI keeps the README's promises: every ``--help`` shows its help texts as written (no
bracketed word eaten by markup, no value type beside a flag), ``--version``, and an input
file that cannot be read is an error before any model loads."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer import _click  # Typer 0.29 carries its own click
from typer.testing import CliRunner

from emotion_clf.cli import app
from emotion_clf.version import __version__
from tests.cli.helpers import run_cli

BRACKETED = re.compile(r"\[[^\]\s][^\]]*\]")


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under ``group`` (the lazy groups built on the way), with its path."""
    ctx = _click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield (*path, name), command
        if hasattr(command, "list_commands"):
            yield from commands(command, (*path, name))


def flat(text: str) -> str:
    """The help as words: box drawing and line wrapping removed."""
    return re.sub(r"\s+", " ", re.sub(r"[│╭╮╰╯─]", " ", text))


def test_every_help_text_is_shown_as_written() -> None:
    root = typer.main.get_command(app)
    runner = CliRunner()
    checked, eaten = 0, []
    for path, command in commands(root):
        written = [getattr(p, "help", None) or "" for p in command.params]
        written.append(command.help or "")
        wanted = {b for text in written for b in BRACKETED.findall(text)}
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, (path, shown.output)
        page = flat(shown.output)
        eaten += [(" ".join(path), b) for b in sorted(wanted) if flat(b) not in page]
        assert "<bool>" not in page, f"{' '.join(path)}: a flag shows a value type"
        checked += len(wanted)
    assert not eaten, eaten
    assert checked >= 8  # [texts], [CSV, JSONL], [--api], [dry run], ... were all looked for


def test_version() -> None:
    shown = CliRunner().invoke(app, ["--version"])
    assert shown.exit_code == 0 and shown.output.strip() == f"emotion-clf {__version__}"


def test_a_file_that_cannot_be_read_stops_predict_before_any_model_loads(tmp_path: Path) -> None:
    """The model named here does not exist: an error about it would mean it was looked up
    first. Each case exits non-zero with the hint as the error, and writes nothing."""
    no_column = tmp_path / "talk.csv"
    no_column.write_text("body\nhello\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    cases = {
        str(tmp_path / "missing.csv"): "missing.csv: no such file",
        str(
            no_column
        ): "no text column 'text'; choose one with --text-column (allowed values: body)",
        str(empty): "the file is empty (no header row)",
        str(tmp_path / "x.docx"): "no such file",
    }
    for source, hint in cases.items():
        done = run_cli(
            "predict", "--model", str(tmp_path / "no-model"), "--input-file", source,
            home=tmp_path / "home",
        )  # fmt: skip
        assert done.returncode != 0 and hint in done.stderr, (source, done.stderr)
        assert "no-model" not in done.stderr, done.stderr
    assert not (tmp_path / "home" / "monitoring").exists()  # no empty output was written


def test_library_noise_is_kept_out_below_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging
    import warnings

    from emotion_clf.cli.output import LogLevel, set_log_level

    monkeypatch.delenv("TRANSFORMERS_VERBOSITY", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # whatever pytest's own filters are
        set_log_level(LogLevel.warning)
        assert logging.getLogger("transformers").getEffectiveLevel() == logging.ERROR
        assert os.environ["TRANSFORMERS_VERBOSITY"] == "error"  # read when transformers loads
        with warnings.catch_warnings(record=True) as seen:  # keeps the filters set above
            warnings.warn_explicit(
                "precision is ill-defined",
                UserWarning,
                "x.py",
                1,
                "sklearn.metrics._classification",
            )
            warnings.warn_explicit("ours", UserWarning, "y.py", 1, "emotion_clf.reports")
        assert [str(w.message) for w in seen] == ["ours"]
        set_log_level(LogLevel.debug)
        assert logging.getLogger("transformers").getEffectiveLevel() == logging.DEBUG
    set_log_level(LogLevel.warning)


def test_an_error_message_is_printed_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    """Bracketed words in an error (an extra's name, allowed values) are text, not markup."""
    from emotion_clf.cli.output import error

    error("install '.[teacher]' first; allowed: [minilm, tfidf]")
    assert "install '.[teacher]' first; allowed: [minilm, tfidf]" in capsys.readouterr().err
