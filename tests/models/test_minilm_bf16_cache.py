"""The disk cache of minilm's traced bf16 graph.

A second load of the same weights with the same cache folder reads the TorchScript archive and
builds nothing (no PyTorch module, no cast, no trace, no import of transformers), and answers
exactly as the load that traced it; a damaged or untrusted entry is reported, built again and
replaced; the key follows the library versions, the code and the trace's sample; an eager
module (where tracing fails) is not stored. And the safety claim the module rests on: torch
reads an archive without Python's pickle, and refuses one that names a Python callable.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from emotion_clf.data.schema import HEADS
from emotion_clf.models.bundle import load_bundle
from emotion_clf.models.minilm import MiniLMModel, torch_bf16
from emotion_clf.models.minilm import runtime as minilm_runtime
from emotion_clf.models.minilm.graph_cache import TORCH_BF16, untrusted
from emotion_clf.models.minilm.network import Network
from emotion_clf.models.minilm.runtime import BF16_RUNTIME
from tests.conftest import TinyMiniLM

SENTENCES = [
    "I love this so much!",
    "Get out of here.",
    "What just happened?",
    "Okay.",
    "I can't believe you did that to me, you liar!",
    "We lost him last night.",
]


def bf16_model(bundle: Path, cache: Path | None) -> MiniLMModel:
    """``bundle`` loaded as a fresh process would, on the torch-bf16 path whatever this CPU
    would pick."""
    model = load_bundle(bundle, runtime_cache=cache)
    assert isinstance(model, MiniLMModel)
    return model.with_runtime(BF16_RUNTIME)


def logits(model: MiniLMModel) -> dict[str, np.ndarray]:
    return model.logits(SENTENCES)


def assert_identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for head in HEADS:
        assert np.array_equal(a[head], b[head]), head


def graph_of(model: MiniLMModel) -> Any:
    module = model._engine().module
    assert isinstance(module, torch.jit.ScriptModule)  # not the eager fallback
    return module


@pytest.fixture
def traces(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the builds of a graph (each cast, trace and check is one call of ``traced``: in
    this process a later trace may copy the first one's compiled type, so ``torch.jit.trace``
    itself need not run again)."""
    calls: list[str] = []
    real = minilm_runtime.traced

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("traced")
        return real(*args, **kwargs)

    monkeypatch.setattr(minilm_runtime, "traced", counted)
    return calls


@pytest.fixture(scope="module")
def stored(tiny_minilm: TinyMiniLM, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The tiny bundle's bf16 graph traced once into a cache folder: the entry's path and
    bytes, and the logits of the load that traced it."""
    folder = tmp_path_factory.mktemp("bf16-cache")
    model = bf16_model(tiny_minilm.result.bundle, folder)
    built = logits(model)
    graph_of(model)
    (entry,) = folder.iterdir()
    return {"entry": entry, "bytes": entry.read_bytes(), "logits": built}


def copy_entry(stored: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / stored["entry"].name
    target.write_bytes(stored["bytes"])
    target.chmod(0o644)
    return target


def archive_of(entry: Path) -> bytes:
    """The TorchScript archive of an entry (after its header line)."""
    return entry.read_bytes().partition(b"\n")[2]


def key_of(entry: Path) -> str:
    return entry.name.removeprefix(TORCH_BF16.prefix).split(".")[0]


def test_a_second_load_reads_the_graph_and_builds_nothing(
    tiny_minilm: TinyMiniLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tiny_minilm.result.bundle
    first = bf16_model(bundle, tmp_path)
    assert first.runtime_cache == tmp_path
    built = logits(first)
    graph_of(first)
    (entry,) = tmp_path.iterdir()
    assert entry.name.startswith(TORCH_BF16.prefix)
    assert first._network is not None and first._network.built  # the trace needed the module

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a cache hit built, cast or traced the module")

    monkeypatch.setattr(torch.jit, "trace", refused)
    monkeypatch.setattr(minilm_runtime, "traced", refused)
    monkeypatch.setattr(Network, "_build", refused)
    second = bf16_model(bundle, tmp_path)
    again = logits(second)
    graph_of(second)
    assert second._network is not None and not second._network.built
    assert second.runtime == BF16_RUNTIME
    assert_identical(built, again)
    assert list(tmp_path.iterdir()) == [entry]


def test_predictions_are_identical_from_the_cache_and_freshly_traced(
    tiny_minilm: TinyMiniLM, stored: dict[str, Any], tmp_path: Path
) -> None:
    bundle = tiny_minilm.result.bundle
    fresh_model = bf16_model(bundle, None)  # no disk cache: traced in this process
    fresh = logits(fresh_model)
    copy_entry(stored, tmp_path)
    cached = bf16_model(bundle, tmp_path)
    from_disk = logits(cached)
    assert cached._network is not None and not cached._network.built
    assert_identical(fresh, from_disk)
    assert_identical(stored["logits"], from_disk)
    a, b = cached.predict_batch(SENTENCES), fresh_model.predict_batch(SENTENCES)
    for head in HEADS:
        assert a.labels(head) == b.labels(head)
        assert np.array_equal(getattr(a.probabilities, head), getattr(b.probabilities, head))
    # the first calls of a TorchScript graph run a profiling plan, later ones an optimised
    # one: the graph read back gives the same logits on both
    for _ in range(3):
        assert_identical(from_disk, logits(cached))


def own_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("emotion_clf")]


def _truncate(entry: Path) -> None:
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])


def _garbage(entry: Path) -> None:
    entry.write_bytes(os.urandom(4096))


def _unloadable(entry: Path) -> None:
    """A whole entry (its header matches) that is no TorchScript archive."""
    TORCH_BF16.write(entry.parent, key_of(entry), b"not a TorchScript archive")


def _group_writable(entry: Path) -> None:
    entry.chmod(0o664)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (_truncate, "is damaged"),
        (_garbage, "is damaged"),
        (_unloadable, "cannot be loaded"),
        (_group_writable, "may be written by others"),
    ],
)
def test_a_damaged_or_untrusted_entry_is_reported_built_again_and_replaced(
    tiny_minilm: TinyMiniLM,
    stored: dict[str, Any],
    tmp_path: Path,
    traces: list[str],
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[Path], None],
    said: str,
) -> None:
    entry = copy_entry(stored, tmp_path)
    damage(entry)
    with caplog.at_level(logging.WARNING):
        model = bf16_model(tiny_minilm.result.bundle, tmp_path)
        answers = logits(model)
    assert said in caplog.text and str(entry) in caplog.text
    graph_of(model)
    assert traces == ["traced"]
    assert_identical(stored["logits"], answers)
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]  # no temp file left
    # replaced by a whole entry of this user, which no one else may write
    assert untrusted(entry.stat()) is None
    assert TORCH_BF16.read(tmp_path, key_of(entry)) is not None
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert_identical(answers, logits(bf16_model(tiny_minilm.result.bundle, tmp_path)))
    assert traces == ["traced"] and own_records(caplog) == []


def test_only_this_users_entries_that_no_one_else_may_write_are_trusted(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    entry.write_bytes(b"x")
    entry.chmod(0o644)
    mine = entry.stat()
    assert untrusted(mine) is None
    assert "may be written by others" in str(untrusted(os.stat_result((0o100666, *mine[1:]))))
    other = (*mine[:4], mine.st_uid + 1, *mine[5:])
    assert "belongs to another user" in str(untrusted(os.stat_result(other)))
    assert "not a plain file" in str(untrusted(tmp_path.stat()))
    assert stat.S_IMODE(mine.st_mode) == 0o644


def test_an_unwritable_cache_costs_the_build_and_the_model_still_answers(
    tiny_minilm: TinyMiniLM,
    stored: dict[str, Any],
    tmp_path: Path,
    traces: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A path that cannot be read nor replaced (a folder where the file should be): each load
    says so and traces the graph itself."""
    entry = tmp_path / stored["entry"].name
    entry.mkdir()
    with caplog.at_level(logging.WARNING):
        model = bf16_model(tiny_minilm.result.bundle, tmp_path)
        answers = logits(model)
    assert "cannot read the cached bf16 TorchScript graph" in caplog.text
    assert "cannot write the bf16 TorchScript graph" in caplog.text
    graph_of(model)
    assert traces == ["traced"] and entry.is_dir()
    assert_identical(stored["logits"], answers)


def test_an_eager_fallback_is_not_stored(
    tiny_minilm: TinyMiniLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no TorchScript in this torch")

    monkeypatch.setattr(minilm_runtime, "_GRAPHS", {})  # as in a process that traced none yet
    monkeypatch.setattr(torch.jit, "trace", broken)
    model = bf16_model(tiny_minilm.result.bundle, tmp_path)
    assert logits(model)["emotion"].shape == (len(SENTENCES), 7)
    assert not isinstance(model._engine().module, torch.jit.ScriptModule)
    assert list(tmp_path.iterdir()) == []


def test_the_key_follows_the_versions_the_code_and_the_sample() -> None:
    network, sample = "0" * 64, [[[101, 7592, 102]], [[101, 102]]]
    key = torch_bf16.graph_key(network, sample=sample)
    assert key == torch_bf16.graph_key(network, sample=sample)
    import importlib.metadata

    versions = torch_bf16.graph_inputs(network, sample=sample)["versions"]
    assert versions == {n: importlib.metadata.version(n) for n in ("torch", "transformers")}
    real = torch_bf16.package_version

    def key_with(**patches: Any) -> str:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in patches.items():
                patch.setattr(torch_bf16, name, value)
            return torch_bf16.graph_key(network, sample=sample)

    def bumped(library: str) -> Callable[[str], str]:
        return lambda name: real(name) + ("+1" if name == library else "")

    every = [
        key,
        key_with(package_version=bumped("torch")),
        key_with(package_version=bumped("transformers")),
        key_with(code_fingerprint=lambda: "f" * 64),
        key_with(KEY_FORMAT=torch_bf16.KEY_FORMAT + 1),
        key_with(DTYPE="float16"),
        torch_bf16.graph_key("1" * 64, sample=sample),
        torch_bf16.graph_key(network, sample=[[[101, 7592, 102]], [[101, 7592, 102]]]),
    ]
    assert len(set(every)) == len(every)
    assert torch_bf16.graph_key(network, sample=sample) == key  # nothing leaked


def test_the_code_fingerprint_covers_the_code_that_makes_the_graph() -> None:
    names = {path.name for path in torch_bf16.SOURCES}
    assert names == {"encoder.py", "network.py", "runtime.py", "torch_bf16.py"}
    assert all(path.is_file() for path in torch_bf16.SOURCES)


def test_a_graph_stored_under_another_torch_is_not_read(
    tiny_minilm: TinyMiniLM,
    stored: dict[str, Any],
    tmp_path: Path,
    traces: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = copy_entry(stored, tmp_path)
    real = torch_bf16.package_version
    monkeypatch.setattr(
        torch_bf16, "package_version", lambda n: real(n) + ("+next" if n == "torch" else "")
    )
    answers = logits(bf16_model(tiny_minilm.result.bundle, tmp_path))
    assert traces == ["traced"]
    assert len(list(tmp_path.iterdir())) == 2 and entry.read_bytes() == stored["bytes"]
    assert_identical(stored["logits"], answers)


def test_a_cache_hit_imports_no_transformers_and_builds_no_module(
    tiny_minilm: TinyMiniLM, stored: dict[str, Any], tmp_path: Path
) -> None:
    """What ``emotion-clf predict`` with a minilm baseline on a bf16 CPU loads: the bundle's
    tensors as numpy arrays, the tokenizer, and the graph from the disk cache; torch for the
    graph, but not transformers, whose import took longer than the rest of the load."""
    copy_entry(stored, tmp_path)
    code = f"""
import json, sys
from pathlib import Path
from emotion_clf.models.bundle import load_bundle
model = load_bundle({str(tiny_minilm.result.bundle)!r}, runtime_cache=Path({str(tmp_path)!r}))
model = model.with_runtime({BF16_RUNTIME!r})
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
    assert answer["runtime"] == BF16_RUNTIME and not answer["built"]
    assert answer["imported"] == ["torch"]
    got = {head: np.asarray(v, dtype=np.float32) for head, v in answer["logits"].items()}
    assert_identical(stored["logits"], got)


# -- what the safety of reading an archive rests on (torch 2.13) ---------------------------
class _Marker:
    """A Python pickle that, unpickled by Python, creates a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.path}",))


def with_member(archive: bytes, suffix: str, content: bytes) -> bytes:
    """``archive`` with the member whose name ends in ``suffix`` replaced by ``content``."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    members = {info.filename: source.read(info.filename) for info in source.infolist()}
    (name,) = [n for n in members if n.endswith(suffix)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for member, data in members.items():
            target.writestr(member, content if member == name else data)
    return out.getvalue()


def test_torch_reads_an_archive_without_pythons_pickle(
    stored: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("torch.jit.load used Python's pickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refused)
    graph = torch_bf16.load(archive_of(stored["entry"]))
    assert isinstance(graph, torch.jit.ScriptModule) and not graph.training


@pytest.mark.parametrize("member", ["/data.pkl", "/constants.pkl"])
def test_an_archive_naming_a_python_callable_is_refused_and_nothing_runs(
    tiny_minilm: TinyMiniLM,
    stored: dict[str, Any],
    tmp_path: Path,
    traces: list[str],
    caplog: pytest.LogCaptureFixture,
    member: str,
) -> None:
    marker = tmp_path / "ran"
    evil = with_member(
        archive_of(stored["entry"]), member, pickle.dumps(_Marker(marker), protocol=2)
    )
    with pytest.raises(RuntimeError):
        torch_bf16.load(evil)
    cache = tmp_path / "cache"
    entry = TORCH_BF16.write(cache, key_of(stored["entry"]), evil)  # a whole entry
    assert entry is not None
    with caplog.at_level(logging.WARNING):
        answers = logits(bf16_model(tiny_minilm.result.bundle, cache))
    assert "cannot be loaded" in caplog.text and traces == ["traced"]
    assert_identical(stored["logits"], answers)
    assert not marker.exists()
