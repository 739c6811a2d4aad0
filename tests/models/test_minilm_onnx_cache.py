"""The disk cache of minilm's int8 ONNX graph, and the network a loaded bundle builds only when
something asks for it.

A second load of the same weights with the same cache folder reads the graph and builds
nothing (no export, no quantisation, no PyTorch module, no import of torch or transformers),
and answers exactly as the load that built it; a damaged entry is reported, built again and
replaced; the key follows the library versions and the export settings; an entry appears
whole or not at all.
"""

from __future__ import annotations

import collections
import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from emotion_clf.data.schema import HEADS
from emotion_clf.errors import BundleError
from emotion_clf.models.bundle import load_bundle
from emotion_clf.models.minilm import MiniLMModel, onnx_int8
from emotion_clf.models.minilm.graph_cache import ONNX_INT8
from emotion_clf.models.minilm.network import Network, weights_digest
from emotion_clf.models.minilm.runtime import INT8_RUNTIME, ONNX_INT8_RUNTIME, PLAIN_RUNTIME
from tests.conftest import TinyMiniLM

SENTENCES = [
    "I love this so much!",
    "Get out of here.",
    "What just happened?",
    "Okay.",
    "I can't believe you did that to me, you liar!",
    "We lost him last night.",
]


def onnx_model(bundle: Path, cache: Path | None) -> MiniLMModel:
    """``bundle`` loaded as a fresh process would: the in-process memo empty (the caller
    patches it), the onnx-int8 path whatever this CPU would pick."""
    model = load_bundle(bundle, runtime_cache=cache)
    assert isinstance(model, MiniLMModel)
    return model.with_runtime(ONNX_INT8_RUNTIME)


def logits(model: MiniLMModel) -> dict[str, np.ndarray]:
    return model.logits(SENTENCES)


def assert_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for head in HEADS:
        assert np.array_equal(a[head], b[head]), head


@pytest.fixture
def fresh_memo(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Empties the in-process memo now; calling the result empties it again (a new process)."""

    def empty() -> None:
        monkeypatch.setattr(onnx_int8, "_MEMO", collections.OrderedDict())

    empty()
    return empty


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the exports (each build of a graph starts with one)."""
    calls: list[str] = []
    real = onnx_int8.export_fp32

    def counted(*args: Any, **kwargs: Any) -> None:
        calls.append("export")
        real(*args, **kwargs)

    monkeypatch.setattr(onnx_int8, "export_fp32", counted)
    return calls


@pytest.fixture(scope="module")
def stored(tiny_minilm: TinyMiniLM, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The tiny bundle's int8 graph built once into a cache folder: the entry's path and
    bytes, and the logits of the load that built it."""
    folder = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(onnx_int8, "_MEMO", collections.OrderedDict())
        model = onnx_model(tiny_minilm.result.bundle, folder)
        built = logits(model)
    assert model.runtime == ONNX_INT8_RUNTIME
    (entry,) = folder.iterdir()
    return {"entry": entry, "bytes": entry.read_bytes(), "logits": built}


def copy_entry(stored: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / stored["entry"].name
    target.write_bytes(stored["bytes"])
    return target


def test_a_second_load_reads_the_graph_and_builds_nothing(
    tiny_minilm: TinyMiniLM,
    tmp_path: Path,
    fresh_memo: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = tiny_minilm.result.bundle
    first = onnx_model(bundle, tmp_path)
    assert first.runtime_cache == tmp_path  # load_bundle passed it on, with_runtime kept it
    built = logits(first)
    (entry,) = tmp_path.iterdir()
    assert entry.name.startswith(ONNX_INT8.prefix) and first._network is not None
    assert first._network.built  # the export needed the module

    def refused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a cache hit exported or quantised the network")

    fresh_memo()
    monkeypatch.setattr(onnx_int8, "export_fp32", refused)
    monkeypatch.setattr(onnx_int8, "quantize", refused)
    second = onnx_model(bundle, tmp_path)
    again = logits(second)
    # not the torch-int8 fallback that a refused export would lead to
    assert second.runtime == ONNX_INT8_RUNTIME and second._engine().session is not None
    assert second._network is not None and not second._network.built
    assert_identical(built, again)
    assert list(tmp_path.iterdir()) == [entry]


def test_predictions_are_identical_from_the_cache_and_freshly_built(
    tiny_minilm: TinyMiniLM, stored: dict[str, Any], tmp_path: Path, fresh_memo: Callable[[], None]
) -> None:
    bundle = tiny_minilm.result.bundle
    fresh = logits(onnx_model(bundle, None))  # no disk cache: built in this process
    fresh_memo()
    copy_entry(stored, tmp_path)
    cached = onnx_model(bundle, tmp_path)
    from_disk = logits(cached)
    assert cached._network is not None and not cached._network.built
    assert_identical(fresh, from_disk)
    assert_identical(stored["logits"], from_disk)
    assert model_decodes_alike(cached, bundle)


def model_decodes_alike(cached: MiniLMModel, bundle: Path) -> bool:
    """The labels and probabilities served, not only the logits, match a fresh load's."""
    other = load_bundle(bundle).with_runtime(ONNX_INT8_RUNTIME)
    a, b = cached.predict_batch(SENTENCES), other.predict_batch(SENTENCES)
    return all(
        a.labels(h) == b.labels(h)
        and np.array_equal(getattr(a.probabilities, h), getattr(b.probabilities, h))
        for h in HEADS
    )


def own_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("emotion_clf")]


def _truncate(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])


def _garbage(entry: Path) -> None:
    entry.write_bytes(os.urandom(4096))


def _unloadable(entry: Path) -> None:
    """A whole entry (its header matches) whose graph ONNX Runtime cannot load."""
    folder, key = entry.parent, entry.name.removeprefix(ONNX_INT8.prefix).split(".")[0]
    ONNX_INT8.write(folder, key, b"not an onnx graph")


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (_truncate, "is damaged"),
        (_garbage, "is damaged"),
        (_unloadable, "cannot be loaded"),
    ],
)
def test_a_damaged_entry_is_reported_built_again_and_replaced(
    tiny_minilm: TinyMiniLM,
    stored: dict[str, Any],
    tmp_path: Path,
    fresh_memo: Callable[[], None],
    builds: list[str],
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[Path], None],
    said: str,
) -> None:
    entry = copy_entry(stored, tmp_path)
    damage(entry)
    with caplog.at_level(logging.WARNING):
        model = onnx_model(tiny_minilm.result.bundle, tmp_path)
        answers = logits(model)
    assert said in caplog.text and str(entry) in caplog.text
    assert model.runtime == ONNX_INT8_RUNTIME and builds == ["export"]
    assert_identical(stored["logits"], answers)
    assert entry.read_bytes() == stored["bytes"]  # replaced (the build is deterministic)
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]  # no temp file left
    fresh_memo()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert_identical(answers, logits(onnx_model(tiny_minilm.result.bundle, tmp_path)))
    assert builds == ["export"] and own_records(caplog) == []


def test_an_unreadable_entry_is_built_around_and_the_model_still_answers(
    tiny_minilm: TinyMiniLM,
    stored: dict[str, Any],
    tmp_path: Path,
    fresh_memo: Callable[[], None],
    builds: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A path that cannot be read nor replaced (a folder where the file should be): each
    load says so and builds the graph itself."""
    entry = tmp_path / stored["entry"].name
    entry.mkdir()
    with caplog.at_level(logging.WARNING):
        answers = logits(onnx_model(tiny_minilm.result.bundle, tmp_path))
    assert "cannot read the cached int8 graph" in caplog.text
    assert "cannot write the int8 graph" in caplog.text
    assert builds == ["export"] and entry.is_dir()
    assert_identical(stored["logits"], answers)


def test_the_key_follows_the_library_versions_and_the_export_settings() -> None:
    network = "0" * 64
    key = onnx_int8.graph_key(network)
    assert key == onnx_int8.graph_key(network)
    versions = onnx_int8.graph_inputs(network)["versions"]
    libraries = ("torch", "transformers", "onnx", "onnxruntime")
    assert versions == {name: importlib.metadata.version(name) for name in libraries}
    real = onnx_int8.package_version

    def key_with(**patches: Any) -> str:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in patches.items():
                patch.setattr(onnx_int8, name, value)
            return onnx_int8.graph_key(network)

    def bumped(library: str) -> Callable[[str], str]:
        return lambda name: real(name) + ("+1" if name == library else "")

    by_version = [key_with(package_version=bumped(library)) for library in libraries]
    quantiser = onnx_int8.QUANTISER
    by_setting = [
        key_with(OPSET=onnx_int8.OPSET + 1),
        key_with(QUANTISER={**quantiser, "per_channel": not quantiser["per_channel"]}),
        key_with(QUANTISER={**quantiser, "weight_type": "QUInt8"}),
        key_with(code_fingerprint=lambda: "f" * 64),
        key_with(KEY_FORMAT=onnx_int8.KEY_FORMAT + 1),
        onnx_int8.graph_key("1" * 64),
    ]
    every = [key, *by_version, *by_setting]
    assert len(set(every)) == len(every)
    assert onnx_int8.graph_key(network) == key  # nothing leaked from the patches


def test_a_graph_stored_under_other_library_versions_is_not_read(
    tiny_minilm: TinyMiniLM,
    stored: dict[str, Any],
    tmp_path: Path,
    builds: list[str],
    fresh_memo: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = copy_entry(stored, tmp_path)
    real = onnx_int8.package_version
    monkeypatch.setattr(
        onnx_int8, "package_version", lambda n: real(n) + ("+next" if n == "onnxruntime" else "")
    )
    answers = logits(onnx_model(tiny_minilm.result.bundle, tmp_path))
    assert builds == ["export"]
    assert len(list(tmp_path.iterdir())) == 2 and entry.read_bytes() == stored["bytes"]
    assert_identical(stored["logits"], answers)


def test_an_entry_appears_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key, graph = "ab" * 32, os.urandom(1 << 20)
    entry = ONNX_INT8.entry_path(tmp_path, key)
    real_replace = os.replace
    seen: list[bytes] = []

    def replace(source: Any, target: Any) -> None:
        # just before the rename: the entry is not there, the temp file beside it is whole
        assert Path(target) == entry and not entry.exists()
        assert Path(source).parent == tmp_path and Path(source).name.startswith(".")
        seen.append(Path(source).read_bytes())
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    assert ONNX_INT8.write(tmp_path, key, graph) == entry
    assert ONNX_INT8.read(tmp_path, key) == graph
    assert seen == [entry.read_bytes()]
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]

    def crash(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    entry.unlink()
    monkeypatch.setattr(os, "replace", crash)
    with caplog.at_level(logging.WARNING):
        assert ONNX_INT8.write(tmp_path, key, graph) is None
    assert "No space left on device" in caplog.text
    assert list(tmp_path.iterdir()) == []  # neither an entry nor the temp file
    assert ONNX_INT8.read(tmp_path, key) is None


def test_writers_racing_on_one_entry_leave_a_whole_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two builders of the same entry (two workers starting at once) and a reader: the reader
    sees no entry or a whole one, never a damaged one, and the last writer's entry stays."""
    key = "cd" * 32
    graphs = [os.urandom(2 << 20), os.urandom(2 << 20)]
    read: list[bytes | None] = []
    written: list[Path | None] = []
    done = threading.Event()

    def write(graph: bytes) -> None:
        for _ in range(15):
            written.append(ONNX_INT8.write(tmp_path, key, graph))

    def reader() -> None:
        while not done.is_set():
            read.append(ONNX_INT8.read(tmp_path, key))

    writers = [threading.Thread(target=write, args=(g,)) for g in graphs]
    watcher = threading.Thread(target=reader)
    with caplog.at_level(logging.WARNING):
        watcher.start()
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        done.set()
        watcher.join()
    assert own_records(caplog) == []  # no read found a damaged entry
    assert written == [ONNX_INT8.entry_path(tmp_path, key)] * 30
    assert {r for r in read if r is not None} <= set(graphs)
    assert sum(r is not None for r in read) > 0
    assert ONNX_INT8.read(tmp_path, key) in graphs
    assert [p.name for p in tmp_path.iterdir()] == [ONNX_INT8.entry_path(tmp_path, key).name]


# -- the network a loaded bundle builds on first use ------------------------------------------
def test_a_loaded_bundle_builds_its_module_when_a_torch_path_asks(
    tiny_minilm: TinyMiniLM,
) -> None:
    trained = tiny_minilm.result.predictor
    assert isinstance(trained, MiniLMModel)
    loaded = load_bundle(tiny_minilm.result.bundle)
    assert isinstance(loaded, MiniLMModel) and loaded._network is not None
    network = loaded._network
    before = network.digest()
    assert not network.built
    plain = loaded.with_runtime(PLAIN_RUNTIME)
    assert plain._network is network  # one module for both, built once
    assert_identical(trained.with_runtime(PLAIN_RUNTIME).logits(SENTENCES), plain.logits(SENTENCES))
    assert network.built and loaded.module_ is network.module()
    assert network.digest() == before  # the key of a graph is the same before and after
    assert (
        before
        == Network.of(trained.module_, config_json=trained.encoder_files_["config.json"]).digest()
    )


def test_the_digest_follows_every_tensor_and_the_configuration(
    tiny_minilm: TinyMiniLM,
) -> None:
    trained = tiny_minilm.result.predictor
    assert isinstance(trained, MiniLMModel)
    state = {k: v.clone() for k, v in trained.module_.state_dict().items()}
    base = weights_digest(state)
    name = sorted(state)[len(state) // 2]
    state[name].view(-1)[0] += 1e-6
    assert weights_digest(state) != base
    config = trained.encoder_files_["config.json"]
    sizes = trained.module_.head_sizes()
    one = Network.deferred(state, config_json=config, sizes=sizes, dropout=0.1, source="x")
    other = Network.deferred(state, config_json=config + b" ", sizes=sizes, dropout=0.1, source="x")
    assert one.digest() != other.digest()


def test_tensors_that_do_not_fit_the_network_are_a_bundle_error_when_it_is_built(
    tiny_minilm: TinyMiniLM, tmp_path: Path
) -> None:
    """The check moved from the load to the first use of the module: a path that needs the
    module still refuses such tensors, naming the file."""
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_minilm.result.bundle, bundle)
    model = load_bundle(bundle)
    assert isinstance(model, MiniLMModel) and model._network is not None
    tensors = model._network._tensors
    assert tensors is not None
    tensors["heads.emotion.bias"] = torch.zeros(3)
    with pytest.raises(BundleError, match=r"model.safetensors: heads.emotion.bias has shape"):
        model.with_runtime(PLAIN_RUNTIME).logits(SENTENCES)
    del tensors["heads.emotion.bias"]
    with pytest.raises(BundleError, match="missing tensors"):
        model.with_runtime(INT8_RUNTIME).logits(SENTENCES)


def test_a_cache_hit_imports_neither_torch_nor_transformers(
    tiny_minilm: TinyMiniLM, stored: dict[str, Any], tmp_path: Path
) -> None:
    """What ``emotion-clf predict`` with a minilm baseline loads: the bundle's tensors as
    numpy arrays, the tokenizer from ``tokenizer.json``, the graph from the disk cache. Each
    of torch and transformers took longer to import than the rest of the load together."""
    copy_entry(stored, tmp_path)
    code = f"""
import json, sys
from pathlib import Path
from emotion_clf.models.bundle import load_bundle
model = load_bundle({str(tiny_minilm.result.bundle)!r}, runtime_cache=Path({str(tmp_path)!r}))
model = model.with_runtime({ONNX_INT8_RUNTIME!r})
logits = model.logits({SENTENCES!r})
print(json.dumps({{
    "runtime": model.runtime,
    "built": model._network.built,
    "imported": sorted(m for m in ("torch", "transformers") if m in sys.modules),
    "logits": {{head: values.tolist() for head, values in logits.items()}},
}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    answer = json.loads(done.stdout)
    assert answer["runtime"] == ONNX_INT8_RUNTIME and not answer["built"]
    assert answer["imported"] == []
    got = {head: np.asarray(v, dtype=np.float32) for head, v in answer["logits"].items()}
    assert_identical(stored["logits"], got)


def test_the_session_threads_are_counted_as_torch_counts_its_own(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert onnx_int8.session_threads(3) == 3  # the model's parameter first
    assert onnx_int8.session_threads(0) == 0  # ONNX Runtime's default: one per physical core
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what `serve --workers N` sets per worker
    assert onnx_int8.session_threads(0) == 1
    assert onnx_int8.session_threads(2) == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    with caplog.at_level(logging.WARNING):
        assert onnx_int8.session_threads(0) == 0
    assert "OMP_NUM_THREADS='many'" in caplog.text
