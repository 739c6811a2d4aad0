"""The settings' sections: one typed model per capability, each field with its description.

Every field is read from one environment variable, ``EMOTION_CLF_`` + the section's
``ENV_PREFIX`` + the field's name (``gate.alpha`` is ``EMOTION_CLF_GATE_ALPHA``), unless the
field names its variable itself (``env``); ``legacy`` lists older names still read (a value
under the new name wins). Durations end in ``_s`` and are seconds; lists are comma-separated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

T = TypeVar("T")


def split_commas(value: object) -> object:
    """The one way a list is written in a setting: ``a,b,c`` (blanks dropped)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[T], BeforeValidator(split_commas)]


def env(name: str, *, legacy: tuple[str, ...] = (), legacy_scale: float = 1.0) -> dict[str, Any]:
    """``json_schema_extra`` naming a field's variable (without ``EMOTION_CLF_``) and the
    older names it is still read from (a value there is multiplied by ``legacy_scale``: an
    older name in milliseconds, say)."""
    return {"env": name, "legacy": list(legacy), "legacy_scale": legacy_scale}


class Section(BaseModel):
    """A group of settings; its fields' variables start with ``EMOTION_CLF_`` + ``ENV_PREFIX``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ENV_PREFIX: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""


class RegistrySettings(Section):
    TITLE = "Model registry"

    backend: Literal["mlflow", "azureml"] = Field(
        default="mlflow",
        description="Model store backend: mlflow (an embedded SQLite store by default, or any "
        "tracking URI) or azureml (an Azure ML workspace, settings under azure and azureml)",
        json_schema_extra=env("REGISTRY"),
    )
    tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI (default: an SQLite store under <home>/mlruns)",
    )
    registry_uri: str | None = Field(
        default=None, description="MLflow registry URI, where it differs from the tracking URI"
    )
    model_name: str = Field(default="emotion-clf", description="The registered model's name")
    experiment_name: str = Field(
        default="emotion-clf", description="The MLflow experiment training runs are logged to"
    )
    timeout_s: float = Field(
        default=10.0,
        description="Timeout of one call to a remote registry",
        json_schema_extra=env("REGISTRY_TIMEOUT_S"),
    )
    retries: int = Field(
        default=2,
        description="Retries of a call to a remote registry that failed to connect",
        json_schema_extra=env("REGISTRY_RETRIES"),
    )
    promotion_lock_ttl_s: float = Field(
        default=600.0,
        description="After how long a promotion lock left by a killed process is broken",
    )


class GateSettings(Section):
    ENV_PREFIX = "GATE_"
    TITLE = "Promotion gate"

    min_macro_f1_gain: float = Field(
        default=0.0,
        description="Least gain in emotion macro-F1 a candidate needs over the baseline (its "
        "bootstrap interval must also be above zero)",
    )
    alpha: float = Field(
        default=0.05, description="Significance level of McNemar's test (candidate worse)"
    )
    max_class_f1_drop: float = Field(
        default=0.10, description="Largest F1 drop allowed on any class with enough support"
    )
    min_class_support: int = Field(
        default=50, description="Rows a class needs in the test data for its F1 drop to count"
    )
    max_head_macro_f1_drop: float = Field(
        default=0.02,
        description="Largest macro-F1 drop allowed on the sub-emotion and intensity heads",
    )
    first_min_accuracy: float = Field(
        default=0.50, description="Emotion accuracy the first baseline (none yet) needs"
    )
    first_min_macro_f1: float = Field(
        default=0.30, description="Emotion macro-F1 the first baseline (none yet) needs"
    )
    bootstrap_samples: int = Field(
        default=1000, description="Resamples of the paired bootstrap interval of the F1 gain"
    )


class PromotionSettings(Section):
    TITLE = "Promotion and the refresh fan-out"

    refresh_endpoints: CommaList[str] = Field(
        default_factory=lambda: ["http://localhost:8000/refresh-model"],
        description="POST /refresh-model URLs told to reload after a promotion or rollback "
        "(empty: none)",
    )
    refresh_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of POST /refresh-model; a server refuses one under 32 "
        "characters, and without one its route is disabled (unless dev_mode)",
    )
    refresh_timeout_s: float = Field(default=30.0, description="Timeout of one refresh call")
    refresh_retries: int = Field(
        default=3, description="Retries of a refresh that failed to connect or answered 5xx"
    )
    actor: str | None = Field(
        default=None, description="Who promotes, in the audit log (default: user@host)"
    )

    @property
    def token(self) -> str | None:
        """The refresh token's text (None when unset)."""
        return self.refresh_token.get_secret_value() if self.refresh_token else None


class ServingSettings(Section):
    TITLE = "API server"

    serve_model: str = Field(
        default="baseline",
        description="What a server serves: baseline, dynamic, or a version number, which pins "
        "it (a Container Apps revision serves the one version it was deployed with)",
    )
    serve_host: str = Field(default="127.0.0.1", description="Address `serve` binds")
    serve_port: int = Field(default=8000, description="Port `serve` binds")
    serve_workers: int = Field(default=1, description="Worker processes of `serve`")
    serve_run_dir: Path | None = Field(
        default=None,
        description="Set by `serve --workers N` (N > 1) for its workers: their sockets and "
        "metrics; not a user setting",
    )
    poll_s: float = Field(
        default=30.0,
        description="How often a server compares its model with the registry (0: never; "
        "POST /refresh-model still swaps)",
        json_schema_extra=env("POLL_S", legacy=("POLL_SECONDS",)),
    )
    model_retry_s: float = Field(
        default=5.0,
        description="With no model loaded (or one served from cache), how often the server "
        "tries again",
        json_schema_extra=env("MODEL_RETRY_S", legacy=("MODEL_RETRY_SECONDS",)),
    )
    poll_backoff_max_s: float = Field(
        default=300.0,
        description="Longest wait between two checks of the registry after failures in a row",
    )
    startup_wait_s: float = Field(
        default=60.0,
        description="How long start-up waits for the first load before serving",
        json_schema_extra=env("STARTUP_WAIT_S", legacy=("STARTUP_WAIT_SECONDS",)),
    )
    peer_timeout_s: float = Field(
        default=120.0,
        description="How long a refresh waits for the server's other workers to swap",
    )
    refresh_failures_per_minute: int = Field(
        default=5,
        description="Failed POST /refresh-model attempts a client may make in a minute "
        "before it is answered 429",
    )
    batch_limit: int = Field(default=256, description="Most texts one POST /predict/batch takes")
    max_text_chars: int = Field(default=2000, description="Longest text a route classifies")
    max_body_bytes: int = Field(
        default=1_000_000, description="Largest request body (413 above), uploads excepted"
    )
    transcript_max_segments: int = Field(
        default=5000, description="Most segments one POST /predict/transcript takes"
    )
    microbatch_max_size: int = Field(
        default=64, description="Most texts concurrent requests share in one model call"
    )
    microbatch_max_wait_s: float = Field(
        default=0.005,
        description="Longest a request waits for others on their way to share its model call",
        json_schema_extra=env(
            "MICROBATCH_MAX_WAIT_S", legacy=("MICROBATCH_MAX_WAIT_MS",), legacy_scale=0.001
        ),
    )
    model_process: bool = Field(
        default=False,
        description="Run each served model in a child process of its worker: it shares no GIL "
        "with the event loop, and a crash costs a batch, not the worker",
    )
    log_prediction_text: bool = Field(
        default=False, description="Write the texts themselves into the prediction log"
    )
    prediction_log_queue: int = Field(
        default=10_000, description="Prediction log records waiting to be written, at most"
    )
    shadow_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of live prediction requests the dynamic model also predicts, off "
        "the request path (0 turns shadow traffic off)",
    )
    shadow_queue: int = Field(
        default=1000, description="Sampled texts waiting for the shadow model, at most"
    )
    benchmark_routes: bool = Field(
        default=False, description="Expose the hidden naive /predict/naive route (benchmarks)"
    )

    @field_validator("serve_model")
    @classmethod
    def _check_serve_model(cls, value: str) -> str:
        if value not in ("baseline", "dynamic") and not value.isdigit():
            raise ValueError("EMOTION_CLF_SERVE_MODEL: baseline, dynamic or a version number")
        return value


class MediaSettings(Section):
    ENV_PREFIX = "MEDIA_"
    TITLE = "Speech in audio and video (POST /predict/media)"

    max_bytes: int = Field(
        default=50_000_000, description="Largest audio or video POST /predict/media takes"
    )
    max_s: float = Field(
        default=900.0,
        description="Longest audio POST /predict/media transcribes",
        json_schema_extra=env("MEDIA_MAX_S", legacy=("MEDIA_MAX_SECONDS",)),
    )
    speech_threads: int = Field(
        default=2,
        description="CPU threads for speech to text",
        json_schema_extra=env("SPEECH_THREADS"),
    )


class DriftSettings(Section):
    ENV_PREFIX = "DRIFT_"
    TITLE = "Drift checks"

    alpha: float = Field(
        default=0.02, description="False alarm rate of a check with no drift (split over its tests)"
    )
    text_auc: float = Field(
        default=0.55, description="Text-domain classifier ROC AUC above which texts drifted"
    )


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
