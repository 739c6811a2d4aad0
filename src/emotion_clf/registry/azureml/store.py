"""The Azure ML workspace as the model registry (``EMOTION_CLF_REGISTRY=azureml``).

What Azure ML's registry offers, and what this backend makes of it:

- **versions** are Azure ML model versions of one model (``Settings.model_name``): the bundle
  folder uploaded as a ``custom_model``, tagged with its digest, family, runtime, data
  fingerprint, label schema and metrics (``metric.<split>.<head>.<name>``), so the studio
  shows them. Versions are numbered by the workspace (auto-increment).
- **designations**: Azure ML model versions have tags and a free-form ``stage``, but no
  compare-and-set on either, and MLflow aliases are reachable only through the
  ``azureml-mlflow`` plugin, which conflicts with this project's MLflow. So ``baseline`` and
  ``dynamic`` are one small JSON document (``<prefix>/designations.json``) in the
  workspace's default blob storage, written only with an ETag condition (If-Match, or
  If-None-Match for the first write): a real compare-and-set done by the storage service.
  After each move the version tags are updated to match (``designation: baseline``), a
  mirror for people browsing the studio; the document is the truth.
- the **promotion lock** is a lease on ``<prefix>/promotion-lock`` (:mod:`.azureml_lock`),
  the **audit log** one blob per entry under ``<prefix>/audit/`` (:mod:`.azureml_audit`).

Nothing here deletes a model or a version (Azure ML cannot delete a whole model container).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emotion_clf.config import Settings
from emotion_clf.errors import (
    DesignationConflictError,
    ModelNotFoundError,
    RegistryError,
    RegistryStoreError,
)
from emotion_clf.models.bundle import MANIFEST, read_manifest
from emotion_clf.registry.azureml.audit import BlobAuditStore
from emotion_clf.registry.azureml.calls import (
    Workspace,
    azure_errors,
    open_workspace,
    read_json,
    sdk,
    write_json,
)
from emotion_clf.registry.azureml.lock import BlobLeaseLock, LeaseBlob
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
from emotion_clf.registry.tags import bundle_tags, manifest_metrics, model_card, result_metrics

if TYPE_CHECKING:
    from emotion_clf.training import TrainResult

logger = logging.getLogger(__name__)

DESIGNATION_TAG = "designation"
_ATTEMPTS = 10


class AzureMlRegistry(ModelRegistry):
    """One Azure ML model and the registry's blobs beside it."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        model_name: str,
        prefix: str,
        lease_s: int = 30,
        create: bool = True,
    ) -> None:
        self.models = workspace.models
        self.container = workspace.container
        self.model_name = model_name
        self._location = workspace.location
        self.prefix = f"{prefix.strip('/')}/{model_name}/"
        self.lease_s = lease_s
        self.create = create
        self._audit = BlobAuditStore(self.container, prefix=f"{self.prefix}audit/")
        self._container_ready = False

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True) -> AzureMlRegistry:
        """The workspace ``settings`` name; ``create``: a missing blob container may be
        created (see :func:`~emotion_clf.registry.open_registry`)."""
        return cls(
            open_workspace(settings),
            model_name=settings.registry.model_name,
            prefix=settings.azureml.registry_prefix,
            lease_s=settings.azureml.lock_lease_s,
            create=create,
        )

    @property
    def location(self) -> str:
        return f"{self._location} (model {self.model_name})"

    def _blob(self, name: str) -> Any:
        if not self._container_ready:
            self._open_container()
            self._container_ready = True
        return self.container.get_blob_client(f"{self.prefix}{name}")

    def _open_container(self) -> None:
        """Make sure the blob container exists, on first use. The default datastore's always
        does; another one is created only by a registry opened to ``create`` (training,
        registration): for any other, a missing container is a lost registry, refused."""
        where = f"blob container {self.container.container_name!r}"
        if not self.create:
            with azure_errors("opening the registry's blob container"):
                found = self.container.exists()
            if not found:
                raise RegistryStoreError(
                    "the registry's blob container does not exist", where=where
                )
            return
        exceptions = sdk("azure.core.exceptions")
        with azure_errors("opening the registry's blob container"):
            try:
                self.container.create_container()
            except exceptions.ResourceExistsError:  # the usual case
                return
        self.created = True
        logger.info("created a new registry at %s", where)

    # -- reading ---------------------------------------------------------------------------
    def _designations_doc(self) -> tuple[dict[str, Any], str | None]:
        return read_json(self._blob("designations.json"), action="reading designations")

    def designations(self) -> dict[str, str]:
        doc = self._designations_doc()[0]
        return {d: str(doc[d]) for d in DESIGNATIONS if doc.get(d)}

    def _info(self, model: Any, designations: Mapping[str, str]) -> VersionInfo:
        version = str(model.version)
        created = getattr(getattr(model, "creation_context", None), "created_at", None)
        return VersionInfo(
            version=version,
            designations=tuple(d for d in DESIGNATIONS if designations.get(d) == version),
            created_at=created.isoformat(timespec="seconds") if created else "",
            source=str(model.path),
            run_id=model.job_name,
            tags={str(k): str(v) for k, v in (model.tags or {}).items()},
        )

    def versions(self) -> list[VersionInfo]:
        exceptions = sdk("azure.core.exceptions")
        with azure_errors("listing versions"):
            try:
                found = list(self.models.list(name=self.model_name))
            except exceptions.ResourceNotFoundError:
                return []  # the model does not exist before its first version
        designations = self.designations()
        infos = [self._info(m, designations) for m in found if str(m.version).isdigit()]
        return sorted(infos, key=lambda i: int(i.version), reverse=True)

    def version(self, version: str | int) -> VersionInfo:
        text = str(version)
        if not text.isdigit():
            raise ModelNotFoundError(f"{text!r} is not a version number")
        with azure_errors(f"reading version {text}"):
            model = self.models.get(name=self.model_name, version=text)
        return self._info(model, self.designations())

    # -- designations: a compare-and-set on the document's ETag --------------------------------
    def set_designation(self, designation: str, version: str, *, expected: Expected = ANY) -> None:
        check_designation(designation)
        self.version(version)  # exists, or ModelNotFoundError before anything changes
        blob = self._blob("designations.json")
        for _ in range(_ATTEMPTS):
            doc, etag = read_json(blob, action="reading designations")
            actual = str(doc[designation]) if doc.get(designation) else None
            if expected is not ANY and actual != expected:
                raise DesignationConflictError(designation, expected=expected, actual=actual)
            updated = {**doc, designation: version}
            written = write_json(
                blob,
                updated,
                action=f"designating version {version} {designation}",
                etag=etag,
                create=etag is None,
            )
            if written:
                self._mirror_tags({d: str(v) for d, v in doc.items() if d in DESIGNATIONS}, updated)
                return
            # another writer won the race: read again, and decide again against `expected`
        raise RegistryError(
            f"designating version {version} {designation}: the document kept changing"
        )

    def _mirror_tags(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        """Tag the versions whose designations changed, for the studio (best effort: the
        document is the truth, so a failure here is a warning, not a failed move)."""
        touched = {str(v) for v in (*before.values(), *after.values()) if v}
        for version in sorted(touched):
            names = ",".join(d for d in DESIGNATIONS if str(after.get(d)) == version)
            if names == ",".join(d for d in DESIGNATIONS if str(before.get(d)) == version):
                continue
            try:
                with azure_errors(f"tagging version {version}"):
                    model = self.models.get(name=self.model_name, version=version)
                    tags = {k: v for k, v in (model.tags or {}).items() if k != DESIGNATION_TAG}
                    if names:
                        tags[DESIGNATION_TAG] = names
                    model.tags = tags
                    self.models.create_or_update(model)
            except RegistryError as exc:
                logger.warning("the studio's designation tag of v%s is stale: %s", version, exc)

    # -- registration and fetch ------------------------------------------------------------
    def register(self, result: TrainResult, *, designate: str | None = "dynamic") -> VersionInfo:
        """Register ``result``'s bundle with its metrics and parameters as tags (Azure ML
        keeps a model version's record; a pipeline run keeps the job's own logs)."""
        info = self._register(result.bundle, metrics=result_metrics(result), designate=designate)
        logger.info("registered %s as version %s", result.bundle, info.version)
        return info

    def register_bundle(self, bundle: Path, *, designate: str | None = "dynamic") -> VersionInfo:
        return self._register(bundle, metrics=manifest_metrics(bundle), designate=designate)

    def _register(
        self, bundle: Path, *, metrics: Mapping[str, float], designate: str | None
    ) -> VersionInfo:
        entities = sdk("azure.ai.ml.entities")
        constants = sdk("azure.ai.ml.constants")
        model = entities.Model(
            name=self.model_name,
            path=str(bundle),
            type=constants.AssetTypes.CUSTOM_MODEL,
            description=model_card(read_manifest(bundle), metrics)
            + "\n\nDesignations: see the registry's designations.json.",
            tags=bundle_tags(bundle, metrics),
        )
        with azure_errors("registering the bundle"):
            created = self.models.create_or_update(model)
        version = str(created.version)
        if designate:
            self.set_designation(designate, version)
        return self.version(version)

    def download(self, info: VersionInfo, dest: Path) -> Path:
        """The SDK downloads into ``dest/<model name>/<folder name>``; returns that folder."""
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest) as staging:
            with azure_errors(f"downloading version {info.version}"):
                self.models.download(
                    name=self.model_name, version=info.version, download_path=staging
                )
            found = [p.parent for p in Path(staging).rglob(MANIFEST)]
            if len(found) != 1:
                raise RegistryError(
                    f"version {info.version} downloaded {len(found)} bundles, expected one"
                )
            target = dest / "bundle"
            shutil.move(str(found[0]), target)
        return target

    # -- promotion lock and audit --------------------------------------------------------------
    def _lease_blob(self) -> LeaseBlob:
        return LeaseBlob(self._blob("promotion-lock"))

    def promotion_lock(self, *, ttl_s: float, holder: str) -> PromotionLock:
        return BlobLeaseLock(self._lease_blob(), ttl_s=ttl_s, holder=holder, lease_s=self.lease_s)

    def lock_state(self) -> LockState | None:
        return self._lease_blob().state()

    def break_lock(self) -> bool:
        return self._lease_blob().break_now()

    @property
    def audit(self) -> AuditStore:
        self._blob("audit")  # the container, on first use
        return self._audit
