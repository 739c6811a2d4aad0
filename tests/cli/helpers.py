"""Running the real ``emotion-clf`` console script in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "emotion-clf")


def run_cli(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "EMOTION_CLF_HOME": str(home), "EMOTION_CLF_REFRESH_ENDPOINTS": ""}
    full_env.update(env or {})
    return subprocess.run(
        [CLI, *args], capture_output=True, text=True, env=full_env, timeout=timeout, check=False
    )
