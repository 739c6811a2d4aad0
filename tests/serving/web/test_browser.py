"""The web app in a real browser (Chromium) against a real ``emotion-clf serve``.

One server for the module (its start costs seconds); the promotion test runs last, as it moves
the registry's baseline. Every page is opened with the network outside 127.0.0.1 blocked, and
every test ends with no console error and no request elsewhere.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emotion_clf.data.feedback import read_quarantine
from emotion_clf.data.schema import SCHEMA
from emotion_clf.serving.http.routes.media import speech_available
from tests.serving.helpers import make_settings
from tests.serving.server import Server, running_server
from tests.serving.web.browser import Watch, expect, launched, watched_page

# five real sentences (data/raw, batch 1) as an SRT transcript
SENTENCES = [
    "I can't believe we actually won the final!",
    "Honestly I was terrified we would lose in the last minute.",
    "The referee's decision was a disgrace.",
    "We will meet again next week to plan the season.",
    "I miss my grandfather every single day.",
]
SRT = "\n".join(
    f"{i + 1}\n00:00:{2 * i:02d},000 --> 00:00:{2 * i + 1:02d},500\n{text}\n"
    for i, text in enumerate(SENTENCES)
)
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def web_server(registry_homes: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("web") / "home"
    shutil.copytree(registry_homes.promoted, home)
    env = {"EMOTION_CLF_WEB_POLL_S": "1", "EMOTION_CLF_POLL_S": "1"}
    with running_server(home, env=env) as server:
        server.home = home  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with launched() as browser:
        yield browser


@pytest.fixture
def page(browser: object, web_server: Server) -> Iterator[tuple[Any, Watch]]:
    with watched_page(browser, web_server.url) as (page, watch):
        yield page, watch
    assert watch.elsewhere == []


def open_analyse(page: Any) -> None:
    page.goto("/")
    page.wait_for_selector("body[data-ready=true]", timeout=TIMEOUT_MS)


def correct(page: Any, row: int, emotion: str, sub_emotion: str, intensity: str) -> None:
    page.get_by_role("button", name=f"Correct row {row}", exact=True).click()
    page.get_by_label(f"Emotion of row {row}", exact=True).select_option(emotion)
    page.get_by_label(f"Sub-emotion of row {row}", exact=True).select_option(sub_emotion)
    page.get_by_label(f"Intensity of row {row}", exact=True).select_option(intensity)
    page.get_by_role("button", name=f"Keep the correction of row {row}").click()


def test_an_srt_is_analysed_and_two_corrections_reach_the_feedback_store(
    page: tuple[Any, Watch], web_server: Server
) -> None:
    page_, watch = page
    open_analyse(page_)
    page_.set_input_files(
        "#file",
        files=[{"name": "final.srt", "mimeType": "application/x-subrip", "buffer": SRT.encode()}],
    )
    page_.wait_for_selector("#tbody[data-rendered='5']", timeout=TIMEOUT_MS)
    assert page_.locator("#tbody .text").all_text_contents() == SENTENCES
    assert page_.locator("#tbody .time").first.text_content() == "0:00.0 – 0:01.5"
    assert page_.locator("#timeline svg rect.seg").count() == 5
    labels = page_.locator("#tbody .badge").all_text_contents()
    assert set(labels) <= set(SCHEMA.labels("emotion"))

    # the sub-emotions of the chosen emotion come first
    page_.get_by_role("button", name="Correct row 2", exact=True).click()
    page_.get_by_label("Emotion of row 2", exact=True).select_option("fear")
    first = page_.locator("select.fix-sub optgroup").first
    assert first.get_attribute("label") == "of fear"
    assert first.locator("option").all_inner_texts() == list(SCHEMA.children("fear"))
    page_.get_by_role("button", name="Cancel the correction of row 2").click()

    correct(page_, 5, "sadness", "grief", "strong")  # fits the schema: saved
    correct(page_, 3, "anger", "joy", "moderate")  # joy is not anger's: quarantined
    assert "2 corrections ready" in page_.locator("#pending").inner_text()
    page_.get_by_role("button", name="Send corrections").click()
    receipt = page_.locator("#receipt")
    receipt.locator(".receipt-title").wait_for(timeout=TIMEOUT_MS)
    assert (
        receipt.locator(".receipt-title").inner_text().startswith("1 saved, 1 kept in quarantine")
    )
    rows = receipt.locator("li").all_inner_texts()  # in the order of the rows
    assert rows[0].startswith("Row 3: kept in quarantine: ") and "'joy'" in rows[0]
    assert rows[1] == "Row 5: saved for training"

    feedback = make_settings(web_server.home).feedback_dir  # type: ignore[attr-defined]
    saved = "".join(p.read_text() for p in feedback.glob("*.csv"))
    assert f"{SENTENCES[4]},sadness,grief,strong" in saved
    assert SENTENCES[2] not in saved
    kept = [q for q in read_quarantine(feedback) if q["item"]["text"] == SENTENCES[2]]
    assert len(kept) == 1 and "joy" in kept[0]["reason"]
    assert watch.errors == []


def test_the_filters_search_and_downloads_work(page: tuple[Any, Watch], tmp_path: Path) -> None:
    page_, watch = page
    open_analyse(page_)
    page_.fill("#input", "I love this song so much. The train is late again. I hate waiting.")
    page_.click("#analyse")
    page_.wait_for_selector("#tbody[data-rendered='3']", timeout=TIMEOUT_MS)
    page_.fill("#search", "train")
    page_.wait_for_selector("#tbody[data-rendered='1']", timeout=TIMEOUT_MS)
    assert page_.locator("#tbody .text").all_text_contents() == ["The train is late again."]
    page_.fill("#search", "")
    page_.wait_for_selector("#tbody[data-rendered='3']", timeout=TIMEOUT_MS)
    emotion = page_.locator("#tbody .badge").first.text_content()
    page_.select_option("#filter-emotion", emotion)
    shown = page_.locator("#tbody .badge").all_text_contents()
    assert shown and set(shown) == {emotion}
    with page_.expect_download() as download:
        page_.click("#download-csv")
    csv_text = Path(download.value.path()).read_text()
    assert csv_text.splitlines()[0].startswith("index,start,end,text,emotion,")
    assert "I hate waiting." in csv_text and len(csv_text.splitlines()) == 4
    with page_.expect_download() as download:
        page_.click("#download-json")
    assert '"text": "I love this song so much."' in Path(download.value.path()).read_text()
    assert watch.errors == []


def test_json_segments_and_a_long_transcript_render_every_row(page: tuple[Any, Watch]) -> None:
    from benchmarks.web_app import SENTENCES as LONG
    from benchmarks.web_app import transcript_srt

    page_, watch = page
    open_analyse(page_)
    segments = {
        "segments": [
            {"start": 1.5, "end": 3, "text": SENTENCES[0]},
            {"start": 3, "end": 4.25, "text": SENTENCES[4]},
        ]
    }
    page_.fill("#input", json.dumps(segments))
    page_.click("#analyse")
    page_.wait_for_selector("#tbody[data-rendered='2']", timeout=TIMEOUT_MS)
    assert page_.locator("#tbody .time").all_text_contents() == [
        "0:01.5 – 0:03.0",
        "0:03.0 – 0:04.3",
    ]
    assert "JSON" in page_.locator("#summary").inner_text()
    srt = transcript_srt()  # the benchmark's real 817-sentence transcript, uploaded
    page_.set_input_files(
        "#file", files=[{"name": "long.srt", "mimeType": "text/plain", "buffer": srt.encode()}]
    )
    page_.wait_for_selector(f"#tbody[data-rendered='{LONG}']", timeout=60_000)
    assert page_.locator("#tbody .row").count() == LONG
    last = srt.strip().split("\n")[-1]
    assert page_.locator("#tbody .text").last.text_content() == last
    assert page_.locator("#timeline svg rect.seg").count() == LONG
    assert watch.errors == []


def test_a_text_that_looks_like_html_is_shown_as_text(page: tuple[Any, Watch]) -> None:
    page_, watch = page
    open_analyse(page_)
    text = 'I <b>love</b> it <img src="x" onerror="injected = 1">'  # no dot: one sentence
    page_.fill("#input", text)
    page_.click("#analyse")
    page_.wait_for_selector("#status.ok, #status.error", timeout=TIMEOUT_MS)
    assert page_.locator("#status").inner_text().startswith("1 sentence analysed")
    page_.wait_for_selector("#tbody[data-rendered='1']", timeout=TIMEOUT_MS)
    assert page_.locator("#tbody .text").text_content() == text
    assert page_.locator("#tbody img, #tbody b").count() == 0
    page_.hover("#timeline svg rect.seg")
    assert page_.evaluate("window.injected === undefined")
    assert watch.errors == []


def test_the_analyse_page_works_with_the_keyboard_alone(page: tuple[Any, Watch]) -> None:
    page_, watch = page
    open_analyse(page_)
    keys = page_.keyboard
    keys.press("Tab")  # the skip link, first on the page
    keys.press("Enter")
    assert page_.evaluate("document.activeElement.id") == "input"  # on to the text box
    keys.type("What a wonderful surprise. I am scared of the dark.")
    keys.press("Control+Enter")
    page_.wait_for_selector("#tbody[data-rendered='2']", timeout=TIMEOUT_MS)
    for _ in range(60):  # Tab along until the first row's Correct button has the focus
        if page_.evaluate("document.activeElement.getAttribute('aria-label')") == "Correct row 1":
            break
        keys.press("Tab")
    else:
        pytest.fail("Tab never reached the Correct button of row 1")
    keys.press("Enter")
    assert page_.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Emotion of row 1"
    )
    before = page_.get_by_label("Emotion of row 1", exact=True).input_value()
    keys.press("ArrowDown")
    after = page_.get_by_label("Emotion of row 1", exact=True).input_value()
    assert after != before
    for _ in range(3):
        keys.press("Tab")  # sub-emotion, intensity, Keep
    assert page_.evaluate("document.activeElement.textContent") == "Keep"
    keys.press("Enter")
    assert "1 correction ready" in page_.locator("#pending").inner_text()
    assert page_.locator("#tbody .row.corrected .badge").text_content() == after
    assert watch.errors == []


def test_a_url_the_server_refuses_is_answered_with_its_reason(page: tuple[Any, Watch]) -> None:
    page_, watch = page
    open_analyse(page_)
    page_.fill("#url", "http://127.0.0.1:9/talk.mp3")
    page_.keyboard.press("Enter")
    status = page_.locator("#status.error")
    status.wait_for(timeout=TIMEOUT_MS)
    if speech_available():  # the URL policy refuses it: EMOTION_CLF_MEDIA_URLS is off
        assert status.inner_text().startswith("The server answered 4")
        assert "EMOTION_CLF_MEDIA_URLS" in status.inner_text()
        # the browser reports the refused request itself; nothing else may be logged
        assert watch.errors_except("Failed to load resource") == []
    else:
        assert "speech" in status.inner_text()
        assert watch.errors == []


def test_a_spoken_recording_is_transcribed_into_rows(
    page: tuple[Any, Watch], tmp_path: Path
) -> None:
    if not speech_available():
        pytest.skip("the speech extra is not installed (pip install 'emotion-clf[speech]')")
    from tests.speech.speech_files import say

    wav = say("I am so happy today. This is terrible news.", tmp_path / "speech.wav")
    page_, watch = page
    open_analyse(page_)
    page_.set_input_files("#file", str(wav))
    page_.wait_for_selector("#tbody[data-rendered]:not([data-rendered=''])", timeout=120_000)
    text = " ".join(page_.locator("#tbody .text").all_text_contents()).lower()
    assert "happy" in text and "terrible" in text
    assert "speech" in page_.locator("#summary").inner_text()
    assert watch.errors == []


def test_without_speech_to_text_the_page_says_how_to_add_it(
    page: tuple[Any, Watch], tmp_path: Path
) -> None:
    """The server's own config, with speech switched off in its answer (this machine has the
    extra): the page names the fix and sends nothing to /predict/media."""
    page_, watch = page
    posted: list[str] = []
    page_.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)

    def without_speech(route: Any) -> None:
        answer = route.fetch()
        config = answer.json()
        config["speech"]["available"] = False
        route.fulfill(response=answer, json=config)

    page_.route("**/app/config.json", without_speech)
    open_analyse(page_)
    hint = page_.locator("#file-note").inner_text()
    assert "speech" in hint and "pip install" in hint
    page_.set_input_files(
        "#file",
        files=[{"name": "talk.mp3", "mimeType": "audio/mpeg", "buffer": b"ID3" + bytes(64)}],
    )
    status = page_.locator("#status.error")
    status.wait_for(timeout=TIMEOUT_MS)
    assert "cannot transcribe" in status.inner_text() and "pip install" in status.inner_text()
    assert posted == []
    assert watch.errors == []


def test_the_docs_render_swagger_ui_with_the_network_blocked(page: tuple[Any, Watch]) -> None:
    page_, watch = page
    page_.goto("/docs")
    page_.wait_for_selector(".swagger-ui .info .title", timeout=TIMEOUT_MS)
    assert "emotion-clf" in page_.locator(".swagger-ui .info .title").inner_text()
    page_.wait_for_selector(".opblock-tag", timeout=TIMEOUT_MS)
    assert watch.elsewhere == [] and watch.errors == []


def test_the_production_page_shows_a_promotion_without_a_reload(
    page: tuple[Any, Watch], web_server: Server
) -> None:
    from emotion_clf.promotion import promote

    page_, watch = page
    page_.goto("/production")
    version = page_.locator("#baseline .version")
    version.wait_for(timeout=TIMEOUT_MS)
    assert version.inner_text() == "1"
    assert page_.locator("#dynamic .version").inner_text() == "2"
    page_.evaluate("window.stillTheSamePage = true")
    settings = make_settings(web_server.home)  # type: ignore[attr-defined]
    promote(settings=settings, version="2", force=True, reason="web app test", refresh=False)
    # the page polls every second (EMOTION_CLF_WEB_POLL_S=1); no string is evaluated, as
    # the page's policy forbids eval
    expect(version).to_have_text("2", timeout=TIMEOUT_MS)
    assert page_.evaluate("window.stillTheSamePage") is True
    assert "web app test" in page_.locator("#audit").inner_text()
    # the earlier tests' requests are this server's API traffic
    traffic = page_.locator("#traffic").inner_text()
    assert "API requests" in traffic and not traffic.count(" 0 API requests")
    assert watch.errors == []
