"""Logging a training run to MLflow: parameters, metrics, figures and the bundle."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emotion_clf.models.bundle import read_manifest
from emotion_clf.registry.mlflow.calls import mlflow_errors

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from emotion_clf.training import TrainResult

BUNDLE_ARTIFACT = "bundle"
REPORTS_ARTIFACT = "reports"  # per-split reports, confusion matrices, learning curves


def _flat(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text[:500]  # MLflow's limit on a parameter value


def log_training_run(client: MlflowClient, experiment_id: str, result: TrainResult) -> str:
    """A finished-but-open MLflow run holding ``result``; returns its id.

    The caller registers the bundle (logged under ``bundle/``) and closes the run; a failure
    here marks the run FAILED before it is raised.
    """
    manifest = read_manifest(result.bundle)
    with mlflow_errors("logging the training run"):
        run = client.create_run(experiment_id, run_name=f"train-{manifest.family}")
    run_id = str(run.info.run_id)
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
            distillation = manifest.extra.get("distillation")
            if isinstance(distillation, dict):  # the teacher a distilled student learned from
                for key in ("teacher", "teacher_family", "teacher_digest"):
                    client.set_tag(run_id, f"distillation.{key}", str(distillation.get(key)))
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
                client.log_artifacts(run_id, tmp, REPORTS_ARTIFACT)
            client.log_artifacts(run_id, str(result.bundle), BUNDLE_ARTIFACT)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    return run_id


def _write_reports(result: TrainResult, folder: Path) -> None:
    import matplotlib.pyplot as plt

    from emotion_clf.evaluation.figures import confusion_figure, learning_curves_figure

    for split, evaluation in result.evaluations.items():
        report = evaluation.to_dict()
        (folder / f"{split}_report.json").write_text(json.dumps(report, indent=2))
        figure = confusion_figure(evaluation, title=f"{split} split")
        figure.savefig(folder / f"{split}_confusion.png", dpi=90)
        plt.close(figure)
    curves = learning_curves_figure(
        result.predictor.training_history(),
        kept_epoch=getattr(result.predictor, "best_epoch_", None),
    )
    if curves is not None:
        curves.savefig(folder / "learning_curves.png", dpi=90)
        plt.close(curves)
