"""The entry script of the batch deployment, with Azure ML's ``init`` / ``run(mini_batch)``
contract: the project's batch inference (:func:`emotion_clf.batch.run.run_batch`) over
each file of a mini-batch, on as many nodes as the deployment has.

Azure ML hands each node mini-batches of file paths from the input folder. Every file is
read like ``emotion-clf predict --input-file`` reads it (CSV, JSONL, text, SRT, WebVTT) and
written, one row per input row, in the same format the local command writes
(``EMOTION_CLF_BATCH_OUTPUT_FORMAT``: csv, jsonl or parquet) to the job's output folder
(``AZUREML_BI_OUTPUT_PATH``) as ``<path>.<format>``, bad rows beside it in
``<path>.rejected.csv``, where ``<path>`` is the file's path under the job's input folder
(:func:`output_path`), so same-named files in different subfolders do not overwrite each
other. ``run`` returns one JSON summary line per file, which Azure ML counts as that file's
success.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from emotion_clf.azure.ml.score import find_bundle, model_version
from emotion_clf.batch.inputs import SourceReader
from emotion_clf.batch.run import LocalScorer, run_batch
from emotion_clf.errors import BundleError, ConfigError
from emotion_clf.models import load_bundle

logger = logging.getLogger(__name__)

FORMATS = ("csv", "jsonl", "parquet")
_state: dict[str, Any] = {}  # the loaded model and where outputs go (set by init)


def init() -> None:
    """Load the bundle from ``AZUREML_MODEL_DIR``; find the output folder and format."""
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if not model_dir:
        raise BundleError("AZUREML_MODEL_DIR is not set: this script runs inside Azure ML")
    output = os.environ.get("AZUREML_BI_OUTPUT_PATH")
    if not output:
        raise ConfigError("AZUREML_BI_OUTPUT_PATH is not set: this script runs inside Azure ML")
    fmt = os.environ.get("EMOTION_CLF_BATCH_OUTPUT_FORMAT", "csv")
    if fmt not in FORMATS:
        raise ConfigError(f"EMOTION_CLF_BATCH_OUTPUT_FORMAT={fmt!r}; formats: {', '.join(FORMATS)}")
    folder = Path(model_dir)
    version = model_version(folder)
    predictor = load_bundle(find_bundle(folder))
    _state.update(
        scorer=LocalScorer(predictor, label=f"v{version}" if version else "model", version=version),
        output=Path(output),
        format=fmt,
        workdir=Path(tempfile.mkdtemp(prefix="emotion-clf-batch-")),
    )
    Path(output).mkdir(parents=True, exist_ok=True)
    logger.info("batch scoring with version %s into %s (%s)", version, output, fmt)


def output_path(source: str, output: Path, fmt: str) -> Path:
    """Where one input file's predictions go: its path under the input folder Azure mounted
    (the part after the ``INPUT_<name>`` folder of the job's working directory), else its
    name; a name another file already took gets a digest of the full source path."""
    parts = Path(source).parts
    mounts = [i for i, part in enumerate(parts) if part.startswith("INPUT_")]
    relative = Path(*parts[mounts[-1] + 1 :]) if mounts and mounts[-1] + 1 < len(parts) else None
    target = output / f"{relative or Path(source).name}.{fmt}"
    if relative is None and target.exists():
        digest = hashlib.sha256(str(source).encode()).hexdigest()[:8]
        target = output / f"{Path(source).name}-{digest}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def run(mini_batch: list[str]) -> list[str]:
    """Classify each file of ``mini_batch``; one JSON summary line per file."""
    if not _state:
        raise BundleError("init() has not run")
    lines = []
    for source in mini_batch:
        target = output_path(str(source), _state["output"], _state["format"])
        summary = run_batch(
            [str(source)],
            scorer=_state["scorer"],
            output=target,
            reader=SourceReader(workdir=_state["workdir"]),
            on_error="skip",
        )
        record = {
            "source": Path(source).name,
            "output": str(target.relative_to(_state["output"])),
            "rows": summary.rows,
            "bad_rows": summary.bad_count,
            "model": summary.model,
        }
        lines.append(json.dumps(record))
    return lines
