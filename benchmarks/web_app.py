"""The web app in Chromium: what its pages weigh, and how long an 817-sentence transcript takes
to render, against a real ``emotion-clf serve`` on 127.0.0.1.

The transcript is real: the first 817 sentences of ``data/raw/train_data-0012.csv`` (825 in
all; no bundled batch has exactly 817), with their times, as SRT. The script trains a tfidf
bundle on the bundled data into a fresh temporary ``EMOTION_CLF_HOME`` (seconds), registers and
promotes it, starts the server, and drives the system Chromium through Playwright (no browser
download).

- **Page weight**: the bytes of every file each page loads (its HTML, style sheet, scripts,
  icon) and, apart, of the API answers it asks for on opening.
- **Render time**, per round on a fresh page: the SRT pasted, Analyse pressed; then, from the
  page's own marks, ``server_ms`` (press to answer: parsing and predicting on the server) and
  ``render_ms`` (answer to the last row in the table: what the page itself costs), with the
  longest main-thread task the browser reported (Long Tasks API, tasks over 50 ms) while
  rendering and while scrolling the table from top to bottom. A stall a user would see is a
  long task; rows are rendered in chunks of 60 per frame so that none is.

``--screenshots DIR`` instead writes the README's two pictures (``analyse.png``,
``production.png``), from the same real transcript, with traffic, shadow answers and two
corrections, so the production page has something to show::

    python -m benchmarks.web_app [--rounds 5]
    python -m benchmarks.web_app --screenshots docs/img
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.machine import header

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULT = HERE / "results" / "web_app.json"
TRANSCRIPT = ROOT / "data" / "raw" / "train_data-0012.csv"
SENTENCES = 817
CLI = str(Path(sys.executable).parent / "emotion-clf")
LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
}).observe({ type: "longtask", buffered: true });
"""


def transcript_srt(limit: int = SENTENCES) -> str:
    """The first ``limit`` sentences of the real transcript, with their times, as SRT."""
    cues = []
    with TRANSCRIPT.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if (row["text"] or "").strip():
                cues.append((row["start_time"], row["end_time"], row["text"].strip()))
            if len(cues) == limit:
                break
    if len(cues) < limit:
        raise SystemExit(f"{TRANSCRIPT} has only {len(cues)} sentences")
    return "\n".join(f"{i}\n{a} --> {b}\n{t}\n" for i, (a, b, t) in enumerate(cues, 1))


def texts(n: int) -> list[str]:
    """``n`` sentences of the transcript, for traffic."""
    return [
        line
        for line in transcript_srt(n).splitlines()
        if line and "-->" not in line and not line.isdigit()
    ]


def make_home(home: Path, *, versions: int) -> None:
    """``versions`` tfidf bundles (seeds 0, 1, ...) registered; the first promoted."""
    from emotion_clf.config import Settings
    from emotion_clf.promotion import promote
    from emotion_clf.registry import open_registry
    from emotion_clf.training import train_model

    settings = Settings(home=home, refresh_endpoints=[])
    registry = open_registry(settings)
    for seed in range(versions):
        result = train_model("tfidf", data=ROOT / "data" / "raw", out=home / f"b{seed}", seed=seed)
        registry.register(result)
        if seed == 0:
            promote(settings=settings, version="1", force=True, reason="first baseline")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(home: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    port = _free_port()
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={
            **os.environ,
            "EMOTION_CLF_HOME": str(home),
            "EMOTION_CLF_REFRESH_ENDPOINTS": "",
            **(env or {}),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {home / 'server.log'}")
            time.sleep(0.3)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def page_weight(browser: Any, url: str, path: str, ready: str) -> dict[str, Any]:
    """Every response the page gets on opening, by URL: files and API answers apart."""
    context = browser.new_context()
    page = context.new_page()
    loaded: list[tuple[str, int, str]] = []
    page.on(
        "response",
        lambda r: loaded.append(
            (r.url.removeprefix(url), len(r.body()), r.headers.get("content-type", ""))
        ),
    )
    page.goto(url + path)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    context.close()
    files = {
        u: n
        for u, n, _ in loaded
        if (u.startswith("/app/") and not u.endswith(".json")) or u == path
    }
    api = {u: n for u, n, _ in loaded if u not in files}
    return {
        "files": files,
        "files_bytes": sum(files.values()),
        "api": api,
        "api_bytes": sum(api.values()),
    }


def render_round(browser: Any, url: str, srt: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(LONG_TASKS)
    page = context.new_page()
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#input", srt)
    page.evaluate("window.__t0 = performance.now(); document.getElementById('analyse').click()")
    page.wait_for_selector(f"#tbody[data-rendered='{SENTENCES}']", timeout=120_000)
    marks = page.evaluate(
        """() => {
          const at = (n) => performance.getEntriesByName(n).slice(-1)[0].startTime;
          return {t0: window.__t0, arrived: at("results-arrived"), rendered: at("rows-rendered"),
                  tasks: window.__longTasks.slice()};
        }"""
    )
    # scroll the table from top to bottom, a screenful per frame
    page.evaluate(
        """async () => {
          window.__scrollFrom = performance.now();
          const wrap = document.querySelector(".table-wrap");
          while (wrap.scrollTop + wrap.clientHeight < wrap.scrollHeight - 1) {
            wrap.scrollTop += wrap.clientHeight;
            await new Promise((done) => requestAnimationFrame(() => done()));
          }
          window.__scrollTo = performance.now();
        }"""
    )
    page.wait_for_timeout(200)  # let the observer report the last task
    scroll = page.evaluate("[window.__scrollFrom, window.__scrollTo, window.__longTasks.slice()]")
    context.close()
    during = [d for s, d in marks["tasks"] if marks["t0"] <= s <= marks["rendered"]]
    rendering = [d for s, d in marks["tasks"] if marks["arrived"] <= s <= marks["rendered"]]
    scrolling = [d for s, d in scroll[2] if scroll[0] <= s <= scroll[1]]
    return {
        "server_ms": round(marks["arrived"] - marks["t0"], 1),
        "render_ms": round(marks["rendered"] - marks["arrived"], 1),
        "total_ms": round(marks["rendered"] - marks["t0"], 1),
        "longest_task_rendering_ms": round(max(rendering, default=0.0), 1),
        "longest_task_press_to_rows_ms": round(max(during, default=0.0), 1),
        "scroll_ms": round(scroll[1] - scroll[0], 1),
        "longest_task_scrolling_ms": round(max(scrolling, default=0.0), 1),
    }


def benchmark(rounds: int) -> dict[str, Any]:
    load = os.getloadavg()
    srt = transcript_srt()
    with tempfile.TemporaryDirectory(prefix="web-app-bench-") as tmp:
        home = Path(tmp) / "home"
        make_home(home, versions=1)
        with serving(home) as url, chromium() as browser:
            weights = {
                "analyse": page_weight(browser, url, "/", "body[data-ready=true]"),
                "production": page_weight(browser, url, "/production", "#baseline .version"),
            }
            render_round(browser, url, srt)  # untimed: the server's first transcript
            runs = [render_round(browser, url, srt) for _ in range(rounds)]
            version = subprocess.run(
                [shutil.which("chromium") or "chromium", "--version"],
                capture_output=True,
                text=True,
            ).stdout.strip()
    median = {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}
    return {
        **header(__file__, load),
        "browser": version,
        "transcript": f"{TRANSCRIPT.relative_to(ROOT)}: its first {SENTENCES} sentences, as SRT",
        "transcript_bytes": len(srt.encode()),
        "page_weight": weights,
        "rounds": runs,
        "median": median,
    }


def print_table(doc: dict[str, Any]) -> None:
    print("page weight (bytes)")
    for name, w in doc["page_weight"].items():
        print(f"  {name:<11} files {w['files_bytes']:>8,}  api answers {w['api_bytes']:>7,}")
        for url, n in w["files"].items():
            print(f"    {url:<24} {n:>8,}")
    print(f"\n{SENTENCES} sentences, median of {len(doc['rounds'])} rounds (ms)")
    for key, value in doc["median"].items():
        print(f"  {key:<30} {value:>8.1f}")


def screenshots(folder: Path) -> None:
    """The README's pictures: the analyse page with a real transcript, corrections sent; the
    production page with two versions, traffic, shadow answers and feedback."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    srt = transcript_srt(60)
    with tempfile.TemporaryDirectory(prefix="web-app-shots-") as tmp:
        home = Path(tmp) / "home"
        make_home(home, versions=2)
        env = {"EMOTION_CLF_SHADOW_RATE": "1", "EMOTION_CLF_WEB_POLL_S": "1"}
        with serving(home, env) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(url + "/")
            page.wait_for_selector("body[data-ready=true]")
            page.set_input_files(
                "#file",
                files=[
                    {
                        "name": "episode-12.srt",
                        "mimeType": "application/x-subrip",
                        "buffer": srt.encode(),
                    }
                ],
            )
            page.wait_for_selector("#tbody[data-rendered='60']")
            for row, labels in (
                (2, ("happiness", "amusement", "moderate")),
                (4, ("surprise", "realization", "mild")),
            ):
                page.get_by_role("button", name=f"Correct row {row}", exact=True).click()
                page.get_by_label(f"Emotion of row {row}", exact=True).select_option(labels[0])
                page.get_by_label(f"Sub-emotion of row {row}", exact=True).select_option(labels[1])
                page.get_by_label(f"Intensity of row {row}", exact=True).select_option(labels[2])
                page.get_by_role("button", name=f"Keep the correction of row {row}").click()
            page.get_by_role("button", name="Send corrections").click()
            page.wait_for_selector("#receipt .receipt-title")
            page.evaluate("document.getElementById('input').value = ''")
            top = "document.getElementById('results').getBoundingClientRect().top"
            page.evaluate(f"window.scrollBy(0, {top} - 12)")
            shot(page, folder / "analyse.png", Image)
            page.goto(url + "/production")
            page.wait_for_selector("#baseline .version")
            for _ in range(20):  # traffic while the page watches; the shadow answers too
                httpx.post(f"{url}/predict/batch", json={"texts": texts(40)}, timeout=60)
                page.wait_for_timeout(250)
            page.locator("#shadow dl").wait_for(timeout=60_000)  # the candidate's answers
            page.wait_for_timeout(1500)
            shot(page, folder / "production.png", Image)


def shot(page: Any, path: Path, image: Any) -> None:
    """A viewport screenshot, reduced to a 256-colour palette (a fraction of the bytes)."""
    page.screenshot(path=str(path))
    image.open(path).convert("RGB").quantize(colors=256, method=2).save(path, optimize=True)
    print(f"{path}: {path.stat().st_size:,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed renders (default 5)")
    parser.add_argument(
        "--screenshots",
        type=Path,
        metavar="DIR",
        help="write the README's screenshots to DIR instead of benchmarking",
    )
    args = parser.parse_args()
    if args.screenshots:
        screenshots(args.screenshots)
        return
    doc = benchmark(args.rounds)
    RESULT.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print_table(doc)
    print(f"\nwrote {RESULT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
