"""The benchmarks as a package: every script imports as ``benchmarks.NAME`` without running,
none edits ``sys.path``, each keeps one current result file, and the README's table is the one
the result files give. Then the cross-validation benchmark on a small slice: every row is held
out exactly once, and the batch protocol never puts one video in two folds."""

from __future__ import annotations

import ast
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks import summary
from benchmarks.quality_cv_report import metrics

from emotion_clf import load_dataset

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
MODULES = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem != "__init__")
ARCHIVED = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "research").rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _path_edits(tree: ast.Module) -> list[int]:
    """Lines that touch ``sys.path`` (or ``site.addsitedir``)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and (node.value.id, node.attr) in {("sys", "path"), ("site", "addsitedir")}
    ]


def _is_main_guard(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
        and isinstance(node.test.comparators[0], ast.Constant)
        and node.test.comparators[0].value == "__main__"
    )


def _runs_at_import(tree: ast.Module) -> list[int]:
    """Top-level statements that do work when the module is imported: anything but imports,
    definitions, assignments, the docstring and the ``__main__`` guard."""
    quiet = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
    return [
        node.lineno
        for node in tree.body
        if not isinstance(node, quiet)
        and not _is_main_guard(node)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]


@pytest.mark.parametrize("name", MODULES)
def test_a_benchmark_imports_as_a_module_without_running(name: str) -> None:
    tree = _tree(BENCHMARKS / f"{name}.py")
    assert _path_edits(tree) == [], f"benchmarks/{name}.py edits sys.path"
    assert _runs_at_import(tree) == [], f"benchmarks/{name}.py runs code at import"
    defines_main = any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body)
    assert defines_main == any(_is_main_guard(n) for n in tree.body)
    module = importlib.import_module(f"benchmarks.{name}")
    assert module.__doc__, f"benchmarks/{name}.py says what it measures in its docstring"


@pytest.mark.parametrize("path", ARCHIVED)
def test_an_archived_experiment_does_not_edit_sys_path(path: str) -> None:
    assert _path_edits(_tree(ROOT / path)) == []


def test_every_script_is_in_the_table_with_one_result_file() -> None:
    scripts = {
        n for n in MODULES if any(_is_main_guard(s) for s in _tree(BENCHMARKS / f"{n}.py").body)
    }
    listed = [b.name for b in summary.BENCHMARKS]
    assert sorted(listed) == sorted(scripts - {"summary"})
    allowed = {f"{name}.json" for name in listed} | {"reliability.md"}  # reliability's note
    stray = {p.name for p in (BENCHMARKS / "results").iterdir()} - allowed
    assert not stray, f"not a current result of a script (research/results keeps records): {stray}"


def test_the_readme_table_is_the_one_the_result_files_give() -> None:
    readme = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    assert summary.readme_table(readme) == summary.table(), "python -m benchmarks.summary --write"


def test_a_row_reads_its_result_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "RESULTS", tmp_path)
    bench = summary.by_name("serving_microbatch")
    assert "| no result yet | – | – |" in summary.row(bench)
    document = {
        "date": "2026-01-02T03:04:05+00:00",
        "model": {"family": "tfidf"},
        "at_max_clients": {
            "clients": 32,
            "throughput_ratio": 2.5,
            "p99_ms": {"micro-batched": 20.4, "naive": 30.6},
        },
    }
    bench.result.write_text(json.dumps(document))
    row = summary.row(bench)
    assert "32 clients: micro-batched 2.50x the naive requests/s, p99 20 vs 31 ms (tfidf)" in row
    assert "| 2026-01-02 |" in row


def run_cv(data: Path, out: Path, *extra: str) -> dict:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.quality_cv",
            "--families",
            "tfidf",
            "--folds",
            "2",
            "--data",
            str(data),
            "--out",
            str(out),
            *extra,
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.read_text())


def test_batch_protocol_holds_out_each_video_once(small_data: Path, tmp_path: Path) -> None:
    result = run_cv(small_data, tmp_path / "cv.json")
    dataset = load_dataset(small_data)
    held = result["held_out_per_fold"]
    assert sorted(b for fold in held for b in fold) == sorted(dataset.frame["batch"].unique())
    folds = result["runs"]["tfidf"]["seeds"]["0"]
    assert sorted(folds) == ["0", "1"]
    assert sum(f["test_rows"] for f in folds.values()) == len(dataset)
    per_batch: dict[str, float] = {}
    for k, fold in folds.items():
        assert fold["train_rows"] + fold["test_rows"] == len(dataset)
        assert fold["held_out_batches"] == held[int(k)]
        per_batch.update(fold["emotion_accuracy_per_batch"])
        # the stored confusion matrices give the fold's metrics (the report pools them)
        for head, values in fold["metrics"].items():
            assert metrics(fold["confusion"][head]) == pytest.approx(values)
    assert sorted(per_batch) == sorted(dataset.frame["batch"].unique())
    # the summary reads the file the script writes
    headline = summary.by_name("quality_cv").headline(result)
    assert headline.startswith(f"each of {len(per_batch)} videos held out once")


def test_row_protocol_spreads_videos_over_folds(small_data: Path, tmp_path: Path) -> None:
    result = run_cv(small_data, tmp_path / "rows.json", "--protocol", "row", "--only-folds", "0")
    (fold,) = result["runs"]["tfidf"]["seeds"]["0"].values()
    # a random half of the rows: every batch sits in training and in the held-out fold
    assert len(fold["held_out_batches"]) == 4
    assert 0.3 < fold["test_rows"] / (fold["train_rows"] + fold["test_rows"]) < 0.7


def test_the_distilled_recipe_learns_from_the_teacher_of_its_own_fold(
    small_data: Path, tmp_path: Path
) -> None:
    """``--recipes distilled`` takes the soft labels of the ``--teacher-run``'s bundle of the
    same seed and fold (a tiny minilm stands in for the base-size teacher)."""
    shipped = ROOT / "data" / "goemotions"
    goemotions = tmp_path / "goemotions"
    goemotions.mkdir()
    shutil.copy(shipped / "labels.txt", goemotions / "labels.txt")
    lines = (shipped / "test.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
    (goemotions / "test.tsv").write_text("".join(lines[:40]), encoding="utf-8")
    models, out = tmp_path / "models", tmp_path / "cv.json"

    def cv(*runs: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.quality_cv",
                *runs,
                "--teacher-run",
                "minilm",
                "--max-steps",
                "2",
                "--folds",
                "2",
                "--only-folds",
                "0",
                "--data",
                str(small_data),
                "--goemotions",
                str(goemotions),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--models-dir",
                str(models),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )

    alone = cv("--recipes", "distilled")
    assert alone.returncode != 0 and "no teacher bundle at" in alone.stderr
    done = cv("--families", "minilm", "--recipes", "distilled")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    student = result["runs"]["distilled"]
    assert student["teacher_run"] == "minilm"
    assert student["params"]["distill_weight"] == 0.5
    assert "0" in student["seeds"]["0"] and "goemotions_test" in student["seeds"]["0"]["0"]
    teacher_bundle = models / "minilm" / "seed0" / "fold0"
    state = json.loads((models / "distilled" / "seed0" / "fold0" / "minilm_state.json").read_text())
    assert state["distillation"]["teacher"] == str(teacher_bundle)
    assert state["distillation"]["rows"] == student["seeds"]["0"]["0"]["train_rows"]
    assert list((tmp_path / "cache" / "teacher-outputs").glob("*.npz"))
