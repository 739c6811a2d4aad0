"""Distillation: a teacher's soft labels, their cache per teacher version, the mixed loss, and a
student trained on them end to end (the tiny minilm teaches; the real teacher is base-size)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from emotion_clf.config import Settings
from emotion_clf.data.goemotions import load_goemotions
from emotion_clf.data.loader import load_dataset
from emotion_clf.data.schema import HEADS, LabelSchema
from emotion_clf.errors import DataError
from emotion_clf.models.base import TeacherSource, TrainingSources
from emotion_clf.models.bundle import bundle_digest, load_bundle, read_manifest
from emotion_clf.models.distillation import teacher_outputs, temper
from emotion_clf.models.minilm.loss import BatchLoss, distillation_per_row
from emotion_clf.models.minilm.model import DEFAULT_PARAMS
from emotion_clf.models.minilm.rows import TrainingRows, with_soft_targets
from emotion_clf.registry import open_registry
from emotion_clf.registry.tags import model_card
from emotion_clf.reports.views import distillation_note
from emotion_clf.training import train_model
from tests.cli.helpers import run_cli
from tests.conftest import TINY_MINILM_PARAMS, TinyMiniLM

SIZES = {"emotion": 4, "sub_emotion": 6, "intensity": 3}


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_temper_spreads_the_mass_and_keeps_the_order() -> None:
    logits = np.random.default_rng(0).normal(size=(50, 7)) * 3
    p = softmax(logits)
    np.testing.assert_allclose(temper(p, 1.0), p, atol=1e-6)
    hot = temper(p, 4.0)
    np.testing.assert_allclose(hot, softmax(logits / 4.0), atol=1e-6)  # softmax(z / T)
    np.testing.assert_allclose(hot.sum(axis=1), 1.0, atol=1e-6)
    assert (hot.argmax(axis=1) == p.argmax(axis=1)).all()
    entropy = lambda q: -(q * np.log(q)).sum(axis=1)  # noqa: E731
    assert (entropy(hot) > entropy(p)).all()


def test_the_distillation_term_is_zero_where_the_student_matches_and_scaled_by_t_squared() -> None:
    logits = torch.randn(8, 5, generator=torch.Generator().manual_seed(1))
    for t in (1.0, 3.0):
        soft = torch.softmax(logits / t, dim=-1)
        assert distillation_per_row(logits, soft, temperature=t).abs().max() < 1e-5
    other = torch.randn(8, 5, generator=torch.Generator().manual_seed(2))
    t = 2.0
    soft = torch.softmax(other / t, dim=-1)
    got = distillation_per_row(logits, soft, temperature=t).numpy()
    q, s = soft.numpy(), torch.log_softmax(logits / t, dim=-1).numpy()
    expected = t**2 * (q * (np.log(q) - s)).sum(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert (got > 0).all()


def loss_rows(n: int, *, seed: int = 0) -> tuple[TrainingRows, dict[str, torch.Tensor]]:
    rng = np.random.default_rng(seed)
    targets = {h: rng.integers(0, k, size=n) for h, k in SIZES.items()}
    logits = {
        h: torch.from_numpy(rng.normal(size=(n, k)).astype(np.float32)) for h, k in SIZES.items()
    }
    return TrainingRows(ids=[[1]] * n, targets=targets), logits


def soft_for(n: int, *, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {h: softmax(rng.normal(size=(n, k))).astype(np.float32) for h, k in SIZES.items()}


def params(weight: float, temperature: float = 2.0) -> dict[str, object]:
    return {**DEFAULT_PARAMS, "distill_weight": weight, "distill_temperature": temperature}


def test_the_loss_mixes_gold_and_soft_labels_by_the_weight() -> None:
    rows, logits = loss_rows(16)
    index = torch.arange(16)
    distilled = with_soft_targets(rows, soft_for(16))
    gold = float(BatchLoss(rows, sizes=SIZES, params=params(0.5))(logits, index))
    # a weight of 0 is the gold loss, whatever the teacher says
    assert float(BatchLoss(distilled, sizes=SIZES, params=params(0.0))(logits, index)) == (
        pytest.approx(gold, rel=1e-6)
    )
    soft = sum(
        distillation_per_row(
            logits[h], torch.from_numpy(distilled.soft_targets[h]), temperature=2.0
        )
        .mean()
        .item()
        for h in HEADS
    )
    assert float(BatchLoss(distilled, sizes=SIZES, params=params(1.0))(logits, index)) == (
        pytest.approx(soft, rel=1e-5)
    )
    half = float(BatchLoss(distilled, sizes=SIZES, params=params(0.5))(logits, index))
    assert half == pytest.approx(0.5 * gold + 0.5 * soft, rel=1e-5)


def test_rows_without_a_teacher_output_keep_the_gold_loss_only() -> None:
    """GoEmotions rows mixed in after the transcript rows (joint) have no teacher output."""
    rows, logits = loss_rows(12)
    weighted = TrainingRows(ids=rows.ids, targets=rows.targets, row_weights=np.ones(12, np.float32))
    distilled = with_soft_targets(weighted, {h: v[:8] for h, v in soft_for(12).items()})
    assert distilled.masked and distilled.soft_rows is not None and distilled.soft_rows.sum() == 8
    tail = torch.arange(8, 12)
    tail_logits = {h: v[8:] for h, v in logits.items()}  # a batch's logits, rows as index
    gold_only = BatchLoss(weighted, sizes=SIZES, params=params(0.5))(tail_logits, tail)
    mixed = BatchLoss(distilled, sizes=SIZES, params=params(0.5))(tail_logits, tail)
    # every row of this batch lacks a teacher output: the loss is the gold one
    assert float(mixed) == pytest.approx(float(gold_only), rel=1e-6)
    head, head_logits = torch.arange(0, 8), {h: v[:8] for h, v in logits.items()}
    with_teacher = BatchLoss(distilled, sizes=SIZES, params=params(0.5))(head_logits, head)
    without = BatchLoss(weighted, sizes=SIZES, params=params(0.5))(head_logits, head)
    assert abs(float(with_teacher) - float(without)) > 1e-3


def teacher_of(tiny_minilm: TinyMiniLM, cache: Path | None) -> TeacherSource:
    bundle = tiny_minilm.result.bundle
    return TeacherSource(
        predictor=load_bundle(bundle), key=bundle_digest(bundle), label="tiny", cache_dir=cache
    )


def test_teacher_outputs_are_cached_per_teacher_and_per_text(
    tiny_minilm: TinyMiniLM, small_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    teacher = teacher_of(tiny_minilm, tmp_path / "outputs")
    texts = load_dataset(small_data).texts[:40]
    texts = [*texts, texts[0]]  # a repeated text is asked once
    direct = teacher.predictor.predict_proba(texts)
    first, how = teacher_outputs(teacher, texts, schema=teacher.predictor.schema)
    assert how["rows"] == 41 and how["teacher_rows_computed"] == len(set(texts))
    assert how["from_cache"] == 0
    for head in HEADS:
        np.testing.assert_allclose(first[head], getattr(direct, head), atol=1e-6)
    (path,) = (tmp_path / "outputs").iterdir()
    assert path.name == f"{teacher.key}.npz"
    with np.load(path, allow_pickle=False) as stored:  # plain arrays only
        assert stored["keys"].dtype == np.dtype("S64")
        assert len(stored["keys"]) == len(set(texts))

    again, how = teacher_outputs(teacher, texts, schema=teacher.predictor.schema)
    assert how["teacher_rows_computed"] == 0 and how["from_cache"] == 41
    for head in HEADS:
        np.testing.assert_array_equal(again[head], first[head])

    more = ["A brand new sentence.", texts[3], "Another one, never seen."]
    _, how = teacher_outputs(teacher, more, schema=teacher.predictor.schema)
    assert how["teacher_rows_computed"] == 2 and how["from_cache"] == 1

    # another teacher version (another digest) keeps its own file
    other = TeacherSource(
        predictor=teacher.predictor, key="0" * 64, label="other", cache_dir=teacher.cache_dir
    )
    _, how = teacher_outputs(other, texts[:5], schema=teacher.predictor.schema)
    assert how["teacher_rows_computed"] == len(set(texts[:5]))
    assert len(list((tmp_path / "outputs").iterdir())) == 2

    path.write_bytes(b"not an npz file")
    with caplog.at_level(logging.WARNING, logger="emotion_clf.models.distillation"):
        fixed, how = teacher_outputs(teacher, texts, schema=teacher.predictor.schema)
    assert "unusable" in caplog.text and how["teacher_rows_computed"] == len(set(texts))
    for head in HEADS:
        np.testing.assert_allclose(fixed[head], first[head], atol=1e-6)


def test_a_teacher_with_other_labels_is_refused(tiny_minilm: TinyMiniLM) -> None:
    teacher = teacher_of(tiny_minilm, None)
    schema = teacher.predictor.schema
    first = schema.emotions[0]
    renamed = {s: (f"{first}-renamed" if p == first else p) for s, p in schema.parent.items()}
    other = LabelSchema(
        emotions=(f"{first}-renamed", *schema.emotions[1:]),
        sub_emotions=schema.sub_emotions,
        intensities=schema.intensities,
        parent=renamed,
    )
    with pytest.raises(DataError, match="other emotion labels"):
        teacher_outputs(teacher, ["Hello."], schema=other)


STUDENT = {**TINY_MINILM_PARAMS, "max_steps": 6}


def student_weights(result_bundle: Path) -> dict[str, np.ndarray]:
    return load_file(str(result_bundle / "model.safetensors"))


def test_a_student_learns_from_the_teacher_and_records_it(
    tiny_minilm: TinyMiniLM, small_data: Path, tmp_path: Path, lifecycle_settings: Settings
) -> None:
    teacher = teacher_of(tiny_minilm, tmp_path / "outputs")
    sources = TrainingSources(teacher=teacher)
    plain = train_model("minilm", data=small_data, out=tmp_path / "plain", params=STUDENT)
    muted = train_model(
        "minilm",
        data=small_data,
        out=tmp_path / "muted",
        params={**STUDENT, "distill_weight": 0.0},
        sources=sources,
    )
    taught = train_model(
        "minilm",
        data=small_data,
        out=tmp_path / "taught",
        params={**STUDENT, "distill_weight": 1.0, "distill_temperature": 1.0},
        sources=sources,
    )
    base, zero, soft = (student_weights(r.bundle) for r in (plain, muted, taught))
    # with weight 0 the teacher changes nothing; with weight 1 it is all the student hears
    assert max(float(np.abs(base[k] - zero[k]).max()) for k in base) < 1e-5
    assert max(float(np.abs(base[k] - soft[k]).max()) for k in base) > 1e-4

    record = taught.predictor.distillation_
    assert record["teacher"] == "tiny" and record["teacher_family"] == "minilm"
    assert record["teacher_digest"] == teacher.key
    assert record["rows"] == read_manifest(taught.bundle).extra["train_rows"] > 0
    assert record["temperature"] == 1.0 and record["weight"] == 1.0
    assert record["from_cache"] == record["rows"]  # the muted student's training filled it
    assert read_manifest(taught.bundle).extra["distillation"] == record
    assert load_bundle(taught.bundle).distillation_ == record
    # the model card and the training report say where the student learned
    assert "- distilled from minilm tiny (temperature 1.0, weight 1.0)" in model_card(
        read_manifest(taught.bundle), {}
    )
    assert "distilled from minilm tiny (temperature 1, weight 1;" in distillation_note(
        taught.predictor
    )
    assert distillation_note(plain.predictor) == ""
    registry = open_registry(lifecycle_settings)
    info = registry.register(taught)
    tags = registry.client.get_run(info.run_id).data.tags
    assert tags["distillation.teacher"] == "tiny"
    assert tags["distillation.teacher_digest"] == teacher.key
    version = registry.client.get_model_version(registry.model_name, info.version)
    assert "distilled from minilm tiny" in version.description
    assert getattr(plain.predictor, "distillation_", None) is None
    assert "distillation" not in read_manifest(plain.bundle).extra


def test_train_takes_a_teacher_on_the_command_line(
    tiny_minilm: TinyMiniLM, small_data: Path, tmp_path: Path, workspace: Path
) -> None:
    teacher = str(tiny_minilm.result.bundle)
    out = tmp_path / "student"
    trained = run_cli(
        "train",
        "--family",
        "minilm",
        "--data",
        str(small_data),
        "--max-steps",
        "2",
        "--teacher",
        teacher,
        "--distill-weight",
        "0.7",
        "--out",
        str(out),
        "--json",
        home=workspace,
    )
    assert trained.returncode == 0, trained.stderr
    state = json.loads((out / "minilm_state.json").read_text())
    assert state["distillation"]["teacher"] == teacher
    assert state["distillation"]["weight"] == 0.7
    assert read_manifest(out).params["distill_weight"] == 0.7
    # the outputs are kept in the workspace, under the teacher's digest
    cached = workspace / ".cache" / "teacher-outputs" / f"{bundle_digest(teacher)}.npz"
    assert cached.is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--family", "tfidf", "--teacher", "{teacher}"),
            "--teacher only applies to --family minilm",
        ),
        (("--family", "minilm", "--distill-weight", "0.3"), "--distill-weight need(s) --teacher"),
        (("--family", "minilm", "--teacher", "{missing}"), "neither a bundle folder"),
        (
            ("--family", "minilm", "--teacher", "{teacher}", "--distill-weight", "2"),
            "Invalid value for '--distill-weight'",
        ),
    ],
)
def test_train_refuses_a_teacher_it_cannot_use(
    args: tuple[str, ...],
    message: str,
    tiny_minilm: TinyMiniLM,
    tmp_path: Path,
    workspace: Path,
) -> None:
    names = {"teacher": str(tiny_minilm.result.bundle), "missing": str(tmp_path / "nope")}
    result = run_cli(
        "train", *(a.format(**names) for a in args), "--out", str(tmp_path / "o"), home=workspace
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert message in " ".join(result.stderr.split()), result.stderr
    assert not (tmp_path / "o").exists()


def test_joint_training_teaches_the_goemotions_rows_too(
    tiny_minilm: TinyMiniLM, small_data: Path, tmp_path: Path
) -> None:
    """With GoEmotions rows mixed into the epochs, the teacher reads them as well: they get
    its soft labels (intensity included, which GoEmotions lacks) beside their gold ones."""
    shipped = Path(__file__).resolve().parents[2] / "data" / "goemotions"
    goemotions = tmp_path / "goemotions"
    goemotions.mkdir()
    shutil.copy(shipped / "labels.txt", goemotions / "labels.txt")
    lines = (shipped / "train.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    (goemotions / "train.tsv").write_text("".join(lines[:60]), encoding="utf-8")
    rows = load_goemotions(goemotions, split="train")
    result = train_model(
        "minilm",
        data=small_data,
        out=tmp_path / "joint",
        params={**STUDENT, "goemotions": "joint"},
        sources=TrainingSources(
            goemotions=goemotions, teacher=teacher_of(tiny_minilm, tmp_path / "outputs")
        ),
    )
    record = result.predictor.distillation_
    transcript_rows = read_manifest(result.bundle).extra["train_rows"]
    assert record["rows"] == transcript_rows + len(rows)
    assert result.predictor.goemotions_["rows"] == len(rows)
