"""environment/requirements.txt (what the image and Azure jobs install) agrees with
pyproject.toml's runtime dependencies and with the pins of environment/constraints.txt."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.version import Version

from emotion_clf.config import project_root

ROOT = project_root()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: str) -> dict[str, Version]:
    found = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            [spec] = requirement.specifier
            assert spec.operator == "==", f"{path}: {line} is not pinned with =="
            found[canonical(requirement.name)] = Version(spec.version)
    return found


def test_requirements_pin_every_runtime_dependency_at_the_constraints_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {canonical(Requirement(d).name): Requirement(d) for d in project["dependencies"]}
    required = pins("environment/requirements.txt")
    constraints = pins("environment/constraints.txt")
    assert set(required) == set(runtime), (
        f"only in requirements.txt: {sorted(set(required) - set(runtime))}; "
        f"only in pyproject.toml: {sorted(set(runtime) - set(required))}"
    )
    for name, version in required.items():
        assert runtime[name].specifier.contains(version, prereleases=True), (
            f"{name} {version} is outside pyproject.toml's {runtime[name].specifier}"
        )
        # the same release as the constraints (torch's +cpu is the build, not the release)
        assert constraints[name].public == version.public, (
            f"{name}: requirements.txt {version}, constraints.txt {constraints[name]}"
        )


def test_the_dockerfile_installs_from_these_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert (
        "pip install -r environment/requirements.txt -c environment/constraints.txt" in dockerfile
    )
    assert (
        "COPY environment/requirements.txt environment/constraints.txt environment/" in dockerfile
    )
