"""A batch endpoint's versions as Azure's examples run them: a deployment per version, tested
by name, then made the default; rollback to the one before; score, wait, download. Against a
fake ``MLClient`` that keeps the real ``BatchEndpoint`` / ``ModelBatchDeployment`` entities
(serialised by the SDK) and answers jobs with the statuses it is told."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from azure.ai.ml.entities import BatchEndpoint, ModelBatchDeployment

from emotion_clf.azure.ml import batch
from emotion_clf.azure.ml.batch_score import output_path
from emotion_clf.config import Settings
from emotion_clf.errors import ModelNotFoundError
from tests.azure.ml.endpoint_fakes import Done


class Job:
    def __init__(self, name: str, status: str) -> None:
        self.name, self.status, self.studio_url = name, status, f"https://ml.azure.com/{name}"


class FakeBatch:
    """``batch_endpoints``, ``batch_deployments``, ``environments`` and ``jobs`` at once."""

    def __init__(self, job_statuses: list[str]) -> None:
        self.endpoints: dict[str, BatchEndpoint] = {}
        self.deployments: dict[str, ModelBatchDeployment] = {}
        self.invoked: list[dict[str, Any]] = []
        self.statuses = job_statuses  # what jobs.get answers, in turn
        self.downloads: list[dict[str, Any]] = []
        self.batch_endpoints = self.batch_deployments = self.environments = self.jobs = self

    # environments
    def create_or_update(self, entity: Any) -> Any:
        return entity

    # batch_endpoints / batch_deployments
    def begin_create_or_update(self, entity: Any) -> Done:
        if isinstance(entity, BatchEndpoint):
            # through the SDK's REST form and back, as Azure stores and returns it
            rest = entity._to_rest_batch_endpoint("westeurope")
            rest.name = entity.name  # the service fills in the name (read-only in the body)
            stored = BatchEndpoint._from_rest_object(rest)
            if batch.default_of(stored) is None and entity.name in self.endpoints:
                stored.defaults = self.endpoints[entity.name].defaults  # an update keeps it
            self.endpoints[entity.name] = stored
            return Done(copy.deepcopy(stored))
        assert isinstance(entity, ModelBatchDeployment)
        entity._to_rest_object(location="westeurope")
        self.deployments[entity.name] = copy.deepcopy(entity)
        return Done(entity)

    def list(self, endpoint_name: str) -> list[ModelBatchDeployment]:
        return [d for d in self.deployments.values() if d.endpoint_name == endpoint_name]

    def invoke(self, endpoint_name: str, inputs: dict[str, Any], **kw: Any) -> Job:
        self.invoked.append({"endpoint": endpoint_name, **kw, "input": inputs["input"].path})
        return Job(f"job-{len(self.invoked)}", "Queued")

    def get(self, name: str | None = None, **_: Any) -> Any:
        if name in self.endpoints:
            return copy.deepcopy(self.endpoints[name])
        return Job(str(name), self.statuses.pop(0))

    def download(self, name: str, download_path: str, output_name: str) -> None:
        self.downloads.append({"job": name, "to": download_path, "output": output_name})
        (Path(download_path) / "talk.csv.csv").write_text("text,emotion\n")

    def default(self) -> str:
        return str(batch.default_of(self.endpoints["emotion-clf-batch"]))


def put(
    ml: FakeBatch, version: str, tmp_path: Path, test_input: str | None = "azureml://t/"
) -> Any:
    plan = batch.plan_deploy(
        settings=Settings(),
        endpoint="emotion-clf-batch",
        version=version,
        compute="cpu-cluster",
        out=tmp_path / f"v{version}",
    )
    return batch.deploy(ml, plan, test_input=test_input, poll_s=1, sleep=lambda s: None)


def test_a_version_is_tested_by_name_then_made_the_default_and_the_old_one_stays(
    tmp_path: Path,
) -> None:
    ml = FakeBatch(job_statuses=["Running", "Completed", "Completed"])
    first = put(ml, "3", tmp_path)
    assert first.ok and ml.default() == "emotion-clf-v3" and first.previous is None
    second = put(ml, "4", tmp_path)
    assert second.ok and ml.default() == "emotion-clf-v4"
    assert second.message.endswith("emotion-clf-v3 kept for `batch rollback`")
    assert sorted(ml.deployments) == ["emotion-clf-v3", "emotion-clf-v4"]
    # each test job went to the new deployment by name, on the test folder
    assert [i["deployment_name"] for i in ml.invoked] == ["emotion-clf-v3", "emotion-clf-v4"]
    assert batch.rollback(ml, endpoint="emotion-clf-batch") == ("emotion-clf-v4", "emotion-clf-v3")
    assert ml.default() == "emotion-clf-v3"
    with pytest.raises(ModelNotFoundError, match="no deployment of an older version"):
        batch.rollback(ml, endpoint="emotion-clf-batch")


def test_a_failed_test_job_leaves_the_default_where_it_was(tmp_path: Path) -> None:
    ml = FakeBatch(job_statuses=["Completed", "Failed"])
    put(ml, "3", tmp_path)
    result = put(ml, "4", tmp_path)
    assert not result.ok and result.test_status == "Failed"
    assert ml.default() == "emotion-clf-v3"
    assert "emotion-clf-v4 was added but is not the default; emotion-clf-v3 still is" in (
        result.message
    )


def test_score_waits_and_downloads(tmp_path: Path) -> None:
    ml = FakeBatch(job_statuses=["Queued", "Running", "Completed"])
    job = batch.score(ml, endpoint="e", input_uri="azureml://in/", deployment="emotion-clf-v4")
    slept: list[float] = []
    assert batch.wait(ml, job.name, poll_s=10, sleep=slept.append) == "Completed"
    assert slept == [10, 10]
    folder = batch.download(ml, job.name, tmp_path / "out")
    assert ml.downloads == [{"job": "job-1", "to": str(folder), "output": "score"}]
    assert (folder / "talk.csv.csv").is_file()


def test_same_named_inputs_in_subfolders_keep_their_own_outputs(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    mount = "/mnt/azureml/cr/j/abc/cap/data-capability/wd/INPUT_input"
    a = output_path(f"{mount}/2026/01/talk.csv", out, "csv")
    b = output_path(f"{mount}/2026/02/talk.csv", out, "csv")
    assert (a.relative_to(out), b.relative_to(out)) == (
        Path("2026/01/talk.csv.csv"),
        Path("2026/02/talk.csv.csv"),
    )
    # no recognisable mount: the name, and a digest once the name is taken
    first = output_path("/data/x/talk.csv", out, "csv")
    first.write_text("taken")
    second = output_path("/data/y/talk.csv", out, "csv")
    assert first.name == "talk.csv.csv" and second.name.startswith("talk.csv-")
    assert second != first
