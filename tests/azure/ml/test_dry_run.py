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


def test_pipeline_submit_and_schedule(
    with_workspace: Path, small_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline"
    args = (
        "--family",
        "tfidf",
        "--compute",
        "gpu-less",
        "--data",
        str(small_data),
        "--out",
        str(out),
    )
    files = dry_run("azure", "pipeline", "schedule", "--cron", "0 3 * * 1", *args)
    assert [f.name for f in files] == [
        "environment-job.yml",
        "data.yml",
        "pipeline.yml",
        "schedule.yml",
    ]
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
    assert register.environment_variables["EMOTION_CLF_REGISTRY"] == "azureml"
    assert register.environment_variables["EMOTION_CLF_AZURE_WORKSPACE"] == "ws-emotion"
    assert all(str(s.environment).endswith("emotion-clf-job@latest") for s in job.jobs.values())
    schedule = load_schedule(out / "schedule.yml")
    assert schedule.trigger.expression == "0 3 * * 1"
    assert list(schedule.create_job.jobs) == list(job.jobs)


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
