"""An outside review's probes of /feedback and the parsers, replayed against a real server.

Each probe once got a 500 (or stored something it should not): deeply nested JSON, a
5,000-digit number, times of ``1e308``, spreadsheet formulas, a flood from one client, a full
disk. Every answer here must be a deliberate one: never a 500.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from emotion_clf.data.loader import load_dataset
from tests.conftest import Homes
from tests.security.conftest import ProbeLog
from tests.serving.server import Server, running_server

LIMIT = 30  # submissions a minute per client, on this server
ENV = {
    "EMOTION_CLF_POLL_S": "0",
    "EMOTION_CLF_FEEDBACK_MAX_SUBMISSIONS_PER_MINUTE": str(LIMIT),
    "EMOTION_CLF_FEEDBACK_MAX_BYTES_PER_MINUTE": "2500000",
}
ITEM = {"text": "so glad", "emotion": "happiness", "sub_emotion": "joy", "intensity": "mild"}


@pytest.fixture(scope="module")
def probed(registry_homes: Homes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module's probes (each comes from its own client address where it
    counts against the volume limit)."""
    home = tmp_path_factory.mktemp("probed") / "home"
    shutil.copytree(registry_homes.promoted, home)
    with running_server(home, env=ENV) as server:
        yield server
    assert "Traceback" not in server.log.read_text(), server.log_tail()


def _post(
    server: Server, path: str, *, client: str = "127.0.0.1", full_disk: bool = False, **kwargs: Any
) -> httpx.Response:
    """POST from ``client``; any 5xx fails the test, except a 507 where the disk is full."""
    transport = httpx.HTTPTransport(local_address=client)
    with httpx.Client(base_url=server.url, transport=transport, timeout=60) as http:
        response = http.post(path, **kwargs)
    assert response.status_code < 500 or (full_disk and response.status_code == 507), response.text
    assert response.headers["content-type"] == "application/json"
    return response


def _json_body(body: bytes) -> dict[str, object]:
    return {"content": body, "headers": {"content-type": "application/json"}}


@pytest.mark.parametrize("path", ["/feedback", "/save-feedback"])
def test_nested_json_and_huge_numbers_are_a_422_and_kept(
    probed: Server, path: str, probes: ProbeLog
) -> None:
    home = Path(probed.log).parent
    for body, fragment in (
        (b"[" * 100_000 + b"]" * 100_000, "more than 32 levels deep"),
        (b'{"items": [{"text": "hi", "n": 1' + b"0" * 5000 + b"}]}", "5001 digits"),
    ):
        response = _post(probed, path, **_json_body(body))
        probes.record(
            "feedback body nested 100,000 deep, or a 5,000-digit number",
            expected="422, body kept in quarantine",
            observed=f"{response.status_code}, kept: {'quarantine_file' in response.json()}",
            ok=response.status_code == 422 and "quarantine_file" in response.json(),
        )
        assert response.status_code == 422 and fragment in response.json()["detail"]
        kept = home / "feedback" / "quarantine" / response.json()["quarantine_file"]
        assert json.loads(kept.read_text())["item"] == body.decode()


def test_times_of_1e308_are_a_row_reason_or_a_422_naming_the_field(
    probed: Server, probes: ProbeLog
) -> None:
    row = {**ITEM, "start_time": 1e308}
    response = _post(probed, "/feedback", json={"items": [row]})
    probes.record(
        "feedback start_time of 1e308",
        expected="202, the row quarantined with its reason",
        observed=str(response.status_code),
        ok=response.status_code == 202,
    )
    assert response.status_code == 202, response.text  # kept, in quarantine, with the reason
    assert "items[0].start_time must be a finite number" in response.json()["rows"][0]["reason"]

    segments = {"segments": [{"start": 0, "end": 1e308, "text": "hello"}]}
    response = _post(probed, "/predict/transcript", json=segments)
    probes.record(
        "transcript segment end of 1e308",
        expected="422 naming the field",
        observed=f"{response.status_code} {response.json().get('field')}",
        ok=response.status_code == 422,
    )
    assert response.status_code == 422 and response.json()["field"] == "segments[0].end"

    srt = b"1\n" + b"9" * 5000 + b":00:00,000 --> 00:00:01,000\nhello\n"
    response = _post(
        probed, "/predict/transcript", content=srt, headers={"content-type": "application/x-subrip"}
    )
    probes.record(
        "SRT timecode with 5,000 hour digits",
        expected="422",
        observed=str(response.status_code),
        ok=response.status_code == 422,
    )
    assert response.status_code == 422 and "beyond 7 days" in response.json()["detail"]


def test_formulas_are_stored_guarded_and_read_back_exactly(
    probed: Server, probes: ProbeLog
) -> None:
    texts = ['=HYPERLINK("http://evil.example", "x")', "+1", "-1", "@SUM(A1)", "'Tis so"]
    response = _post(probed, "/feedback", json={"items": [{**ITEM, "text": t} for t in texts]})
    assert response.status_code == 200, response.text
    csv_file = Path(probed.log).parent / "feedback" / response.json()["filename"]
    with csv_file.open(newline="", encoding="utf-8") as handle:
        cells = [r[2] for r in list(csv.reader(handle))[1:]]
    for text, cell in zip(texts[:4], cells, strict=False):
        probes.record(
            "feedback text a spreadsheet would run as a formula",
            expected="stored with a leading '",
            observed=f"stored as {cell[:2]!r}...",
            ok=cell == "'" + text,
        )
    assert cells == ["'" + t for t in texts[:4]] + ["'Tis so"]  # what a spreadsheet opens
    assert load_dataset(csv_file).texts == texts


def test_a_flood_from_one_client_is_refused_429_and_others_are_still_served(
    probed: Server, probes: ProbeLog
) -> None:
    answers = [
        _post(probed, "/feedback", client="127.0.0.2", json={"items": [ITEM]})
        for _ in range(LIMIT + 1)
    ]
    probes.record(
        f"feedback flood: {LIMIT + 1} submissions a minute from one client",
        expected=f"200 x{LIMIT}, then 429 with Retry-After",
        observed=", ".join(str(a.status_code) for a in answers[-2:]) + " (last two)",
        ok=[a.status_code for a in answers] == [200] * LIMIT + [429],
    )
    assert [a.status_code for a in answers] == [200] * LIMIT + [429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    assert "NOT saved" in answers[-1].json()["detail"]
    assert (
        _post(probed, "/save-feedback", client="127.0.0.2", json={"items": [ITEM]}).status_code
        == 429
    )
    assert _post(probed, "/feedback", json={"items": [ITEM]}).status_code == 200  # another client


def test_bytes_a_minute_are_bounded_per_client(probed: Server, probes: ProbeLog) -> None:
    big = {"items": [{**ITEM, "text": "x" * 900_000}]}  # too long to train on: quarantined
    statuses = [
        _post(probed, "/feedback", client="127.0.0.3", json=big).status_code for _ in range(3)
    ]
    probes.record(
        "feedback volume: three 900 KB submissions in a minute",
        expected="202, 202, 429",
        observed=", ".join(map(str, statuses)),
        ok=statuses == [202, 202, 429],
    )
    assert statuses == [202, 202, 429]


@contextmanager
def tiny_disk(folder: Path) -> Iterator[None]:
    """A 256 KB tmpfs mounted on ``folder`` (root only: skipped elsewhere)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace')}")
    try:
        yield
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def test_a_full_disk_is_a_507_that_says_nothing_was_kept(home: Path, probes: ProbeLog) -> None:
    folder = home / "feedback"
    with tiny_disk(folder), running_server(home, env=ENV) as server:
        filler = folder / "filler.bin"
        with filler.open("wb", buffering=0) as handle, pytest.raises(OSError, match="No space"):
            while True:
                handle.write(b"\0" * 4096)
        response = _post(server, "/feedback", full_disk=True, json={"items": [ITEM]})
        probes.record(
            "feedback on a full disk",
            expected="507 saying it was not saved",
            observed=str(response.status_code),
            ok=response.status_code == 507,
        )
        assert response.status_code == 507, response.text
        body = response.json()
        assert "out of disk space" in body["detail"] and "NOT saved" in body["detail"]
        assert body["kept"] is False
        assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == ["filler.bin"]
        filler.unlink()
        assert _post(server, "/feedback", json={"items": [ITEM]}).status_code == 200
