"""Autoscale of the colour serving a managed online endpoint.

Azure's autoscale setting for a managed online deployment is an Azure Monitor resource bound
to *one* deployment's resource id. Blue-green alternates the colours, so a setting made once
would keep scaling the old colour after a cut-over and leave the new one at its fixed
instance count. :class:`Autoscaler` therefore keeps one setting per endpoint
(``<endpoint>-autoscale``) and points it at the new colour as soon as that colour serves
everything (:func:`emotion_clf.azure.ml.endpoint.deploy` calls it after the cut-over): scale
out on CPU above ``EMOTION_CLF_AZUREML_AUTOSCALE_CPU_OUT``, in below ``_CPU_IN``, between
``_MIN`` and ``_MAX`` instances (``azure-mgmt-monitor``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from emotion_clf.azure.sdk import AzureTarget, azure_target, credential, require
from emotion_clf.config import Settings

NAMESPACE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"
CPU = "CpuUtilizationPercentage"


@dataclass(frozen=True)
class AutoscalePolicy:
    minimum: int = 1
    maximum: int = 3
    cpu_out: float = 70.0
    cpu_in: float = 25.0


def setting_name(endpoint: str) -> str:
    return f"{endpoint}-autoscale"


def build_setting(*, deployment_id: str, location: str, policy: AutoscalePolicy) -> Any:
    """The ``AutoscaleSettingResource`` that scales ``deployment_id`` on its CPU."""
    m = require("azure.mgmt.monitor.models")

    def rule(operator: str, threshold: float, direction: str) -> Any:
        return m.ScaleRule(
            metric_trigger=m.MetricTrigger(
                metric_name=CPU,
                metric_namespace=NAMESPACE,
                metric_resource_uri=deployment_id,
                time_grain=timedelta(minutes=1),
                statistic="Average",
                time_window=timedelta(minutes=5),
                time_aggregation="Average",
                operator=operator,
                threshold=threshold,
            ),
            scale_action=m.ScaleAction(
                direction=direction, type="ChangeCount", value="1", cooldown=timedelta(minutes=5)
            ),
        )

    capacity = m.ScaleCapacity(
        minimum=str(policy.minimum), maximum=str(policy.maximum), default=str(policy.minimum)
    )
    return m.AutoscaleSettingResource(
        location=location,
        profiles=[
            m.AutoscaleProfile(
                name="cpu",
                capacity=capacity,
                rules=[
                    rule("GreaterThan", policy.cpu_out, "Increase"),
                    rule("LessThan", policy.cpu_in, "Decrease"),
                ],
            )
        ],
        enabled=True,
        target_resource_uri=deployment_id,
    )


class Autoscaler:
    """Points an endpoint's one autoscale setting at the deployment that now serves."""

    def __init__(
        self, target: AzureTarget, policy: AutoscalePolicy, client: Any | None = None
    ) -> None:
        self.target, self.policy = target, policy
        if client is None:
            monitor = require("azure.mgmt.monitor")
            client = monitor.MonitorManagementClient(credential(), target.subscription_id)
        self.client = client

    def follow(self, endpoint: str, deployment_id: str, location: str) -> str:
        """Scale the deployment ``deployment_id`` (the endpoint's setting, in its region)."""
        setting = build_setting(deployment_id=deployment_id, location=location, policy=self.policy)
        self.client.autoscale_settings.create_or_update(
            self.target.resource_group, setting_name(endpoint), setting
        )
        return deployment_id


def autoscaler_for(settings: Settings) -> Autoscaler | None:
    """The autoscaler the settings ask for (``EMOTION_CLF_AZUREML_AUTOSCALE``), or None."""
    aml = settings.azureml
    if not aml.autoscale:
        return None
    policy = AutoscalePolicy(
        minimum=aml.autoscale_min,
        maximum=aml.autoscale_max,
        cpu_out=aml.autoscale_cpu_out,
        cpu_in=aml.autoscale_cpu_in,
    )
    return Autoscaler(azure_target(settings, workspace=True), policy)
