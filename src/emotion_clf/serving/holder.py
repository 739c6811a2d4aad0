"""The hot-swappable model holder.

The model being served is an immutable :class:`LoadedModel` record. A request takes the record
once (a reference read) and uses it to the end, so a swap never changes a model under a
request in flight. A refresh resolves ``baseline`` in the registry, fetches the bundle (cache
first), verifies it (checksums, label schema, a smoke prediction), warms it up and only then
replaces the reference. Loads run in a worker thread, so the event loop keeps serving.

Refreshes are serialised by one lock and coalesce: a call that arrives while a load is running
waits for the next load, and every call waiting at that point shares its answer. If anything
fails, the previous model keeps serving and the caller gets the reason.

A background task keeps the server converging: with no model it retries every
``model_retry_seconds``; with one, it compares the designation every ``poll_seconds``
(0: never) and refreshes when it moved.

The holder does no registry work itself: it is given a
:class:`~emotion_clf.registry.ModelSource` (which version is designated, fetch it) and loads
what that returns with :func:`~.loading.load_verified`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace

from emotion_clf.config import Settings
from emotion_clf.data.schema import SCHEMA
from emotion_clf.errors import EmotionClfError, RegistryUnavailableError
from emotion_clf.registry.source import ModelSource
from emotion_clf.serving.errors import RefreshError, redact
from emotion_clf.serving.loading import OFFLINE_REASON, LoadedModel, RefreshOutcome, load_verified
from emotion_clf.serving.metrics import ServingMetrics

logger = logging.getLogger(__name__)


class ModelHolder:
    def __init__(self, *, settings: Settings, metrics: ServingMetrics, source: ModelSource) -> None:
        self.settings = settings
        self.metrics = metrics
        self.source = source
        self.last_error: str | None = None
        self._current: LoadedModel | None = None
        self._lock: asyncio.Lock | None = None
        self._loads_started = 0
        self._last_result: RefreshOutcome | RefreshError | None = None
        self._task: asyncio.Task[None] | None = None
        self._loading_version: str | None = None
        self._failures: dict[str, tuple[int, float]] = {}  # version -> (count, retry at)
        self._warmup_sizes = (1, min(8, settings.microbatch_max_size), settings.microbatch_max_size)

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    @property
    def served_version(self) -> str | None:
        current = self._current
        return current.version if current is not None else None

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Try the first load; serve (not ready) after ``startup_wait_seconds`` regardless."""
        self._lock = asyncio.Lock()
        first = asyncio.create_task(self._first_load(), name="model-first-load")
        done, _ = await asyncio.wait({first}, timeout=self.settings.startup_wait_seconds)
        if not done:
            logger.warning(
                "the first model load is taking over %.0f s; serving without a model meanwhile",
                self.settings.startup_wait_seconds,
            )
        self._task = asyncio.create_task(self._supervise(first), name="model-supervisor")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _first_load(self) -> None:
        try:
            await self.refresh(trigger="startup")
        except RefreshError as exc:
            logger.warning(
                "starting without a model (%s); retrying every %.0f s",
                exc,
                self.settings.model_retry_seconds,
            )

    async def _supervise(self, first: asyncio.Task[None]) -> None:
        await first
        while True:
            if self._current is None:
                await asyncio.sleep(self.settings.model_retry_seconds)
                await self.check(trigger="retry")
            elif self.settings.poll_seconds > 0:
                await asyncio.sleep(self.settings.poll_seconds)
                await self.check(trigger="poll")
            else:
                return  # a model is loaded and polling is off: only /refresh-model swaps now

    # -- polling ----------------------------------------------------------------------------
    async def check(self, *, trigger: str) -> RefreshOutcome | None:
        """Compare the designation with what is served; refresh if it moved."""
        current = self._current
        try:
            target = await asyncio.to_thread(self.source.designated_version)
        except RegistryUnavailableError as exc:
            if current is None:
                return await self._refresh_quietly(trigger)  # the cache may still have one
            if not current.offline:
                logger.warning("%s; still serving %s from cache", redact(str(exc)), current.label)
                self._set_current(replace(current, offline=True))
            return None
        except EmotionClfError as exc:
            self._note_failure(f"could not read the designations: {redact(str(exc))}")
            return None
        if target is None:
            if current is None:
                self._note_failure(
                    f"no version is designated {self.source.designation!r} yet "
                    "(promote a version first)"
                )
            return None
        if current is not None and target == current.version and not current.offline:
            return None
        if self._backing_off(target):
            return None
        return await self._refresh_quietly(trigger)

    async def _refresh_quietly(self, trigger: str) -> RefreshOutcome | None:
        try:
            return await self.refresh(trigger=trigger)
        except RefreshError as exc:  # refresh logged it and recorded it for /ready
            logger.debug("%s refresh did not swap: %s", trigger, exc)
            return None

    def _backing_off(self, version: str) -> bool:
        failed = self._failures.get(version)
        if failed is None or time.monotonic() >= failed[1]:
            return False
        logger.debug("not retrying v%s yet: it failed %d time(s)", version, failed[0])
        return True

    def _note_failure(self, message: str) -> None:
        if message != self.last_error:
            logger.warning("%s", message)
        self.last_error = message

    # -- refresh ----------------------------------------------------------------------------
    async def refresh(self, *, trigger: str) -> RefreshOutcome:
        """Load the current ``baseline`` beside the served model and swap it in if it differs.

        Raises :class:`RefreshError` (the served model unchanged) when anything fails.
        """
        if self._lock is None:
            raise RuntimeError("ModelHolder.start() was not called")
        arrival = self._loads_started
        started = time.perf_counter()
        async with self._lock:
            if self._loads_started > arrival:
                return self._shared_answer(trigger, started)
            self._loads_started += 1
            previous = self._current
            self._loading_version = None
            try:
                loaded = await asyncio.to_thread(self._load, previous, trigger)
            except Exception as exc:  # any failure leaves the served model in place
                failure = self._failed(exc, previous, trigger, started)
                self._last_result = failure
                raise failure from exc
            outcome = self._apply(loaded, previous, trigger, started)
            self._last_result = outcome
            return outcome

    def _shared_answer(self, trigger: str, started: float) -> RefreshOutcome:
        """The answer of a load that began after this call arrived (coalesced)."""
        last = self._last_result
        elapsed = time.perf_counter() - started
        self.metrics.refreshes.labels(trigger, "coalesced").inc()
        if isinstance(last, RefreshError):
            raise RefreshError(
                str(last),
                http_status=last.http_status,
                previous_version=last.previous_version,
                current_version=last.current_version,
                duration_s=elapsed,
            )
        assert last is not None
        return replace(last, trigger=trigger, coalesced=True, duration_s=elapsed)

    def _load(self, previous: LoadedModel | None, trigger: str) -> LoadedModel:
        """Blocking: fetch the designated version, then load, verify and warm it up."""
        started = time.perf_counter()
        try:  # name the target version in any failure below
            self._loading_version = self.source.designated_version()
        except RegistryUnavailableError as exc:
            logger.debug("designations unreadable (%s); fetch falls back to the cache", exc)
        resolved = self.source.fetch()
        self._loading_version = resolved.version
        if resolved.offline and previous is not None and trigger == "api":
            raise RegistryUnavailableError(
                "the registry cannot be reached, so the baseline cannot be checked"
            )
        if (
            previous is not None
            and previous.version == resolved.version
            and previous.digest == resolved.digest
        ):
            return replace(previous, offline=resolved.offline)
        return load_verified(
            resolved,
            expected_schema=SCHEMA if previous is None else previous.predictor.schema,
            warmup_sizes=self._warmup_sizes,
            started=started,
        )

    def _apply(
        self, loaded: LoadedModel, previous: LoadedModel | None, trigger: str, started: float
    ) -> RefreshOutcome:
        swapped = previous is None or loaded.predictor is not previous.predictor
        self._set_current(loaded)
        self.last_error = None
        if loaded.version is not None:
            self._failures.pop(loaded.version, None)
        elapsed = time.perf_counter() - started
        prev_version = previous.version if previous is not None else None
        if swapped:
            message = f"now serving {loaded.label}" + (
                f" (was v{prev_version})" if prev_version else ""
            )
            logger.info("%s refresh: %s, loaded in %.2f s", trigger, message, loaded.load_seconds)
            self.metrics.refresh_duration.observe(elapsed)
        else:
            message = f"{loaded.label} is already being served"
        if loaded.offline:
            message += f"; {OFFLINE_REASON}"
        self.metrics.refreshes.labels(trigger, "swapped" if swapped else "unchanged").inc()
        return RefreshOutcome(
            trigger=trigger,
            previous_version=prev_version,
            current_version=loaded.version,
            swapped=swapped,
            duration_s=elapsed,
            message=message,
            offline=loaded.offline,
        )

    def _failed(
        self, exc: Exception, previous: LoadedModel | None, trigger: str, started: float
    ) -> RefreshError:
        served = previous.label if previous is not None else "no model"
        if isinstance(exc, EmotionClfError):
            reason, status = self._public(str(exc)), exc.http_status
            logger.warning("%s refresh failed, still serving %s: %s", trigger, served, exc)
        else:
            reason, status = f"{type(exc).__name__}: {self._public(str(exc))[:300]}", 503
            logger.error("%s refresh failed, still serving %s", trigger, served, exc_info=exc)
        version = self._loading_version
        if version is not None and not isinstance(exc, RegistryUnavailableError):
            # the version itself failed: the poll loop waits longer before each new attempt
            count = self._failures.get(version, (0, 0.0))[0] + 1
            delay = min(600.0, max(self.settings.poll_seconds, 1.0) * 2 ** (count - 1))
            self._failures[version] = (count, time.monotonic() + delay)
        target = f"loading v{version}" if version else "refresh"
        message = f"{target} failed, still serving {served}: {reason}"
        if previous is None:
            self.last_error = message
        self.metrics.refreshes.labels(trigger, "failed").inc()
        version_now = previous.version if previous is not None else None
        return RefreshError(
            message,
            http_status=status,
            previous_version=version_now,
            current_version=version_now,
            duration_s=time.perf_counter() - started,
        )

    def _public(self, message: str) -> str:
        """A message fit for a client: no credentials, no server paths (the log has them)."""
        text = redact(message)
        for home in {str(self.settings.home.resolve()), str(self.settings.home)}:
            text = text.replace(home, "$EMOTION_CLF_HOME")
        return text

    def _set_current(self, loaded: LoadedModel) -> None:
        self._current = loaded  # one reference assignment: requests see old or new, whole
        self.metrics.set_model(
            version=loaded.version,
            family=loaded.family,
            digest=loaded.digest,
            offline=loaded.offline,
        )
