"""The documentation site (issue 27): mkdocs-material over docs/, built offline and strict.

The build runs in a few seconds; it is the check ``make docs`` (a prerequisite of ``make
test``) makes, plus what strict mode alone does not: no page of the built site loads anything
from another host (fonts, scripts, styles) or links out of it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = str(Path(sys.executable).parent / "mkdocs")
# an attribute or CSS url() that makes a browser fetch or follow another host
EXTERNAL = re.compile(
    r"""(?:href|src|srcset|action)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//"""
)


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MKDOCS, "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    done = build(ROOT / "mkdocs.yml", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    return out


def test_every_page_is_built_with_the_settings_and_benchmarks(site: Path) -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["theme"]["font"] is False and config["strict"] is True
    nav_pages = re.findall(r"([\w-]+)\.md", (ROOT / "mkdocs.yml").read_text().split("nav:")[1])
    for page in (p.stem for p in (ROOT / "docs").glob("*.md")):
        assert page in nav_pages, f"docs/{page}.md is not in mkdocs.yml's nav"
    settings = (site / "settings" / "index.html").read_text()
    assert "EMOTION_CLF_HOME" in settings  # the generated reference page
    benchmarks = (site / "benchmarks" / "index.html").read_text()
    assert "<table>" in benchmarks and "latest headline" in benchmarks  # the current figures
    for result in re.findall(r'href="(results/[\w.-]+\.json)"', benchmarks):
        assert (site / "benchmarks" / result).is_file(), result
    assert 'href="../research/"' in benchmarks  # rewritten to the research page
    assert (site / "img" / "reports.png").is_file()


def test_no_page_loads_or_links_anything_from_another_host(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    found = {
        str(p.relative_to(site)): EXTERNAL.findall(p.read_text(encoding="utf-8")) for p in pages
    }
    assert {page: hits for page, hits in found.items() if hits} == {}
    styles = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.css"))
    assert "fonts.googleapis" not in styles and "fonts.gstatic" not in styles


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("_hooks.py", "__pycache__"))
    with (docs / "serving.md").open("a") as page:
        page.write("\nSee [the old page](no-such-page.md).\n")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config |= {"docs_dir": str(docs), "hooks": [str(ROOT / "docs" / "_hooks.py")]}
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    done = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0
    assert "serving.md" in done.stderr and "no-such-page.md" in done.stderr
