"""The settings' sections for the cloud: Azure's target, Azure ML, and the containers that
Container Instances and Container Apps run (the ``[azure]`` extra reads them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from emotion_clf.config.sections import CommaList, Section


class AzureSettings(Section):
    ENV_PREFIX = "AZURE_"
    TITLE = "Azure: where the workspace and the container resources live"

    subscription_id: str | None = Field(default=None, description="Azure subscription id")
    resource_group: str | None = Field(default=None, description="Resource group")
    location: str = Field(default="westeurope", description="Region of new resources")
    workspace: str | None = Field(default=None, description="Azure ML workspace name")


class AzureMlSettings(Section):
    ENV_PREFIX = "AZUREML_"
    TITLE = "Azure ML: registry backend, pipelines, online and batch endpoints"

    registry_prefix: str = Field(
        default="emotion-clf-registry",
        description="Blob folder of the registry's designations, lock and audit log",
    )
    registry_storage: SecretStr | None = Field(
        default=None,
        description="A storage connection string for the registry's blobs instead of the "
        "workspace's default datastore (another account, or Azurite)",
    )
    registry_container: str = Field(
        default="emotion-clf-registry",
        description="The blob container used with EMOTION_CLF_AZUREML_REGISTRY_STORAGE",
    )
    lock_lease_s: int = Field(
        default=30, ge=15, le=60, description="Promotion lock lease, renewed while held"
    )
    compute: str = Field(default="cpu-cluster", description="Compute cluster for jobs")
    instance_type: str = Field(
        default="Standard_DS3_v2",
        description="VM size of batch deployments (and of online ones unless "
        "EMOTION_CLF_AZUREML_ONLINE_INSTANCE_TYPE is set)",
    )
    instance_count: int = Field(
        default=1,
        description="Instances of a batch deployment (and of an online one unless "
        "EMOTION_CLF_AZUREML_ONLINE_INSTANCE_COUNT is set)",
    )
    endpoint_auth: Literal["key", "aml_token", "aad_token"] = Field(
        default="key",
        description="How callers authenticate to an online endpoint: a key, an Azure ML "
        "token, or a Microsoft Entra token (no shared secret)",
    )
    metric_gate: bool = Field(
        default=True,
        description="With a hold, each step is also judged by Azure Monitor's figures of the "
        "new deployment against the old one's over the hold (requests, 5xx, p99 latency)",
    )
    metric_min_requests: int = Field(
        default=20, ge=0, description="Fewer requests in a hold: the figures are not judged"
    )
    metric_max_5xx: float = Field(
        default=0.01, ge=0, le=1, description="The new deployment's largest share of 5xx answers"
    )
    metric_max_5xx_gain: float = Field(
        default=0.005,
        ge=0,
        le=1,
        description="How far the new deployment's 5xx share may be above the old one's",
    )
    metric_max_p99_ratio: float = Field(
        default=1.5, gt=0, description="The new deployment's p99 latency against the old one's"
    )
    collect_data: bool = Field(
        default=True,
        description="Online deployments collect their inputs and outputs (Azure ML's data "
        "collector) for drift monitoring",
    )
    collect_sampling: float = Field(
        default=1.0, gt=0, le=1, description="Share of requests the data collector keeps"
    )
    monitor_threshold: float = Field(
        default=0.1,
        gt=0,
        description="Azure ML monitor: the Jensen-Shannon distance (labels) and normalised "
        "Wasserstein distance (text length) above which a signal flags",
    )
    autoscale: bool = Field(
        default=False,
        description="Online deployments scale on CPU (Azure Monitor autoscale), the setting "
        "moved to the new colour at each cut-over",
    )
    autoscale_min: int = Field(default=1, ge=1, description="Fewest instances under autoscale")
    autoscale_max: int = Field(default=3, ge=1, description="Most instances under autoscale")
    autoscale_cpu_out: float = Field(
        default=70.0, gt=0, le=100, description="CPU percent above which an instance is added"
    )
    autoscale_cpu_in: float = Field(
        default=25.0, gt=0, le=100, description="CPU percent below which an instance is removed"
    )
    app_insights: bool = Field(
        default=False,
        description="Online deployments send their logs and metrics to the workspace's "
        "Application Insights",
    )
    online_instance_type: str | None = Field(
        default=None, description="VM size of an online deployment (default: INSTANCE_TYPE)"
    )
    online_instance_count: int | None = Field(
        default=None,
        ge=1,
        description="Instances of an online deployment (default: INSTANCE_COUNT)",
    )
    online_workers: int = Field(
        default=2,
        ge=1,
        description="Scoring processes per instance of an online deployment (WORKER_COUNT)",
    )
    online_max_concurrent: int = Field(
        default=4,
        ge=1,
        description="Requests an online instance takes at once before Azure queues them "
        "(Azure's default is 1)",
    )
    online_request_timeout_s: float = Field(
        default=60.0,
        gt=0,
        le=180,
        description="How long an online request may take (Azure's default is 5 s: too short "
        "for a full batch on a cold instance; Azure allows up to 180 s)",
    )
    online_max_queue_wait_s: float = Field(
        default=5.0, gt=0, description="How long a request may wait in an instance's queue"
    )
    online_startup_s: int = Field(
        default=120,
        ge=10,
        description="Liveness probe's initial delay: time to load the model before Azure "
        "restarts an instance that does not answer",
    )
    data_asset: str = Field(
        default="emotion-clf-data", description="Data asset (uri_folder) the pipeline trains on"
    )
    landing_datastore: str = Field(
        default="workspaceblobstore",
        description="Datastore of the folder where new labelled batches land (the schedule "
        "trains on what is there at each trigger)",
    )
    landing_path: str = Field(
        default="emotion-clf/landing",
        description="Folder in EMOTION_CLF_AZUREML_LANDING_DATASTORE where new labelled batches "
        "land",
    )
    identity_client_id: str | None = Field(
        default=None,
        description="Client id of the user-assigned managed identity the compute cluster's "
        "register step signs in with (unset: the cluster's system-assigned identity)",
    )
    environment: str = Field(
        default="emotion-clf", description="Azure ML environment name (jobs and scoring)"
    )
    traffic_steps: CommaList[int] = Field(
        default_factory=lambda: [10, 50, 100],
        description="Percent steps of a blue-green traffic shift on an online endpoint",
    )
    traffic_hold_s: float = Field(
        default=0.0,
        ge=0,
        description="How long each traffic step (and a mirror) runs before the new colour is "
        "checked; give the step time to see real requests",
    )
    batch_endpoint: str = Field(default="emotion-clf-batch", description="Batch endpoint name")
    batch_test_input: str | None = Field(
        default=None,
        description="A small folder (azureml://datastores/.../paths/...) a new batch "
        "deployment scores, by name, before it becomes the endpoint's default",
    )


class ContainerSettings(Section):
    ENV_PREFIX = "CONTAINER_"
    TITLE = "Containers: the image and what every container service runs"

    image: str | None = Field(
        default=None, description="The image to run, e.g. myacr.azurecr.io/emotion-clf:1a2b3c4"
    )
    registry_server: str | None = Field(
        default=None, description="Image registry to pull from (default: the image's host)"
    )
    identity: str | None = Field(
        default=None,
        description="The managed identity the containers run as: 'system', or a user-assigned "
        "identity's resource id. It pulls the image from an Azure Container Registry (give it "
        "AcrPull) and signs the server in to Azure ML's registry; ACI needs a user-assigned one",
    )
    identity_client_id: str | None = Field(
        default=None,
        description="Client id of the user-assigned identity (AZURE_CLIENT_ID in the "
        "containers, so DefaultAzureCredential picks it)",
    )
    registry_username: str | None = Field(
        default=None,
        description="User of an image registry outside Azure (with a pull token); an Azure "
        "Container Registry is reached with EMOTION_CLF_CONTAINER_IDENTITY instead",
    )
    registry_password: SecretStr | None = Field(
        default=None,
        description="Pull token of an image registry outside Azure (never an ACR admin password)",
    )
    tracking_uri: str | None = Field(
        default=None,
        description="The model registry the containers use (default: the tracking URI, if "
        "remote; a local SQLite store is refused)",
    )
    tracking_token: SecretStr | None = Field(
        default=None, description="MLFLOW_TRACKING_TOKEN for the containers, if the server asks"
    )
    cpu: float = Field(default=1.0, description="CPU cores of a container")
    memory_gb: float = Field(default=2.0, description="Memory of a container, in GB")
    port: int = Field(default=8000, description="The port the container's server listens on")
    ready_timeout_s: float = Field(
        default=600.0, description="How long a deploy waits for /ready before its health check"
    )


class AciSettings(Section):
    ENV_PREFIX = "ACI_"
    TITLE = "Azure Container Instances"

    name: str = Field(default="emotion-clf", description="Container group name")
    dns_label: str | None = Field(default=None, description="DNS label (default: the name)")
    dns_scope: Literal["TenantReuse", "SubscriptionReuse", "ResourceGroupReuse", "Noreuse"] = Field(
        default="TenantReuse",
        description="Who may take the DNS label after this group is deleted: a hashed "
        "label only this tenant (subscription, resource group) can reuse, never anyone",
    )
    restart_policy: str = Field(default="Always", description="Always, OnFailure or Never")


class AcaSettings(Section):
    ENV_PREFIX = "ACA_"
    TITLE = "Azure Container Apps (blue and green revisions)"

    name: str = Field(default="emotion-clf", description="The container app")
    environment: str | None = Field(
        default=None, description="Container Apps environment: a name or a full resource id"
    )
    min_replicas: int = Field(default=1, description="Fewest replicas of a revision")
    max_replicas: int = Field(default=3, description="Most replicas of a revision")
    concurrent_requests: int = Field(
        default=20, description="Concurrent requests per replica before the app scales out"
    )
    traffic_steps: CommaList[int] = Field(
        default_factory=lambda: [10, 50, 100],
        description="Percent steps of a blue-green traffic shift between revisions",
    )
