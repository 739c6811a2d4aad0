"""A local cache of downloaded versions, keyed by version and bundle digest.

A server resolves ``baseline`` in the registry and fetches it through this cache; if the
registry is unreachable later, the cache still knows the last version each designation
pointed at, so the server can start with the last known good model.

Every bundle it hands out is checked first (:func:`~emotion_clf.models.bundle.check_bundle`:
the registry's digest, every file's checksum); the check comes with it, so that the load that
follows does not hash the files again unless one has changed since.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from emotion_clf.errors import BundleError
from emotion_clf.files import write_json_atomic
from emotion_clf.models.bundle import MANIFEST, VerifiedBundle, bundle_digest, check_bundle

logger = logging.getLogger(__name__)

INDEX = "designations.json"


@dataclass(frozen=True)
class CachedVersion:
    version: str
    digest: str
    path: Path
    recorded_at: str = ""
    verified: VerifiedBundle | None = field(default=None, compare=False, repr=False)


class ModelCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, version: str, digest: str) -> Path:
        return self.root / f"v{version}-{digest[:16]}"

    def get(self, version: str, digest: str) -> Path | None:
        """The cached bundle if present and intact; a damaged copy is removed."""
        found = self.checked(version, digest)
        return found.folder if found is not None else None

    def checked(self, version: str, digest: str) -> VerifiedBundle | None:
        """:meth:`get`, with the check that found the bundle intact."""
        path = self.path_for(version, digest)
        if not (path / MANIFEST).is_file():
            return None
        try:
            return check_bundle(path, expected_digest=digest)
        except BundleError as exc:
            logger.warning("cached copy of version %s is damaged, removing it: %s", version, exc)
            shutil.rmtree(path, ignore_errors=True)
            return None

    def put(self, version: str, digest: str, download: Callable[[Path], Path]) -> Path:
        """Download into a temp folder, verify against ``digest``, then move into place."""
        return self.put_checked(version, digest, download).folder

    def put_checked(
        self, version: str, digest: str, download: Callable[[Path], Path]
    ) -> VerifiedBundle:
        """:meth:`put`, with the check of the bundle now in place."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".staging-{version}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            bundle = download(staging)
            verified = check_bundle(bundle, expected_digest=digest)
            target = self.path_for(version, digest)
            if target.exists():  # another process cached it meanwhile
                found = self.checked(version, digest)  # removed if damaged: ours replaces it
                if found is not None:
                    return found
            os.replace(bundle, target)
            # moving the folder changes none of its files: the check holds for them there
            return replace(verified, folder=target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def remember(self, designation: str, version: str, digest: str) -> None:
        index = self._index()
        index[designation] = {
            "version": version,
            "digest": digest,
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_json_atomic(self.root / INDEX, index)

    def _index(self) -> dict[str, dict[str, str]]:
        path = self.root / INDEX
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            logger.warning("ignoring unreadable cache index %s: %s", path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def last_known(self, ref: str) -> CachedVersion | None:
        """The cached bundle a designation (or version number) last resolved to, if intact."""
        if ref.isdigit():
            for path in sorted(self.root.glob(f"v{ref}-*")):
                digest = (path / MANIFEST).is_file() and bundle_digest(path)
                checked = self.checked(ref, digest) if digest else None
                if digest and checked is not None:
                    return CachedVersion(version=ref, digest=digest, path=path, verified=checked)
            return None
        entry = self._index().get(ref)
        if not entry:
            return None
        found = self.checked(entry["version"], entry["digest"])
        if found is None:
            return None
        return CachedVersion(
            entry["version"],
            entry["digest"],
            found.folder,
            entry.get("recorded_at", ""),
            verified=found,
        )
