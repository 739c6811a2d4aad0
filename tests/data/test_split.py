from __future__ import annotations

from pathlib import Path

import pytest

from emotion_clf.data.loader import load_dataset
from emotion_clf.data.split import assign_batches, split_by_batch
from emotion_clf.errors import DataError
from tests.conftest import RAW


def test_no_batch_lands_in_two_splits_and_every_row_is_used() -> None:
    dataset = load_dataset(RAW)
    split = split_by_batch(dataset)
    batches = {
        name: set(split.part(name).frame["batch"]) for name in ("train", "validation", "test")
    }
    assert not batches["train"] & batches["validation"]
    assert not batches["train"] & batches["test"]
    assert not batches["validation"] & batches["test"]
    assert sum(len(split.part(n)) for n in batches) == len(dataset)
    assert 0.10 <= len(split.test) / len(dataset) <= 0.20
    assert 0.08 <= len(split.validation) / len(dataset) <= 0.16


def test_documented_split_of_the_bundled_data() -> None:
    # data/README.md lists these; a change here must change the documentation too
    split = split_by_batch(load_dataset(RAW))
    assert split.batches("test") == [f"train_data-{n:04d}" for n in (4, 9, 15, 20, 24)]
    assert split.batches("validation") == [f"train_data-{n:04d}" for n in (6, 7, 28)]


def test_assignment_is_deterministic_and_ignores_order() -> None:
    sizes = {f"b{i}": 100 + i * 7 for i in range(20)}
    reordered = dict(reversed(list(sizes.items())))
    assert assign_batches(sizes) == assign_batches(reordered)
    assert assign_batches(sizes, seed=1) != assign_batches(sizes, seed=2)


def test_adding_a_batch_does_not_move_the_test_split_much() -> None:
    sizes = {f"b{i}": 100 for i in range(20)}
    before = {b for b, s in assign_batches(sizes).items() if s == "test"}
    after = {b for b, s in assign_batches({**sizes, "new": 100}).items() if s == "test"}
    assert len(before & after) >= len(before) - 1


def test_three_batches_give_one_to_each_split() -> None:
    assignment = assign_batches({"a": 1000, "b": 10, "c": 10})
    assert sorted(assignment.values()) == ["test", "train", "validation"]


def test_fewer_than_three_batches_cannot_be_split(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="at least 3 batch files"):
        assign_batches({"a": 10, "b": 10})
