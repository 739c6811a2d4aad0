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
        description="After how long a promotion lock left by a killed process is broken; a "
        "promotion holds it through its endpoint rollouts, so keep it above the longest one",
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
    feedback_max_submissions_per_minute: int = Field(
        default=60,
        ge=0,
        description="POST /feedback (or /save-feedback) submissions a client address may make "
        "in a sliding minute; more are answered 429 with Retry-After and not saved "
        "(0: no limit; each worker counts its own)",
    )
    feedback_max_bytes_per_minute: int = Field(
        default=10_000_000,
        ge=0,
        description="Bytes of POST /feedback (or /save-feedback) bodies a client address may "
        "send in a sliding minute; more are answered 429 with Retry-After and not saved "
        "(0: no limit; one body is always taken when the minute is empty)",
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
    web_app: bool = Field(
        default=True,
        description="Serve the web app (/ analyse, /production); off: GET / redirects to /docs",
    )
    web_poll_s: float = Field(
        default=5.0,
        gt=0,
        description="How often the /production page asks the server for its state again",
    )
    header_timeout_s: float = Field(
        default=10.0,
        description="Longest a client may take to send a request's line and headers (from the "
        "connection or its first byte); then the connection is closed with a 408",
    )
    body_timeout_s: float = Field(
        default=120.0,
        description="Longest a client may take to send a request's body once its headers are "
        "in; then the connection is closed with a 408",
    )
    trusted_proxies: CommaList[str] = Field(
        default_factory=list,
        description="Addresses (or CIDR ranges) of proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty: none, the TCP peer is the client",
    )
    cors_origins: CommaList[str] = Field(
        default_factory=list,
        description="Origins whose browser pages may call the API (CORS), such as "
        "http://localhost:3000 for a web client served elsewhere; * for any; empty: none",
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
    urls: CommaList[str] = Field(
        default_factory=lambda: ["off"],
        description="Which URLs POST /predict/media fetches: off (none), public (any host "
        "whose every address is public), or an allow-list of hosts (host, or host:internal to "
        "allow one on an internal network)",
    )
    url_deadline_s: float = Field(
        default=60.0, description="Longest a URL download may take in all, redirects included"
    )
    url_max_redirects: int = Field(
        default=3, ge=0, description="Redirects a URL download follows, each one checked again"
    )
    url_youtube: bool = Field(
        default=False,
        description="Let URLs of YouTube pages through (yt-dlp, when installed; it makes "
        "requests of its own the URL policy cannot check)",
    )
    max_downloads: int = Field(
        default=2, ge=1, description="URL downloads at once; more are answered 503"
    )
    json_max_bytes: int = Field(
        default=16_384, description='Largest JSON body ({"url": ...}) POST /predict/media takes'
    )

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        keywords = {"off", "public"} & {v.lower() for v in value}
        if keywords and len(value) > 1:
            raise ValueError(
                "EMOTION_CLF_MEDIA_URLS: off, public, or a comma-separated list of hosts"
            )
        return [v.lower() if v.lower() in ("off", "public") else v for v in value] or ["off"]


class BatchSettings(Section):
    ENV_PREFIX = "BATCH_"
    TITLE = "Batch inference (predict --input-file)"

    max_record_bytes: int = Field(
        default=1_048_576,
        description="Longest CSV record, JSONL line or text line read; a longer one is a "
        "rejected row (read past in constant memory)",
    )
    max_transcript_bytes: int = Field(
        default=10_000_000, description="Largest SRT or WebVTT file read (it is parsed whole)"
    )
    max_media_s: float = Field(
        default=3600.0,
        description="Longest recording transcribed when --max-media-seconds is not given",
    )
    max_download_bytes: int = Field(
        default=500_000_000, description="Largest file downloaded from a URL source"
    )
    download_deadline_s: float = Field(
        default=600.0, description="Longest a URL source's download may take in all"
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
