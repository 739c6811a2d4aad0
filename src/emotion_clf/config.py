"""One settings object for the whole project.

Only entry points (the CLI, a notebook's parameters cell, FastAPI dependencies) read settings;
everything below them takes explicit keyword arguments.

Every path the tools write lives under ``home`` (``EMOTION_CLF_HOME``, default: the project
folder), so a user or a test can point a whole run somewhere else with one variable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from emotion_clf.errors import ConfigError

_PLACEHOLDER_SECRETS = {"changeme", "change-me", "changethis", "secret", "token", "dev"}
MIN_REFRESH_TOKEN_CHARS = 32  # what a server accepts: guessing 32 random characters is hopeless


def project_root() -> Path:
    """The source checkout this package runs from, or the working directory if installed."""
    candidate = Path(__file__).resolve().parents[2]
    if (candidate / "pyproject.toml").is_file() and (candidate / "src" / "emotion_clf").is_dir():
        return candidate
    return Path.cwd()


class Settings(BaseSettings):
    """Settings read from ``EMOTION_CLF_*`` environment variables and a ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix="EMOTION_CLF_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    home: Path = Field(default_factory=project_root, description="Workspace folder")
    data_dir: Path | None = Field(
        default=None, description="Labelled CSV batches (default: <project>/data/raw)"
    )
    goemotions_dir: Path | None = Field(
        default=None, description="The GoEmotions data (default: <project>/data/goemotions)"
    )
    dev_mode: bool = False

    # Registry: MLflow (default) or the Azure ML workspace (settings under "Azure ML" below)
    registry: Literal["mlflow", "azureml"] = Field(
        default="mlflow", description="Model store backend: mlflow or azureml"
    )
    tracking_uri: str | None = Field(
        default=None, description="MLflow tracking URI (default: SQLite store under home)"
    )
    registry_uri: str | None = None
    model_name: str = "emotion-clf"
    experiment_name: str = "emotion-clf"
    registry_timeout_s: float = 10.0
    registry_retries: int = 2
    promotion_lock_ttl_s: float = 600.0

    # Promotion gate policy
    gate_min_macro_f1_gain: float = 0.0
    gate_alpha: float = 0.05
    gate_max_class_f1_drop: float = 0.10
    gate_min_class_support: int = 50
    gate_max_head_macro_f1_drop: float = 0.02
    gate_first_min_accuracy: float = 0.50
    gate_first_min_macro_f1: float = 0.30
    gate_bootstrap_samples: int = 1000

    # Refresh fan-out
    refresh_endpoints: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost:8000/refresh-model"]
    )
    refresh_token: SecretStr | None = None
    refresh_timeout_s: float = 30.0
    refresh_retries: int = 3
    actor: str | None = Field(default=None, description="Who promotes (default: user@host)")

    # Serving
    poll_seconds: float = 30.0
    batch_limit: int = 256
    max_text_chars: int = 2000
    max_body_bytes: int = 1_000_000
    microbatch_max_size: int = 64
    microbatch_max_wait_ms: float = 5.0
    model_process: bool = Field(
        default=False,
        description="Run each served model in a child process of its worker: it shares no GIL "
        "with the event loop, and a crash costs a batch, not the worker. Off by default: on 2 "
        "cores it did not raise throughput (benchmarks/README.md)",
    )
    log_prediction_text: bool = False
    prediction_log_queue: int = 10_000
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    serve_workers: int = 1
    model_retry_seconds: float = Field(
        default=5.0,
        description="With no model loaded (or one served from cache), how often the server "
        "tries again",
    )
    poll_backoff_max_s: float = Field(
        default=300.0,
        description="Longest wait between two checks of the registry after failures in a row",
    )
    refresh_failures_per_minute: int = Field(
        default=5,
        description="Failed POST /refresh-model attempts a client may make in a minute "
        "before it is answered 429",
    )
    peer_timeout_s: float = Field(
        default=120.0,
        description="How long a refresh waits for the server's other workers to swap",
    )
    serve_run_dir: Path | None = Field(
        default=None,
        description="Set by `serve --workers N` (N > 1) for its workers: their sockets and "
        "metrics; not a user setting",
    )
    shadow_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of live prediction requests the dynamic model also predicts, off "
        "the request path (0 turns shadow traffic off)",
    )
    shadow_queue: int = Field(
        default=1000, description="Sampled texts waiting for the shadow model at most"
    )
    startup_wait_seconds: float = Field(
        default=60.0, description="How long start-up waits for the first load before serving"
    )
    transcript_max_segments: int = 5000
    media_max_bytes: int = Field(
        default=50_000_000, description="Largest audio or video POST /predict/media takes"
    )
    media_max_seconds: float = Field(
        default=900.0, description="Longest audio POST /predict/media transcribes"
    )
    speech_threads: int = Field(default=2, description="CPU threads for speech to text")
    benchmark_routes: bool = Field(
        default=False, description="Expose the hidden naive /predict/naive route (benchmarks)"
    )

    # Drift checks (emotion-clf drift check)
    drift_alpha: float = Field(
        default=0.02, description="False alarm rate of a check with no drift (split over its tests)"
    )
    drift_text_auc: float = Field(
        default=0.55, description="Text-domain classifier ROC AUC above which texts drifted"
    )

    # Azure (the [azure] extra): where the workspace and the container resources live
    azure_subscription_id: str | None = None
    azure_resource_group: str | None = None
    azure_location: str = "westeurope"
    azure_workspace: str | None = Field(default=None, description="Azure ML workspace name")

    # Azure ML: registry backend, pipelines, online and batch endpoints
    azureml_registry_prefix: str = Field(
        default="emotion-clf-registry",
        description="Blob folder of the registry's designations, lock and audit log",
    )
    azureml_registry_storage: SecretStr | None = Field(
        default=None,
        description="A storage connection string for the registry's blobs instead of the "
        "workspace's default datastore (another account, or Azurite)",
    )
    azureml_registry_container: str = Field(
        default="emotion-clf-registry",
        description="The blob container used with EMOTION_CLF_AZUREML_REGISTRY_STORAGE",
    )
    azureml_lock_lease_s: int = Field(
        default=30, ge=15, le=60, description="Promotion lock lease, renewed while held"
    )
    azureml_compute: str = Field(default="cpu-cluster", description="Compute cluster for jobs")
    azureml_instance_type: str = Field(
        default="Standard_DS3_v2", description="VM size of online and batch deployments"
    )
    azureml_instance_count: int = 1
    azureml_data_asset: str = Field(
        default="emotion-clf-data", description="Data asset (uri_folder) the pipeline trains on"
    )
    azureml_environment: str = Field(
        default="emotion-clf", description="Azure ML environment name (jobs and scoring)"
    )
    azureml_traffic_steps: str = Field(
        default="10,50,100", description="Percent steps of a blue-green traffic shift"
    )
    azureml_batch_endpoint: str = Field(
        default="emotion-clf-batch", description="Batch endpoint name"
    )

    # Containers: image, Container Instances, Container Apps
    serve_model: str = Field(
        default="baseline",
        description="What `serve` serves: baseline, dynamic, or a version number, which pins "
        "it (a Container Apps revision serves the one version it was deployed with)",
    )
    container_image: str | None = Field(
        default=None, description="The image to run, e.g. myacr.azurecr.io/emotion-clf:1a2b3c4"
    )
    container_registry_server: str | None = Field(
        default=None, description="Registry to pull from (default: the image's host)"
    )
    container_registry_username: str | None = None
    container_registry_password: SecretStr | None = None
    container_tracking_uri: str | None = Field(
        default=None,
        description="The model registry the containers use (default: tracking_uri, if remote)",
    )
    container_tracking_token: SecretStr | None = Field(
        default=None, description="MLFLOW_TRACKING_TOKEN for the containers, if the server asks"
    )
    container_cpu: float = 1.0
    container_memory_gb: float = 2.0
    container_port: int = 8000
    container_ready_timeout_s: float = Field(
        default=600.0, description="How long a deploy waits for /ready before its health check"
    )
    aci_name: str = "emotion-clf"
    aci_dns_label: str | None = Field(default=None, description="Default: the group's name")
    aci_restart_policy: str = "Always"
    aca_name: str = "emotion-clf"
    aca_environment: str | None = Field(
        default=None, description="Container Apps environment: a name or a full resource id"
    )
    aca_min_replicas: int = 1
    aca_max_replicas: int = 3
    aca_concurrent_requests: int = 20
    aca_traffic_steps: str = "10,50,100"

    @field_validator("refresh_endpoints", mode="before")
    @classmethod
    def _split_endpoints(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("serve_model")
    @classmethod
    def _check_serve_model(cls, value: str) -> str:
        if value not in ("baseline", "dynamic") and not value.isdigit():
            raise ValueError("EMOTION_CLF_SERVE_MODEL: baseline, dynamic or a version number")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_token(self) -> Settings:
        token = self.refresh_token.get_secret_value() if self.refresh_token else None
        if token is not None and not self.dev_mode and token.lower() in _PLACEHOLDER_SECRETS:
            raise ValueError(
                "EMOTION_CLF_REFRESH_TOKEN is a placeholder; set a real secret "
                "or turn on EMOTION_CLF_DEV_MODE"
            )
        return self

    def check_server_token(self) -> None:
        """Raise :class:`ConfigError` when a server must not start with the refresh token:
        one shorter than :data:`MIN_REFRESH_TOKEN_CHARS` (the message never shows it)."""
        token = self.refresh_token.get_secret_value() if self.refresh_token else None
        if token is not None and len(token) < MIN_REFRESH_TOKEN_CHARS:
            raise ConfigError(
                f"EMOTION_CLF_REFRESH_TOKEN is {len(token)} characters long; a server needs at "
                f"least {MIN_REFRESH_TOKEN_CHARS}. Make one with: python -c "
                '"import secrets; print(secrets.token_urlsafe(32))"'
            )

    # Derived locations: everything written lives under home.
    @property
    def raw_data_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else project_root() / "data" / "raw"

    @property
    def goemotions_data_dir(self) -> Path:
        if self.goemotions_dir is not None:
            return self.goemotions_dir
        return project_root() / "data" / "goemotions"

    @property
    def transfer_cache_dir(self) -> Path:
        """Training stages cached for reuse (the minilm GoEmotions transfer stage)."""
        return self.home / ".cache" / "transfer"

    @property
    def registry_dir(self) -> Path:
        return self.home / "mlruns"

    @property
    def resolved_tracking_uri(self) -> str:
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{(self.registry_dir / 'mlflow.db').resolve()}"

    @property
    def artifact_location(self) -> str:
        return (self.registry_dir / "artifacts").resolve().as_uri()

    @property
    def cache_dir(self) -> Path:
        return self.home / ".cache" / "models"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def feedback_dir(self) -> Path:
        return self.home / "feedback"

    @property
    def monitoring_dir(self) -> Path:
        return self.home / "monitoring"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` to re-read."""
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"invalid settings: {exc}") from exc
