"""How the registry calls MLflow: errors translated in one place, and what is created on
first use.

Every MLflow call of the registry goes through :func:`mlflow_errors`, which names what was
being done; :func:`absent_is_none`, :func:`created` and :func:`deleted` are the three ways
a call may legitimately meet a missing or an existing resource. :func:`experiment_id` and
:func:`ensure_model` create an experiment or a registered model the first time one is needed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from emotion_clf.config import Settings
from emotion_clf.errors import (
    ModelNotFoundError,
    RegistryError,
    RegistryStoreError,
    RegistryUnavailableError,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")

# Connection failures, and a store that cannot be read (missing, corrupt, of another
# schema), come back from MLflow as MlflowException with these phrases.
_UNREACHABLE = (
    "failed with exception",
    "max retries exceeded",
    "connection refused",
)
_UNREADABLE = (
    "unable to open database",
    "file is not a database",
    "database disk image is malformed",
    "no such table",
    "no such column",
    "out-of-date database schema",
)
_READ_ONLY = "readonly database"  # a store on a read-only mount, or opened read-only
MISSING = "RESOURCE_DOES_NOT_EXIST"
EXISTS = "RESOURCE_ALREADY_EXISTS"


def configure_mlflow(settings: Settings) -> None:
    """Fail fast when a remote registry is down (MLflow retries for minutes by default)."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(settings.registry.retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(settings.registry.timeout_s)))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow writes run URLs to stdout, which would corrupt the CLI's --json output
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    import mlflow  # noqa: F401  (importing it sets its loggers' levels: ours must come after)

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # a failed query is logged by MLflow with its SQL and a traceback before it is raised;
    # mlflow_errors reports it once, that text in the error's detail
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    # a down registry is reported once by mlflow_errors, not per retry
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


@contextmanager
def mlflow_errors(action: str) -> Iterator[None]:
    """Translate MLflow's exceptions into this package's, naming what was being done.

    The error's message is short and names the action; MLflow's own text (SQL, URLs, paths)
    goes into its ``detail``, which logs show, the CLI only at ``--log-level debug``, and API
    answers never.
    """
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except MlflowException as exc:
        text = str(exc)
        if exc.error_code == MISSING:
            raise ModelNotFoundError(f"{action}: not found in the registry", detail=text) from exc
        if _READ_ONLY in text.lower():
            raise RegistryStoreError(
                f"{action}: the registry store is read-only", detail=text[:300]
            ) from exc
        if any(marker in text.lower() for marker in _UNREADABLE):
            raise RegistryStoreError(
                f"{action}: the registry store cannot be read", detail=text[:300]
            ) from exc
        if any(marker in text.lower() for marker in _UNREACHABLE):
            raise RegistryUnavailableError(
                f"{action}: the registry cannot be reached", detail=text[:300]
            ) from exc
        raise RegistryError(f"{action}: the registry refused it", detail=text[:500]) from exc
    except SQLAlchemyError as exc:  # a store MLflow could not even open: corrupt, foreign
        raise RegistryStoreError(
            f"{action}: the registry store cannot be read", detail=str(exc)[:300]
        ) from exc
    except OSError as exc:
        raise RegistryUnavailableError(
            f"{action}: the registry cannot be reached", detail=str(exc)
        ) from exc


def _call(action: str, code: str, call: Callable[[], T]) -> tuple[bool, T | None]:
    """``(True, result)``, or ``(False, None)`` when MLflow answers with ``code``."""
    from mlflow.exceptions import MlflowException

    with mlflow_errors(action):
        try:
            return True, call()
        except MlflowException as exc:
            if exc.error_code != code:
                raise
    return False, None


def absent_is_none(action: str, call: Callable[[], T]) -> T | None:
    """``call()``, or None when what it reads does not exist."""
    return _call(action, MISSING, call)[1]


def created(action: str, call: Callable[[], object]) -> bool:
    """Run a create ``call``; False (not an error) when the resource exists already."""
    return _call(action, EXISTS, call)[0]


def deleted(action: str, call: Callable[[], object]) -> bool:
    """Run a delete ``call``; False (not an error) when the resource was gone already."""
    return _call(action, MISSING, call)[0]


def find_experiment(client: MlflowClient, name: str) -> str | None:
    """The id of an experiment, or None if there is none (nothing is created)."""
    with mlflow_errors(f"opening experiment {name!r}"):
        experiment = client.get_experiment_by_name(name)
    return None if experiment is None else str(experiment.experiment_id)


def experiment_id(client: MlflowClient, name: str, *, artifact_root: str | None = None) -> str:
    """The id of an experiment, created on first use (under ``artifact_root`` if given)."""
    found = find_experiment(client, name)
    if found is not None:
        return found
    location = f"{artifact_root}/{name}" if artifact_root else None
    created(
        f"creating experiment {name!r}",
        lambda: client.create_experiment(name, artifact_location=location),
    )  # or a concurrent process created it meanwhile
    found = find_experiment(client, name)
    if found is None:
        raise ModelNotFoundError(f"experiment {name!r} vanished right after its creation")
    return found


def ensure_model(client: MlflowClient, name: str, *, description: str = "") -> None:
    """Create a registered model unless it exists (the registry never deletes one)."""
    created(
        f"creating the registered model {name!r}",
        lambda: client.create_registered_model(name, description=description),
    )
