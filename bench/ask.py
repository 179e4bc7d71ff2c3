"""``/ask`` answer accuracy and latency.

Accuracy: the 44 questions of ``bench/data/ask_questions.json`` (written for this bench about
articles of ``../shared/data/clusters/dev.jsonl``; each names its article and the position of
the answering sentence(s) in ``bot.pipeline.evidence.article_sentences``, never the text)
asked of a store holding those 200 articles. A question counts as answered right when one of
the returned quotes is an answering sentence.

Latency: the same questions asked of the generated store of ``--size`` articles
(``bench/_support.article_database``, shared with ``bench/search.py``; the 1M store takes
minutes to build the first time), through ``AskService`` as ``/ask`` calls it.

    python3 dev.py bench ask [--size 1000000] [--data PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import article_database, machine_line, percentile, print_table

DEFAULT_DATA = Path("/work/shared/data/clusters/dev.jsonl")
QUESTIONS = Path(__file__).resolve().parent / "data" / "ask_questions.json"
TARGET_P95_MS = 300


def accuracy(data: Path) -> tuple[list[tuple[object, ...]], int, int, int]:
    """Ask every question of a store holding the dev articles: per-question rows, right
    answers, answered questions, and the question count."""
    from bot.core.models import NewArticle
    from bot.core.ports import FeedState
    from bot.pipeline.evidence import article_sentences
    from bot.services.ask import AskService
    from bot.storage.sql import SqlStore

    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(f"sqlite:///{folder}/dev.db")
        feed = store.add_feed("https://dev.example/feed", "dev")
        now = datetime.now(UTC)
        rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
        articles = [
            NewArticle(
                id=row["id"],
                url=f"https://dev.example/{row['id']}",
                title=row["title"],
                source_name=row["cluster"][:20],
                feed_id=feed.id,
                published_at=datetime.fromisoformat(row["date"]).replace(tzinfo=UTC),
                first_seen_at=now,
                text=row["text"],
                story_id=row["cluster"],
            )
            for row in rows
        ]
        store.store_articles(feed.id, articles, FeedState(None, None, None), now)
        texts = {row["id"]: row["text"] for row in rows}
        service = AskService(store, lambda: now)
        table, right, answered = [], 0, 0
        for item in questions:
            answer = service.answer(item["question"], None, None)
            sentences = article_sentences(texts[item["article"]])
            gold = {sentences[position] for position in item["positions"]}
            hit = any(q.article_id == item["article"] and q.text in gold for q in answer.quotes)
            right += hit
            answered += bool(answer.quotes)
            table.append((item["question"][:60], len(answer.quotes), "yes" if hit else "no"))
        store.close()
    return table, right, answered, len(questions)


def latency(size: int) -> tuple[list[float], float]:
    """Milliseconds per question (each asked twice) on the generated store of ``size``."""
    from bot.services.ask import AskService
    from bot.storage.sql import SqlStore

    database = article_database(size)
    store = SqlStore.open(database.url)
    service = AskService(store, lambda: database.now)
    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    timings = []
    for _ in range(2):
        for item in questions:
            started = time.perf_counter()
            asyncio.run(service.ask(item["question"]))
            timings.append((time.perf_counter() - started) * 1000)
    store.close()
    return timings, database.path.stat().st_size / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--size", type=int, default=100_000, help="articles for the latency run")
    parser.add_argument("--show", action="store_true", help="print every question's outcome")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"no data at {args.data}")
    print(machine_line())
    table, right, answered, total = accuracy(args.data)
    if args.show:
        print_table("Questions", ["question", "quotes", "answering sentence returned"], table)
    print_table(
        f"/ask accuracy on dev.jsonl ({total} questions, 200 articles)",
        ["questions", "answered", "right", "accuracy"],
        [(total, answered, right, f"{right / total:.0%}")],
    )
    timings, mib = latency(args.size)
    print_table(
        f"/ask latency, {args.size:,} articles ({mib:,.0f} MiB store), ms",
        ["calls", "p50", "p95", "p99", "max", f"p95 < {TARGET_P95_MS} ms"],
        [
            (
                len(timings),
                f"{percentile(timings, 0.5):.1f}",
                f"{percentile(timings, 0.95):.1f}",
                f"{percentile(timings, 0.99):.1f}",
                f"{max(timings):.1f}",
                "met" if percentile(timings, 0.95) < TARGET_P95_MS else "NOT met",
            )
        ],
    )


if __name__ == "__main__":
    main()
