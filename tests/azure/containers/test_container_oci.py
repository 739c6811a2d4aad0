"""The image built for real without Docker (``make oci-image``: mmdebstrap and buildah from
Debian's packages), inspected, then run: its entry point fetches the baseline from a real MLflow
server on 127.0.0.1, passes the health check, and its HEALTHCHECK command passes inside it.

Slow (a full image build) and needs root (buildah's chroot isolation): ``pytest -m slow``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from emotion_clf.checks.health import check_health
from emotion_clf.config import Settings, project_root
from tests.http_listeners import free_port, wait_until_ready
from tests.serving.helpers import TOKEN

if TYPE_CHECKING:
    from emotion_clf.training import TrainResult

pytestmark = pytest.mark.slow

ROOT = project_root()
TAG = "localhost/emotion-clf:test"
WORK = Path(os.environ.get("OCI_WORK", "/var/tmp/emotion-clf-oci"))
BUILDAH = ["buildah", "--root", str(WORK / "storage"), "--runroot", str(WORK / "run")]
BUILDAH += ["--storage-driver", "vfs"]


def image_config(archive: Path) -> tuple[dict[str, Any], list[str]]:
    """The image's config and every path in its layers, read from the Docker archive."""
    paths: list[str] = []
    with tarfile.open(archive) as tar:
        [manifest] = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest["Config"]))  # type: ignore[arg-type]
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=tar.extractfile(layer)) as inner:
                paths += inner.getnames()
    return config["config"], paths


@pytest.fixture(scope="module")
def built() -> Path:
    if os.geteuid() != 0:
        pytest.skip("buildah's chroot isolation needs root")
    if not (shutil.which("buildah") and shutil.which("mmdebstrap")) and not shutil.which("apt-get"):
        pytest.skip("needs buildah and mmdebstrap, or apt-get to install them")
    result = subprocess.run(
        ["make", "--no-print-directory", "oci-image", f"IMAGE={TAG}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return Path(result.stdout.strip().splitlines()[-1])


def test_the_image_holds_the_server_and_nothing_secret(built: Path) -> None:
    config, paths = image_config(built)
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["emotion-clf", "serve"]
    assert "/health" in " ".join(config["Healthcheck"]["Test"])
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["EMOTION_CLF_SERVE_HOST"] == "0.0.0.0"
    assert not [name for name in env if "TOKEN" in name or "PASSWORD" in name]
    assert any(p.endswith("opt/venv/bin/emotion-clf") for p in paths)
    assert not [p for p in paths if Path(p).name == ".env" or "/mlruns/" in f"/{p}"]
    assert not [p for p in paths if p.startswith(("src/", "./src/"))]  # no source tree copied
    assert (built.parent / "emotion-clf.oci.tar").is_file()


@pytest.fixture
def registry_with_baseline(
    mlflow_server: str, weak_result: TrainResult, tmp_path: Path
) -> Settings:
    from emotion_clf.promotion import promote
    from emotion_clf.registry import open_registry

    settings = Settings(
        home=tmp_path / "home",
        tracking_uri=mlflow_server,
        model_name=f"emotion-clf-{uuid.uuid4().hex[:8]}",
        refresh_endpoints=[],
    )
    info = open_registry(settings).register(weak_result)
    promote(settings=settings, version=info.version, force=True, reason="image test", refresh=False)
    return settings


@pytest.fixture
def container(built: Path) -> Iterator[str]:
    name = subprocess.run(
        [*BUILDAH, "from", "--quiet", TAG], capture_output=True, text=True, check=True
    ).stdout.strip()
    yield name
    subprocess.run([*BUILDAH, "rm", name], capture_output=True, check=False)


def test_the_image_serves_the_registry_baseline(
    built: Path, container: str, registry_with_baseline: Settings, tmp_path: Path
) -> None:
    config, _ = image_config(built)
    port = free_port()
    env = {
        # the container's own address space is the host's under chroot isolation, so it
        # binds loopback here; on Azure the image's 0.0.0.0 stands
        "EMOTION_CLF_SERVE_HOST": "127.0.0.1",
        "EMOTION_CLF_SERVE_PORT": str(port),
        "EMOTION_CLF_TRACKING_URI": str(registry_with_baseline.registry.tracking_uri),
        "EMOTION_CLF_MODEL_NAME": registry_with_baseline.registry.model_name,
        "EMOTION_CLF_REFRESH_TOKEN": TOKEN,
    }
    flags = [f"--env={k}={v}" for k, v in env.items()]
    log = (tmp_path / "container.log").open("wb")
    process = subprocess.Popen(
        [*BUILDAH, "run", "--isolation", "chroot", *flags, container, "--", *config["Entrypoint"]],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(
            process,
            lambda: httpx.get(f"{url}/ready", timeout=2).status_code == 200,
            what="the image's entrypoint in buildah",
            log=tmp_path / "container.log",
            timeout=300,
            interval=1,
        )
        assert httpx.get(f"{url}/model", timeout=5).json()["version"] == "1"
        report = check_health(url, token=TOKEN)
        assert report.passed, [f.detail for f in report.failures]
        probe = subprocess.run(
            [
                *BUILDAH,
                "run",
                "--isolation",
                "chroot",
                *flags,
                container,
                "--",
                *config["Healthcheck"]["Test"][1:],
            ],
            capture_output=True,
            timeout=120,
        )
        assert probe.returncode == 0, probe.stderr
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
