"""The minilm family with GoEmotions: a tiny real training with the transfer stage (a few
steps on a slice of each source), the stage's cache (miss, hit, another key, a damaged entry),
joint training rows and their loss, and no network on the way."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from emotion_clf.config import project_root
from emotion_clf.data import SCHEMA, load_goemotions
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.models.base import TrainingSources
from emotion_clf.models.bundle import load_bundle, read_manifest
from emotion_clf.models.minilm import DEFAULT_PARAMS, MiniLMModel
from emotion_clf.models.minilm.encoder import load_tokenizer, pretrained_folder
from emotion_clf.models.minilm.loss import BatchLoss
from emotion_clf.models.minilm.rows import TrainingRows
from emotion_clf.models.minilm.transfer import (
    META_FILE,
    WEIGHTS_FILE,
    entry_folder,
    joint_rows,
    transfer_inputs,
    transfer_key,
    transfer_state,
)
from emotion_clf.training import TrainResult, train_model
from tests.models.test_minilm import no_network  # noqa: F401  (the module's network guard)

SHIPPED = project_root() / "data" / "goemotions"
TRANSFER = {
    "goemotions": "transfer",
    "goemotions_max_steps": 4,
    "max_steps": 6,
    "batch_size": 16,
}
TEXTS = ["I love this so much!", "That is disgusting.", "We lost him last night."]


@pytest.fixture(scope="module")
def goemotions_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GoEmotions folder with the first 160 lines of the real train.tsv."""
    folder = tmp_path_factory.mktemp("goemotions")
    shutil.copy(SHIPPED / "labels.txt", folder / "labels.txt")
    lines = (SHIPPED / "train.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "train.tsv").write_text("".join(lines[:160]), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def transferred(
    small_data: Path,
    goemotions_slice: Path,
    tmp_path_factory: pytest.TempPathFactory,
    no_network: list[Any],  # noqa: F811
) -> tuple[TrainResult, Path]:
    """A minilm trained with the transfer stage (4 steps) and 6 transcript steps; the stage
    is cached in a fresh cache folder."""
    cache = tmp_path_factory.mktemp("transfer-cache")
    before = len(no_network)
    result = train_model(
        "minilm",
        data=small_data,
        out=tmp_path_factory.mktemp("minilm-go") / "bundle",
        params=TRANSFER,
        sources=TrainingSources(goemotions=goemotions_slice, cache_dir=cache),
    )
    assert no_network[before:] == []
    return result, cache


def test_transfer_training_records_the_stage_and_caches_it(
    transferred: tuple[TrainResult, Path], goemotions_slice: Path
) -> None:
    result, cache = transferred
    rows = load_goemotions(goemotions_slice)
    manifest = read_manifest(result.bundle)
    assert manifest.params["goemotions"] == "transfer"
    state = json.loads((result.bundle / "minilm_state.json").read_text())
    record = state["goemotions"]
    assert record["mode"] == "transfer"
    assert (record["rows"], record["rows_read"]) == (len(rows), 160)
    assert record["rows"] + record["skipped_multi_label"] == 160
    assert record["data_fingerprint"] == rows.fingerprint()
    assert record["transfer"]["cached"] is False
    assert record["transfer"]["history"][0]["steps"] == 4.0
    (entry,) = cache.iterdir()
    assert entry == entry_folder(cache, record["transfer"]["key"])
    assert sorted(p.name for p in entry.iterdir()) == [META_FILE, WEIGHTS_FILE]
    meta = json.loads((entry / META_FILE).read_text())
    assert meta["key"] == record["transfer"]["key"]
    assert meta["inputs"]["data_fingerprint"] == rows.fingerprint()
    # the loaded bundle keeps the record and predicts like the trained model
    loaded = load_bundle(result.bundle)
    assert isinstance(loaded, MiniLMModel)
    assert loaded.goemotions_ == record
    np.testing.assert_array_equal(
        loaded.predict_proba(TEXTS).emotion, result.predictor.predict_proba(TEXTS).emotion
    )


def test_a_second_training_reuses_the_cached_stage_and_gives_the_same_model(
    transferred: tuple[TrainResult, Path], small_data: Path, goemotions_slice: Path, tmp_path: Path
) -> None:
    result, cache = transferred
    again = train_model(
        "minilm",
        data=small_data,
        out=tmp_path / "again",
        params=TRANSFER,
        sources=TrainingSources(goemotions=goemotions_slice, cache_dir=cache),
    )
    assert isinstance(again.predictor, MiniLMModel) and again.predictor.goemotions_ is not None
    assert again.predictor.goemotions_["transfer"]["cached"] is True
    assert len(list(cache.iterdir())) == 1
    weights = read_manifest(result.bundle).files["model.safetensors"]
    assert read_manifest(again.bundle).files["model.safetensors"] == weights


def stage_inputs(rows: Any, params: dict[str, Any]) -> dict[str, Any]:
    return transfer_inputs(rows, schema=SCHEMA, params=params, encoder_folder=pretrained_folder())


def test_the_cache_key_follows_data_and_parameters(goemotions_slice: Path) -> None:
    rows = load_goemotions(goemotions_slice)
    params = {**DEFAULT_PARAMS, **TRANSFER}
    key = transfer_key(stage_inputs(rows, params))
    assert key == transfer_key(stage_inputs(rows, params))
    assert key != transfer_key(stage_inputs(rows.head(50), params))
    assert key != transfer_key(stage_inputs(rows, {**params, "lr": 1e-4}))
    assert key != transfer_key(stage_inputs(rows, {**params, "seed": 1}))
    # parameters the stage does not read leave the key alone
    assert key == transfer_key(stage_inputs(rows, {**params, "epochs": 5, "max_steps": 9}))
    assert key == transfer_key(
        stage_inputs(rows, {**params, "loss_weights": {**params["loss_weights"], "intensity": 3}})
    )


def test_a_damaged_cache_entry_is_trained_again_and_replaced(
    goemotions_slice: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = load_goemotions(goemotions_slice).head(24)
    params = {**DEFAULT_PARAMS, **TRANSFER, "goemotions_max_steps": 1}
    folder = pretrained_folder()
    tokenizer = load_tokenizer(folder)

    def stage() -> Any:
        return transfer_state(
            rows,
            tokenizer=tokenizer,
            encoder_folder=folder,
            schema=SCHEMA,
            params=params,
            cache_dir=tmp_path,
        )

    first = stage()
    entry = entry_folder(tmp_path, first.key)
    weights = (entry / WEIGHTS_FILE).read_bytes()
    (entry / WEIGHTS_FILE).write_bytes(weights[:-8] + b"tampered")
    with caplog.at_level(logging.WARNING):
        second = stage()
    assert "is damaged" in caplog.text and "sha256" in caplog.text
    assert second.info["cached"] is False
    assert (entry / WEIGHTS_FILE).read_bytes() == weights  # deterministic, and replaced
    assert stage().info["cached"] is True
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders


def test_the_transfer_needs_its_source(small_data: Path) -> None:
    from emotion_clf.data import load_dataset

    with pytest.raises(DataError, match="no GoEmotions folder was given"):
        MiniLMModel(**TRANSFER).fit(load_dataset(small_data))
    with pytest.raises(ValueError, match="goemotions must be one of"):
        MiniLMModel(goemotions="both").validate_params()
    with pytest.raises(ValueError, match="goemotions_weight must be above 0"):
        MiniLMModel(goemotions_weight=0).validate_params()


def test_a_bundle_from_before_the_option_loads_as_trained_on_transcripts_only(
    transferred: tuple[TrainResult, Path],
) -> None:
    result, _ = transferred
    manifest = read_manifest(result.bundle)
    old = {k: v for k, v in manifest.params.items() if not k.startswith("goemotions")}
    model = MiniLMModel.load_state(result.bundle, schema=manifest.schema, params=old)
    assert model.params()["goemotions"] == "none"


def test_joint_rows_visit_each_goemotions_row_once_without_intensity(
    goemotions_slice: Path,
) -> None:
    rows = load_goemotions(goemotions_slice)
    tokenizer = load_tokenizer(pretrained_folder())
    transcripts = TrainingRows(
        ids=[[101, 7, 102]] * 10,
        targets={h: np.zeros(10, dtype=np.int64) for h in HEADS},
    )
    params = {**DEFAULT_PARAMS, "goemotions": "joint", "goemotions_weight": 0.25}
    joint = joint_rows(transcripts, rows, tokenizer=tokenizer, schema=SCHEMA, params=params)
    n = 10 + len(rows)
    assert len(joint.ids) == n and joint.row_weights is not None
    assert joint.row_weights.tolist() == [1.0] * 10 + [0.25] * len(rows)
    assert (joint.targets["intensity"][10:] == -1).all()
    assert (joint.targets["sub_emotion"][10:] >= 0).all()
    plan = joint.epoch_plan(3)
    for epoch in plan:  # every epoch: all transcript rows and a third of GoEmotions
        assert set(range(10)) <= set(epoch.tolist())
    shares = [sorted(set(epoch.tolist()) - set(range(10))) for epoch in plan]
    assert sorted(i for share in shares for i in share) == list(range(10, n))
    assert max(len(s) for s in shares) - min(len(s) for s in shares) <= 1


def test_the_masked_loss_matches_the_plain_one_and_skips_what_is_absent() -> None:
    torch.manual_seed(0)
    n = 12
    sizes = {h: len(SCHEMA.labels(h)) for h in HEADS}
    targets = {h: torch.randint(0, sizes[h], (n,)).numpy() for h in HEADS}
    logits = {h: torch.randn(n, sizes[h]) for h in HEADS}

    def loss(rows: TrainingRows, keep: slice, **weights: float) -> torch.Tensor:
        params = {**DEFAULT_PARAMS, "loss_weights": {h: weights.get(h, 1.0) for h in HEADS}}
        chosen = {h: v[keep] for h, v in logits.items()}
        return BatchLoss(rows, sizes=sizes, params=params)(chosen, torch.arange(len(rows.ids)))

    plain = TrainingRows(ids=[[1]] * n, targets=targets)
    ones = TrainingRows(ids=[[1]] * n, targets=targets, row_weights=np.ones(n, np.float32))
    assert not plain.masked and ones.masked
    torch.testing.assert_close(loss(ones, slice(None)), loss(plain, slice(None)))
    # row 0 weighs 0; row 1 has no intensity: each term is the plain loss without them
    weights = np.ones(n, np.float32)
    weights[0] = 0.0
    partial = {h: t.copy() for h, t in targets.items()}
    partial["intensity"][1] = -1
    rows = TrainingRows(ids=[[1]] * n, targets=partial, row_weights=weights)
    without = {
        k: TrainingRows(ids=[[1]] * (n - k), targets={h: t[k:] for h, t in targets.items()})
        for k in (1, 2)
    }
    only_intensity = {"emotion": 0.0, "sub_emotion": 0.0}
    only_emotion = {"sub_emotion": 0.0, "intensity": 0.0}
    torch.testing.assert_close(
        loss(rows, slice(None), **only_intensity),
        loss(without[2], slice(2, None), **only_intensity),
    )
    torch.testing.assert_close(
        loss(rows, slice(None), **only_emotion), loss(without[1], slice(1, None), **only_emotion)
    )


def test_a_tiny_joint_training_runs(
    small_data: Path, goemotions_slice: Path, tmp_path: Path
) -> None:
    from emotion_clf.data import load_dataset

    model = MiniLMModel(goemotions="joint", max_steps=4, batch_size=16, epochs=2).fit(
        load_dataset(small_data), sources=TrainingSources(goemotions=goemotions_slice)
    )
    assert model.goemotions_ is not None and model.goemotions_["mode"] == "joint"
    assert "transfer" not in model.goemotions_
    assert model.steps_ == 4
    batch = model.predict_batch(TEXTS)
    for prediction in batch:
        assert SCHEMA.parent[prediction.sub_emotion.label] == prediction.emotion.label
