"""Azure ML model monitoring of a managed online deployment, against the version's reference.

The deployment's data collector stores its traffic as two data assets Azure names after it
(``<endpoint>-<deployment>-model_inputs`` and ``-model_outputs``, see
:mod:`emotion_clf.monitoring.collected`). :func:`plan_monitor` builds what ``emotion-clf
azure monitor create`` creates: the version's reference profile (the held-out rows its
bundle ships, the same one the project's own drift check uses) as an MLTable data asset, and a
``MonitorSchedule`` that compares each day's collected traffic with it: prediction drift on
the three heads' labels, data drift on the text length. Both routes, Azure's monitor and
``emotion-clf drift check --azure-collected``, read the same traffic against the same
reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emotion_clf.azure.ml.workspace import Plan
from emotion_clf.azure.sdk import require
from emotion_clf.data.profile import ReferenceProfile
from emotion_clf.data.schema import HEADS
from emotion_clf.monitoring.collected import INPUTS, OUTPUTS

MLTABLE = """paths:
  - file: ./reference.jsonl
transformations:
  - read_json_lines:
      encoding: utf8
"""


def reference_rows(profile: ReferenceProfile) -> list[dict[str, Any]]:
    """The profile as the collected rows look: inputs' length, outputs' labels and confidences."""
    rows = []
    for i, text in enumerate(profile.texts):
        row: dict[str, Any] = {"length": len(text)}
        for head in HEADS:
            row[head] = profile.labels[head][i]
            row[f"{head}_confidence"] = profile.confidences[head][i]
        rows.append(row)
    return rows


def stage_reference(profile: ReferenceProfile, out: Path) -> Path:
    """A folder Azure ML reads as an MLTable: ``reference.jsonl`` and its ``MLTable``."""
    out.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r) + "\n" for r in reference_rows(profile))
    (out / "reference.jsonl").write_text(lines, encoding="utf-8")
    (out / "MLTable").write_text(MLTABLE, encoding="utf-8")
    return out


def collected_asset(endpoint: str, deployment: str, collection: str) -> str:
    """The data asset Azure ML registers for one collection of a deployment."""
    return f"azureml:{endpoint}-{deployment}-{collection}:1"


def plan_monitor(
    *,
    profile: ReferenceProfile,
    version: str,
    endpoint: str,
    deployment: str,
    out: Path,
    name: str,
    threshold: float,
    emails: list[str] | None = None,
) -> Plan:
    """The reference data asset and the daily monitor schedule of ``deployment``."""
    entities = require("azure.ai.ml.entities")
    ml = require("azure.ai.ml")
    constants = require("azure.ai.ml.constants")
    folder = stage_reference(profile, out / f"reference-v{version}")
    plan = Plan()
    data = plan.add(
        "reference-data.yml",
        entities.Data(
            name="emotion-clf-reference",
            version=version,
            type="mltable",
            path=str(folder.resolve()),
            description=f"reference profile of model version {version} (held-out rows)",
        ),
    )
    reference = f"azureml:{data.name}:{data.version}"

    def reference_data(context: Any) -> Any:
        return entities.ReferenceData(
            input_data=ml.Input(type="mltable", path=reference), data_context=context
        )

    def production(collection: str, context: Any) -> Any:
        return entities.ProductionData(
            input_data=ml.Input(
                type="uri_folder", path=collected_asset(endpoint, deployment, collection)
            ),
            data_context=context,
            data_window=entities.BaselineDataRange(lookback_window_size="P1D"),
        )

    outputs, inputs = (
        constants.MonitorDatasetContext.MODEL_OUTPUTS,
        constants.MonitorDatasetContext.MODEL_INPUTS,
    )
    signals = {
        "prediction-drift": entities.PredictionDriftSignal(
            production_data=production(OUTPUTS, outputs),
            reference_data=reference_data(outputs),
            metric_thresholds=entities.PredictionDriftMetricThreshold(
                categorical=entities.CategoricalDriftMetrics(jensen_shannon_distance=threshold)
            ),
            alert_enabled=bool(emails),
        ),
        "length-drift": entities.DataDriftSignal(
            production_data=production(INPUTS, inputs),
            reference_data=reference_data(inputs),
            features=["length"],
            metric_thresholds=entities.DataDriftMetricThreshold(
                numerical=entities.NumericalDriftMetrics(normalized_wasserstein_distance=threshold)
            ),
            alert_enabled=bool(emails),
        ),
    }
    definition = entities.MonitorDefinition(
        compute=entities.ServerlessSparkCompute(
            runtime_version="3.4", instance_type="standard_e4s_v3"
        ),
        monitoring_target=entities.MonitoringTarget(
            ml_task="classification", endpoint_deployment_id=f"azureml:{endpoint}:{deployment}"
        ),
        monitoring_signals=signals,
        alert_notification=entities.AlertNotification(emails=emails) if emails else None,
    )
    plan.add(
        "monitor-schedule.yml",
        entities.MonitorSchedule(
            name=name,
            trigger=entities.RecurrenceTrigger(
                frequency="day",
                interval=1,
                schedule=entities.RecurrencePattern(hours=3, minutes=0),
            ),
            create_monitor=definition,
            description=f"emotion-clf: {endpoint}/{deployment} against version {version}",
        ),
    )
    return plan


def create_monitor(ml_client: Any, plan: Plan) -> Any:
    """The reference data asset, then the schedule."""
    ml_client.data.create_or_update(plan.entities["reference-data.yml"])
    return ml_client.schedules.begin_create_or_update(
        plan.entities["monitor-schedule.yml"]
    ).result()
