"""Every Azure ML command's --dry-run: the YAML it writes loads back with azure-ai-ml's own
loaders, so a schema error fails here. The commands run in-process (Typer's runner: the SDK
is imported once); the last test runs the real console script for the error line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from azure.ai.ml import (
    load_batch_endpoint,
    load_data,
    load_environment,
    load_job,
    load_online_deployment,
    load_online_endpoint,
)
from azure.ai.ml.entities._load_functions import load_model_batch_deployment, load_schedule
from typer.testing import CliRunner

from emotion_clf.cli import app
from emotion_clf.config import get_settings
from emotion_clf.data import load_dataset
from emotion_clf.errors import EmotionClfError
from tests.cli.helpers import run_cli

WORKSPACE = {
    "EMOTION_CLF_AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
    "EMOTION_CLF_AZURE_RESOURCE_GROUP": "rg-emotion",
    "EMOTION_CLF_AZURE_WORKSPACE": "ws-emotion",
}


@pytest.fixture
def with_workspace(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in WORKSPACE.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return workspace


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output, result.exception


def dry_run(*args: str) -> list[Path]:
    code, output, exc = invoke(*args, "--dry-run", "--json")
    assert code == 0 and exc is None, (output, exc)
    return [Path(f) for f in json.loads(output)["files"]]


def test_pipeline_submit(with_workspace: Path, small_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "pipeline"
    args = ("--family", "tfidf", "--compute", "gpu-less", "--data", str(small_data))
    files = dry_run("azure", "pipeline", "submit", *args, "--out", str(out))
    assert [f.name for f in files] == ["environment-job.yml", "data.yml", "pipeline.yml"]
    env = load_environment(out / "environment-job.yml")
    assert env.name == "emotion-clf-job"
    assert (Path(env.build.path) / "Dockerfile").is_file() and (
        Path(env.build.path) / "src"
    ).is_dir()
    data = load_data(out / "data.yml")
    assert data.type == "uri_folder" and data.version == load_dataset(small_data).fingerprint()[:12]
    job = load_job(out / "pipeline.yml")
    assert list(job.jobs) == ["prepare", "train", "evaluate", "register"]
    assert job.settings.default_compute == "gpu-less"
    assert job.inputs["raw"].path.endswith(f"emotion-clf-data:{data.version}")
    written = yaml.safe_load((out / "pipeline.yml").read_text())
    assert (written["inputs"]["family"], written["inputs"]["seed"]) == ("tfidf", 0)
    register = job.jobs["register"]
    assert "emotion-clf registry register" in register.component.command
    assert "--skip-same-data" in register.component.command
    assert register.environment_variables["EMOTION_CLF_REGISTRY"] == "azureml"
    assert register.environment_variables["EMOTION_CLF_AZURE_WORKSPACE"] == "ws-emotion"
    assert all(str(s.environment).endswith("emotion-clf-job@latest") for s in job.jobs.values())
    # a pinned data version: prepare/train/evaluate may be reused; register never
    reuse = {name: step.component.is_deterministic for name, step in job.jobs.items()}
    assert reuse == {"prepare": True, "train": True, "evaluate": True, "register": False}


def test_the_schedule_reads_the_landing_folder_and_reuses_nothing(
    with_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMOTION_CLF_AZUREML_LANDING_PATH", "/batches/incoming/")
    monkeypatch.setenv("EMOTION_CLF_AZUREML_IDENTITY_CLIENT_ID", "11111111-2222")
    get_settings.cache_clear()
    out = tmp_path / "pipeline"
    files = dry_run("azure", "pipeline", "schedule", "--cron", "0 3 * * 1", "--out", str(out))
    # no data asset: nothing is pinned, the folder is read as it is at each trigger
    assert [f.name for f in files] == ["environment-job.yml", "pipeline.yml", "schedule.yml"]
    schedule = load_schedule(out / "schedule.yml")
    assert schedule.trigger.expression == "0 3 * * 1" and not schedule.is_enabled
    job = load_job(out / "pipeline.yml")
    assert list(schedule.create_job.jobs) == list(job.jobs)
    landing = "azureml://datastores/workspaceblobstore/paths/batches/incoming/"
    for built in (job, schedule.create_job):
        assert built.inputs["raw"].path == landing
        assert not any(step.component.is_deterministic for step in built.jobs.values())
    register = job.jobs["register"].environment_variables
    assert register["AZURE_CLIENT_ID"] == register["DEFAULT_IDENTITY_CLIENT_ID"] == "11111111-2222"


def test_a_pipeline_dry_run_without_a_workspace_says_what_is_left_out(
    workspace: Path, small_data: Path, tmp_path: Path
) -> None:
    code, output, exc = invoke(
        "azure",
        "pipeline",
        "submit",
        "--data",
        str(small_data),
        "--dry-run",
        "--out",
        str(tmp_path / "p"),
    )
    assert code == 0 and exc is None, output
    assert "EMOTION_CLF_AZURE_WORKSPACE" in output
    register = load_job(tmp_path / "p" / "pipeline.yml").jobs["register"]
    assert "EMOTION_CLF_AZURE_WORKSPACE" not in register.environment_variables


def test_online_settings_are_their_own_and_auth_can_be_a_token(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "EMOTION_CLF_AZUREML_ENDPOINT_AUTH": "aad_token",
        "EMOTION_CLF_AZUREML_ONLINE_INSTANCE_TYPE": "Standard_F4s_v2",
        "EMOTION_CLF_AZUREML_ONLINE_INSTANCE_COUNT": "3",
        "EMOTION_CLF_AZUREML_ONLINE_WORKERS": "4",
        "EMOTION_CLF_AZUREML_ONLINE_REQUEST_TIMEOUT_S": "90",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    out = tmp_path / "endpoint"
    args = ("--endpoint", "e", "--version", "7", "--out", str(out))
    dry_run("azure", "endpoint", "deploy", *args)
    assert load_online_endpoint(out / "online-endpoint.yml").auth_mode == "aad_token"
    deployment = load_online_deployment(out / "online-deployment-green.yml")
    assert (deployment.instance_type, deployment.instance_count) == ("Standard_F4s_v2", 3)
    assert deployment.environment_variables["WORKER_COUNT"] == "4"
    assert deployment.request_settings.request_timeout_ms == 90_000
    batch = dry_run("azure", "batch", "deploy", "--version", "7", "--out", str(tmp_path / "b"))
    assert batch  # batch deployments keep EMOTION_CLF_AZUREML_INSTANCE_TYPE / _COUNT


def test_endpoint_deploy(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "endpoint"
    files = dry_run(
        "azure",
        "endpoint",
        "deploy",
        "--endpoint",
        "emotion-clf-web",
        "--version",
        "7",
        "--colour",
        "blue",
        "--out",
        str(out),
    )
    assert [f.name for f in files] == [
        "environment-score.yml",
        "online-endpoint.yml",
        "online-deployment-blue.yml",
    ]
    endpoint = load_online_endpoint(out / "online-endpoint.yml")
    assert endpoint.name == "emotion-clf-web" and endpoint.auth_mode == "key"
    deployment = load_online_deployment(out / "online-deployment-blue.yml")
    assert deployment.name == "blue" and deployment.endpoint_name == "emotion-clf-web"
    assert deployment.model.endswith("emotion-clf:7")
    assert str(deployment.environment).endswith("emotion-clf-score@latest")
    assert deployment.environment_variables["EMOTION_CLF_MODEL_VERSION"] == "7"
    # sized for the project, not Azure's defaults (5 s, one request per instance)
    assert deployment.environment_variables["WORKER_COUNT"] == "2"
    assert deployment.request_settings.request_timeout_ms == 60_000
    assert deployment.request_settings.max_concurrent_requests_per_instance == 4
    assert deployment.liveness_probe.initial_delay == 120
    assert deployment.readiness_probe.failure_threshold == 3
    assert (deployment.instance_type, deployment.instance_count) == ("Standard_DS3_v2", 1)
    # its traffic reaches drift monitoring: both collections score.py sends
    collections = deployment.data_collector.collections
    assert {n: c.enabled for n, c in collections.items()} == {
        "model_inputs": "true",
        "model_outputs": "true",
    }
    code = Path(deployment.code_configuration.code)
    assert deployment.code_configuration.scoring_script == "score.py"
    assert sorted(p.name for p in code.iterdir()) == ["score.py"]
    env = load_environment(out / "environment-score.yml")
    context = Path(env.build.path)
    assert "azureml-inference-server-http" in (context / "score-requirements.txt").read_text()


def test_batch_deploy(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "batch"
    files = dry_run(
        "azure",
        "batch",
        "deploy",
        "--version",
        "2",
        "--compute",
        "cpu-2",
        "--format",
        "jsonl",
        "--mini-batch-size",
        "4",
        "--out",
        str(out),
    )
    assert [f.name for f in files] == [
        "environment-job.yml",
        "batch-endpoint.yml",
        "batch-deployment.yml",
    ]
    assert load_batch_endpoint(out / "batch-endpoint.yml").name == "emotion-clf-batch"
    deployment = load_model_batch_deployment(out / "batch-deployment.yml")
    assert deployment.model.endswith("emotion-clf:2") and deployment.compute.endswith("cpu-2")
    assert deployment.settings.mini_batch_size == 4
    assert deployment.settings.output_action == "summary_only"
    assert deployment.settings.environment_variables["EMOTION_CLF_BATCH_OUTPUT_FORMAT"] == "jsonl"
    code = Path(deployment.code_configuration.code)
    assert sorted(p.name for p in code.iterdir()) == ["batch_score.py"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("endpoint", "deploy", "--endpoint", "e"), "--dry-run needs --version V"),
        (("endpoint", "deploy", "--endpoint", "e", "--version", "x1"), "not a version number"),
        (("batch", "deploy", "--version", "1", "--format", "xml"), "formats: csv, jsonl, parquet"),
        (("pipeline", "submit", "--family", "bert"), "unknown family 'bert'"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    workspace: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    _, _, exc = invoke("azure", *args, "--dry-run", "--out", str(tmp_path / "o"))
    assert isinstance(exc, EmotionClfError) and message in str(exc)
    assert not (tmp_path / "o").exists()


def test_a_live_command_without_settings_is_one_clear_line(workspace: Path) -> None:
    """The real console script: one message naming the variables, exit code 2."""
    result = run_cli("azure", "endpoint", "status", "--endpoint", "e", home=workspace)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "EMOTION_CLF_AZURE_SUBSCRIPTION_ID" in result.stderr


def test_a_live_command_without_a_credential_is_one_clear_line(workspace: Path) -> None:
    """A workspace is named but nobody signed in: one line saying so (azure-identity's own
    many-line warning about each credential it tried is not shown), exit code 1."""
    workspace_settings = {
        "EMOTION_CLF_AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
        "EMOTION_CLF_AZURE_RESOURCE_GROUP": "rg",
        "EMOTION_CLF_AZURE_WORKSPACE": "ws",
    }
    result = run_cli(
        "azure", "endpoint", "status", "--endpoint", "e", home=workspace, env=workspace_settings
    )
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "error: reading endpoint e: Azure refused the credentials; sign in with `az login` "
    )


def test_monitor_create_compares_the_collected_traffic_with_the_versions_reference(
    workspace: Path, tfidf_bundle: Path, tmp_path: Path
) -> None:
    from emotion_clf.data.profile import load_profile

    out = tmp_path / "monitor"
    files = dry_run(
        "azure", "monitor", "create", "--endpoint", "web", "--deployment", "blue",
        "--model", str(tfidf_bundle), "--email", "ops@example.org", "--out", str(out),
    )  # fmt: skip
    assert [f.name for f in files] == ["reference-data.yml", "monitor-schedule.yml"]
    reference = load_data(out / "reference-data.yml")
    assert reference.type == "mltable" and reference.name == "emotion-clf-reference"
    rows = (Path(reference.path) / "reference.jsonl").read_text().splitlines()
    profile = load_profile(tfidf_bundle)
    assert profile is not None and len(rows) == len(profile.texts)
    assert set(json.loads(rows[0])) == {
        "length", "emotion", "emotion_confidence", "sub_emotion", "sub_emotion_confidence",
        "intensity", "intensity_confidence",
    }  # fmt: skip
    schedule = load_schedule(out / "monitor-schedule.yml")
    monitor = schedule.create_monitor
    assert monitor.monitoring_target.endpoint_deployment_id == "azureml:web:blue"
    signals = monitor.monitoring_signals
    assert set(signals) == {"prediction-drift", "length-drift"}
    outputs = signals["prediction-drift"].production_data.input_data.path
    assert outputs.endswith("web-blue-model_outputs:1")  # what the data collector registers
    assert signals["length-drift"].production_data.input_data.path.endswith("model_inputs:1")
    assert signals["length-drift"].features == ["length"]
    assert monitor.alert_notification.emails == ["ops@example.org"]
    assert schedule.trigger.frequency == "day"


def test_the_scoring_image_is_built_on_azure_mls_inference_image(tmp_path: Path) -> None:
    """No Docker engine here: the staged context is checked as the build would read it, and
    hadolint reads the Dockerfile."""
    import shutil
    import subprocess
    import sys

    from emotion_clf.azure.ml.assets import stage_build_context

    context = stage_build_context("score", tmp_path)
    dockerfile = (context / "Dockerfile").read_text()
    assert "FROM mcr.microsoft.com/azureml/minimal-py312-inference:" in dockerfile
    # the server runs in the environment the image adds, as Azure's custom-container docs do
    assert 'AZUREML_CONDA_ENVIRONMENT_PATH="$CONDA_ENV_DIR/userenv"' in dockerfile
    assert "python=3.11" in dockerfile and "--no-deps ." in dockerfile
    for copied in ("score-requirements.txt", "pyproject.toml", "README.md", "src"):
        assert (context / copied).exists(), copied
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint is not None
    linted = subprocess.run([hadolint, str(context / "Dockerfile")], capture_output=True, text=True)
    assert linted.returncode == 0 and not linted.stdout, linted.stdout
