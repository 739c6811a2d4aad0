"""The minilm family: a tiny real fine-tune (a few steps on a slice of the real data), its
bundle, the hierarchy rule, the fast inference path against plain fp32, determinism, and the
absence of any network access.

The tiny model is trained once per session (``tiny_minilm`` in ``tests/conftest.py``, shared
with every test that only reads it); the whole file runs in about a minute on 2 cores.
"""

from __future__ import annotations

import collections
import copy
import gc
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from emotion_clf.data.loader import load_dataset
from emotion_clf.data.schema import HEADS, SCHEMA
from emotion_clf.errors import BundleError, DataError
from emotion_clf.models.base import decode
from emotion_clf.models.bundle import load_bundle, read_manifest, verify_bundle
from emotion_clf.models.minilm import MiniLMModel, onnx_int8
from emotion_clf.models.minilm import encoder as minilm_encoder
from emotion_clf.models.minilm import folder as minilm_folder
from emotion_clf.models.minilm.batching import sorted_batches
from emotion_clf.models.minilm.encoder import pad, tokenize
from emotion_clf.models.minilm.loss import BatchLoss, class_weights
from emotion_clf.models.minilm.rows import TrainingRows
from emotion_clf.models.minilm.runtime import (
    BF16_RUNTIME,
    INT8_RUNTIME,
    ONNX_INT8_RUNTIME,
    PLAIN_RUNTIME,
    RUNTIMES,
    Runtime,
    resolve_runtime,
)
from emotion_clf.models.minilm.training import training_batches
from emotion_clf.training import TrainResult, build_predictor, train_model
from tests.conftest import TINY_MINILM_PARAMS, NetworkTouched, TinyMiniLM, network_refused

TINY = TINY_MINILM_PARAMS
SENTENCES = [
    "I love this so much!",
    "Get out of here.",
    "What just happened?",
    "Okay.",
    "I can't believe you did that to me, you liar!",
    "That's disgusting, take it away.",
    "I'm so scared, please don't leave me alone in the dark.",
    "We lost him last night.",
    "Thank you, really, from the bottom of my heart.",
    "Wait, you're telling me the store is closed on a Tuesday?",
    "Yeah.",
    "Hmm, I'm not sure what you mean by that.",
]


@pytest.fixture(scope="module")
def no_network() -> Iterator[list[tuple[str, Any]]]:
    """Any socket connection or name lookup raises and is recorded, for the whole module."""
    with network_refused() as attempts:
        yield attempts


@pytest.fixture(scope="module")
def tiny(tiny_minilm: TinyMiniLM) -> tuple[TrainResult, list[tuple[str, float]]]:
    """The session's tiny minilm (30 steps, 2 epochs, on the 480-row slice) and its progress
    reports."""
    return tiny_minilm.result, tiny_minilm.progress


def test_the_network_guard_refuses_connections(no_network: list[Any]) -> None:
    with pytest.raises(NetworkTouched), socket.create_connection(("127.0.0.1", 9)):
        pass


def test_training_touched_no_network(tiny_minilm: TinyMiniLM) -> None:
    """Training, and the evaluation and save that follow it, ran under the network guard."""
    assert tiny_minilm.network_attempts == []


def test_tiny_training_writes_a_verified_safetensors_bundle(tiny: tuple[TrainResult, Any]) -> None:
    result, _ = tiny
    manifest = verify_bundle(result.bundle)
    assert manifest.family == "minilm"
    assert manifest.runtime == resolve_runtime("auto") != PLAIN_RUNTIME
    assert manifest.params["max_steps"] == 30
    assert manifest.params["seed"] == 0
    assert {
        "model.safetensors",
        "minilm_state.json",
        "encoder/config.json",
        "encoder/tokenizer.json",
        "encoder/tokenizer_config.json",
        "encoder/vocab.txt",
    } <= set(manifest.files)
    for name in manifest.files:  # weights in safetensors, the rest JSON/text: no pickle
        head = (result.bundle / name).read_bytes()[:2]
        assert head != b"\x80\x04" and head != b"PK", name
    assert set(manifest.metrics) == {"validation", "test"}
    for split in manifest.metrics.values():
        assert set(split) == set(HEADS)
    history = manifest.extra["history"]
    # max_steps stopped the training partway through its last epoch (how many rows an epoch has
    # depends on the slice held out for the reference profile)
    steps = [h["steps"] for h in history]
    per_epoch = steps[0]
    assert steps[:-1] == [per_epoch * (i + 1) for i in range(len(steps) - 1)]
    assert steps[-1] == 30.0 and 0 < 30.0 - steps[-2] <= per_epoch
    assert {"train_loss", "val_score", "val_emotion_macro_f1"} <= set(history[0])
    # a validation loss each epoch, on the training loss's scale (the same loss, held-out rows)
    for record in history:
        assert 0.5 * record["train_loss"] < record["val_loss"] < 2.0 * record["train_loss"]


def test_progress_reports_loss_and_reaches_the_end(tiny: tuple[TrainResult, Any]) -> None:
    result, reports = tiny
    fractions = [f for _, f in reports]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    epochs = len(read_manifest(result.bundle).extra["history"])
    for epoch in range(1, epochs + 1):  # every epoch reported its loss, out of the right total
        assert any(text.startswith(f"epoch {epoch}/{epochs} loss ") for text, _ in reports)


def test_the_bundle_loads_without_the_pretrained_package(
    tiny: tuple[TrainResult, Any], monkeypatch: pytest.MonkeyPatch, no_network: list[Any]
) -> None:
    result, _ = tiny

    def missing() -> Path:
        raise AssertionError("loading a bundle looked for the pretrained package")

    monkeypatch.setattr(minilm_encoder, "pretrained_folder", missing)
    monkeypatch.setattr(minilm_folder, "pretrained_folder", missing)
    attempts_before = len(no_network)
    loaded = load_bundle(result.bundle)
    assert isinstance(loaded, MiniLMModel)
    assert len(loaded.predict_batch(SENTENCES[:2]).labels("emotion")) == 2
    assert no_network[attempts_before:] == []


def test_round_trip_gives_identical_predictions(tiny: tuple[TrainResult, Any]) -> None:
    result, _ = tiny
    before = result.predictor.predict_proba(SENTENCES)
    loaded = load_bundle(result.bundle)
    after = loaded.predict_proba(SENTENCES)
    for head in HEADS:
        np.testing.assert_array_equal(getattr(before, head), getattr(after, head))
    assert loaded.training_history() == result.predictor.training_history()
    assert loaded.params() == result.predictor.params()


def test_every_prediction_respects_the_hierarchy(
    tiny: tuple[TrainResult, Any], small_data: Path
) -> None:
    result, _ = tiny
    model = result.predictor
    assert isinstance(model, MiniLMModel)
    texts = load_dataset(small_data).texts + SENTENCES
    for runtime in RUNTIMES:
        raw = model.with_runtime(runtime).predict_proba(texts)
        for decoding in ("joint", "emotion_first"):
            for prediction in decode(raw, SCHEMA, decoding):
                assert SCHEMA.parent[prediction.sub_emotion.label] == prediction.emotion.label
    for prediction in model.predict(texts):  # the default path, as the CLI and server use it
        assert SCHEMA.parent[prediction.sub_emotion.label] == prediction.emotion.label


@pytest.mark.parametrize(
    ("runtime", "tolerance"),
    [(BF16_RUNTIME, 0.02), (INT8_RUNTIME, 0.08), (ONNX_INT8_RUNTIME, 0.08)],
)
def test_fast_paths_agree_with_plain_fp32(
    tiny: tuple[TrainResult, Any], runtime: str, tolerance: float
) -> None:
    """Same labels wherever fp32 is not at a near-tie; probabilities close everywhere.

    A 30-step model is unsure of much (its top two classes can be 0.001 apart), so a label
    flip there says nothing about the fast path; the fully trained model is held to exact
    agreement in ``test_fast_path_agrees_with_fp32_on_a_fully_trained_model``.
    """
    result, _ = tiny
    model = result.predictor
    assert isinstance(model, MiniLMModel)
    fast = model.with_runtime(runtime)
    plain = model.with_runtime(PLAIN_RUNTIME)
    assert (fast.runtime, plain.runtime) == (runtime, PLAIN_RUNTIME)
    fast_batch, plain_batch = fast.predict_batch(SENTENCES), plain.predict_batch(SENTENCES)
    assert model.decoding == "joint"  # so the sub-emotion distribution decides the emotion
    decided = 0
    for head in HEADS:
        fast_p = getattr(fast_batch.probabilities, head)
        plain_p = getattr(plain_batch.probabilities, head)
        assert np.abs(fast_p - plain_p).max() < tolerance, head
        deciding = plain_batch.probabilities.sub_emotion if head == "emotion" else plain_p
        top2 = np.sort(deciding, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > 2 * tolerance  # no allowed difference flips these
        decided += int(clear.sum())
        agree = np.array(fast_batch.labels(head)) == np.array(plain_batch.labels(head))
        assert agree[clear].all(), head
    assert decided >= len(SENTENCES)  # the check above covered a good part of the labels
    # the fast paths sort by length internally; the output order is the input order
    reversed_batch = fast.predict_batch(SENTENCES[::-1])
    assert reversed_batch.labels("sub_emotion")[::-1] == fast_batch.labels("sub_emotion")


def test_the_bf16_path_runs_a_traced_graph_with_the_eager_modules_logits(
    tiny: tuple[TrainResult, Any],
) -> None:
    model = tiny[0].predictor
    assert isinstance(model, MiniLMModel)
    runtime = Runtime(
        model.module_, model.tokenizer_, name=BF16_RUNTIME, max_length=64, batch_size=128
    )
    assert isinstance(runtime.module, torch.jit.ScriptModule)
    eager = copy.deepcopy(model.module_).to(torch.bfloat16).eval()
    for texts in (SENTENCES[:1], SENTENCES, SENTENCES[::-1][:5], ["a"] * 3):
        ids, mask = pad(tokenize(model.tokenizer_, texts, max_length=64), pad_id=runtime.pad_id)
        with torch.inference_mode():
            want, got = eager(ids, mask), runtime.module(ids, mask)
        for head in HEADS:
            assert torch.equal(want[head], got[head]), (head, ids.shape)


def test_building_the_traced_runtime_again_and_again_does_not_grow_memory(
    tiny: tuple[TrainResult, Any],
) -> None:
    """A server builds one per model swap. Each trace compiled a new TorchScript type whose
    graphs stayed in the global compilation unit after its runtime was dropped (about 10 MiB
    per build for MiniLM-L6; a frozen graph, earlier, kept a copy of the weights too)."""
    model = tiny[0].predictor
    assert isinstance(model, MiniLMModel)
    weights_mib = sum(p.numel() for p in model.module_.parameters()) * 2 / 2**20  # bf16

    def build() -> torch.jit.ScriptModule:
        runtime = Runtime(
            model.module_, model.tokenizer_, name=BF16_RUNTIME, max_length=64, batch_size=128
        )
        assert isinstance(runtime.module, torch.jit.ScriptModule)
        runtime.logits(SENTENCES)
        return runtime.module

    def rss_mib() -> float:
        gc.collect()
        status = Path(f"/proc/{os.getpid()}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024

    # the mechanism: every build runs the one compiled type (its graphs), with its own weights
    first, second = build(), build()
    assert first._c._type() == second._c._type()
    assert first.encoder.embeddings.word_embeddings.weight.data_ptr() != (
        second.encoder.embeddings.word_embeddings.weight.data_ptr()
    )
    del first, second
    before = rss_mib()
    for _ in range(8):
        build()
    grown = rss_mib() - before
    # before the fix: a copy of the weights, then ~10 MiB, per build; the allocator's own
    # drift was up to a copy in CI
    assert grown < 1.5 * weights_mib, f"{grown:.0f} MiB after 8 builds; a copy: {weights_mib:.0f}"
    print(f"{grown:.1f} MiB after 8 builds; a copy of the weights: {weights_mib:.0f} MiB")


def test_a_traced_graph_copied_for_new_weights_gives_their_logits(
    tiny: tuple[TrainResult, Any],
) -> None:
    """A second load of the same architecture runs the first load's graph with its own weights:
    its logits are its eager module's, not the first model's."""
    model = tiny[0].predictor
    assert isinstance(model, MiniLMModel)
    first = Runtime(
        model.module_, model.tokenizer_, name=BF16_RUNTIME, max_length=64, batch_size=128
    )
    other = copy.deepcopy(model.module_)
    with torch.no_grad():
        for param in other.parameters():
            param.add_(torch.randn_like(param) * 0.05, alpha=1.0)
    second = Runtime(other, model.tokenizer_, name=BF16_RUNTIME, max_length=64, batch_size=128)
    assert isinstance(second.module, torch.jit.ScriptModule)
    assert second.module._c._type() == first.module._c._type()
    eager = copy.deepcopy(other).to(torch.bfloat16).eval()
    ids, mask = pad(tokenize(model.tokenizer_, SENTENCES, max_length=64), pad_id=second.pad_id)
    with torch.inference_mode():
        want, got, old = eager(ids, mask), second.module(ids, mask), first.module(ids, mask)
    for head in HEADS:
        assert torch.equal(want[head], got[head]), head
        assert not torch.equal(old[head], got[head]), head


def test_where_tracing_fails_the_eager_module_runs_and_the_log_says_so(
    tiny: tuple[TrainResult, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = tiny[0].predictor
    assert isinstance(model, MiniLMModel)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no TorchScript in this torch")

    from emotion_clf.models.minilm import runtime as minilm_runtime

    monkeypatch.setattr(minilm_runtime, "_GRAPHS", {})  # as in a process that traced none yet
    monkeypatch.setattr(torch.jit, "trace", broken)
    with caplog.at_level("WARNING"):
        runtime = Runtime(
            model.module_, model.tokenizer_, name=BF16_RUNTIME, max_length=64, batch_size=128
        )
    assert not isinstance(runtime.module, torch.jit.ScriptModule)
    assert "no TorchScript in this torch" in caplog.text
    assert runtime.logits(SENTENCES)["emotion"].shape == (len(SENTENCES), 7)


def test_the_onnx_path_runs_onnx_runtime_and_leaves_the_module_as_it_was(
    tiny: tuple[TrainResult, Any],
) -> None:
    """The exporter sets every submodule to the mode of the module it was given (a new
    wrapper starts in training mode): the model's own module must come out of the export with
    dropout still off, its fp32 answers the same (with the wrapper in training mode, the
    check refuses the export and this path falls back to torch-int8)."""
    model = tiny[0].predictor
    assert isinstance(model, MiniLMModel)
    plain = model.with_runtime(PLAIN_RUNTIME)
    before = plain.logits(SENTENCES)
    fast = model.with_runtime(ONNX_INT8_RUNTIME)
    fast.logits(SENTENCES[:2])
    assert fast.runtime == ONNX_INT8_RUNTIME
    engine = fast._engine()
    assert type(engine.session).__module__.startswith("onnxruntime")
    # counted as torch counts its own: `serve --workers N` gives each worker cores/N of them
    options = engine.session.get_session_options()
    assert options.intra_op_num_threads == onnx_int8.session_threads(0)
    assert not model.module_.training
    after = plain.logits(SENTENCES)
    for head in HEADS:
        assert np.array_equal(before[head], after[head]), head


def test_the_onnx_graph_is_converted_once_per_weights(
    tiny: tuple[TrainResult, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second load of the same weights reuses the int8 graph (a rollback pays no 3-6 s of
    export and quantisation); other weights get their own graph and their own logits."""
    model = tiny[0].predictor
    assert isinstance(model, MiniLMModel)
    exports: list[int] = []
    real_export = onnx_int8.export_fp32

    def counted(*args: Any, **kwargs: Any) -> None:
        exports.append(1)
        real_export(*args, **kwargs)

    monkeypatch.setattr(onnx_int8, "_MEMO", collections.OrderedDict())
    monkeypatch.setattr(onnx_int8, "export_fp32", counted)

    def build(module: torch.nn.Module) -> Runtime:
        return Runtime(
            module, model.tokenizer_, name=ONNX_INT8_RUNTIME, max_length=64, batch_size=128
        )

    first = build(model.module_).logits(SENTENCES)
    again = build(model.module_).logits(SENTENCES)
    assert len(exports) == 1
    other = copy.deepcopy(model.module_)
    with torch.no_grad():
        for param in other.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    moved = build(other).logits(SENTENCES)
    assert len(exports) == 2
    for head in HEADS:
        assert np.array_equal(first[head], again[head]), head
        assert not np.allclose(first[head], moved[head]), head


def test_an_export_that_differs_from_the_module_falls_back_to_torch_int8(
    tiny: tuple[TrainResult, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The export is checked against the eager module's logits before it is used: a graph
    that computes something else (here: the weights of another model) is refused, and the
    runtime falls back to PyTorch's int8 path, saying why."""
    model = tiny[0].predictor
    assert isinstance(model, MiniLMModel)
    real_export = onnx_int8.export_fp32

    def wrong(module: torch.nn.Module, *args: Any, **kwargs: Any) -> None:
        other = copy.deepcopy(module)
        with torch.no_grad():
            for param in other.heads.parameters():
                param.mul_(2.0)
        real_export(other, *args, **kwargs)

    monkeypatch.setattr(onnx_int8, "_MEMO", collections.OrderedDict())
    monkeypatch.setattr(onnx_int8, "export_fp32", wrong)
    with caplog.at_level("WARNING"):
        runtime = Runtime(
            model.module_, model.tokenizer_, name=ONNX_INT8_RUNTIME, max_length=64, batch_size=128
        )
    assert runtime.name == INT8_RUNTIME and runtime.session is None
    assert "onnx-int8 path could not be built" in caplog.text
    assert "differ from the eager module" in caplog.text
    assert runtime.logits(SENTENCES)["emotion"].shape == (len(SENTENCES), 7)


def test_auto_runtime_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from emotion_clf.models.minilm import runtime as minilm_runtime

    monkeypatch.setattr(minilm_runtime, "native_bf16", lambda: True)
    assert MiniLMModel().runtime == BF16_RUNTIME
    monkeypatch.setattr(minilm_runtime, "native_bf16", lambda: False)
    assert MiniLMModel().runtime == ONNX_INT8_RUNTIME
    assert MiniLMModel(runtime=PLAIN_RUNTIME).runtime == PLAIN_RUNTIME


def test_same_seed_gives_identical_weights_and_another_seed_does_not(
    small_data: Path, tmp_path: Path
) -> None:
    short = {**TINY, "max_steps": 3}  # a few steps are enough to tell two trainings apart
    first = train_model("minilm", data=small_data, out=tmp_path / "first", seed=0, params=short)
    again = train_model("minilm", data=small_data, out=tmp_path / "again", seed=0, params=short)
    weights = read_manifest(first.bundle).files["model.safetensors"]
    assert read_manifest(again.bundle).files["model.safetensors"] == weights
    np.testing.assert_array_equal(
        again.predictor.predict_proba(SENTENCES).sub_emotion,
        first.predictor.predict_proba(SENTENCES).sub_emotion,
    )
    other = train_model("minilm", data=small_data, out=tmp_path / "other", seed=1, params=short)
    assert read_manifest(other.bundle).files["model.safetensors"] != weights


def test_a_bundle_with_missing_weights_is_a_clear_error(
    tiny: tuple[TrainResult, Any], tmp_path: Path
) -> None:
    result, _ = tiny
    manifest = read_manifest(result.bundle)
    with pytest.raises(BundleError, match="lacks encoder file"):
        MiniLMModel.load_state(tmp_path, schema=manifest.schema, params=manifest.params)
    shutil.copytree(result.bundle, tmp_path / "copy")
    (tmp_path / "copy" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(BundleError, match="unreadable"):
        MiniLMModel.load_state(tmp_path / "copy", schema=manifest.schema, params=manifest.params)


def test_a_manifest_with_unknown_parameters_is_refused(
    tiny: tuple[TrainResult, Any],
) -> None:
    result, _ = tiny
    manifest = read_manifest(result.bundle)
    with pytest.raises(BundleError, match="parameters are invalid"):
        MiniLMModel.load_state(
            result.bundle, schema=manifest.schema, params={**manifest.params, "pooling": "cls"}
        )


def test_a_bundle_trained_on_a_gpu_loads_and_predicts_on_the_cpu(
    tiny: tuple[TrainResult, Any],
) -> None:
    result, _ = tiny
    manifest = read_manifest(result.bundle)
    loaded = MiniLMModel.load_state(
        result.bundle, schema=manifest.schema, params={**manifest.params, "device": "cuda"}
    )
    before = result.predictor.predict_proba(SENTENCES)
    after = loaded.predict_proba(SENTENCES)
    for head in HEADS:
        np.testing.assert_array_equal(getattr(before, head), getattr(after, head))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_training_on_an_absent_gpu_is_refused_before_anything_loads() -> None:
    model = MiniLMModel(device="cuda")
    model.validate_params()  # the name is fine: a bundle trained so loads here
    with pytest.raises(ValueError, match="no CUDA GPU"):
        model.check_training_environment()
    with pytest.raises(DataError, match="no CUDA GPU"):
        build_predictor("minilm", seed=0, params={"device": "cuda"})


def test_unknown_parameters_and_runtimes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown minilm parameter"):
        MiniLMModel(epoch=3).validate_params()
    with pytest.raises(ValueError, match="runtime"):
        MiniLMModel(runtime="onnx").validate_params()
    with pytest.raises(ValueError, match="'cpu' or 'cuda"):
        MiniLMModel(device="tpu").validate_params()
    with pytest.raises(BundleError, match="not trained"):
        MiniLMModel().predict(["hello"])


def test_class_weights_lift_rare_classes_and_average_one() -> None:
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    weights = class_weights(labels, 4, power=0.5)
    assert weights[3] == 0.0  # absent
    assert weights[2] > weights[1] > weights[0]
    assert np.isclose(weights[labels].mean(), 1.0)
    np.testing.assert_allclose(class_weights(labels, 4, power=0.0)[:3], 1.0)


def test_the_validation_loss_is_the_training_loss_on_held_out_rows() -> None:
    """held_out() gives what the training loss would give on those rows: the same class
    weights (from the training rows), smoothing and head weights; a head's missing labels
    (-1) are left out of its mean."""
    rng = np.random.default_rng(3)
    sizes = {h: len(SCHEMA.labels(h)) for h in HEADS}
    train_targets = {h: rng.integers(0, n, size=200) for h, n in sizes.items()}
    params = {
        "label_smoothing": 0.1,
        "loss_weights": {"emotion": 1.0, "sub_emotion": 0.5, "intensity": 0.25},
        "class_weight_power": {"emotion": 0.5, "sub_emotion": 0.0, "intensity": 0.0},
    }
    loss = BatchLoss(
        TrainingRows(ids=[[1]] * 200, targets=train_targets), sizes=sizes, params=params
    )
    logits = {h: rng.normal(size=(40, n)).astype(np.float32) for h, n in sizes.items()}
    held = {h: rng.integers(0, n, size=40) for h, n in sizes.items()}
    as_training = BatchLoss(TrainingRows(ids=[[1]] * 40, targets=held), sizes=sizes, params=params)
    as_training.class_weights, as_training.losses = loss.class_weights, loss.losses
    expected = as_training({h: torch.from_numpy(v) for h, v in logits.items()}, torch.arange(40))
    assert loss.held_out(logits, held) == pytest.approx(float(expected), rel=1e-5)
    held["intensity"][:10] = -1  # rows without an intensity label: out of that head's mean
    masked = loss.held_out(logits, held)
    logits["intensity"][:10] = 50 * rng.normal(size=(10, sizes["intensity"]))
    assert loss.held_out(logits, held) == pytest.approx(masked, rel=1e-6)
    assert masked != pytest.approx(float(expected), rel=1e-3)


def test_training_batches_cover_every_row_once_and_depend_on_the_seed() -> None:
    lengths = list(np.random.default_rng(0).integers(3, 40, size=1000))
    first = training_batches(lengths, batch_size=32, rng=np.random.default_rng(7))
    again = training_batches(lengths, batch_size=32, rng=np.random.default_rng(7))
    other = training_batches(lengths, batch_size=32, rng=np.random.default_rng(8))
    assert sorted(np.concatenate(first).tolist()) == list(range(1000))
    assert all(len(b) <= 32 for b in first)
    assert [b.tolist() for b in first] == [b.tolist() for b in again]
    assert [b.tolist() for b in first] != [b.tolist() for b in other]


def test_sorted_batches_group_similar_lengths() -> None:
    lengths = [30, 5, 7, 12, 5, 35, 9, 8]
    groups = sorted_batches(lengths, batch_size=3)
    assert [len(g) for g in groups] == [3, 3, 2]
    assert sorted(np.concatenate(groups).tolist()) == list(range(len(lengths)))
    widths = [[lengths[i] for i in g] for g in groups]
    assert widths == [[5, 5, 7], [8, 9, 12], [30, 35]]


def test_a_batch_is_cut_where_a_pass_of_its_own_costs_less_than_the_padding() -> None:
    # thirty short sentences and two long ones: padding all to 84 costs 32 * 84 = 2,688 tokens;
    # two passes cost 30 * 6 + 128 + 2 * 84 + 128 = 604
    lengths = [6] * 30 + [80, 84]
    [block] = sorted_batches(lengths, batch_size=64)
    cut = sorted_batches(lengths, batch_size=64, pass_tokens=128)
    assert [len(b) for b in cut] == [30, 2] and sorted(np.concatenate(cut)) == sorted(block)
    # a pass so expensive that one is always cheapest: the batch stays whole
    assert [len(b) for b in sorted_batches(lengths, batch_size=64, pass_tokens=1e9)] == [32]


def test_the_cuts_are_the_cheapest_there_are() -> None:
    from itertools import combinations, pairwise

    from emotion_clf.models.minilm.batching import cheapest_cuts

    def cost(lengths: list[int], runs: list[tuple[int, int]], c: float) -> float:
        return sum((b - a) * lengths[b - 1] + c for a, b in runs)

    rng = np.random.default_rng(3)
    for _ in range(30):
        lengths = sorted(rng.integers(1, 100, size=int(rng.integers(1, 9))).tolist())
        c = float(rng.integers(0, 200))
        n = len(lengths)
        every = [
            list(zip((0, *cuts), (*cuts, n), strict=True))
            for k in range(n)
            for cuts in combinations(range(1, n), k)
        ]
        runs = cheapest_cuts(np.asarray(lengths), c)
        assert runs[0][0] == 0 and runs[-1][1] == n
        assert all(a < b for a, b in runs) and all(x[1] == y[0] for x, y in pairwise(runs))
        assert cost(lengths, runs, c) == min(cost(lengths, r, c) for r in every)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("EMOTION_CLF_MINILM_BUNDLE"),
    reason="set EMOTION_CLF_MINILM_BUNDLE to a fully trained minilm bundle",
)
def test_fast_paths_agree_with_fp32_on_a_fully_trained_model(small_data: Path) -> None:
    """bf16 (shipped where the CPU has bf16 units): the same labels on the fixed sentences and
    on 99% of real rows. int8 (the fallback) moves more near-ties: at least 85% of real rows
    (``label_agreement_with_fp32`` in benchmarks/results/minilm_speed.json)."""
    model = load_bundle(os.environ["EMOTION_CLF_MINILM_BUNDLE"])
    assert isinstance(model, MiniLMModel)
    texts = load_dataset(small_data).texts
    plain = model.with_runtime(PLAIN_RUNTIME)
    bf16 = model.with_runtime(BF16_RUNTIME).predict_batch(SENTENCES)
    for head in HEADS:
        assert bf16.labels(head) == plain.predict_batch(SENTENCES).labels(head), head
    reference = plain.predict_batch(texts)
    for runtime, share in ((BF16_RUNTIME, 0.99), (INT8_RUNTIME, 0.85), (ONNX_INT8_RUNTIME, 0.85)):
        batch = model.with_runtime(runtime).predict_batch(texts)
        for head in HEADS:
            same = np.mean(np.array(batch.labels(head)) == np.array(reference.labels(head)))
            assert same >= share, (runtime, head, same)
