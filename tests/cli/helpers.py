"""Running the real ``emotion-clf`` command line: in this process, or as the console script.

``run_cli`` calls the console script's own entry point (:func:`emotion_clf.cli.main`) in the
test process, with the environment, ``sys.argv``, standard output and standard error a
subprocess would have, and answers what ``subprocess.run`` answers: the exit code and both
streams. An exception that escapes ``main`` is written to standard error as the interpreter
would print it, with exit code 1, so a test that says "no traceback" still sees one.

Each subprocess spent about 4 s importing the package and MLflow before the command ran (57
calls, the better part of four minutes of the default suite on a 2-core machine). The tests
that are about the installed console script itself, or that start a server, pass
``process=True`` and run it for real.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

from emotion_clf.config import get_settings

CLI = str(Path(sys.executable).parent / "emotion-clf")
_FORMAT = "%(levelname)s %(name)s: %(message)s"  # as ``main`` configures logging


def run_cli(
    *args: str,
    home: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "EMOTION_CLF_HOME": str(home), "EMOTION_CLF_REFRESH_ENDPOINTS": ""}
    full_env.update(env or {})
    if process:
        return subprocess.run(
            [CLI, *args], capture_output=True, text=True, env=full_env, timeout=timeout, check=False
        )
    return _in_process(list(args), full_env)


def _in_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from emotion_clf.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with _environment(env), _argv(["emotion-clf", *args]), _stderr_log(err), _width(env):
        get_settings.cache_clear()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    main()
                except SystemExit as exc:
                    code = _exit_code(exc, err)
                except Exception:  # the interpreter prints it and exits with 1
                    err.write(traceback.format_exc())
                    code = 1
        finally:
            get_settings.cache_clear()
    return subprocess.CompletedProcess(
        ["emotion-clf", *args], code, stdout=out.getvalue(), stderr=err.getvalue()
    )


@contextlib.contextmanager
def _width(env: dict[str, str]) -> Iterator[None]:
    """The consoles' width as a process started with ``env`` would have it: Rich reads
    ``COLUMNS`` once, when the CLI's module-level consoles are made."""
    from emotion_clf.cli.output import console, err_console

    before = (console._width, err_console._width)  # None: measured from the terminal
    columns = env.get("COLUMNS")
    if columns and columns.isdigit():
        console.width = err_console.width = int(columns)
    try:
        yield
    finally:
        console._width, err_console._width = before


def _exit_code(exc: SystemExit, err: io.StringIO) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    err.write(f"{exc.code}\n")  # sys.exit("message") prints the message
    return 1


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


@contextlib.contextmanager
def _stderr_log(err: io.StringIO) -> Iterator[None]:
    """Log records reach standard error as ``main``'s ``basicConfig`` sends them there (in a
    test process the root logger already has handlers, so that call does nothing)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(logging.WARNING)
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.WARNING))  # NOTSET (0) already lets WARNING through
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
