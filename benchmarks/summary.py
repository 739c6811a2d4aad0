"""The table of ``benchmarks/README.md``, read from the result files, so that it cannot drift.

One row per rerunnable script: what it measures, how to run it, the headline of its latest
result (``benchmarks/results/NAME.json``) and that result's date. A test checks that the
README holds exactly this table::

    python -m benchmarks.summary            # print the table
    python -m benchmarks.summary --write    # put it in benchmarks/README.md
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
BEGIN = "<!-- summary: begin (python -m benchmarks.summary --write) -->"
END = "<!-- summary: end -->"

Document = dict[str, Any]


@dataclass(frozen=True)
class Benchmark:
    """A rerunnable script (``benchmarks/NAME.py``) and how its latest result reads."""

    name: str
    measures: str
    command: str
    headline: Callable[[Document], str]

    @property
    def result(self) -> Path:
        return RESULTS / f"{self.name}.json"


def _batch_inference(doc: Document) -> str:
    families = doc["families"]
    parts = [
        f"{family} {r['end_to_end_rows_per_s']:,.0f} rows/s end to end "
        f"({r['end_to_end_share_of_model']:.2f} of the model alone)"
        for family, r in families.items()
    ]
    speech = doc.get("speech")
    if speech:
        parts.append(f"speech {speech['audio_seconds_per_second']:g}x real time")
    return "; ".join(parts)


def _batch_memory(doc: Document) -> str:
    runs = doc["runs"]
    complete = "every run complete" if all(r["complete"] for r in runs) else "INCOMPLETE runs"
    return (
        f"peak RSS x{doc['peak_ratio_largest_over_smallest']:.2f} for "
        f"x{doc['rows_ratio_largest_over_smallest']:g} the rows ({runs[0]['rows']:,} -> "
        f"{runs[-1]['rows']:,}: {runs[-1]['peak_rss_mib']:g} MiB); {complete}"
    )


def _cli_predict_start(doc: Document) -> str:
    parts = []
    for runtime, result in doc["runtimes"].items():
        median = result["median_s"]
        name = runtime if result["resolved"] == runtime else f"{runtime} ({result['resolved']})"
        parts.append(
            f"{name}: second call {median['warm']:.2f} s (cache off {median['off']:.2f} s, "
            f"first call {median['cold']:.2f} s)"
        )
    return "; ".join(parts)


def _probes(doc: Document) -> str:
    return (
        f"{doc['probes']} probes in {len(doc['classes'])} classes, {doc['failures']} failed "
        "(table in results/reliability.md)"
    )


def _drift(doc: Document) -> str:
    shifts = ", ".join(
        f"{name} {'flagged' if r['drift'] else 'NOT flagged'}" for name, r in doc["shift"].items()
    )
    fresh = doc["no_shift_fresh_rows"]
    return (
        f"{shifts}; false alarms on {fresh['flagged']} of {fresh['resamples']} draws of "
        f"{fresh['rows']} fresh rows ({doc['family']})"
    )


def _input_bounds(doc: Document) -> str:
    parts = []
    audio = doc.get("audio_on_server")
    if audio:
        growth = " / ".join(
            f"+{r['rss_growth_mib']:.0f}" for r in list(audio["requests"].values())[1:]
        )
        parts.append(f"4 h of audio refused: server RSS {growth} MiB (header / none)")
    runs = list(doc["predict_input_file"].values())
    peaks = " / ".join(f"{r['peak_rss_mib']:.0f}" for r in runs)
    parts.append(f"predict peak RSS {peaks} MiB (20k rows / 2 GiB line / 2 GiB CSV record)")
    return "; ".join(parts)


def _main_job(doc: Document) -> str:
    minutes, seconds = divmod(doc["seconds"], 60)
    text = f"make main {int(minutes)} min {seconds:.0f} s with set-up ({doc['best_family']})"
    gates = [s["key_numbers"] for s in doc["steps"] if s["notebook"] == "02-compare-baseline"]
    if gates:
        text += f"; gate: emotion macro-F1 {gates[-1]['delta.emotion.macro_f1']:+.3f}"
    return text


def _minilm_pass_cost(doc: Document) -> str:
    whole, cut = doc["batch32_sentences_per_second"].values()
    return (
        f"a pass costs {doc['fit']['pass_tokens']:.0f} padded tokens ({doc['runtime']}); "
        f"batch 32 cut where cheaper {cut / whole:.2f}x cut at 32 rows"
    )


def _minilm_speed(doc: Document) -> str:
    shipped = doc["shipped_runtime"]
    fast, plain = doc["runtimes"][shipped], doc["runtimes"]["torch-fp32"]
    p50, plain_p50 = fast["latency_ms_batch1"]["p50"], plain["latency_ms_batch1"]["p50"]
    text = (
        f"{shipped} (shipped here): {fast['speedup']['32']:.2f}x fp32 at batch 32, batch-1 p50 "
        f"{p50:.2f} ms (fp32 {plain_p50:.2f} ms)"
    )
    if "accuracy_delta_points" in fast:
        text += f", emotion accuracy {fast['accuracy_delta_points']['emotion']:+.2f} points"
    return text


def _quality(doc: Document) -> str:
    return "test split, emotion accuracy / macro-F1: " + ", ".join(
        f"{family} {r['test']['emotion']['accuracy']:.3f} / {r['test']['emotion']['macro_f1']:.3f}"
        for family, r in doc["families"].items()
    )


def _quality_cv(doc: Document) -> str:
    videos = len({b for fold in doc["held_out_per_fold"] for b in fold})
    if "runs" in doc:  # what the script writes: confusion matrices, pooled per seed
        from benchmarks.quality_cv_report import summarise

        pooled = {
            label: [s["pooled"]["emotion"] for s in run["seeds"].values()]
            for label, run in summarise(doc).items()
        }
    else:  # written before the script kept confusion matrices: one pooled figure a family
        pooled = {family: [r["pooled"]["emotion"]] for family, r in doc["families"].items()}
    cells = ", ".join(
        f"{label} {statistics.mean(m['accuracy'] for m in seeds):.3f} / "
        f"{statistics.mean(m['macro_f1'] for m in seeds):.3f}"
        for label, seeds in pooled.items()
    )
    return f"each of {videos} videos held out once, emotion accuracy / macro-F1: {cells}"


def _reliability(doc: Document) -> str:
    ceilings = [doc["ceiling"], *([doc["ceiling_after"]] if "ceiling_after" in doc else [])]
    many, soak = doc["wrk32"], doc["soak"]
    ratios = sorted(round(100 * many["rps"] / c["batch32_sentences_per_s"]) for c in ceilings)
    share = "-".join(str(r) for r in dict.fromkeys(ratios)) + "%"
    return (
        f"1 worker, 32 clients: {share} of the ceiling, p99 {many['p99_ms']:.1f} ms; soak "
        f"{soak['requests']:,} requests, {soak['failed']} failed, RSS {soak['start']['rss_mib']} "
        f"-> {soak['end']['rss_mib']} MiB ({doc['family']})"
    )


def _serving_microbatch(doc: Document) -> str:
    top = doc["at_max_clients"]
    return (
        f"{top['clients']} clients: micro-batched {top['throughput_ratio']:.2f}x the naive "
        f"requests/s, p99 {top['p99_ms']['micro-batched']:.0f} vs {top['p99_ms']['naive']:.0f} "
        f"ms ({doc['model']['family']})"
    )


def _serving_stack_cost(doc: Document) -> str:
    what = "model included" if doc["with_model"] else "model answer cached"
    cells = ", ".join(
        f"{name} {statistics.median(r['cpu_us_per_request'] for r in runs):.1f}"
        for name, runs in doc["runs"].items()
    )
    return f"CPU µs per request, median ({what}): {cells}"


def _serving_throughput(doc: Document) -> str:
    from benchmarks.serving_throughput import rows

    variant = list(doc["variants"])[-1]  # the code under test: the last variant of the run
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows(doc):
        if r["variant"] == variant:
            groups.setdefault((r["family"], r["workers"]), []).append(r)
    parts = []
    for (family, workers), group in groups.items():
        median = {k: statistics.median(r[k] for r in group) for k in ("ratio32", "p99_32", "gap_1")}
        parts.append(
            f"{family} {workers} worker{'s' if workers > 1 else ''}: {median['ratio32']:.0%} of "
            f"the ceiling, p99 {median['p99_32']:.1f} ms, 1 client {median['gap_1']:+.2f} ms"
        )
    return f"{variant}, median of the rounds: " + "; ".join(parts)


def _swap_memory(doc: Document) -> str:
    (first, reference), *_, (last, now) = doc["variants"].items()
    return (
        f"RSS growth after {doc['swaps']} swaps: {now['growth_mib']:+.1f} MiB ({last}); "
        f"{reference['growth_mib']:+.1f} MiB ({first})"
    )


def _tfidf_speed(doc: Document) -> str:
    cells = ", ".join(
        f"{name} {sizes['1']['median_us']:.0f} / {sizes['32']['median_us']:.0f}"
        for name, sizes in doc["summary_us_per_sentence"].items()
    )
    return f"CPU µs per sentence at batch 1 / 32, median: {cells}"


def _web_app(doc: Document) -> str:
    weight, median = doc["page_weight"], doc["median"]
    return (
        f"analyse page {weight['analyse']['files_bytes'] / 1024:.1f} KiB, production "
        f"{weight['production']['files_bytes'] / 1024:.1f} KiB; 817-row transcript rendered "
        f"{median['render_ms']:.0f} ms after the answer (server {median['server_ms']:.0f} ms), "
        f"longest task {median['longest_task_rendering_ms']:.0f} ms"
    )


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "batch_inference",
        "rows/s of `emotion-clf predict --input-file` end to end against the model alone; speech",
        "python -m benchmarks.batch_inference --minilm-bundle MINILM",
        _batch_inference,
    ),
    Benchmark(
        "batch_memory",
        "peak memory of batch inference as the input grows from 10k to 1M rows",
        "python -m benchmarks.batch_memory",
        _batch_memory,
    ),
    Benchmark(
        "cli_predict_start",
        "wall time of `emotion-clf predict TEXT` with a minilm baseline, cold and warm cache",
        "python -m benchmarks.cli_predict_start",
        _cli_predict_start,
    ),
    Benchmark(
        "drift",
        "the drift check on real shifts (unseen shows) and on no-shift draws",
        "python -m benchmarks.drift --resamples 100",
        _drift,
    ),
    Benchmark(
        "probes",
        "the security probe suite against real servers: each probe class, expected, observed",
        "python -m benchmarks.probes",
        _probes,
    ),
    Benchmark(
        "input_bounds",
        "memory of refusing 4 h of audio on the server, and of predict on a 2 GiB line",
        "python -m benchmarks.input_bounds",
        _input_bounds,
    ),
    Benchmark(
        "main_job",
        "`make main` on a fresh clone of HEAD, set-up included",
        "python -m benchmarks.main_job",
        _main_job,
    ),
    Benchmark(
        "minilm_pass_cost",
        "what one minilm forward pass costs in padded tokens (`batching.PASS_TOKENS`)",
        "python -m benchmarks.minilm_pass_cost --bundle MINILM",
        _minilm_pass_cost,
    ),
    Benchmark(
        "minilm_speed",
        "minilm sentences/s, latency, memory and accuracy per runtime against fp32",
        "python -m benchmarks.minilm_speed --bundle MINILM",
        _minilm_speed,
    ),
    Benchmark(
        "quality",
        "accuracy and macro-F1 per head on the test split (unseen videos), both decodings",
        "python -m benchmarks.quality --minilm-bundle MINILM",
        _quality,
    ),
    Benchmark(
        "quality_cv",
        "grouped cross-validation over all videos: every row scored by a model that never saw "
        "its video",
        "python -m benchmarks.quality_cv --families tfidf minilm --fresh",
        _quality_cv,
    ),
    Benchmark(
        "reliability",
        "issue 14 in one run: throughput, shadow, refresh, registry faults, fuzzing, soak "
        "(also writes `results/reliability.md`)",
        "python -m benchmarks.reliability --bundle MINILM",
        _reliability,
    ),
    Benchmark(
        "serving_microbatch",
        "micro-batched `POST /predict` against a route that calls the model per request",
        "python -m benchmarks.serving_microbatch --bundle MINILM",
        _serving_microbatch,
    ),
    Benchmark(
        "serving_stack_cost",
        "CPU per request of the serving stack in-process, without sockets or the model",
        "python -m benchmarks.serving_stack_cost --bundle TFIDF "
        "--variant before=WORKTREE/src --variant after=src",
        _serving_stack_cost,
    ),
    Benchmark(
        "serving_throughput",
        "the server under `wrk` against the model's in-process ceiling, 1 and 2 workers",
        "python -m benchmarks.serving_throughput --bundle tfidf=TFIDF --bundle minilm=MINILM "
        "--repeat 2",
        _serving_throughput,
    ),
    Benchmark(
        "swap_memory",
        "resident memory of a process that swaps models, as a server does on a promotion",
        "python -m benchmarks.swap_memory --bundle MINILM --swaps 12",
        _swap_memory,
    ),
    Benchmark(
        "tfidf_speed",
        "CPU per sentence of tfidf's `predict_batch` by batch size",
        "python -m benchmarks.tfidf_speed --bundle TFIDF "
        "--variant before=WORKTREE/src --variant after=src",
        _tfidf_speed,
    ),
    Benchmark(
        "web_app",
        "the web app in Chromium: bytes each page loads, time to render an 817-row transcript",
        "python -m benchmarks.web_app",
        _web_app,
    ),
)


def by_name(name: str) -> Benchmark:
    (found,) = [b for b in BENCHMARKS if b.name == name]
    return found


def row(benchmark: Benchmark) -> str:
    """The benchmark's line of the table (its headline is "no result yet" without a file)."""
    cells = [f"`{benchmark.name}`", benchmark.measures, f"`{benchmark.command}`"]
    if benchmark.result.is_file():
        doc = json.loads(benchmark.result.read_text(encoding="utf-8"))
        result = f"results/{benchmark.result.name}"  # relative to the README
        cells += [benchmark.headline(doc), doc["date"][:10], f"[{result}]({result})"]
    else:
        cells += ["no result yet", "–", "–"]
    return "| " + " | ".join(cells) + " |"


def table() -> str:
    lines = [
        "| script | measures | command | latest headline | date | result |",
        "|---|---|---|---|---|---|",
    ]
    return "\n".join([*lines, *(row(b) for b in BENCHMARKS)]) + "\n"


def readme_table(text: str) -> str:
    """The table between the README's markers."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"the README has no {BEGIN!r} ... {END!r} section")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].lstrip("\n")


def with_table(text: str) -> str:
    """``text`` with the table between its markers replaced by the current one."""
    head, rest = text.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{table()}{END}{rest.split(END, 1)[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite the table in {README}")
    args = parser.parse_args()
    if args.write:
        README.write_text(with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"written to {README}")
    else:
        print(table(), end="")


if __name__ == "__main__":
    main()
