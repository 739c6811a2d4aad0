"""Logging a training run to MLflow and registering its bundle as the new ``dynamic``."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from emotion_clf.models.bundle import read_manifest
from emotion_clf.registry.store import BUNDLE_ARTIFACT, Registry, VersionInfo, mlflow_errors
from emotion_clf.training import TrainResult

logger = logging.getLogger(__name__)


def _flat(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text[:500]  # MLflow's limit on a parameter value


def log_and_register(
    registry: Registry, result: TrainResult, *, run_name: str | None = None
) -> VersionInfo:
    """Log ``result`` as an MLflow run and register its bundle, designated ``dynamic``.

    The run holds the parameters, the data fingerprint, metrics per split and head, the
    per-class report, confusion-matrix images, the learning curves and the bundle itself.
    """
    manifest = read_manifest(result.bundle)
    client = registry.client
    experiment = registry.experiment_id()
    with mlflow_errors("logging the training run"):
        run = client.create_run(experiment, run_name=run_name or f"train-{manifest.family}")
    run_id = run.info.run_id
    try:
        with mlflow_errors("logging the training run"):
            params = {"family": manifest.family, "runtime": manifest.runtime, **manifest.params}
            for key, value in params.items():
                client.log_param(run_id, key, _flat(value))
            client.set_tag(run_id, "data_fingerprint", manifest.data_fingerprint)
            client.set_tag(
                run_id, "train_fingerprint", str(manifest.extra.get("train_fingerprint"))
            )
            client.set_tag(run_id, "train_rows", str(manifest.extra.get("train_rows")))
            for split, heads in result.metrics.items():
                for head, values in heads.items():
                    for name, value in values.items():
                        client.log_metric(run_id, f"{split}_{head}_{name}", value)
            for step, row in enumerate(result.predictor.training_history(), start=1):
                for name, value in row.items():
                    if name != "epoch":
                        client.log_metric(run_id, f"epoch_{name}", float(value), step=step)
            with tempfile.TemporaryDirectory() as tmp:
                _write_reports(result, Path(tmp))
                client.log_artifacts(run_id, tmp, "reports")
            client.log_artifacts(run_id, str(result.bundle), BUNDLE_ARTIFACT)
        metrics = {
            f"{split}.{head}.{name}": value
            for split, heads in result.metrics.items()
            for head, values in heads.items()
            for name, value in values.items()
        }
        info = registry.register_bundle(result.bundle, run_id=run_id, metrics=metrics)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id)
    logger.info("registered %s as version %s (dynamic)", result.bundle, info.version)
    return info


def _write_reports(result: TrainResult, folder: Path) -> None:
    import matplotlib.pyplot as plt

    from emotion_clf.plots import confusion_figure, learning_curves_figure

    for split, evaluation in result.evaluations.items():
        report = evaluation.to_dict()
        (folder / f"{split}_report.json").write_text(json.dumps(report, indent=2))
        figure = confusion_figure(evaluation, title=f"{split} split")
        figure.savefig(folder / f"{split}_confusion.png", dpi=90)
        plt.close(figure)
    curves = learning_curves_figure(result.predictor.training_history())
    if curves is not None:
        curves.savefig(folder / "learning_curves.png", dpi=90)
        plt.close(curves)
