"""The MLflow-backed model registry: versions, designations and registration.

One registered model (``Settings.model_name``). Designations are MLflow aliases held in the
registry itself, so ``models:/emotion-clf@baseline`` works and every server, notebook and CLI
sees the same truth:

- ``baseline`` (blue): the version in production;
- ``dynamic`` (green): the newest candidate.

Any MLflow tracking URI works: the embedded SQLite default, a remote ``mlflow server``, or an
Azure ML workspace's MLflow URI.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emotion_clf.config import Settings
from emotion_clf.errors import ModelNotFoundError, RegistryError, RegistryUnavailableError
from emotion_clf.models.bundle import bundle_digest, verify_bundle

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)

DESIGNATIONS: tuple[str, ...] = ("baseline", "dynamic")
BUNDLE_ARTIFACT = "bundle"
METRIC_PREFIX = "metric."

# Connection failures come back from MLflow as MlflowException with these phrases.
_UNREACHABLE = (
    "failed with exception",
    "max retries exceeded",
    "connection refused",
    "unable to open database",
)


def _configure_mlflow(settings: Settings) -> None:
    """Fail fast when a remote registry is down (MLflow retries for minutes by default)."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(settings.registry_retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(settings.registry_timeout_s)))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow writes run URLs to stdout, which would corrupt the CLI's --json output
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # a down registry is reported once by mlflow_errors, not per retry
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


@contextmanager
def mlflow_errors(action: str) -> Iterator[None]:
    """Translate MLflow's exceptions into this package's, naming what was being done."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        text = str(exc)
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise ModelNotFoundError(f"{action}: {text}") from exc
        if any(marker in text.lower() for marker in _UNREACHABLE):
            raise RegistryUnavailableError(
                f"{action}: the registry cannot be reached ({text[:300]})"
            ) from exc
        raise RegistryError(f"{action}: {text[:500]}") from exc
    except OSError as exc:
        raise RegistryUnavailableError(f"{action}: the registry cannot be reached ({exc})") from exc


@dataclass(frozen=True)
class VersionInfo:
    """One registered version and what the registry knows of it."""

    version: str
    designations: tuple[str, ...]
    created_at: str
    source: str
    run_id: str | None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str | None:
        return self.tags.get("digest")

    @property
    def family(self) -> str | None:
        return self.tags.get("family")

    @property
    def metrics(self) -> dict[str, float]:
        out = {}
        for key, value in self.tags.items():
            if key.startswith(METRIC_PREFIX):
                try:
                    out[key[len(METRIC_PREFIX) :]] = float(value)
                except ValueError:
                    continue  # a hand-edited tag; the rest are still useful
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": int(self.version),
            "designations": list(self.designations),
            "created_at": self.created_at,
            "family": self.family,
            "digest": self.digest,
            "data_fingerprint": self.tags.get("data_fingerprint"),
            "run_id": self.run_id,
            "source": self.source,
            "metrics": self.metrics,
        }


def _iso(millis: int | None) -> str:
    if not millis:
        return ""
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")


class Registry:
    """The project's view of one MLflow registered model."""

    def __init__(
        self,
        client: MlflowClient,
        *,
        model_name: str,
        experiment_name: str,
        artifact_location: str | None = None,
        tracking_uri: str | None = None,
    ) -> None:
        self.client = client
        self.model_name = model_name
        self.experiment_name = experiment_name
        self.artifact_location = artifact_location
        self.tracking_uri = tracking_uri

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        _configure_mlflow(settings)
        from mlflow import MlflowClient

        uri = settings.resolved_tracking_uri
        local = not settings.tracking_uri
        if local:
            settings.registry_dir.mkdir(parents=True, exist_ok=True)
        with mlflow_errors("opening the registry"):
            client = MlflowClient(tracking_uri=uri, registry_uri=settings.registry_uri or uri)
        return cls(
            client,
            model_name=settings.model_name,
            experiment_name=settings.experiment_name,
            artifact_location=settings.artifact_location if local else None,
            tracking_uri=uri,
        )

    # -- experiments -----------------------------------------------------------------------
    def experiment_id(self, name: str | None = None) -> str:
        """The id of an experiment, created on first use."""
        name = name or self.experiment_name
        with mlflow_errors(f"opening experiment {name!r}"):
            experiment = self.client.get_experiment_by_name(name)
            if experiment is not None:
                return str(experiment.experiment_id)
            location = f"{self.artifact_location}/{name}" if self.artifact_location else None
            from mlflow.exceptions import MlflowException

            try:
                return str(self.client.create_experiment(name, artifact_location=location))
            except MlflowException as exc:  # created by a concurrent process meanwhile
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                found = self.client.get_experiment_by_name(name)
                assert found is not None
                return str(found.experiment_id)

    def _ensure_model(self) -> None:
        from mlflow.exceptions import MlflowException

        with mlflow_errors("creating the registered model"):
            try:
                self.client.create_registered_model(
                    self.model_name, description="emotion-clf bundles; aliases: baseline, dynamic"
                )
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise

    # -- reading ---------------------------------------------------------------------------
    def aliases(self) -> dict[str, str]:
        """designation -> version; empty before the first registration."""
        from mlflow.exceptions import MlflowException

        with mlflow_errors("reading designations"):
            try:
                model = self.client.get_registered_model(self.model_name)
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return {}
                raise
        return {str(k): str(v) for k, v in (model.aliases or {}).items()}

    def _info(self, mv: Any, aliases: Mapping[str, str]) -> VersionInfo:
        version = str(mv.version)
        return VersionInfo(
            version=version,
            designations=tuple(d for d in DESIGNATIONS if aliases.get(d) == version),
            created_at=_iso(mv.creation_timestamp),
            source=str(mv.source),
            run_id=mv.run_id,
            tags=dict(mv.tags or {}),
        )

    def versions(self) -> list[VersionInfo]:
        """Every version, newest first."""
        aliases = self.aliases()
        if not aliases and not self._model_exists():
            return []
        with mlflow_errors("listing versions"):
            found = self.client.search_model_versions(f"name='{self.model_name}'")
        infos = [self._info(mv, aliases) for mv in found]
        return sorted(infos, key=lambda i: int(i.version), reverse=True)

    def _model_exists(self) -> bool:
        from mlflow.exceptions import MlflowException

        with mlflow_errors("reading the registered model"):
            try:
                self.client.get_registered_model(self.model_name)
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return False
                raise
        return True

    def version(self, version: str | int) -> VersionInfo:
        text = str(version)
        if not text.isdigit():
            raise ModelNotFoundError(f"{text!r} is not a version number")
        with mlflow_errors(f"reading version {text}"):
            mv = self.client.get_model_version(self.model_name, text)
        return self._info(mv, self.aliases())

    def designated(self, designation: str) -> VersionInfo | None:
        """The version a designation points at, or None if it is not set yet."""
        if designation not in DESIGNATIONS:
            raise ModelNotFoundError(
                f"unknown designation {designation!r}; designations: {', '.join(DESIGNATIONS)}"
            )
        version = self.aliases().get(designation)
        return self.version(version) if version is not None else None

    def resolve(self, ref: str) -> VersionInfo:
        """A designation or version number -> its version; raises if there is none."""
        if ref.isdigit():
            return self.version(ref)
        info = self.designated(ref)
        if info is None:
            hint = "promote a version first" if ref == "baseline" else "train with --register"
            raise ModelNotFoundError(f"no version is designated {ref!r} yet ({hint})")
        return info

    # -- writing ---------------------------------------------------------------------------
    def set_designation(self, designation: str, version: str) -> None:
        if designation not in DESIGNATIONS:
            raise RegistryError(f"unknown designation {designation!r}")
        with mlflow_errors(f"designating version {version} {designation}"):
            self.client.set_registered_model_alias(self.model_name, designation, version)

    def register_bundle(
        self,
        bundle: Path,
        *,
        run_id: str,
        metrics: Mapping[str, float],
        designate: str | None = "dynamic",
    ) -> VersionInfo:
        """Register a bundle already logged under ``bundle/`` in ``run_id`` as a new version."""
        manifest = verify_bundle(bundle)
        tags = {
            "digest": bundle_digest(bundle),
            "family": manifest.family,
            "runtime": manifest.runtime,
            "data_fingerprint": manifest.data_fingerprint,
            "schema": manifest.schema.fingerprint(),
            **{f"{METRIC_PREFIX}{k}": f"{v:.6f}" for k, v in metrics.items()},
        }
        self._ensure_model()
        with mlflow_errors("registering the bundle"):
            run = self.client.get_run(run_id)
            mv = self.client.create_model_version(
                self.model_name,
                source=f"{run.info.artifact_uri}/{BUNDLE_ARTIFACT}",
                run_id=run_id,
                tags=tags,
            )
        if designate:
            self.set_designation(designate, str(mv.version))
        return self.version(str(mv.version))

    def download(self, info: VersionInfo, dest: Path) -> Path:
        """Download a version's bundle into ``dest`` (a new folder)."""
        import mlflow

        dest.mkdir(parents=True, exist_ok=True)
        with mlflow_errors(f"downloading version {info.version}"):
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=info.source, dst_path=str(dest), tracking_uri=self.tracking_uri
            )
        return Path(local)

    def download_to_temp(self, info: VersionInfo, parent: Path) -> Path:
        parent.mkdir(parents=True, exist_ok=True)
        return self.download(info, Path(tempfile.mkdtemp(prefix=".download-", dir=parent)))
