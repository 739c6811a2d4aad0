"""Reference profiles and drift checks: a real shift is flagged, the same data is not."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from emotion_clf.batch.run import LocalScorer
from emotion_clf.data.profile import PROFILE_FILE, ReferenceProfile, load_profile
from emotion_clf.data.schema import HEADS
from emotion_clf.errors import DataError
from emotion_clf.models import load_bundle, verify_bundle
from emotion_clf.monitoring.drift import CurrentData, check_drift, drift_history
from emotion_clf.monitoring.predictions import read_prediction_log
from emotion_clf.training import TrainResult
from tests.cli.helpers import run_cli
from tests.conftest import RAW, write_csv

SHIFTED = [
    "BUY NOW!!! limited offer, click the link to claim your free prize",
    "Server 42 returned status 503 at 02:14 UTC; retrying in 30 seconds",
    "Preheat the oven to 180 degrees and whisk two eggs with the sugar",
    "The quarterly revenue grew by 4.2% while operating costs fell slightly",
]


def current(scorer: LocalScorer, texts: list[str]) -> CurrentData:
    scored = scorer.score(texts)
    return CurrentData(
        description="test",
        lengths=[len(t) for t in texts],
        labels={h: list(v) for h, v in scored.labels.items()},
        confidences={h: [float(c) for c in v] for h, v in scored.confidences.items()},
        texts=texts,
    )


def test_training_ships_a_profile_of_rows_it_held_out(weak_result: TrainResult) -> None:
    profile = load_profile(weak_result.bundle)
    assert profile is not None and profile == weak_result.profile
    manifest = verify_bundle(weak_result.bundle)  # the profile is checksummed like the state
    assert PROFILE_FILE in manifest.files and manifest.extra["reference"]["fraction"] == 0.08
    assert weak_result.split is not None
    assert set(profile.texts) <= set(weak_result.split.train.texts)  # from the training batches
    assert len(profile.batches) >= 2  # ... spanning them
    assert (
        manifest.extra["train_rows"] == len(weak_result.split.train) - profile.rows
    )  # ... held out
    for head in HEADS:
        assert len(profile.labels[head]) == len(profile.confidences[head]) == len(profile.texts)
    again = ReferenceProfile.from_json(profile.to_json(), where="x")
    assert again == profile
    with pytest.raises(DataError, match="not a reference profile"):
        ReferenceProfile.from_json('{"format": 1}', where="broken.json")


def test_a_shifted_batch_is_flagged_and_the_reference_itself_is_not(
    strong_result: TrainResult,
) -> None:
    profile = load_profile(strong_result.bundle)
    assert profile is not None and 1500 < len(profile.texts) <= 2000  # 8% of the training rows
    scorer = LocalScorer(load_bundle(strong_result.bundle), label="strong", version=None)
    same = check_drift(profile, current(scorer, list(profile.texts)))
    assert not same.drifted and same.score == 0.0
    assert {s.name for s in same.signals} == {
        "text",
        "length",
        *(f"labels/{h}" for h in HEADS),
        *(f"confidence/{h}" for h in HEADS),
    }
    shifted = check_drift(profile, current(scorer, SHIFTED * 20))
    named = {s.name: s for s in shifted.signals}
    assert shifted.drifted and named["text"].drifted and named["length"].drifted
    assert named["text"].score > 0.9  # the classifier tells them apart at once
    document = shifted.to_dict()
    assert document["drift"] is True and 0 < document["score"] <= 1
    with pytest.raises(DataError, match="too few for a drift check"):
        check_drift(profile, current(scorer, SHIFTED))


def test_the_cli_flags_a_shifted_file_and_keeps_the_report(
    strong_result: TrainResult, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shifted_file = tmp_path / "shifted.txt"
    shifted_file.write_text("\n".join(SHIFTED * 20))
    alarm = run_cli(
        "drift", "check", "--model", str(strong_result.bundle), "--current", str(shifted_file),
        home=home, env={"COLUMNS": "160"},
    )  # fmt: skip
    assert alarm.returncode == 1 and "DRIFT" in alarm.stdout, alarm.stderr
    [summary] = drift_history(home / "monitoring" / "drift")
    assert summary["drift"] is True and summary["current_rows"] == 80
    assert Path(summary["html"]).stat().st_size > 100_000  # Evidently's standalone page


def test_the_cli_says_what_is_wrong_with_exit_code_2(
    strong_result: TrainResult, tmp_path: Path
) -> None:
    bundle = str(strong_result.bundle)
    few = tmp_path / "few.txt"
    few.write_text("\n".join(SHIFTED))
    old = str(_without_profile(strong_result.bundle, tmp_path))
    check = ("drift", "check", "--model")
    errors = {
        "both": run_cli(*check, bundle, "--predictions", "--current", str(few), home=tmp_path),
        "neither": run_cli(*check, bundle, home=tmp_path),
        "no profile": run_cli(*check, old, "--current", str(few), home=tmp_path),
        "too few": run_cli(*check, bundle, "--current", str(few), home=tmp_path),
    }
    assert {k: r.returncode for k, r in errors.items()} == dict.fromkeys(errors, 2)
    assert (
        "--current FILE (repeatable), --predictions or --azure-collected" in errors["both"].stderr
    )
    assert "ships no reference profile" in errors["no profile"].stderr
    assert "4 current rows are too few" in errors["too few"].stderr


@pytest.mark.slow
def test_the_cli_checks_the_prediction_log_and_keeps_a_history(
    strong_result: TrainResult, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    bundle = str(strong_result.bundle)
    profile = load_profile(strong_result.bundle)
    assert profile is not None
    same_file = write_csv(tmp_path / "same.csv", [["", "", t, "", "", ""] for t in profile.texts])
    calm = run_cli(
        "drift", "check", "--model", bundle, "--current", str(same_file), "--json", home=home
    )
    assert calm.returncode == 0, calm.stderr
    assert json.loads(calm.stdout)["drift"] is False
    log = home / "monitoring" / "predictions"
    log.mkdir(parents=True)
    lines = [
        {"time": "2026-11-27T10:00:00.000+00:00", "model_version": "1", "route": "/predict",
         "request_id": f"r{i}", "text": text, "text_chars": len(text),
         **{h: "neutral" if h != "intensity" else "mild" for h in HEADS},
         **{f"{h}_confidence": 0.5 for h in HEADS}, "latency_ms": 1.0}
        for i, text in enumerate(SHIFTED * 20)
    ]  # fmt: skip
    (log / "2026-11-27.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n")
    assert len(read_prediction_log(log).records) == 80
    from_log = run_cli(
        "drift", "check", "--model", bundle, "--predictions", "--since", "100000", "--json",
        home=home,
    )  # fmt: skip
    assert from_log.returncode == 1, from_log.stderr
    assert "1 unreadable prediction log line" in from_log.stderr
    assert [h["drift"] for h in drift_history(home / "monitoring" / "drift")] == [False, True]


def _without_profile(bundle: Path, tmp_path: Path) -> Path:
    """A copy of ``bundle`` as bundles were before profiles: no reference file."""
    copy = tmp_path / "old-bundle"
    shutil.copytree(bundle, copy)
    (copy / PROFILE_FILE).unlink()
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"][PROFILE_FILE]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    load_bundle(copy)
    return copy


def test_a_profile_built_by_hand(tfidf_bundle: Path, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    with (
        (RAW / "train_data-0005.csv").open(newline="") as source,
        rows.open("w", newline="") as sink,
    ):
        csv.writer(sink).writerows(list(csv.reader(source))[:200])
    out = tmp_path / "profile.json"
    made = run_cli(
        "drift",
        "profile",
        "--model",
        str(tfidf_bundle),
        "--data",
        str(rows),
        "--out",
        str(out),
        home=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    profile = ReferenceProfile.from_json(out.read_text(), where=str(out))
    assert profile.batches == {"rows": len(profile.texts)} and len(profile.texts) > 150
    with rows.open(newline="") as handle:
        sent = {r["text"].strip() for r in csv.DictReader(handle)}
    assert set(profile.texts) <= sent


def write_collected(folder: Path, bundle: Path, texts: list[str], per_request: int = 8) -> None:
    """What a managed endpoint's data collector stores, in its layout: one JSON line per
    request in each collection, both lines sharing a correlation id (score.py's rows)."""
    from emotion_clf.monitoring.collected import input_rows, output_rows

    predictor = load_bundle(bundle)
    hour = Path("modelDataCollector/ep/blue/{}/2026/12/07/10")
    files = {
        n: folder / str(hour).format(n) / "data.jsonl" for n in ("model_inputs", "model_outputs")
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    with files["model_inputs"].open("w") as ins, files["model_outputs"].open("w") as outs:
        for start in range(0, len(texts), per_request):
            chunk = texts[start : start + per_request]
            predicted = [p.to_dict() for p in predictor.predict_batch(chunk)]
            cid = f"req-{start}"
            for handle, name, rows in (
                (ins, "model_inputs", input_rows(chunk)),
                (outs, "model_outputs", output_rows(predicted)),
            ):
                line = {"type": f"azureml.inference.{name}", "correlationid": cid, "data": rows}
                handle.write(json.dumps(line) + "\n")
    with files["model_outputs"].open("a") as outs:
        outs.write("not json\n")  # a damaged line is counted, not fatal


def test_the_endpoints_collected_traffic_is_checked_like_the_prediction_log(
    strong_result: TrainResult, tmp_path: Path
) -> None:
    from emotion_clf.config import Settings
    from emotion_clf.monitoring.drift_runs import run_drift_check

    profile = load_profile(strong_result.bundle)
    assert profile is not None
    calm_folder, shifted_folder = tmp_path / "calm", tmp_path / "shifted"
    write_collected(calm_folder, strong_result.bundle, list(profile.texts)[:400])
    write_collected(shifted_folder, strong_result.bundle, SHIFTED * 20)
    calm = run_drift_check(
        settings=Settings(home=tmp_path / "home"),
        model=str(strong_result.bundle),
        azure_collected=calm_folder,
        out=tmp_path / "out",
    )
    assert calm.report.current_rows == 400 and not calm.report.drifted
    assert any("1 unusable collected line" in w for w in calm.warnings), calm.warnings
    alarm = run_cli(
        "drift", "check", "--model", str(strong_result.bundle),
        "--azure-collected", str(shifted_folder), "--json", home=tmp_path / "home",
    )  # fmt: skip
    assert alarm.returncode == 1, alarm.stderr
    assert json.loads(alarm.stdout)["current_rows"] == 80
    missing = run_cli(
        "drift", "check", "--model", str(strong_result.bundle),
        "--azure-collected", str(tmp_path / "nowhere"), home=tmp_path / "home",
    )  # fmt: skip
    assert missing.returncode == 2 and "does not exist" in missing.stderr + missing.stdout


def test_a_huge_collected_line_is_counted_not_held(tmp_path: Path) -> None:
    from emotion_clf.monitoring.collected import read_collected

    folder = tmp_path / "collected" / "model_inputs"
    folder.mkdir(parents=True)
    ok = {"type": "azureml.inference.model_inputs", "correlationid": "a", "data": [{"text": "hi"}]}
    huge = json.dumps({"type": "azureml.inference.model_inputs", "data": ["x" * 5000]})
    (folder / "a.jsonl").write_text(json.dumps(ok) + "\n" + huge + "\n")
    outputs = tmp_path / "collected" / "model_outputs"
    outputs.mkdir()
    row = {f"{h}{s}": v for h in HEADS for s, v in (("", "joy"), ("_confidence", 0.9))}
    (outputs / "a.jsonl").write_text(
        json.dumps({"type": "azureml.inference.model_outputs", "correlationid": "a", "data": [row]})
        + "\n"
    )
    read = read_collected(tmp_path / "collected", max_line_bytes=1000)
    assert read.texts == ["hi"]
    assert read.bad_lines == [f"{folder / 'a.jsonl'}:2: longer than 1,000 bytes"]
