"""The model bundle: a folder with ``manifest.json`` and the learned state.

The manifest records the format version, family, label schema, training-data fingerprint,
metrics, creation time, parameters, runtime and the sha256 of every other file. Loading
verifies every checksum, refuses missing or unexpected files, an unknown format or family, or
a label schema other than this package's, and never unpickles anything.

A bundle's *digest* is the sha256 of its manifest: since the manifest pins every file's hash,
the digest identifies the whole bundle (the registry records it; ``/model`` shows it).

Hashing every file is the slow part of a check (the weights of a minilm are 90 MB). The
registry's cache checks a bundle before it hands it out (a damaged copy is fetched again), and
the load that follows takes that check (:class:`VerifiedBundle`) instead of hashing everything
again, as long as no file of the folder has changed since: the same names, sizes, inodes and
modification and change times. A write to a file, and any attempt to put its times back, moves
its change time, so a bundle altered after its check is checked again, and refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

from emotion_clf.data.schema import SCHEMA, LabelSchema
from emotion_clf.errors import BundleError
from emotion_clf.models.base import Predictor
from emotion_clf.version import __version__

FORMAT_VERSION = 1
MANIFEST = "manifest.json"

# family name -> "module:class", imported only when a bundle of that family is used
FAMILIES: Mapping[str, str] = {
    "tfidf": "emotion_clf.models.tfidf:TfidfModel",
    "minilm": "emotion_clf.models.minilm.model:MiniLMModel",
    "teacher": "emotion_clf.models.teacher:TeacherModel",
}


def family_class(name: str) -> type[Predictor]:
    try:
        target = FAMILIES[name]
    except KeyError:
        raise BundleError(
            f"unknown model family {name!r}; known families: {', '.join(FAMILIES)}"
        ) from None
    module, _, attr = target.partition(":")
    cls: type[Predictor] = getattr(import_module(module), attr)
    return cls


@dataclass(frozen=True)
class Manifest:
    format_version: int
    family: str
    schema: LabelSchema
    data_fingerprint: str
    metrics: Mapping[str, Any]
    created_at: str
    files: Mapping[str, str]
    params: Mapping[str, Any] = field(default_factory=dict)
    runtime: str = "python"
    package_version: str = __version__
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "family": self.family,
            "runtime": self.runtime,
            "package_version": self.package_version,
            "created_at": self.created_at,
            "data_fingerprint": self.data_fingerprint,
            "schema": self.schema.to_dict(),
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "extra": dict(self.extra),
            "files": dict(sorted(self.files.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: Path) -> Manifest:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise BundleError(
                f"{where}: bundle format version {version!r} is not supported "
                f"(this emotion-clf reads version {FORMAT_VERSION})"
            )
        try:
            return cls(
                format_version=int(version),
                family=str(data["family"]),
                schema=LabelSchema.from_dict(data["schema"]),
                data_fingerprint=str(data["data_fingerprint"]),
                metrics=dict(data.get("metrics") or {}),
                created_at=str(data["created_at"]),
                files={str(k): str(v) for k, v in data["files"].items()},
                params=dict(data.get("params") or {}),
                runtime=str(data.get("runtime", "python")),
                package_version=str(data.get("package_version", "")),
                extra=dict(data.get("extra") or {}),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise BundleError(
                f"{where}: manifest is missing or has a malformed field: {exc}"
            ) from exc


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _bundle_files(folder: Path) -> dict[str, Path]:
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def save_bundle(
    predictor: Predictor,
    out: Path | str,
    *,
    data_fingerprint: str,
    metrics: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    files: Mapping[str, bytes] | None = None,
) -> Path:
    """Write ``predictor`` as a bundle at ``out``, atomically (a temp folder renamed in place).

    ``files`` are more files to ship in the bundle (a reference profile, say), checksummed
    like the learned state. An existing bundle at ``out`` is replaced; any other non-empty
    folder is refused.
    """
    out = Path(out)
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists())
    ):
        raise BundleError(f"{out} exists and is not a model bundle; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a bundle is meant to be shared
    try:
        predictor.save_state(staging)
        for name, content in (files or {}).items():
            if (staging / name).exists() or name == MANIFEST:
                raise BundleError(f"{name} is part of the {predictor.family} state already")
            (staging / name).write_bytes(content)
        checksums = {name: sha256_file(path) for name, path in _bundle_files(staging).items()}
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            family=predictor.family,
            schema=predictor.schema,
            data_fingerprint=data_fingerprint,
            metrics=metrics or {},
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            files=checksums,
            params=predictor.params(),
            runtime=predictor.runtime,
            extra=extra or {},
        )
        (staging / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
        if out.exists():
            retired = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(retired)
            staging.rename(out)
            shutil.rmtree(retired)
        else:
            staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out


def read_manifest(folder: Path | str) -> Manifest:
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BundleError(f"{folder}: no such model bundle folder")
    if not path.is_file():
        raise BundleError(f"{folder}: not a model bundle (no {MANIFEST})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: manifest is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BundleError(f"{path}: manifest is not a JSON object")
    return Manifest.from_dict(data, where=folder)


def bundle_digest(folder: Path | str) -> str:
    """sha256 of the manifest, which pins every file of the bundle."""
    return sha256_file(Path(folder) / MANIFEST)


def verify_bundle(folder: Path | str, *, expected_digest: str | None = None) -> Manifest:
    """Check a bundle completely: manifest, compatibility, every file's checksum."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if expected_digest is not None and bundle_digest(folder) != expected_digest:
        raise BundleError(
            f"{folder}: manifest digest does not match the registry's record; "
            "the bundle was altered after it was registered"
        )
    if manifest.schema != SCHEMA:
        raise BundleError(
            f"{folder}: the bundle's label schema ({manifest.schema.fingerprint()}) differs "
            f"from this package's ({SCHEMA.fingerprint()}); it is not compatible"
        )
    family_class(manifest.family)  # raises for an unknown family
    present = _bundle_files(folder)
    missing = sorted(set(manifest.files) - set(present))
    unexpected = sorted(set(present) - set(manifest.files))
    if missing:
        raise BundleError(f"{folder}: file(s) listed in the manifest are missing: {missing}")
    if unexpected:
        raise BundleError(f"{folder}: file(s) not listed in the manifest: {unexpected}")
    for name, expected in manifest.files.items():
        if sha256_file(present[name]) != expected:
            raise BundleError(f"{folder}: checksum mismatch for {name}; the bundle was modified")
    return manifest


# per file of a bundle: size, modification and change times (ns), inode, device
FileState = tuple[int, int, int, int, int]


def file_states(folder: Path) -> dict[str, FileState]:
    """What :class:`VerifiedBundle` compares: every file of ``folder``, the manifest included."""
    states: dict[str, FileState] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            states[path.relative_to(folder).as_posix()] = (
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
                st.st_ino,
                st.st_dev,
            )
    return states


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle that passed :func:`verify_bundle` (against ``expected_digest``, if any), and
    the state of its files just before it was hashed."""

    folder: Path
    manifest: Manifest
    expected_digest: str | None
    files: Mapping[str, FileState]

    def stands_for(self, folder: Path, *, expected_digest: str | None) -> bool:
        """Whether this check holds for ``folder`` now: the same folder, checked against
        ``expected_digest`` (if one is asked for), no file added, removed or changed since."""
        return (
            folder.resolve() == self.folder.resolve()
            and expected_digest in (None, self.expected_digest)
            and file_states(folder) == self.files
        )


def check_bundle(folder: Path | str, *, expected_digest: str | None = None) -> VerifiedBundle:
    """:func:`verify_bundle`, and the record :func:`load_bundle` accepts in place of doing it
    again. The files' states are read first: a change made while they are hashed shows."""
    folder = Path(folder)
    before = file_states(folder) if folder.is_dir() else {}
    manifest = verify_bundle(folder, expected_digest=expected_digest)
    return VerifiedBundle(folder, manifest, expected_digest, before)


def load_bundle(
    folder: Path | str,
    *,
    expected_digest: str | None = None,
    runtime_cache: Path | None = None,
    verified: VerifiedBundle | None = None,
) -> Predictor:
    """Verify a bundle and rebuild its predictor. Raises BundleError on any problem.

    ``runtime_cache``: a folder where the predictor keeps what it derives from its weights for
    its inference path, and finds what an earlier load kept (minilm's int8 ONNX graph; an
    entry point passes ``<home>/.cache/runtime``); None derives it at every load.
    ``verified``: this bundle's :func:`check_bundle`, taken instead of verifying it again where
    it still stands (:meth:`VerifiedBundle.stands_for`); otherwise every file is hashed.
    """
    folder = Path(folder)
    if verified is not None and verified.stands_for(folder, expected_digest=expected_digest):
        manifest = verified.manifest
    else:
        manifest = verify_bundle(folder, expected_digest=expected_digest)
    cls = family_class(manifest.family)
    predictor = cls.load_state(folder, schema=manifest.schema, params=manifest.params)
    predictor.runtime_cache = runtime_cache
    return predictor
