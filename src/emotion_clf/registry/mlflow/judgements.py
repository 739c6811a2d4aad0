"""Judgements of registered versions as MLflow runs: a comparison, a drift check, a
performance report, each a run beside the training runs, tagged with the model's name and
the versions it judged, so MLflow's UI finds every verdict on a version
(``tags.candidate_version = '2'``) next to how it was trained."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from emotion_clf.registry.mlflow.calls import mlflow_errors

if TYPE_CHECKING:
    from mlflow import MlflowClient

JUDGEMENTS_SUFFIX = "-judgements"  # the experiment beside the training runs'
_KEY = re.compile(r"[^0-9A-Za-z_\-. /]")  # what MLflow accepts in a metric or parameter name


def log_judgement_run(
    client: MlflowClient,
    experiment_id: str,
    *,
    model_name: str,
    kind: str,
    judged: Mapping[str, str],
    metrics: Mapping[str, float],
    params: Mapping[str, str],
    artifacts: Sequence[Path],
) -> str:
    """One finished run; returns its id. ``judged`` maps a role (``candidate``, ``model``)
    to the version number it played; each becomes a ``<role>_version`` tag."""
    versions = sorted(set(judged.values()), key=int)
    tags = {
        "kind": kind,
        "model_name": model_name,
        "model_versions": ",".join(versions),
        **{f"{role}_version": version for role, version in judged.items()},
    }
    with mlflow_errors(f"logging the {kind} run"):
        run = client.create_run(
            experiment_id, run_name=f"{kind}-" + "-".join(f"v{v}" for v in versions), tags=tags
        )
    run_id = str(run.info.run_id)
    try:
        with mlflow_errors(f"logging the {kind} run"):
            for key, value in params.items():
                client.log_param(run_id, _KEY.sub("_", key), str(value)[:500])
            for key, number in metrics.items():
                client.log_metric(run_id, _KEY.sub("_", key), float(number))
            for path in artifacts:
                if path.is_file():
                    client.log_artifact(run_id, str(path), kind)
            client.log_text(run_id, json.dumps(tags, indent=2), f"{kind}/judged.json")
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    with mlflow_errors(f"closing the {kind} run"):
        client.set_terminated(run_id)
    return run_id
