"""mkdocs hooks: the benchmarks' and research's READMEs as pages of the site.

Both live beside their scripts (``benchmarks/README.md``, whose table ``python -m
benchmarks.summary --write`` keeps current, and ``research/README.md``), so the site reads
them at build time instead of keeping copies that would go stale. Their links are rewritten
for the site: to each other's page, and to the benchmark result files, which are copied in.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "benchmarks.md": ROOT / "benchmarks" / "README.md",
    "research.md": ROOT / "research" / "README.md",
}
LINKS = {
    "../research/README.md": "research.md",
    "../benchmarks/README.md": "benchmarks.md",
}
RESULTS = ROOT / "benchmarks" / "results"


def page_text(name: str) -> str:
    text = PAGES[name].read_text(encoding="utf-8")
    for old, new in LINKS.items():
        text = text.replace(f"]({old})", f"]({new})")
    # a benchmark's result file, copied beside the page (see on_files)
    return re.sub(r"\]\(results/([\w.-]+\.json)\)", r"](benchmarks/results/\1)", text)


def on_files(files: Files, config: Any) -> Files:
    for name in PAGES:
        files.append(File.generated(config, name, content=page_text(name)))
    for result in sorted(RESULTS.glob("*.json")):
        files.append(
            File.generated(config, f"benchmarks/results/{result.name}", abs_src_path=str(result))
        )
    return files
