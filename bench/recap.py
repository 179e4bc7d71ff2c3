"""Recap quality on the hand-grouped events of ``../shared/data/clusters/dev.jsonl``.

For each event with at least 4 articles, the recap timeline of its articles
(``RecapService.timeline``, the code ``/recap`` runs on a matched story): its lines, how many
articles they cite, and how redundant they are (the highest ROUGE-2 F1 and the highest cosine
of content words between any two lines). The data's text is read at run time only.

    python3 dev.py bench recap [--data PATH] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import machine_line, print_table
from bot.core.models import Article
from bot.pipeline.evidence import SentenceReader, redundancy
from bot.services.recap import RecapService

DEFAULT_DATA = Path("/work/shared/data/clusters/dev.jsonl")
REDUNDANCY_LIMIT = 0.45
"""What the README states: no two lines of a recap share more than this (cosine of words)."""


def load_events(path: Path, minimum: int = 4) -> dict[str, list[Article]]:
    """The events with at least ``minimum`` articles, as stored articles would be."""
    events: dict[str, list[Article]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        published = datetime.fromisoformat(row["date"])
        article = Article(
            id=row["id"],
            url=f"https://dev.example/{row['id']}",
            title=row["title"],
            source_name=row["id"][:8],
            feed_id=None,
            published_at=published,
            first_seen_at=published,
            text=row["text"],
            language="en",
            text_is_teaser=False,
            backfill=False,
            story_id=row["cluster"],
        )
        events.setdefault(row["cluster"], []).append(article)
    return {name: items for name, items in events.items() if len(items) >= minimum}


def rouge2(first: list[str], second: list[str]) -> float:
    """ROUGE-2 F1 between two token lists (bigram overlap)."""
    one = Counter(pairwise(first))
    two = Counter(pairwise(second))
    overlap = sum((one & two).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(two.values()), overlap / sum(one.values())
    return 2 * precision * recall / (precision + recall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", action="store_true", help="print every recap's lines")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"no data at {args.data}")
    reader = SentenceReader()
    service = RecapService(store=None, clock=datetime.now, reader=reader)  # type: ignore[arg-type]
    rows = []
    worst_cosine = worst_rouge = 0.0
    for name, articles in sorted(load_events(args.data).items()):
        story = service.timeline(name, articles)
        terms = [reader.terms(line.text) for line in story.lines]
        tokens = [[w.casefold() for w in line.text.split()] for line in story.lines]
        cosine = redundancy(terms)
        rouge = max(
            (rouge2(a, b) for i, a in enumerate(tokens) for b in tokens[i + 1 :]), default=0.0
        )
        worst_cosine, worst_rouge = max(worst_cosine, cosine), max(worst_rouge, rouge)
        cited = len({line.article_id for line in story.lines})
        rows.append(
            (name[:40], len(articles), len(story.lines), cited, f"{rouge:.2f}", f"{cosine:.2f}")
        )
        if args.show:
            print(f"\n{name}")
            for line in story.lines:
                print(f"  {line.published_at:%Y-%m-%d}  {line.text[:160]}")
    print(machine_line())
    print_table(
        f"Recap of each dev.jsonl event with >= 4 articles ({len(rows)} events)",
        ["event", "articles", "lines", "articles cited", "max ROUGE-2", "max cosine"],
        rows,
    )
    held = "holds" if worst_cosine <= REDUNDANCY_LIMIT else "does NOT hold"
    print(
        f"\nworst pair over all recaps: ROUGE-2 {worst_rouge:.2f}, cosine {worst_cosine:.2f} "
        f"(limit {REDUNDANCY_LIMIT}: {held})"
    )


if __name__ == "__main__":
    main()
