"""The workers of one server (``emotion-clf serve --workers N``), refreshed together.

A ``POST /refresh-model`` reaches one worker of the server. That worker refreshes itself,
then asks every other worker to refresh and waits for their answers, so that its answer means
the whole server serves the new version, or lists the workers that do not.

Each worker listens on a Unix socket in the server's run folder (``<run>/workers/<pid>.sock``;
``serve`` makes the folder, readable by its user only, and removes it at exit). The protocol
is one JSON line each way: ``{"op": "refresh"}`` answered with the worker's state after its
refresh, or ``{"op": "state"}`` answered with what it serves now. With one worker there is no
run folder and none of this runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from emotion_clf.contracts import RefreshAnswer, WorkerAnswer
from emotion_clf.serving.runtime.errors import RefreshError
from emotion_clf.serving.runtime.holder import ModelHolder
from emotion_clf.serving.runtime.loading import RefreshOutcome

logger = logging.getLogger(__name__)

SOCKETS = "workers"
MAX_LINE = 64 * 1024
JOIN_POLL_S = 0.1
JOIN_GRACE_S = 60.0  # a worker still loading its first model joins within this


def socket_path(run_dir: Path, pid: int) -> Path:
    return run_dir / SOCKETS / f"{pid}.sock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkerGroup:
    """This worker's place in the server: its socket, and the refresh of the others.

    ``refresh`` refreshes this worker and returns its :class:`WorkerAnswer`; ``state`` says
    what it serves now.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        expected: int,
        timeout_s: float,
        refresh: Callable[[], Awaitable[WorkerAnswer]],
        state: Callable[[], WorkerAnswer],
    ) -> None:
        self.run_dir = Path(run_dir)
        self.expected = expected
        self.timeout_s = timeout_s
        self.pid = os.getpid()
        self._refresh = refresh
        self._state = state
        self._server: asyncio.AbstractServer | None = None

    @property
    def path(self) -> Path:
        return socket_path(self.run_dir, self.pid)

    async def start(self) -> None:
        self.path.parent.mkdir(mode=0o700, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a previous process with this pid
        self._server = await asyncio.start_unix_server(
            self._handle, path=str(self.path), limit=MAX_LINE
        )
        os.chmod(self.path, 0o600)
        logger.info("worker %d joined the server's workers (%s)", self.pid, self.path.parent)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):  # closing is best effort at shut-down
                await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def peers(self) -> list[int]:
        """Pids of the other workers that have a socket (stale ones of dead pids removed)."""
        found = []
        for path in sorted((self.run_dir / SOCKETS).glob("*.sock")):
            if not path.stem.isdigit() or int(path.stem) == self.pid:
                continue
            pid = int(path.stem)
            if not _alive(pid):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            found.append(pid)
        return found

    async def wait_for_peers(self, grace_s: float) -> list[int]:
        """The other workers' pids, once all the server should have have joined, or when
        ``grace_s`` has passed (a worker joins after it loads its first model, so a refresh
        right after start-up finds some still loading)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        pids = self.peers()
        while len(pids) < self.expected - 1 and loop.time() < deadline:
            await asyncio.sleep(JOIN_POLL_S)
            pids = self.peers()
        return pids

    async def refresh_peers(self) -> list[WorkerAnswer]:
        """Ask every other worker to refresh; their answers, with one for each worker the
        server should have and that has not joined within the grace (starting, or gone)."""
        grace_s = min(self.timeout_s, JOIN_GRACE_S)
        pids = await self.wait_for_peers(grace_s)
        answers = list(await asyncio.gather(*(self.ask(pid, "refresh") for pid in pids)))
        missing = self.expected - 1 - len(pids)
        answers += [
            WorkerAnswer(
                pid=None,
                version=None,
                ok=False,
                detail=f"worker not registered after {grace_s:g} s",
            )
        ] * max(0, missing)
        return answers

    async def ask(self, pid: int, op: str) -> WorkerAnswer:
        """One request to one worker; a worker that does not answer in time is reported."""
        try:
            return await asyncio.wait_for(self._ask(pid, op), self.timeout_s)
        except TimeoutError:
            return WorkerAnswer(
                pid=pid, version=None, ok=False, detail=f"no answer in {self.timeout_s:g} s"
            )
        except (OSError, ValueError) as exc:
            logger.warning("worker %d did not answer %r: %s", pid, op, exc)
            return WorkerAnswer(pid=pid, version=None, ok=False, detail="no answer")

    async def _ask(self, pid: int, op: str) -> WorkerAnswer:
        reader, writer = await asyncio.open_unix_connection(
            str(socket_path(self.run_dir, pid)), limit=MAX_LINE
        )
        try:
            writer.write(json.dumps({"op": op}).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return WorkerAnswer.model_validate_json(line)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request: Any = json.loads(await reader.readline() or b"{}")
            op = request.get("op") if isinstance(request, dict) else None
            if op == "refresh":
                answer = await self._refresh()
            elif op == "state":
                answer = self._state()
            else:
                answer = WorkerAnswer(pid=self.pid, version=None, ok=False, detail="unknown op")
            writer.write(answer.model_dump_json().encode() + b"\n")
            await writer.drain()
        except (OSError, ValueError) as exc:  # the asking worker went away, or sent garbage
            logger.warning("a request from another worker failed: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class WorkersBehindError(RefreshError):
    """This worker swapped, but others of the server do not serve its version."""

    def __init__(self, outcome: RefreshOutcome, workers: list[WorkerAnswer]) -> None:
        behind = [w for w in workers if not w.ok or w.version != outcome.current_version]
        names = ", ".join(
            f"{'pid ' + str(w.pid) if w.pid else 'one'} ({w.detail or 'v' + str(w.version)})"
            for w in behind
        )
        super().__init__(
            f"{len(behind)} of {len(workers)} workers do not serve v{outcome.current_version}: "
            f"{names}; retry the refresh (their poll loops also converge)",
            http_status=503,
            previous_version=outcome.previous_version,
            current_version=outcome.current_version,
            duration_s=outcome.duration_s,
        )
        self.workers = workers

    def details(self) -> dict[str, Any]:
        return {
            **super().details(),
            "workers": [w.model_dump() for w in self.workers],
        }


def worker_state(holder: ModelHolder) -> WorkerAnswer:
    return WorkerAnswer(pid=os.getpid(), version=holder.served_version, ok=True)


def worker_refresher(holder: ModelHolder) -> Callable[[], Awaitable[WorkerAnswer]]:
    """What a worker does when another asks it to refresh."""

    async def refresh() -> WorkerAnswer:
        try:
            outcome = await holder.refresh(trigger="peer")
        except RefreshError as exc:
            return WorkerAnswer(
                pid=os.getpid(), version=holder.served_version, ok=False, detail=exc.public
            )
        return WorkerAnswer(
            pid=os.getpid(),
            version=outcome.current_version,
            swapped=outcome.swapped,
            ok=True,
            detail=outcome.message,
        )

    return refresh


async def refresh_server(holder: ModelHolder, group: WorkerGroup | None) -> RefreshAnswer:
    """``POST /refresh-model``: refresh this worker, then every other one of the server.

    Raises :class:`RefreshError` when this worker's refresh fails (the others are not asked:
    they would load the same thing), and :class:`WorkersBehindError` when another worker does
    not serve the new version afterwards.
    """
    outcome = await holder.refresh(trigger="api")
    if group is None:
        return outcome.answer()
    me = WorkerAnswer(
        pid=os.getpid(),
        version=outcome.current_version,
        swapped=outcome.swapped,
        ok=True,
        detail=outcome.message,
    )
    workers = [me, *await group.refresh_peers()]
    if any(not w.ok or w.version != outcome.current_version for w in workers):
        raise WorkersBehindError(outcome, workers)
    return outcome.answer().model_copy(update={"workers": workers})
