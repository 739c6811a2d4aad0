"""The settings' sections for the cloud: Azure's target, Azure ML, and the containers that
Container Instances and Container Apps run (the ``[azure]`` extra reads them)."""

from __future__ import annotations

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
        default="Standard_DS3_v2", description="VM size of online and batch deployments"
    )
    instance_count: int = Field(default=1, description="Instances of a deployment")
    data_asset: str = Field(
        default="emotion-clf-data", description="Data asset (uri_folder) the pipeline trains on"
    )
    environment: str = Field(
        default="emotion-clf", description="Azure ML environment name (jobs and scoring)"
    )
    traffic_steps: CommaList[int] = Field(
        default_factory=lambda: [10, 50, 100],
        description="Percent steps of a blue-green traffic shift on an online endpoint",
    )
    batch_endpoint: str = Field(default="emotion-clf-batch", description="Batch endpoint name")


class ContainerSettings(Section):
    ENV_PREFIX = "CONTAINER_"
    TITLE = "Containers: the image and what every container service runs"

    image: str | None = Field(
        default=None, description="The image to run, e.g. myacr.azurecr.io/emotion-clf:1a2b3c4"
    )
    registry_server: str | None = Field(
        default=None, description="Image registry to pull from (default: the image's host)"
    )
    registry_username: str | None = Field(default=None, description="Image registry user")
    registry_password: SecretStr | None = Field(default=None, description="Image registry password")
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
