"""A child process of a server worker, spoken to over a pipe: started with ``spawn`` (no state
of the worker is inherited), stopped with a ``("stop",)`` message, then killed if it does not
go. The shadow candidate (:mod:`.shadow_process`) and the model process (:mod:`.model_process`)
run in one each."""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

STOP_TIMEOUT_S = 5.0


def start_child(
    target: Callable[[Connection], None], *, name: str, daemon: bool = False
) -> tuple[BaseProcess, Connection]:
    """Start ``target(pipe end)`` in a new process; the worker's end of the pipe."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=target, args=(theirs,), name=name, daemon=daemon)
    process.start()
    theirs.close()
    return process, ours


def stop_child(process: BaseProcess | None, conn: Connection | None) -> None:
    """Ask the child to stop, close the pipe, and kill it if it is still there after a while."""
    if conn is not None:
        with contextlib.suppress(OSError, ValueError):
            conn.send(("stop",))
        conn.close()
    if process is not None:
        process.join(STOP_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join(STOP_TIMEOUT_S)


def answer_messages(
    conn: Connection,
    handle: Callable[[tuple[Any, ...]], Any],
    *,
    error: Callable[[Exception], Any],
) -> None:
    """The child's loop: each message is answered ``("ok", handle(message))``, or ``("error",
    error(exc))`` when ``handle`` raises (the child goes on), until ``("stop",)`` comes or the
    worker's end of the pipe closes."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the worker is gone
            return
        if message[0] == "stop":
            return
        try:
            answer = handle(message)
        except Exception as exc:
            conn.send(("error", error(exc)))
        else:
            conn.send(("ok", answer))
