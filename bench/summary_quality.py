"""Summary quality and speed on the shared eval sets (ROUGE F1 and articles per second).

    python bench/summary_quality.py [--data-dir ../shared/data/summ] [--limit N]

For cnndm_dev and bbc_dev it scores Lead-3 (raw text, first three sentences), every
algorithm of :class:`bot.pipeline.summarize.Summarizer` at three sentences (cleaning on,
our syntok tokenizer) and reports a paired-bootstrap 95% CI of ours ("news") minus Lead-3
for each metric. ROUGE is Google's rouge-score package with the Porter stemmer; Lsum joins
sentences with newlines. Speed is articles per CPU-second of this one process, the models
already loaded; the start-up of ``newsbot summarize`` (a new process summarising one short
article from stdin: imports, settings, models) is timed apart. Prints markdown tables and the
machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")  # one core: no BLAS worker threads

import numpy as np  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import ROOT, machine_line, print_table  # noqa: E402

from bot.pipeline.summarize import ALGORITHMS, Summarizer  # noqa: E402
from bot.pipeline.tokenize import split_sentences  # noqa: E402

METRICS = ("rouge1", "rouge2", "rougeLsum")
DATASETS = ("cnndm_dev", "bbc_dev")
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20240601
SUMMARY_SENTENCES = 3
STARTUP_RUNS = 5
STARTUP_ARTICLE = (
    "The city council voted on Monday to close the central library for two years. "
    "The building needs a new roof and new wiring, officials said. "
    "Readers will be served by a temporary branch in the old post office. "
    "The works are expected to cost 12 million pounds."
)


@dataclass(frozen=True, slots=True)
class SystemResult:
    """Per-article F1 scores (rows: articles, columns: METRICS) and the speed."""

    name: str
    scores: np.ndarray
    articles_per_second: float
    """Wall clock (the machine may be shared)."""
    articles_per_cpu_second: float
    """Per second of this process's CPU time: the one-core rate."""


def default_data_dir() -> Path:
    """``../shared/data/summ`` next to the repo, else /work/shared/data/summ."""
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "summ"
    return beside if beside.is_dir() else Path("/work/shared/data/summ")


def load_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    """The rows of a JSON-lines file (the first ``limit`` if given)."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def lead_raw(text: str, count: int = SUMMARY_SENTENCES) -> list[str]:
    """The first ``count`` sentences of the uncleaned text."""
    return split_sentences(text)[:count]


def score_system(
    name: str, rows: list[dict], summarize, scorer: rouge_scorer.RougeScorer
) -> SystemResult:
    """Run ``summarize(row) -> list[str]`` on every row (timed) and score it."""
    started, started_cpu = time.perf_counter(), time.process_time()
    outputs = [summarize(row) for row in rows]
    elapsed = time.perf_counter() - started
    elapsed_cpu = time.process_time() - started_cpu
    scores = np.zeros((len(rows), len(METRICS)))
    for number, (row, sentences) in enumerate(zip(rows, outputs, strict=True)):
        result = scorer.score(row["summary"], "\n".join(sentences))
        scores[number] = [result[metric].fmeasure * 100 for metric in METRICS]
    return SystemResult(
        name,
        scores,
        len(rows) / elapsed if elapsed > 0 else float("inf"),
        len(rows) / elapsed_cpu if elapsed_cpu > 0 else float("inf"),
    )


def paired_bootstrap(
    ours: np.ndarray, theirs: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float, float]:
    """Mean of ours - theirs and its 95% percentile interval."""
    differences = ours - theirs
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, len(differences), size=(resamples, len(differences)))
    means = differences[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(differences.mean()), float(low), float(high)


def run_dataset(name: str, rows: list[dict]) -> list[SystemResult]:
    """Every system on one dataset."""
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    results = [score_system("lead-3 (raw text)", rows, lambda row: lead_raw(row["text"]), scorer)]
    for algorithm in ALGORITHMS:
        summarizer = Summarizer(SUMMARY_SENTENCES, algorithm=algorithm)

        def summarize(row: dict, summarizer: Summarizer = summarizer) -> list[str]:
            return list(summarizer.summarize(row["text"], row.get("title") or "").sentences)

        label = {"news": "news (ours)", "lead": "lead-3 (cleaned)"}.get(algorithm, algorithm)
        results.append(score_system(label, rows, summarize, scorer))
    return results


def markdown_tables(name: str, results: list[SystemResult]) -> str:
    """The score table and the ours-vs-Lead-3 bootstrap table for one dataset."""
    lines = [
        f"### {name} (n={len(results[0].scores)})",
        "",
        "| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum | articles/s (wall) | articles/CPU-s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        means = result.scores.mean(axis=0)
        lines.append(
            f"| {result.name} | {means[0]:.2f} | {means[1]:.2f} | {means[2]:.2f} "
            f"| {result.articles_per_second:.0f} | {result.articles_per_cpu_second:.0f} |"
        )
    ours = next(r for r in results if r.name == "news (ours)")
    lines += [
        "",
        f"Paired bootstrap ({BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}), "
        "ours − Lead-3, 95% CI:",
        "",
        "| baseline | metric | Δ mean | 95% CI |",
        "|---|---|---:|---|",
    ]
    for baseline in (r for r in results if r.name.startswith("lead-3")):
        for column, metric in enumerate(METRICS):
            mean, low, high = paired_bootstrap(ours.scores[:, column], baseline.scores[:, column])
            lines.append(
                f"| {baseline.name} | {metric} | {mean:+.2f} | [{low:+.2f}, {high:+.2f}] |"
            )
    return "\n".join(lines)


def summarize_startup(runs: int = STARTUP_RUNS) -> tuple[float, float]:
    """Median wall and CPU seconds of ``newsbot summarize -`` on one short article."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "summarize", "-"],
            input=STARTUP_ARTICLE,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env=environment,
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every dataset found, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--limit", type=int, default=None, help="first N articles per set")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--startup-runs", type=int, default=STARTUP_RUNS)
    args = parser.parse_args(argv)
    print(f"{machine_line()} (one process used)")
    if args.startup_runs > 0:
        wall, cpu = summarize_startup(args.startup_runs)
        print_table(
            f"newsbot summarize start-up (one short article from stdin, median of "
            f"{args.startup_runs} runs; not in the articles/CPU-s below)",
            ("wall s", "CPU s"),
            [(f"{wall:.2f}", f"{cpu:.2f}")],
        )
    print()
    for name in args.datasets:
        path = args.data_dir / f"{name}.jsonl"
        if not path.is_file():
            print(f"(skipped {name}: {path} not found)")
            continue
        rows = load_jsonl(path, args.limit)
        print(markdown_tables(name, run_dataset(name, rows)))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
