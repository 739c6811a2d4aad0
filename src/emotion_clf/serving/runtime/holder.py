"""The hot-swappable model holder.

The model being served is an immutable :class:`LoadedModel` record. A request takes the record
once (a reference read) and uses it to the end, so a swap never changes a model under a
request in flight. A refresh resolves the designation in the registry, fetches the bundle
(cache first), verifies it (checksums, label schema, a smoke prediction), warms it up and only
then replaces the reference. Loads run in a worker thread, so the event loop keeps serving.

Refreshes are serialised by one lock and coalesce: a call that arrives while a load is running
waits for the next load, and every call waiting at that point shares its answer. If anything
fails, the previous model keeps serving and the caller gets the reason.

Registry faults never stop a model that was verified before: with no model yet, when the
registry cannot be read (unreachable, its store missing, corrupt or of another schema) or its
version does not verify, the holder serves the last copy this machine fetched and verified,
and says ``offline`` with the reason.

A background task keeps the server converging: with no model, or one served from the cache,
it tries again every ``model_retry_s``; with one, it compares the designation every
``poll_s`` (0: never) and refreshes when it moved. The task survives every error: it
logs it, waits twice as long after each failure in a row (up to ``poll_backoff_max_s``) and
goes back to its interval once the registry answers again.

The holder does no registry work itself: it is given a
:class:`~emotion_clf.registry.ModelSource` (which version is designated, fetch it, the cached
copy) and loads what that returns with :func:`~.loading.load_verified`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace

from emotion_clf.config import ServingSettings
from emotion_clf.data.schema import SCHEMA
from emotion_clf.errors import EmotionClfError, RegistryStoreError, RegistryUnavailableError
from emotion_clf.registry.fetch import ResolvedModel
from emotion_clf.registry.source import ModelSource
from emotion_clf.serving.runtime.errors import RefreshError, public_text
from emotion_clf.serving.runtime.loading import (
    LoadedModel,
    RefreshOutcome,
    load_verified,
    offline_text,
    release_freed_memory,
)
from emotion_clf.serving.runtime.metrics import ServingMetrics
from emotion_clf.serving.runtime.model_process import load_in_process

logger = logging.getLogger(__name__)

EXPLICIT = ("api", "peer")  # refreshes someone asked for: they must reach the registry


def unavailable_reason(exc: RegistryUnavailableError) -> str:
    """Why the registry was not used, for ``offline_reason`` (public text)."""
    return exc.message if isinstance(exc, RegistryStoreError) else "the registry is unreachable"


class ModelHolder:
    def __init__(
        self, *, settings: ServingSettings, metrics: ServingMetrics, source: ModelSource
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.source = source
        self.last_error: str | None = None  # public text: /ready and 503 answers show it
        self._current: LoadedModel | None = None
        self._lock: asyncio.Lock | None = None
        self._loads_started = 0
        self._last_result: RefreshOutcome | RefreshError | None = None
        self._task: asyncio.Task[None] | None = None
        self._release: asyncio.Task[None] | None = None  # freeing a replaced model's memory
        self._loading_version: str | None = None
        self._failures: dict[str, tuple[int, float]] = {}  # version -> (count, retry at)
        self._check_ok = True  # whether the last check read the registry and is up to date
        self._warmup_sizes = (
            1,
            min(8, settings.microbatch_max_size),
            settings.microbatch_max_size,
        )

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    @property
    def served_version(self) -> str | None:
        current = self._current
        return current.version if current is not None else None

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Try the first load; serve (not ready) after ``startup_wait_s`` regardless."""
        self._lock = asyncio.Lock()
        first = asyncio.create_task(self._first_load(), name="model-first-load")
        done, _ = await asyncio.wait({first}, timeout=self.settings.startup_wait_s)
        if not done:
            logger.warning(
                "the first model load is taking over %.0f s; serving without a model meanwhile",
                self.settings.startup_wait_s,
            )
        self._task = asyncio.create_task(self._supervise(first), name="model-supervisor")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def stop_model(self) -> None:
        """At shutdown, after the last request: stop the model's process, where it has one."""
        model = self._current
        if model is not None:
            model.predictor.close()

    async def _first_load(self) -> None:
        try:
            await self.refresh(trigger="startup")
        except RefreshError as exc:
            if not await self.serve_cached(exc):
                logger.warning(
                    "starting without a model (%s); retrying every %.0f s",
                    exc,
                    self.settings.model_retry_s,
                )

    async def _supervise(self, first: asyncio.Task[None]) -> None:
        with contextlib.suppress(Exception):  # _first_load reports its own failures
            await first
        failures = 0
        while True:
            delay = self._next_delay(failures)
            if delay is None:
                return  # a model is loaded, online, and polling is off: /refresh-model swaps
            await asyncio.sleep(delay)
            trigger = "retry" if self._current is None else "poll"
            try:
                await self.check(trigger=trigger)
                healthy = self._check_ok
            except Exception:  # the loop must outlive any error, expected or not
                logger.exception("the model %s check failed; the loop goes on", trigger)
                healthy = False
            failures = 0 if healthy else failures + 1

    def _next_delay(self, failures: int) -> float | None:
        """Seconds to the next check: the interval, doubled after each failure in a row."""
        current = self._current
        if current is None or current.offline:
            base = self.settings.model_retry_s
        elif self.settings.poll_s > 0:
            base = self.settings.poll_s
        else:
            return None
        ceiling = max(base, self.settings.poll_backoff_max_s)
        return min(ceiling, base * 2 ** min(failures, 30))

    # -- polling ----------------------------------------------------------------------------
    async def check(self, *, trigger: str) -> RefreshOutcome | None:
        """Compare the designation with what is served; refresh if it moved."""
        current = self._current
        self._check_ok = False
        try:
            target = await asyncio.to_thread(self.source.designated_version)
        except RegistryUnavailableError as exc:
            if current is None:
                return await self._refresh_quietly(trigger)  # the cache may still have one
            if not current.offline:
                logger.warning("%s; still serving %s from cache", exc, current.label)
                self._set_current(
                    replace(current, offline=True, offline_reason=unavailable_reason(exc))
                )
            return None
        except EmotionClfError as exc:
            logger.warning("could not read the designations: %s", exc)
            self._note_failure(f"could not read the designations: {public_text(exc)}")
            return None
        if target is None:
            if current is None:
                self._note_failure(
                    f"no version is designated {self.source.designation!r} yet "
                    "(promote a version first)"
                )
            return None
        if current is not None and target == current.version and not current.offline:
            self._check_ok = True
            return None
        if self._backing_off(target):
            return None
        outcome = await self._refresh_quietly(trigger)
        self._check_ok = outcome is not None and not outcome.offline
        return outcome

    async def _refresh_quietly(self, trigger: str) -> RefreshOutcome | None:
        try:
            return await self.refresh(trigger=trigger)
        except RefreshError as exc:  # refresh logged it and recorded it for /ready
            logger.debug("%s refresh did not swap: %s", trigger, exc)
            if self._current is None:
                await self.serve_cached(exc)
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

    # -- the cached copy --------------------------------------------------------------------
    async def serve_cached(self, failure: RefreshError) -> bool:
        """With no model, serve the last verified cached copy of the designation (offline,
        saying why); True if a model is served now."""
        if self._current is not None:
            return True
        resolved = await asyncio.to_thread(self.source.cached)
        if resolved is None:
            return False
        why = f"the registry's {self.source.designation} cannot be loaded ({failure.public})"
        # the registry answered (else fetch would have fallen back to the cache itself), but
        # its version does not load: that is the reason, not the registry's reachability
        resolved = replace(resolved, offline_reason=why)
        started = time.perf_counter()
        try:
            loaded = await asyncio.to_thread(self._verified, resolved, None, started)
        except Exception as exc:  # a damaged cache: nothing to serve, the loop keeps trying
            logger.warning("the cached copy %s does not load either: %s", resolved.label, exc)
            return False
        assert self._lock is not None
        async with self._lock:
            if self._current is None:
                self._apply(loaded, None, "cache", started)
        return True

    # -- refresh ----------------------------------------------------------------------------
    async def refresh(self, *, trigger: str) -> RefreshOutcome:
        """Load the designated version beside the served model and swap it in if it differs.

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
        if outcome.swapped:
            replaced = previous is not None
            del previous  # requests still on it keep their own references
            self._release = asyncio.create_task(
                asyncio.to_thread(release_freed_memory, replaced=replaced)
            )
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
        if resolved.offline and previous is not None and trigger in EXPLICIT:
            raise RegistryUnavailableError(
                "the registry cannot be reached, so the baseline cannot be checked",
                detail=resolved.offline_reason,
            )
        if (
            previous is not None
            and previous.version == resolved.version
            and previous.digest == resolved.digest
        ):
            return replace(
                previous, offline=resolved.offline, offline_reason=resolved.offline_reason
            )
        return self._verified(resolved, previous, started)

    def _verified(
        self, resolved: ResolvedModel, previous: LoadedModel | None, started: float
    ) -> LoadedModel:
        load = load_in_process if self.settings.model_process else load_verified
        return load(
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
        if loaded.version is not None and not loaded.offline:
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
            message += f"; {offline_text(loaded.offline_reason)}"
            logger.warning("%s", message)
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
        reason = public_text(exc)
        if isinstance(exc, EmotionClfError):
            status = exc.http_status
            logger.warning("%s refresh failed, still serving %s: %s", trigger, served, exc)
        else:
            status = 503
            logger.error("%s refresh failed, still serving %s", trigger, served, exc_info=exc)
        version = self._loading_version
        if version is not None and not isinstance(exc, RegistryUnavailableError):
            # the version itself failed: the poll loop waits longer before each new attempt
            count = self._failures.get(version, (0, 0.0))[0] + 1
            delay = min(600.0, max(self.settings.poll_s, 1.0) * 2 ** (count - 1))
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

    def _set_current(self, loaded: LoadedModel) -> None:
        self._current = loaded  # one reference assignment: requests see old or new, whole
        self.metrics.set_model(
            version=loaded.version,
            family=loaded.family,
            digest=loaded.digest,
            offline=loaded.offline,
        )
