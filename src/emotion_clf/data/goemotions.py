"""GoEmotions as a second labelled source: Reddit comments with sub-emotion labels only.

GoEmotions (Demszky et al., ACL 2020; ``data/goemotions/``) labels each comment with one or
more of 28 labels, which are 28 of this project's 30 sub-emotions. Its schema differs from the
transcripts': there is no emotion column and no intensity. The reader here gives each row

* ``sub_emotion``: the row's label, when the row has exactly one (see below);
* ``emotion``: the sub-emotion's parent in this project's own hierarchy
  (:data:`~emotion_clf.data.schema.SUB_EMOTION_PARENT`), not GoEmotions' published Ekman
  grouping, which differs for curiosity, disapproval and embarrassment;
* no intensity: a model trains its intensity head on transcripts only.

Multi-label rows (about 16% of each split) are dropped and counted, deliberately: a softmax head
trained on one label per row has no right answer for "joy and love", and the single-label rows
(36,308 in ``train.tsv``) already outnumber the transcripts.

The files: ``labels.txt`` (one label per line, in id order) and ``train.tsv`` / ``dev.tsv`` /
``test.tsv``, UTF-8, no header, three tab-separated columns: text, comma-separated label ids,
comment id. A label id that is not a line of ``labels.txt``, a label that is not one of this
project's sub-emotions, a row without three columns or without text is an error naming the
file and line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from emotion_clf.data.schema import SUB_EMOTION_PARENT, normalise_sub_emotion
from emotion_clf.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

#: the published splits and their files
GOEMOTIONS_SPLITS: dict[str, str] = {"train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv"}
LABELS_FILE = "labels.txt"
COLUMNS = ("split", "line", "comment_id", "text", "emotion", "sub_emotion")


@dataclass(frozen=True)
class GoEmotions:
    """The single-label rows of one GoEmotions split, with what was dropped on the way."""

    frame: pd.DataFrame  # COLUMNS, one row per kept comment, in file order
    path: str
    labels: tuple[str, ...]  # label names in id order (labels.txt)
    rows_read: int
    skipped_multi_label: int

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def texts(self) -> list[str]:
        return self.frame["text"].tolist()

    def fingerprint(self) -> str:
        """sha256 of the kept rows' text, sub-emotion and emotion, in order."""
        digest = hashlib.sha256()
        for row in self.frame[["text", "sub_emotion", "emotion"]].itertuples(index=False):
            digest.update("\x1f".join(row).encode("utf-8"))
            digest.update(b"\x1e")
        return digest.hexdigest()

    def head(self, rows: int) -> GoEmotions:
        """The first ``rows`` kept rows (tests, quick runs)."""
        return GoEmotions(
            frame=self.frame.iloc[:rows].reset_index(drop=True),
            path=self.path,
            labels=self.labels,
            rows_read=self.rows_read,
            skipped_multi_label=self.skipped_multi_label,
        )

    def summary(self) -> dict[str, object]:
        return {
            "path": self.path,
            "rows": len(self),
            "rows_read": self.rows_read,
            "skipped_multi_label": self.skipped_multi_label,
        }


def _text_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", file=path) from exc
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=path, line=line
        ) from exc
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line, it starts no new one
    return [line.removesuffix("\r") for line in lines]


def read_labels(folder: Path | str) -> tuple[str, ...]:
    """GoEmotions' label names in id order; each must be one of this project's sub-emotions."""
    path = Path(folder) / LABELS_FILE
    labels: list[str] = []
    for number, raw in enumerate(_text_lines(path), start=1):
        name = normalise_sub_emotion(raw)
        if name is None:
            raise DataError(
                f"label {raw.strip()!r} is not a sub-emotion of this project",
                file=path,
                line=number,
                field="label",
                value=raw.strip(),
                allowed=sorted(SUB_EMOTION_PARENT),
            )
        if name in labels:
            raise DataError(f"label {name!r} is listed twice", file=path, line=number)
        labels.append(name)
    if not labels:
        raise DataError("no labels", file=path, line=1)
    return tuple(labels)


def _label_ids(cell: str, *, count: int, path: Path, line: int) -> list[int]:
    ids: list[int] = []
    for part in cell.split(","):
        token = part.strip()
        if not token.isdigit() or int(token) >= count:
            raise DataError(
                f"unknown label id {token!r} ({LABELS_FILE} has ids 0 to {count - 1})",
                file=path,
                line=line,
                field="labels",
                value=token,
            )
        if int(token) not in ids:
            ids.append(int(token))
    return ids


def load_goemotions(folder: Path | str, *, split: str = "train") -> GoEmotions:
    """The single-label rows of ``split`` (train, dev or test) of the GoEmotions folder."""
    if split not in GOEMOTIONS_SPLITS:
        raise DataError(
            f"unknown GoEmotions split {split!r}", field="split", allowed=list(GOEMOTIONS_SPLITS)
        )
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError("no such folder (the GoEmotions data)", file=folder)
    labels = read_labels(folder)
    path = folder / GOEMOTIONS_SPLITS[split]
    records: list[tuple[object, ...]] = []
    multi = 0
    lines = _text_lines(path)
    for number, raw in enumerate(lines, start=1):
        cells = raw.split("\t")
        if len(cells) != 3:
            raise DataError(
                f"expected 3 tab-separated columns (text, label ids, comment id), "
                f"found {len(cells)}",
                file=path,
                line=number,
            )
        text, ids_cell, comment_id = cells
        ids = _label_ids(ids_cell, count=len(labels), path=path, line=number)
        if not text.strip():
            raise DataError("row has labels but no text", file=path, line=number, field="text")
        if len(ids) > 1:
            multi += 1
            continue
        sub = labels[ids[0]]
        records.append((split, number, comment_id, text.strip(), SUB_EMOTION_PARENT[sub], sub))
    import pandas as pd  # where the frame is built: see data.loader

    return GoEmotions(
        frame=pd.DataFrame.from_records(records, columns=list(COLUMNS)),
        path=str(path),
        labels=labels,
        rows_read=len(lines),
        skipped_multi_label=multi,
    )
