"""The command line starts without the heavy libraries: each command imports what it needs."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "sklearn", "scipy", "mlflow", "torch", "matplotlib", "evidently", "fastapi")


def test_importing_the_command_line_loads_none_of_the_heavy_libraries() -> None:
    # `emotion-clf --help` paid 3.8 s for pandas and scikit-learn's metrics before this test
    code = f"import sys, emotion_clf.cli; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
