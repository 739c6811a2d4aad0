"""A screenshot of a published page, for the README and the docs site.

``python -m emotion_clf.reports.screenshot PAGE OUT.png`` opens ``PAGE`` (a file or a URL)
in headless Chromium at a desktop size and writes a PNG scaled down to ``--width`` pixels,
so the picture in the README is the site as it is, retaken by ``make docs`` whenever a
published site exists, and small enough to commit.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

WINDOW = (1280, 900)
CHROMIUMS = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    return next((found for name in CHROMIUMS if (found := shutil.which(name))), None)


def page_url(page: str) -> str:
    return page if "://" in page else Path(page).resolve().as_uri()


def screenshot(page: str, out: Path, *, width: int = 960, timeout_s: float = 60.0) -> Path:
    """``page`` as a PNG at ``out``, ``width`` pixels wide (the window's height kept in
    proportion). Raises ``FileNotFoundError`` without a Chromium."""
    from PIL import Image

    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError(f"no Chromium found (looked for {', '.join(CHROMIUMS)})")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "page.png"
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={tmp}/profile",
                f"--window-size={WINDOW[0]},{WINDOW[1]}",
                f"--screenshot={raw}",
                page_url(page),
            ],
            check=True,
            capture_output=True,
            timeout=timeout_s,
        )
        with Image.open(raw) as image:
            height = round(image.height * width / image.width)
            small = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
        out.parent.mkdir(parents=True, exist_ok=True)
        small.quantize(colors=256).save(out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", help="a file (reports/index.html) or a URL")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=960, help="pixels wide (default 960)")
    args = parser.parse_args(argv)
    written = screenshot(args.page, args.out, width=args.width)
    print(f"{written} ({written.stat().st_size // 1024} KiB)")  # noqa: T201  # a command's output


if __name__ == "__main__":
    main()
