"""On the shared CNN/DM dev data (skipped when absent): ours is not worse than Lead-3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.pipeline.summarize import Summarizer

REPO = Path(__file__).resolve().parents[2]
ARTICLES = 60


def data_file() -> Path | None:
    for folder in (REPO.parent / "shared" / "data" / "summ", Path("/work/shared/data/summ")):
        if (folder / "cnndm_dev.jsonl").is_file():
            return folder / "cnndm_dev.jsonl"
    return None


def test_news_beats_lead3_on_rouge1_over_the_first_cnndm_dev_articles() -> None:
    path = data_file()
    if path is None:
        pytest.skip("shared summarisation data not found")
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(ARTICLES), handle, strict=False)]
    ours, lead = Summarizer(), Summarizer(algorithm="lead")
    totals = {"ours": 0.0, "lead": 0.0}
    for row in rows:
        for name, summarizer in (("ours", ours), ("lead", lead)):
            summary = summarizer.summarize(row["text"], row.get("title") or "")
            result = scorer.score(row["summary"], "\n".join(summary.sentences))
            totals[name] += result["rouge1"].fmeasure
    assert len(rows) == ARTICLES
    assert totals["ours"] >= totals["lead"]
