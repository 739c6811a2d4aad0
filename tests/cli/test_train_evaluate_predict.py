from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import run_cli
from tests.conftest import write_csv


def test_train_then_evaluate_then_predict(small_data: Path, workspace: Path) -> None:
    bundle = workspace / "bundle"
    trained = run_cli(
        "train",
        "--family",
        "tfidf",
        "--data",
        str(small_data),
        "--out",
        str(bundle),
        "--seed",
        "3",
        home=workspace,
        process=True,  # the installed console script, once
    )
    assert trained.returncode == 0, trained.stderr
    assert (bundle / "manifest.json").is_file()

    evaluated = run_cli(
        "evaluate", "--model", str(bundle), "--data", str(small_data), "--json", home=workspace
    )
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["rows"] == 480
    for head in ("emotion", "sub_emotion", "intensity"):
        for key in ("accuracy", "macro_f1", "weighted_f1"):
            assert 0.0 <= report[head][key] <= 1.0
        assert report[head]["per_class"]
        matrix = report[head]["confusion_matrix"]
        assert sum(map(sum, matrix["matrix"])) == 480
    # the model was trained on these rows' training split, so it does better than chance
    assert report["emotion"]["accuracy"] > 0.5

    test_only = run_cli(
        "evaluate",
        "--model",
        str(bundle),
        "--data",
        str(small_data),
        "--split",
        "test",
        "--json",
        home=workspace,
    )
    assert json.loads(test_only.stdout)["rows"] == 120

    predicted = run_cli(
        "predict",
        "Thank you so much!",
        "--model",
        str(bundle),
        "--json",
        "--distributions",
        home=workspace,
    )
    assert predicted.returncode == 0, predicted.stderr
    one = json.loads(predicted.stdout)
    assert one["text"] == "Thank you so much!"
    assert abs(sum(one["sub_emotion"]["distribution"].values()) - 1) < 1e-4
    several = run_cli("predict", "Hi.", "Why?", "--model", str(bundle), "--json", home=workspace)
    assert [p["text"] for p in json.loads(several.stdout)] == ["Hi.", "Why?"]

    table = run_cli("evaluate", "--model", str(bundle), "--data", str(small_data), home=workspace)
    assert table.returncode == 0 and "macro-F1" in table.stdout


def test_bad_input_gives_a_clear_error_without_traceback(tmp_path: Path, workspace: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", [["", "", "Hi.", "happiness", "joy", "extreme"]])
    result = run_cli(
        "train",
        "--family",
        "tfidf",
        "--data",
        str(bad),
        "--out",
        str(tmp_path / "b"),
        home=workspace,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "bad.csv, line 2" in result.stderr and "unknown intensity 'extreme'" in result.stderr
    assert "mild" in result.stderr  # allowed values are listed

    missing = run_cli(
        "evaluate", "--model", str(tmp_path / "nope"), "--data", str(bad), home=workspace
    )
    assert missing.returncode != 0 and "Traceback" not in missing.stderr

    family = run_cli("train", "--family", "xgboost", "--out", str(tmp_path / "c"), home=workspace)
    assert family.returncode != 0 and "allowed values: tfidf, minilm" in family.stderr
