"""The MLflow-backed model registry.

One registered model (``Settings.model_name``). Designations are MLflow aliases held in the
registry itself, so ``models:/emotion-clf@baseline`` works and every server, notebook and CLI
sees the same truth. Versions are bundle folders logged as run artifacts and registered with
``create_model_version`` (a bundle is not an MLflow-format model); their tags carry the bundle
digest, the family and the metrics.

Backends proven by the test suite: the embedded SQLite store (the default, no server) and a
real ``mlflow server``. The promotion lock (:mod:`.mlflow_lock`) and the audit log
(:mod:`.mlflow_audit`) use only model versions, their tags and runs: no whole registered model
is ever deleted or renamed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emotion_clf.config import Settings
from emotion_clf.errors import DesignationConflictError, ModelNotFoundError, RegistryError
from emotion_clf.models.bundle import read_manifest
from emotion_clf.registry.base import (
    ANY,
    DESIGNATIONS,
    AuditStore,
    Expected,
    LockState,
    ModelRegistry,
    PromotionLock,
    VersionInfo,
    check_designation,
)
from emotion_clf.registry.mlflow.audit import MlflowAuditStore
from emotion_clf.registry.mlflow.calls import (
    absent_is_none,
    configure_mlflow,
    ensure_model,
    experiment_id,
    find_experiment,
    mlflow_errors,
)
from emotion_clf.registry.mlflow.judgements import JUDGEMENTS_SUFFIX, log_judgement_run
from emotion_clf.registry.mlflow.lock import MlflowTicketLock, Tickets
from emotion_clf.registry.mlflow.quick import remember_revision
from emotion_clf.registry.mlflow.readonly import (
    check_store,
    expected_revision,
    prepare_store,
    read_only_uri,
    sqlite_path,
)
from emotion_clf.registry.mlflow.tracking import (
    BUNDLE_ARTIFACT,
    REPORTS_ARTIFACT,
    log_training_run,
)
from emotion_clf.registry.tags import (
    bundle_tags,
    manifest_metrics,
    model_card,
    result_metrics,
    with_report_page,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from emotion_clf.training import TrainResult

logger = logging.getLogger(__name__)

_CREDENTIALS = re.compile(r"://[^/@\s]+@")


def _read_only(uri: str) -> str:
    """``uri`` as a reader opens it: a SQLite store checked, then opened read-only."""
    path = sqlite_path(uri)
    if path is None:
        return uri  # a registry server: reading it creates nothing
    check_store(path)
    return read_only_uri(path)


def _writable(uri: str, *, create: bool) -> Path | None:
    """Check the SQLite store of ``uri`` before a writer opens it; the store's path if it is
    to be created (only with ``create``), else None. A registry server creates its own."""
    path = sqlite_path(uri)
    if path is None or not prepare_store(path, create=create):
        return None
    return path


def _iso(millis: int | None) -> str:
    if not millis:
        return ""
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")


class MlflowRegistry(ModelRegistry):
    """The project's view of one MLflow registered model."""

    def __init__(
        self,
        client: MlflowClient,
        *,
        model_name: str,
        experiment_name: str,
        artifact_location: str | None = None,
        tracking_uri: str | None = None,
        read_only: bool = False,
        created: bool = False,
    ) -> None:
        self.client = client
        self.model_name = model_name
        self.experiment_name = experiment_name
        self.artifact_location = artifact_location
        self.tracking_uri = tracking_uri
        self.read_only = read_only
        self.created = created
        self._audit = MlflowAuditStore(
            client,
            experiment=lambda: self.experiment_id(f"{experiment_name}-audit"),
            existing=lambda: find_experiment(client, f"{experiment_name}-audit"),
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, read_only: bool = False, create: bool = True
    ) -> MlflowRegistry:
        """The registry ``settings`` name. A SQLite store that is corrupt or of another schema
        is refused (:class:`~emotion_clf.errors.RegistryStoreError`), and so is a missing one,
        unless ``create`` (training, registration); ``read_only`` (a server, a command that
        only reads) opens it so that nothing can be written (see :mod:`.readonly`)."""
        configure_mlflow(settings)
        from mlflow import MlflowClient

        uri = settings.resolved_tracking_uri
        registry_uri = settings.registry.registry_uri or uri
        local = not settings.registry.tracking_uri
        new: list[Path] = []
        if read_only:
            embedded = sqlite_path(registry_uri) is not None
            uri, registry_uri = _read_only(uri), _read_only(registry_uri)
            if embedded:  # checked against this MLflow's schema just now: a quick read may
                remember_revision(settings.home / ".cache", expected_revision())
        else:
            new = [p for u in {uri, registry_uri} if (p := _writable(u, create=create))]
        with mlflow_errors("opening the registry"):
            client = MlflowClient(tracking_uri=uri, registry_uri=registry_uri)
        for path in new:
            logger.info("created a new registry at %s", path)
        return cls(
            client,
            model_name=settings.registry.model_name,
            experiment_name=settings.registry.experiment_name,
            artifact_location=settings.artifact_location if local else None,
            tracking_uri=uri,
            read_only=read_only,
            created=bool(new),
        )

    def _writing(self, what: str) -> None:
        if self.read_only:
            raise RegistryError(f"{what}: this registry was opened read-only")

    @property
    def location(self) -> str:
        return _CREDENTIALS.sub("://***@", self.tracking_uri or "")

    def experiment_id(self, name: str | None = None) -> str:
        """The id of an experiment (default: the training runs'), created on first use."""
        return experiment_id(
            self.client, name or self.experiment_name, artifact_root=self.artifact_location
        )

    # -- reading ---------------------------------------------------------------------------
    def designations(self) -> dict[str, str]:
        model = absent_is_none(
            "reading designations", lambda: self.client.get_registered_model(self.model_name)
        )
        if model is None:
            return {}
        return {str(k): str(v) for k, v in (model.aliases or {}).items() if k in DESIGNATIONS}

    def _info(self, mv: Any, designations: Mapping[str, str]) -> VersionInfo:
        version = str(mv.version)
        return VersionInfo(
            version=version,
            designations=tuple(d for d in DESIGNATIONS if designations.get(d) == version),
            created_at=_iso(mv.creation_timestamp),
            source=str(mv.source),
            run_id=mv.run_id,
            tags=dict(mv.tags or {}),
        )

    def versions(self) -> list[VersionInfo]:
        model = absent_is_none(
            "reading the registered model",
            lambda: self.client.get_registered_model(self.model_name),
        )
        if model is None:
            return []
        designations = {str(k): str(v) for k, v in (model.aliases or {}).items()}
        with mlflow_errors("listing versions"):
            found = self.client.search_model_versions(f"name='{self.model_name}'")
        infos = [self._info(mv, designations) for mv in found]
        return sorted(infos, key=lambda i: int(i.version), reverse=True)

    def version(self, version: str | int) -> VersionInfo:
        text = str(version)
        if not text.isdigit():
            raise ModelNotFoundError(f"{text!r} is not a version number")
        with mlflow_errors(f"reading version {text}"):
            mv = self.client.get_model_version(self.model_name, text)
        return self._info(mv, self.designations())

    # -- writing ---------------------------------------------------------------------------
    def set_designation(self, designation: str, version: str, *, expected: Expected = ANY) -> None:
        self._writing(f"designating version {version} {designation}")
        check_designation(designation)
        if expected is not ANY:
            actual = self.designations().get(designation)
            if actual != expected:
                raise DesignationConflictError(designation, expected=expected, actual=actual)
        with mlflow_errors(f"designating version {version} {designation}"):
            self.client.set_registered_model_alias(self.model_name, designation, version)

    def register(self, result: TrainResult, *, designate: str | None = "dynamic") -> VersionInfo:
        """Log ``result`` as an MLflow run and register its bundle.

        The run holds the parameters, the data fingerprint, metrics per split and head, the
        per-class report, confusion-matrix images, the learning curves and the bundle itself.
        """
        self._writing("registering a model")
        run_id = log_training_run(self.client, self.experiment_id(), result)
        try:
            info = self._register(
                result.bundle,
                run_id=run_id,
                metrics=result_metrics(result),
                designate=designate,
                report=REPORTS_ARTIFACT,
            )
        except BaseException:
            self.client.set_terminated(run_id, status="FAILED")
            raise
        with mlflow_errors("closing the training run"):
            self.client.set_terminated(run_id)
        logger.info("registered %s as version %s", result.bundle, info.version)
        return info

    def register_bundle(self, bundle: Path, *, designate: str | None = "dynamic") -> VersionInfo:
        self._writing("registering a bundle")
        metrics = manifest_metrics(bundle)  # verifies the bundle before anything is logged
        with mlflow_errors("logging the bundle"):
            run = self.client.create_run(self.experiment_id(), run_name=f"bundle-{bundle.name}")
            self.client.log_artifacts(run.info.run_id, str(bundle), BUNDLE_ARTIFACT)
        info = self._register(bundle, run_id=run.info.run_id, metrics=metrics, designate=designate)
        with mlflow_errors("closing the bundle run"):
            self.client.set_terminated(run.info.run_id)
        return info

    def _register(
        self,
        bundle: Path,
        *,
        run_id: str,
        metrics: Mapping[str, float],
        designate: str | None,
        report: str | None = None,
    ) -> VersionInfo:
        """Register a bundle already logged under ``bundle/`` in ``run_id`` as a new version,
        described by its model card (``report``: the run's folder of the training's report)."""
        tags = bundle_tags(bundle, metrics)
        ensure_model(
            self.client,
            self.model_name,
            description="emotion-clf bundles; aliases: baseline, dynamic",
        )
        with mlflow_errors("registering the bundle"):
            run = self.client.get_run(run_id)
            link = f"{run.info.artifact_uri}/{report} (training run {run_id})" if report else None
            mv = self.client.create_model_version(
                self.model_name,
                source=f"{run.info.artifact_uri}/{BUNDLE_ARTIFACT}",
                run_id=run_id,
                tags=tags,
                description=model_card(read_manifest(bundle), metrics, report=link),
            )
        if designate:
            self.set_designation(designate, str(mv.version))
        return self.version(str(mv.version))

    def download(self, info: VersionInfo, dest: Path) -> Path:
        import mlflow

        dest.mkdir(parents=True, exist_ok=True)
        with mlflow_errors(f"downloading version {info.version}"):
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=info.source, dst_path=str(dest), tracking_uri=self.tracking_uri
            )
        return Path(local)

    def link_report(self, version: str, page: str) -> bool:
        self._writing(f"linking version {version} to its report")
        with mlflow_errors(f"linking version {version} to its report"):
            mv = self.client.get_model_version(self.model_name, version)
            card = with_report_page(mv.description or "", page)
            self.client.update_model_version(self.model_name, version, description=card)
        return True

    def log_judgement(
        self,
        kind: str,
        *,
        judged: Mapping[str, str],
        metrics: Mapping[str, float],
        params: Mapping[str, str] | None = None,
        artifacts: Sequence[Path] = (),
    ) -> str | None:
        self._writing(f"logging the {kind} run")
        return log_judgement_run(
            self.client,
            self.experiment_id(f"{self.experiment_name}{JUDGEMENTS_SUFFIX}"),
            model_name=self.model_name,
            kind=kind,
            judged=judged,
            metrics=metrics,
            params=params or {},
            artifacts=artifacts,
        )

    # -- promotion lock and audit --------------------------------------------------------------
    def _tickets(self) -> Tickets:
        return Tickets(
            self.client,
            name=f"{self.model_name}.promotion-lock",
            anchor_experiment=lambda: self.experiment_id(f"{self.experiment_name}-promotion-lock"),
        )

    def promotion_lock(self, *, ttl_s: float, holder: str) -> PromotionLock:
        self._writing("taking the promotion lock")
        return MlflowTicketLock(self._tickets(), ttl_s=ttl_s, holder=holder)

    def lock_state(self) -> LockState | None:
        tickets = self._tickets().live()
        return tickets[0].state if tickets else None

    def break_lock(self) -> bool:
        self._writing("breaking the promotion lock")
        return self._tickets().delete_all() > 0

    @property
    def audit(self) -> AuditStore:
        return self._audit
