"""``serve``: run the API server with uvicorn."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from emotion_clf.cli.output import info, warn
from emotion_clf.config import get_settings
from emotion_clf.errors import ConfigError

APP = "emotion_clf.serving:app_from_env"
PROTOCOL = "emotion_clf.serving.http.protocol:TimedHttpToolsProtocol"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's and the package's loggers to stderr, one line each (every worker applies it)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
            for name in ("uvicorn", "emotion_clf")
        },
    }


WORKER_HEALTHCHECK_S = 60


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: EMOTION_CLF_SERVE_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: EMOTION_CLF_SERVE_PORT, 8000).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes, each with its own model and poll loop."),
    ] = None,
    log_level: Annotated[str, typer.Option(help=f"One of {', '.join(LOG_LEVELS)}.")] = "info",
) -> None:
    """Serve the registry's baseline model over HTTP (docs at /docs)."""
    import uvicorn

    settings = get_settings()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
    host = host or settings.serving.serve_host
    port = port if port is not None else settings.serving.serve_port
    workers = workers if workers is not None else settings.serving.serve_workers
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    settings.check_server_token()
    if settings.promotion.refresh_token is None and not settings.dev_mode:
        warn("POST /refresh-model is disabled: set EMOTION_CLF_REFRESH_TOKEN to enable it")
    info(f"serving on http://{host}:{port} with {workers} worker(s); API docs at /docs")
    with worker_run_dir(workers):
        uvicorn.run(
            APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=log_config(log_level),
            access_log=False,  # the app logs one structured line per request instead
            timeout_graceful_shutdown=30,
            # a spawned worker answers the supervisor's pings only once it has imported the
            # CLI (seconds on busy cores); uvicorn's 5 s default killed workers in a loop
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            # deadlines on each request's head and body (uvicorn has none)
            http=PROTOCOL,
            # X-Forwarded-For and -Proto believed only from the proxies named in the settings
            # (uvicorn's default trusts 127.0.0.1, so any local client could pose as another)
            proxy_headers=bool(settings.serving.trusted_proxies),
            forwarded_allow_ips=",".join(settings.serving.trusted_proxies) or None,
        )


@contextmanager
def worker_run_dir(workers: int) -> Iterator[Path | None]:
    """With several workers: a private run folder for their sockets and metrics, named in
    the environment the workers inherit (they read it as settings), removed at exit."""
    if workers == 1:
        yield None  # one worker: no coordination, metrics of the process itself
        return
    from emotion_clf.serving.runtime.metrics import METRICS_DIR
    from emotion_clf.serving.runtime.workers import SOCKETS

    run_dir = Path(tempfile.mkdtemp(prefix="emotion-clf-serve-"))  # mode 0700
    (run_dir / METRICS_DIR).mkdir()
    (run_dir / SOCKETS).mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(run_dir / METRICS_DIR)
    os.environ["EMOTION_CLF_SERVE_RUN_DIR"] = str(run_dir)
    os.environ["EMOTION_CLF_SERVE_WORKERS"] = str(workers)
    # each worker's model gets its share of the cores: N workers each running torch on every
    # core fight over them (benchmarks/serving_throughput.py); a user's own setting wins
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    try:
        yield run_dir
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
