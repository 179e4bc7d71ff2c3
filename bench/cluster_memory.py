"""Memory per open story of :class:`StoryClusterer`, and what eviction does under load.

    python bench/cluster_memory.py [--docs 20000] [--data ../shared/data/clusters/dev.jsonl]

Streams made-up documents through one clusterer, all inside one ``window`` (so every story keeps
its near-duplicate signatures and all its terms: the worst case), and prints the memory it holds,
measured with tracemalloc (allocations, not affected by other processes), per story held. Two
streams:

* **dev words**: each document ~2000 characters of dev words drawn at random, so the vocabulary,
  length and names are those of real news (almost all become stories of one article);
* **synthetic**: the ~65-word made-up events of ``bench/clustering.py``.

A breakdown by structure (stories with their centroids and signatures, inverted-index postings,
LSH buckets, document index, vocabulary and IDF counts) comes from a walk of the clusterer's
objects, each object counted once. A third row streams the dev-word documents over 20 days,
pruning as the bot does, so the stories held are those of the last 14 days, most of them past
their base window (signatures dropped, a lone story cut to ``lone_terms``). Last, the dev and
crowded dev sets are clustered with a cap far below the stories they need, to show what
``max_stories`` eviction costs under load.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.clustering import DATA_CANDIDATES, _crowded, _synthetic, load_gold, score
from bot.pipeline.cluster import ClusterDocument, StoryClusterer

VOCABULARY = ("_reader", "_vocabulary", "_query")
PER_STORY = (
    "_stories",
    "_posted",
    "_name_postings",
    "_topic_postings",
    "_buckets",
    "_story_of_doc",
)


def cut_ups(
    documents: list[ClusterDocument], count: int, span: timedelta, seed: int = 11
) -> list[ClusterDocument]:
    """``count`` documents of dev words drawn at random, in sentences of 8-24 words: the
    vocabulary, case and length of real news, but (almost) every document a story of its own."""
    rng = random.Random(seed)
    words = [word for doc in documents for word in doc.text[:2000].split()]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    step = span / count
    made: list[ClusterDocument] = []
    for i in range(count):
        sentences: list[str] = []
        length = 0
        while length < 2000:
            sentence = " ".join(rng.sample(words, rng.randint(8, 24))).rstrip(".") + "."
            sentences.append(sentence[0].upper() + sentence[1:])
            length += len(sentence) + 1
        title = " ".join(rng.sample(words, 9))
        made.append(
            ClusterDocument(f"cut{i}", title, " ".join(sentences), start + step * i, "cut.example")
        )
    return made


def _referents(obj: object) -> Iterator[object]:
    if isinstance(obj, dict):
        yield from obj.keys()
        yield from obj.values()
    elif isinstance(obj, (list, tuple, set, frozenset)):
        yield from obj
    elif hasattr(type(obj), "__slots__"):
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(obj, name):
                    yield getattr(obj, name)


def deep_size(root: object, seen: set[int]) -> int:
    """Bytes of ``root`` and everything it holds that is not in ``seen`` (updated)."""
    total = 0
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(_referents(obj))
    return total


def breakdown(clusterer: StoryClusterer) -> dict[str, int]:
    """Bytes held by each structure of ``clusterer``; shared objects count where first met."""
    seen: set[int] = set()
    sizes = {name: deep_size(getattr(clusterer, name), seen) for name in VOCABULARY}
    sizes.update({name: deep_size(getattr(clusterer, name), seen) for name in PER_STORY})
    return sizes


def measure(name: str, documents: list[ClusterDocument], prune_every: int = 0) -> None:
    """Print one row: memory held after streaming ``documents`` (pruning every so many)."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        clusterer = StoryClusterer()
        for n, doc in enumerate(documents, start=1):
            clusterer.add(doc)
            if prune_every and n % prune_every == 0:
                clusterer.prune(doc.published)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    stories = len(clusterer)
    sizes = breakdown(clusterer)
    per_story = sum(sizes[name] for name in PER_STORY)
    vocabulary = sum(sizes[name] for name in VOCABULARY)
    print(
        f"| {name} | {len(documents):,} | {stories:,} | {(held - base) / 1e6:.1f} "
        f"| {(held - base) / stories:,.0f} | {per_story / stories:,.0f} "
        f"| {vocabulary / 1e6:.1f} | "
        + " | ".join(f"{sizes[part] / stories:,.0f}" for part in PER_STORY)
        + " |"
    )


def _capped(documents: list[ClusterDocument], cap: int) -> dict[str, str]:
    clusterer = StoryClusterer(max_stories=cap)
    placed: dict[str, str] = {}
    for doc in documents:
        placed[doc.id] = clusterer.add(doc)
        clusterer.prune(doc.published)
    return placed


def eviction(documents: list[ClusterDocument], gold: dict[str, str]) -> None:
    """Dev and crowded-dev scores when ``max_stories`` is far below what the stream needs."""
    crowded = [_crowded(documents, gold, seed) for seed in range(5)]
    print(
        "\neviction under load: dev set (30 events) and crowded dev set (mean of 5 draws) with a "
        "cap on the stories held, pruned after every article\n"
    )
    print("| max_stories | dev pair F1 | dev B3 F1 | crowded pair F1 | crowded B3 F1 |")
    print("|---|---|---|---|---|")
    for cap in (5, 10, 20, 20_000):
        dev = score(gold, _capped(documents, cap))
        results = [score(gold, _capped(stream, cap)) for stream in crowded]
        print(
            f"| {cap:,} | {dev.pair_f1:.3f} | {dev.bcubed_f1:.3f} "
            f"| {statistics.mean(r.pair_f1 for r in results):.3f} "
            f"| {statistics.mean(r.bcubed_f1 for r in results):.3f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args(argv)
    data = args.data or next((p for p in DATA_CANDIDATES if p.exists()), None)
    span = timedelta(days=2)
    streams: list[tuple[str, list[ClusterDocument]]] = []
    if data is not None and data.exists():
        dev, gold = load_gold(data)
        streams.append(("dev words", cut_ups(dev, args.docs, span)))
    synthetic, _ = _synthetic(args.docs, span)
    streams.append(("synthetic", synthetic))
    print(
        "memory held by the clusterer after streaming the documents within one window "
        "(tracemalloc), and per story held by structure (object walk)\n"
    )
    print(
        "| stream | docs | stories | traced MB | traced B/story | per-story B/story "
        "| vocabulary MB | " + " | ".join(f"{part} B/story" for part in PER_STORY) + " |"
    )
    print("|---|---|---|---|---|---|---|" + "---|" * len(PER_STORY))
    for name, documents in streams:
        measure(f"{name}, all in one window", documents)
    if data is not None and data.exists():
        steady = cut_ups(dev, args.docs, timedelta(days=20), seed=12)
        measure("dev words over 20 days, prune every 100 (steady state)", steady, prune_every=100)
    if data is not None and data.exists():
        eviction(dev, gold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
