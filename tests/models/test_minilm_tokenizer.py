"""The minilm tokenizer (``tokenizer.json`` run by the ``tokenizers`` library) gives exactly
transformers' ids and attention masks, so dropping transformers from the inference path
changes no prediction.

transformers' fast BERT tokenizer of the same folder is the reference: every sentence of the
bundled data (``-m slow``; a fixed sample of it in the default suite) and odd inputs, at the
model's ``max_length`` and at one that truncates, unpadded and padded in batches.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from emotion_clf.errors import BundleError
from emotion_clf.models.minilm.encoder import load_tokenizer, pad, pretrained_folder, tokenize
from emotion_clf.models.minilm.model import DEFAULT_PARAMS
from emotion_clf.models.minilm.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
MAX_LENGTH = int(DEFAULT_PARAMS["max_length"])
SAMPLE_EVERY = 50  # the default suite's share of the data: every 50th sentence

ODD = [
    "",
    " ",
    "\t\n\r",
    "Okay.",
    "x" * 5000,  # one word past WordPiece's 100 characters: [UNK]
    "word " * 300,  # truncated
    "supercalifragilisticexpialidocious " * 10,
    "Crème brûlée à l'été, naïve façade",  # accents: stripped by the lower-casing normaliser
    "İstanbul ß ǅ Æsir ØRESUND",
    "e\u0301 combining marks \u0301",
    "🙂😡👍🏽 emoji, and a family 👨‍👩‍👧",
    "\U0001f600" * 100,
    "你好世界 日本語のテキスト 한국어 문장",  # CJK: a token per character
    "mixed中文and English",
    "a\x00b\x07c\x1bd\x7f",  # control characters: dropped by the normaliser
    "\u200bzero\u200dwidth\ufeff joiners",
    "ＦＵＬＬ width ｔｅｘｔ",
    "non\u00a0breaking\u2003spaces",
    "[CLS] [SEP] [PAD] [MASK] [UNK] literal special tokens",
    "<b>html</b> &amp; http://example.com/a?b=c #tag @user",
    "I can't believe we finally made it, this is wonderful!!!???...",
    "مرحبا بالعالم שלום עולם",
    "\u0000",
]


def data_sentences() -> list[str]:
    """Every text of the bundled data: the transcript batches and GoEmotions."""
    texts: list[str] = []
    for path in sorted((ROOT / "data" / "raw").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            texts.extend(row["text"] or "" for row in csv.DictReader(handle))
    for path in sorted((ROOT / "data" / "goemotions").glob("*.tsv")):
        with path.open(encoding="utf-8") as handle:
            texts.extend(line.split("\t", 1)[0] for line in handle)
    return texts


@pytest.fixture(scope="module")
def folder() -> Path:
    return pretrained_folder()


@pytest.fixture(scope="module")
def reference(folder: Path) -> Any:
    """transformers' tokenizer of the folder: what the family used before."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


@pytest.fixture(scope="module")
def ours(folder: Path) -> Tokenizer:
    return load_tokenizer(folder)


def assert_same_as_transformers(
    ours: Tokenizer, reference: Any, texts: Sequence[str], *, max_length: int
) -> None:
    want = reference(list(texts), truncation=True, max_length=max_length)
    got = tokenize(ours, texts, max_length=max_length)
    differ = [t for t, a, b in zip(texts, want["input_ids"], got, strict=True) if a != b]
    assert not differ, f"{len(differ)} of {len(texts)} texts differ, e.g. {differ[:3]!r}"
    assert all(
        mask == [1] * len(ids) for mask, ids in zip(want["attention_mask"], got, strict=True)
    )
    # padded in batches as the runtimes feed the network: transformers' padding=True
    for start in range(0, len(texts), 32):
        batch = list(texts[start : start + 32])
        padded = reference(
            batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        ids, mask = pad(tokenize(ours, batch, max_length=max_length), pad_id=ours.pad_token_id)
        assert torch.equal(ids, padded["input_ids"]), batch
        assert torch.equal(mask, padded["attention_mask"]), batch


def test_the_padding_id_is_transformers(ours: Tokenizer, reference: Any) -> None:
    assert ours.pad_token_id == reference.pad_token_id


@pytest.mark.parametrize("max_length", [MAX_LENGTH, 8])
def test_a_sample_of_the_data_gets_transformers_ids(
    ours: Tokenizer, reference: Any, max_length: int
) -> None:
    sample = data_sentences()[::SAMPLE_EVERY]
    assert len(sample) > 1000
    assert_same_as_transformers(ours, reference, sample, max_length=max_length)


@pytest.mark.parametrize("max_length", [MAX_LENGTH, 8])
def test_odd_inputs_get_transformers_ids(ours: Tokenizer, reference: Any, max_length: int) -> None:
    assert_same_as_transformers(ours, reference, ODD, max_length=max_length)
    assert max(len(ids) for ids in tokenize(ours, ODD, max_length=max_length)) == max_length


@pytest.mark.slow
def test_every_sentence_of_the_data_gets_transformers_ids(ours: Tokenizer, reference: Any) -> None:
    texts = data_sentences()
    assert len(texts) > 80_000
    assert_same_as_transformers(ours, reference, texts, max_length=MAX_LENGTH)


@pytest.mark.parametrize("text", ["\ud800", "a\udcffb"])
def test_a_lone_surrogate_is_refused_as_transformers_refuses_it(
    ours: Tokenizer, reference: Any, text: str
) -> None:
    # `emotion-clf predict` can receive one: an argument that is not UTF-8 becomes one
    with pytest.raises(TypeError):
        reference([text], truncation=True, max_length=MAX_LENGTH)
    with pytest.raises(TypeError):
        tokenize(ours, [text], max_length=MAX_LENGTH)


def test_no_texts_give_no_ids(ours: Tokenizer) -> None:
    assert tokenize(ours, [], max_length=MAX_LENGTH) == []


def test_threads_sharing_it_get_the_same_ids(ours: Tokenizer) -> None:
    texts = data_sentences()[:: SAMPLE_EVERY * 4]
    want = {n: tokenize(ours, texts, max_length=n) for n in (MAX_LENGTH, 8)}
    fresh = load_tokenizer(pretrained_folder())
    got: list[tuple[int, list[list[int]]]] = []

    def run(n: int) -> None:
        for _ in range(5):
            got.append((n, tokenize(fresh, texts, max_length=n)))

    threads = [threading.Thread(target=run, args=(n,)) for n in (MAX_LENGTH, 8) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 20
    assert all(ids == want[n] for n, ids in got)


def test_the_padding_token_comes_from_tokenizer_json_alone(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_bytes((folder / "tokenizer.json").read_bytes())
    alone = Tokenizer.from_folder(tmp_path)
    assert alone.pad_token_id == load_tokenizer(folder).pad_token_id == 0
    assert tokenize(alone, ODD, max_length=MAX_LENGTH) == tokenize(
        load_tokenizer(folder), ODD, max_length=MAX_LENGTH
    )


def test_a_named_padding_token_outside_the_vocabulary_is_refused(
    folder: Path, tmp_path: Path
) -> None:
    (tmp_path / "tokenizer.json").write_bytes((folder / "tokenizer.json").read_bytes())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<nope>"}))
    with pytest.raises(BundleError, match="<nope>"):
        Tokenizer.from_folder(tmp_path)


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"model": 3}'])
def test_an_unreadable_tokenizer_file_is_a_bundle_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "tokenizer.json").write_text(content)
    with pytest.raises(BundleError, match="tokenizer"):
        Tokenizer.from_folder(tmp_path)


def test_a_missing_tokenizer_file_is_a_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="tokenizer.json"):
        Tokenizer.from_folder(tmp_path)
