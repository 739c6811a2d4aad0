"""YouTube pages: refused unless allowed, and then handed to yt-dlp with every bound it takes.

yt-dlp needs the internet (unreachable here) and is not installed by the project, so the
tests that reach it use a stand-in module that behaves as yt-dlp's API does for what this
package relies on: options in, progress hooks called per block, ``DownloadCancelled`` raised
from a hook aborting the download.
"""

from __future__ import annotations

import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from emotion_clf.errors import FeatureUnavailableError
from emotion_clf.urls import PUBLIC_MESSAGE, UrlFetchError, UrlPolicy, fetch_url
from tests.urls.servers import PUBLIC, TableResolver

URL = "https://www.youtube.com/watch?v=abc"
RESOLVER = TableResolver({"www.youtube.com": [PUBLIC], "youtu.be": [PUBLIC]})


class StandIn:
    """A ``yt_dlp`` module whose download writes ``size`` bytes in blocks of 1000."""

    def __init__(self, size: int) -> None:
        self.options: dict[str, Any] = {}
        self.block_s = 0.0  # time taken by each block
        self.blocks = 0
        outer = self

        class YoutubeDLError(Exception):
            pass

        class DownloadCancelled(YoutubeDLError):
            pass

        class YoutubeDL:
            def __init__(self, options: dict[str, Any]) -> None:
                outer.options = options

            def __enter__(self) -> YoutubeDL:
                return self

            def __exit__(self, *exc: object) -> None:
                pass

            def extract_info(self, url: str, download: bool) -> dict[str, Any]:
                info = {"id": "abc", "ext": "m4a", "filesize_approx": size}
                skip = outer.options["match_filter"](info, incomplete=False)
                if skip:
                    return info
                path = Path(outer.options["outtmpl"].replace("%(id)s.%(ext)s", "abc.m4a"))
                with path.open("wb") as handle:
                    for done in range(0, size, 1000):
                        time.sleep(outer.block_s)
                        handle.write(bytes(min(1000, size - done)))
                        outer.blocks += 1
                        for hook in outer.options["progress_hooks"]:
                            hook({"status": "downloading", "downloaded_bytes": done + 1000})
                return info

        self.module = types.ModuleType("yt_dlp")
        self.module.YoutubeDL = YoutubeDL  # type: ignore[attr-defined]
        self.module.utils = types.SimpleNamespace(  # type: ignore[attr-defined]
            YoutubeDLError=YoutubeDLError, DownloadCancelled=DownloadCancelled
        )


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> StandIn:
    module = StandIn(size=5000)
    monkeypatch.setitem(sys.modules, "yt_dlp", module.module)
    return module


def test_youtube_is_refused_by_default_without_calling_yt_dlp(
    stand_in: StandIn, tmp_path: Path
) -> None:
    for mode in ("public", "any"):
        with pytest.raises(UrlFetchError) as caught:
            fetch_url(URL, UrlPolicy(mode=mode), folder=tmp_path, resolver=RESOLVER)
        assert caught.value.public == PUBLIC_MESSAGE and "yt-dlp" in caught.value.detail
    assert stand_in.options == {}


def test_allowed_youtube_goes_to_yt_dlp_with_its_bounds(stand_in: StandIn, tmp_path: Path) -> None:
    policy = UrlPolicy(allow_youtube=True, max_bytes=10_000, deadline_s=20)
    got = fetch_url(URL, policy, folder=tmp_path, resolver=RESOLVER)
    assert (got.via, got.size, got.path.suffix) == ("yt-dlp", 5000, ".m4a")
    assert got.path.is_relative_to(tmp_path)
    options = stand_in.options
    assert options["allowed_extractors"] == ["youtube"]  # never the generic extractor
    assert options["proxy"] == "" and options["noplaylist"] is True
    assert options["max_filesize"] == 10_000 and options["retries"] == 0
    assert 1 <= options["socket_timeout"] <= 20


@pytest.mark.parametrize("max_bytes", [4999, 2500])
def test_a_youtube_download_over_the_cap_is_stopped(
    max_bytes: int, stand_in: StandIn, tmp_path: Path
) -> None:
    policy = UrlPolicy(allow_youtube=True, max_bytes=max_bytes)
    with pytest.raises(UrlFetchError) as caught:
        fetch_url(URL, policy, folder=tmp_path, resolver=RESOLVER)
    assert caught.value.public == PUBLIC_MESSAGE
    assert list(tmp_path.iterdir()) == []


def test_a_youtube_download_past_the_deadline_is_stopped(stand_in: StandIn, tmp_path: Path) -> None:
    stand_in.block_s = 0.1
    policy = UrlPolicy(allow_youtube=True, deadline_s=0.25)
    started = time.monotonic()
    with pytest.raises(UrlFetchError) as caught:
        fetch_url(URL, policy, folder=tmp_path, resolver=RESOLVER)
    assert "deadline" in caught.value.detail and list(tmp_path.iterdir()) == []
    assert stand_in.blocks < 5 and time.monotonic() - started < 1.0


def test_allowed_youtube_without_yt_dlp_is_a_missing_feature(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "yt_dlp", None)  # import yt_dlp raises ImportError
    with pytest.raises(FeatureUnavailableError):
        fetch_url(URL, UrlPolicy(allow_youtube=True), folder=tmp_path, resolver=RESOLVER)
