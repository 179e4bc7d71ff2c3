"""Story clustering on the gold dev set: quality, speed, and sensitivity to the knobs.

    python bench/clustering.py [--data ../shared/data/clusters/dev.jsonl] [--scale 50000]
                               [--cost 10000] [--held-out-splits 3] [--no-sensitivity]

Streams the articles in date order through :class:`StoryClusterer` (no peeking ahead) and
prints pairwise and B-cubed precision/recall/F1 (defaults, ablations, the ceiling of the window
rule), throughput, the same on a *crowded* dev set (each event moved as a block into one 40-day
span, so that events overlap in time as the held-back ones do), a *held-out* check (the knobs
chosen on half of the events and scored on the other half, both ways, over several random
splits), sensitivity tables over the knobs (with the best pairwise F1 any clusterer could reach
under each window rule), a synthetic scale run of ``--scale`` made-up documents over three
days for the per-document cost when the window is full, and the cost per article where the bot
pays it (``--cost``): reading an article (:meth:`DocumentReader.read`, in the parser workers) and
placing it from that reading (:meth:`StoryClusterer.add`, in the bot's process), on the ~2 KB
made-up news items of ``bench/ingest.py``.

Every setting is also run on the made-up hard negatives of ``tests/fixtures/clusters``: a cell
marked ``✗`` merged two different fixture events or split one, so a setting that scores well
on the dev set but would merge two quakes or two stories from one city shows up as such.

Memory per open story, and what ``max_stories`` eviction costs under load:
``bench/cluster_memory.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import NewsText, machine_line, print_table
from bot.pipeline.cluster import ClusterDocument, DocumentReader, StoryClusterer
from bot.pipeline.stories import PRUNE_EVERY

REPO = Path(__file__).resolve().parents[1]
DATA_CANDIDATES = (
    REPO.parent / "shared" / "data" / "clusters" / "dev.jsonl",
    Path("/work/shared/data/clusters/dev.jsonl"),
)
FIXTURES = REPO / "tests" / "fixtures" / "clusters" / "articles.jsonl"
DAY = timedelta(days=1)
UNLIMITED = timedelta(days=36500)


@dataclass(frozen=True, slots=True)
class Scores:
    """Pairwise and B-cubed precision, recall and F1."""

    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float


def load_gold(path: Path) -> tuple[list[ClusterDocument], dict[str, str]]:
    """Documents in (date, id) order and the gold event of each document id."""
    documents: list[ClusterDocument] = []
    gold: dict[str, str] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            published = datetime.fromisoformat(row["date"])
            if published.tzinfo is None:
                published = published.replace(tzinfo=UTC)
            documents.append(
                ClusterDocument(row["id"], row["title"], row["text"], published, "dev")
            )
            gold[row["id"]] = row["cluster"]
    documents.sort(key=lambda doc: (doc.published, doc.id))
    return documents, gold


def load_fixtures(path: Path = FIXTURES) -> tuple[list[ClusterDocument], dict[str, str]]:
    """The made-up fixture articles in time order, and the event of each document id."""
    documents: list[ClusterDocument] = []
    events: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        published = datetime.fromisoformat(row["published"])
        documents.append(
            ClusterDocument(row["id"], row["title"], row["text"], published, row["source"])
        )
        events[row["id"]] = row["event"]
    documents.sort(key=lambda doc: (doc.published, doc.id))
    return documents, events


def fixture_errors(*, merges_only: bool = False, **options: object) -> int:
    """Fixture events merged with another or split (or only merged), streaming with ``options``."""
    documents, events = load_fixtures()
    placed = cluster_stream(documents, **options)
    stories_of: dict[str, set[str]] = {}
    events_in: dict[str, set[str]] = {}
    for doc_id, story in placed.items():
        stories_of.setdefault(events[doc_id], set()).add(story)
        events_in.setdefault(story, set()).add(events[doc_id])
    split = sum(len(stories) > 1 for stories in stories_of.values())
    merged = sum(len(found) > 1 for found in events_in.values())
    return merged if merges_only else split + merged


def cluster_stream(documents: Iterable[ClusterDocument], **options: object) -> dict[str, str]:
    """Story id of every document, adding them one by one in the given order."""
    clusterer = StoryClusterer(**options)  # type: ignore[arg-type]
    return {doc.id: clusterer.add(doc) for doc in documents}


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(gold: Mapping[str, str], predicted: Mapping[str, str]) -> Scores:
    """Pairwise scores over all pairs of items, B-cubed scores averaged over items.

    Items missing from ``predicted`` count as singletons.
    """
    labels = {item: predicted.get(item, f"singleton:{item}") for item in gold}
    gold_sizes = Counter(gold.values())
    predicted_sizes = Counter(labels.values())
    overlaps = Counter((gold[item], labels[item]) for item in gold)
    true_pairs = sum(_pairs(n) for n in overlaps.values())
    predicted_pairs = sum(_pairs(n) for n in predicted_sizes.values())
    gold_pairs = sum(_pairs(n) for n in gold_sizes.values())
    pair_p = true_pairs / predicted_pairs if predicted_pairs else 1.0
    pair_r = true_pairs / gold_pairs if gold_pairs else 1.0
    b3_p = sum(overlaps[(gold[i], labels[i])] / predicted_sizes[labels[i]] for i in gold)
    b3_r = sum(overlaps[(gold[i], labels[i])] / gold_sizes[gold[i]] for i in gold)
    b3_p, b3_r = b3_p / len(gold), b3_r / len(gold)
    return Scores(pair_p, pair_r, _f1(pair_p, pair_r), b3_p, b3_r, _f1(b3_p, b3_r))


def ceiling(
    documents: list[ClusterDocument],
    gold: Mapping[str, str],
    lone_window: timedelta,
    max_window: timedelta,
) -> Scores:
    """Scores of a clusterer with perfect similarity under StoryClusterer's window rule.

    Each article joins its gold event's current story if that story is still open
    (``lone_window`` after its last article for one article, ``max_window`` for two or more),
    else starts one.
    """
    open_story: dict[str, tuple[str, datetime, int]] = {}
    predicted: dict[str, str] = {}
    for doc in documents:
        event = gold[doc.id]
        story = open_story.get(event)
        if story is not None:
            story_id, last, size = story
            if doc.published - last > (lone_window if size < 2 else max_window):
                story = None
        if story is None:
            story_id, last, size = doc.id, doc.published, 0
        else:
            story_id, last, size = story
        open_story[event] = (story_id, max(last, doc.published), size + 1)
        predicted[doc.id] = story_id
    return score(gold, predicted)


def readme_baseline(
    documents: list[ClusterDocument], threshold: float = 0.10, window: timedelta = 3 * DAY
) -> dict[str, str]:
    """The dataset README's baseline as we read it: streaming TF-IDF of title + first 500
    characters, cosine with story centroids >= ``threshold``, stories open ``window`` after
    their last article. A scan of all stories; for comparison only."""
    token = re.compile(r"[a-z0-9]+")
    doc_freq: Counter[str] = Counter()
    stories: list[tuple[str, Counter[str], list[datetime]]] = []
    predicted: dict[str, str] = {}
    for count, doc in enumerate(documents, start=1):
        terms = Counter(token.findall(f"{doc.title} {doc.text[:500]}".lower()))
        doc_freq.update(terms.keys())
        vector = {t: n * math.log((count + 1) / (doc_freq[t] + 1)) for t, n in terms.items()}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        vector = {t: w / norm for t, w in vector.items()}
        best, best_cosine = None, threshold
        for story in stories:
            _, centroid, last = story
            if doc.published - last[0] > window:
                continue
            length = math.sqrt(sum(w * w for w in centroid.values())) or 1.0
            cosine = sum(w * centroid.get(t, 0.0) for t, w in vector.items()) / length
            if cosine >= best_cosine:
                best, best_cosine = story, cosine
        if best is None:
            best = (doc.id, Counter(), [doc.published])
            stories.append(best)
        best[1].update(vector)
        best[2][0] = max(best[2][0], doc.published)
        predicted[doc.id] = best[0]
    return predicted


def _row(name: str, result: Scores) -> str:
    return (
        f"| {name} | {result.pair_precision:.3f} | {result.pair_recall:.3f} | "
        f"{result.pair_f1:.3f} | {result.bcubed_precision:.3f} | {result.bcubed_recall:.3f} | "
        f"{result.bcubed_f1:.3f} |"
    )


ABLATIONS = (
    ("headline-coverage path off", {"title_threshold": 2.0}),
    ("names required from any document (min_names=0)", {"min_names": 0}),
    ("no gap penalty", {"gap_penalty": 0.0}),
    ("a lone article closes after 3 d (the previous rule)", {"lone_window": 3 * DAY}),
    ("a lone article stays open 7 d", {"lone_window": 7 * DAY}),
)


def _quality(documents: list[ClusterDocument], gold: Mapping[str, str]) -> None:
    print("\n| clustering | pair P | pair R | pair F1 | B3 P | B3 R | B3 F1 | fixture errors |")
    print("|---|---|---|---|---|---|---|---|")
    print(_row("every article alone", score(gold, {})) + " |")
    print(
        _row("README baseline as re-implemented here", score(gold, readme_baseline(documents)))
        + " |"
    )
    defaults = score(gold, cluster_stream(documents))
    print(_row("**StoryClusterer, defaults**", defaults) + f" {fixture_errors()} |")
    for name, options in ABLATIONS:
        result = score(gold, cluster_stream(documents, **options))
        print(_row(f"defaults, {name}", result) + f" {fixture_errors(**options)} |")
    best_possible = ceiling(documents, gold, 14 * DAY, 365 * DAY)
    print(_row("perfect similarity, default windows (ceiling)", best_possible) + " |")

    for attempt in range(3):
        clusterer = StoryClusterer()
        started, cpu = time.perf_counter(), time.process_time()
        for doc in documents:
            clusterer.add(doc)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        if attempt == 2:
            print(
                f"\nthroughput on the dev set (full texts, cold vocabulary, 3rd run): "
                f"{len(documents) / wall:,.0f} docs/s wall, {cpu / len(documents) * 1e3:.2f} ms "
                f"CPU per document"
            )


THRESHOLDS = (0.12, 0.14, 0.16, 0.18, 0.20)
WINDOW_RULES = (
    ("3 d fixed", 3 * DAY, 3 * DAY),
    ("7 d fixed", 7 * DAY, 7 * DAY),
    ("30 d fixed", 30 * DAY, 30 * DAY),
    ("3 d, developing 365 d (the previous rule)", 3 * DAY, 365 * DAY),
    ("7 d, developing 365 d", 7 * DAY, 365 * DAY),
    ("14 d, developing 30 d", 14 * DAY, 30 * DAY),
    ("14 d, developing 90 d", 14 * DAY, 90 * DAY),
    ("**14 d, developing 365 d** (default)", 14 * DAY, 365 * DAY),
    ("30 d, developing 365 d", 30 * DAY, 365 * DAY),
    ("14 d, developing 730 d", 14 * DAY, 730 * DAY),
    ("unlimited", UNLIMITED, UNLIMITED),
)
"""(name, lone_window, max_window); ``window``, the gap penalty's unit, stays 3 d (or less)."""


def _cell(documents: list[ClusterDocument], gold: Mapping[str, str], **options: object) -> str:
    """'pairwise F1 / B-cubed F1', marked ✗ when the fixture events are not kept as they are."""
    result = score(gold, cluster_stream(documents, **options))
    mark = " ✗" if fixture_errors(**options) else ""
    return f"{result.pair_f1:.3f} / {result.bcubed_f1:.3f}{mark}"


def _table(
    documents: list[ClusterDocument],
    gold: Mapping[str, str],
    title: str,
    rows: tuple[tuple[str, dict[str, object]], ...],
    columns: tuple[tuple[str, dict[str, object]], ...],
) -> None:
    print(f"\n{title}\n")
    print("| | " + " | ".join(name for name, _ in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for row_name, row_options in rows:
        cells = [_cell(documents, gold, **row_options, **options) for _, options in columns]
        print(f"| {row_name} | " + " | ".join(cells) + " |")


def _sensitivity(documents: list[ClusterDocument], gold: Mapping[str, str]) -> None:
    thresholds = tuple((f"t={t:.2f}", {"threshold": t}) for t in THRESHOLDS)
    print("\nsensitivity: pairwise F1 / B-cubed F1 by window rule (rows) and threshold (columns);")
    print("'ceiling' = pairwise F1 of perfect similarity under the same window rule;")
    print("✗ = a fixture event merged with another or split\n")
    print(
        "| window (one article, developing) | ceiling | "
        + " | ".join(n for n, _ in thresholds)
        + " |"
    )
    print("|---|---|" + "---|" * len(thresholds))
    for name, lone_window, max_window in WINDOW_RULES:
        windows = {
            "window": min(3 * DAY, lone_window),
            "lone_window": lone_window,
            "max_window": max_window,
        }
        cells = [_cell(documents, gold, **windows, **options) for _, options in thresholds]
        best_possible = ceiling(documents, gold, lone_window, max_window).pair_f1
        print(f"| {name} | {best_possible:.2f} | " + " | ".join(cells) + " |")

    _table(
        documents,
        gold,
        "sensitivity: gap penalty (rows) and threshold (columns), default windows",
        tuple((f"gap penalty {g:.2f}", {"gap_penalty": g}) for g in (0.0, 0.01, 0.02, 0.03, 0.04)),
        thresholds,
    )
    _table(
        documents,
        gold,
        "sensitivity: headline-coverage threshold (rows) and the names cosine it needs (columns)",
        tuple(
            (f"title threshold {t:.2f}", {"title_threshold": t})
            for t in (0.4, 0.45, 0.5, 0.55, 0.6)
        ),
        tuple((f"floor {f:.2f}", {"title_names_floor": f}) for f in (0.0, 0.1, 0.2, 0.3)),
    )
    _table(
        documents,
        gold,
        "sensitivity: fewest names for the names cosine to count (rows) and threshold (columns)",
        tuple((f"min names {n}", {"min_names": n}) for n in (0, 1, 3, 5, 8)),
        thresholds[1:-1],
    )
    _table(
        documents,
        gold,
        "sensitivity: centroid size (rows) and lead length (columns)",
        tuple((f"{n} centroid terms", {"centroid_terms": n}) for n in (32, 48, 96)),
        tuple((f"lead {n} chars", {"lead_chars": n}) for n in (1000, 2000, 4000)),
    )


HELD_OUT_GRID = tuple(
    {"threshold": t, "lone_window": lone * DAY, "gap_penalty": g}
    for lone in (3, 7, 14, 21)
    for g in (0.01, 0.02, 0.03)
    for t in (0.12, 0.14, 0.16, 0.18, 0.20)
)
"""The knobs the held-out check chooses: threshold, how long a lone article stays open, and how
fast the bar rises with the gap."""


def _subset(
    documents: list[ClusterDocument], gold: Mapping[str, str], events: set[str]
) -> tuple[list[ClusterDocument], dict[str, str]]:
    kept = [doc for doc in documents if gold[doc.id] in events]
    return kept, {doc.id: gold[doc.id] for doc in kept}


def _both_f1(result: Scores) -> float:
    return (result.pair_f1 + result.bcubed_f1) / 2


def _describe(options: Mapping[str, object]) -> str:
    lone = options["lone_window"]
    assert isinstance(lone, timedelta)
    return f"t={options['threshold']:.2f}, lone {lone.days} d, gap {options['gap_penalty']:.2f}"


def _held_out(documents: list[ClusterDocument], gold: Mapping[str, str], splits: int) -> None:
    """Choose the knobs on half of the events, score on the other half, both ways."""
    safe = [o for o in HELD_OUT_GRID if not fixture_errors(merges_only=True, **o)]
    events = sorted(set(gold.values()))
    print(
        f"\nheld-out check: the events split in two halves at random ({splits} splits); on each "
        f"half the setting with the best mean of pairwise and B-cubed F1 is chosen among the "
        f"{len(safe)} of {len(HELD_OUT_GRID)} grid settings that merge no two fixture events, "
        "then "
        "scored on the other half (each half streamed alone)\n"
    )
    print(
        "| split | chosen on | chosen setting | F1 there (pair / B3) | held-out F1, chosen "
        "| held-out F1, defaults |"
    )
    print("|---|---|---|---|---|---|")
    chosen_scores: list[Scores] = []
    default_scores: list[Scores] = []
    for split in range(splits):
        shuffled = events[:]
        random.Random(1000 + split).shuffle(shuffled)
        halves = (set(shuffled[::2]), set(shuffled[1::2]))
        for name, (tune, test) in (("A", halves), ("B", halves[::-1])):
            tune_docs, tune_gold = _subset(documents, gold, tune)
            tuned = [
                (_both_f1(score(tune_gold, cluster_stream(tune_docs, **options))), options)
                for options in safe
            ]
            fit, best = max(tuned, key=lambda pair: pair[0])
            test_docs, test_gold = _subset(documents, gold, test)
            held = score(test_gold, cluster_stream(test_docs, **best))
            default = score(test_gold, cluster_stream(test_docs))
            chosen_scores.append(held)
            default_scores.append(default)
            print(
                f"| {split + 1} | {name} | {_describe(best)} | {fit:.3f} | "
                f"{held.pair_f1:.3f} / {held.bcubed_f1:.3f} | "
                f"{default.pair_f1:.3f} / {default.bcubed_f1:.3f} |"
            )
    for label, results in (("chosen", chosen_scores), ("defaults", default_scores)):
        print(
            f"mean held-out F1, {label}: pairwise "
            f"{statistics.mean(r.pair_f1 for r in results):.3f}, B-cubed "
            f"{statistics.mean(r.bcubed_f1 for r in results):.3f}"
        )


def _crowded(
    documents: list[ClusterDocument], gold: Mapping[str, str], seed: int, days: int = 40
) -> list[ClusterDocument]:
    """The dev set with every event moved, as a block, to a random day in ``days`` days."""
    rng = random.Random(seed)
    by_event: dict[str, list[ClusterDocument]] = {}
    for doc in documents:
        by_event.setdefault(gold[doc.id], []).append(doc)
    start = datetime(2018, 1, 1, tzinfo=UTC)
    moved: list[ClusterDocument] = []
    for event in sorted(by_event):
        members = by_event[event]
        median = sorted(doc.published for doc in members)[len(members) // 2]
        shift = start + timedelta(days=rng.uniform(0, days)) - median
        moved += [replace(doc, published=doc.published + shift) for doc in members]
    moved.sort(key=lambda doc: (doc.published, doc.id))
    return moved


def _crowded_table(documents: list[ClusterDocument], gold: Mapping[str, str]) -> None:
    seeds = range(5)
    streams = [_crowded(documents, gold, seed) for seed in seeds]
    print(
        "\ncrowded dev set: each event moved as a block to a random day of a 40-day span (as the "
        "held-back events are), so that\ndifferent events overlap in time; mean over 5 draws\n"
    )
    print("| clustering | pair P | pair R | pair F1 | B3 P | B3 R | B3 F1 |")
    print("|---|---|---|---|---|---|---|")
    for name, options in (("defaults", {}), *ABLATIONS):
        results = [score(gold, cluster_stream(stream, **options)) for stream in streams]
        mean = Scores(
            *(statistics.mean(column) for column in zip(*map(astuple, results), strict=True))
        )
        print(_row(name if not options else f"defaults, {name}", mean))


def _synthetic(
    count: int, span: timedelta, seed: int = 7
) -> tuple[list[ClusterDocument], dict[str, str]]:
    """``count`` made-up articles over ``span``: events of 1-20 articles sharing a few names and
    topic words, the rest Zipfian filler words; and the event of each document id."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}x" for i in range(60_000)]
    weights = [1.0 / (rank + 1) for rank in range(len(vocabulary))]
    filler = rng.choices(vocabulary, weights=weights, k=count * 60)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    drafts: list[tuple[str, str, str]] = []
    gold: dict[str, str] = {}
    event = 0
    while len(drafts) < count:
        event += 1
        names = [f"Ev{event}n{i}" for i in range(4)]  # capitalised mid-sentence: names
        topic = [f"ev{event}t{i}" for i in range(6)]
        size = min(rng.choice((1, 1, 1, 2, 3, 5, 8, 20)), count - len(drafts))
        for _ in range(size):
            offset = len(drafts) * 60
            words = rng.sample(names, 3) + rng.sample(topic, 4) + filler[offset : offset + 60]
            rng.shuffle(words)
            title = " ".join(rng.sample(names, 2) + rng.sample(topic, 2) + words[:3])
            gold[f"s{len(drafts)}"] = str(event)
            drafts.append((f"s{len(drafts)}", title, " ".join(words) + "."))
    rng.shuffle(drafts)
    step = span / count
    documents = [
        ClusterDocument(doc_id, title, text, start + step * i, f"feed{i % 40}.example")
        for i, (doc_id, title, text) in enumerate(drafts)
    ]
    return documents, gold


def _scale(count: int) -> None:
    span = 3 * DAY
    documents, gold = _synthetic(count, span)
    clusterer = StoryClusterer()
    predicted: dict[str, str] = {}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    latencies: list[float] = []
    started, cpu = time.perf_counter(), time.process_time()
    for i, doc in enumerate(documents):
        began = time.perf_counter()
        predicted[doc.id] = clusterer.add(doc)
        latencies.append(time.perf_counter() - began)
        if i % 1000 == 999:
            clusterer.prune(doc.published)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    quantiles = statistics.quantiles(latencies, n=100)
    result = score(gold, predicted)
    print(
        f"\nsynthetic scale run: {count:,} made-up documents (~65 words) over {span.days} days, "
        f"in time order, prune every 1,000"
    )
    print(
        "| docs | events | stories held at end | pair F1 | CPU ms/doc | wall docs/s | p50 ms "
        "| p99 ms | max ms | max RSS growth MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {count:,} | {len(set(gold.values())):,} | {len(clusterer):,} | {result.pair_f1:.3f} "
        f"| {cpu / count * 1e3:.3f} | {count / wall:,.0f} | {quantiles[49] * 1e3:.2f} "
        f"| {quantiles[98] * 1e3:.2f} | {max(latencies) * 1e3:.1f} | {grown:.0f} |"
    )


def _cost(count: int, runs: int = 3) -> None:
    """CPU ms per article of reading it and of placing it from that reading, on made-up ~2 KB
    news items (each its own event, 20 s apart), pruning as :class:`StoryAssigner` does."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    documents = [
        ClusterDocument(f"n{i}", title, text, start + timedelta(seconds=20 * i), "news.example")
        for i, (title, text) in enumerate(NewsText().documents(0, count))
    ]
    rows = []
    for run in range(1, runs + 1):
        reader = DocumentReader()
        cpu = time.process_time()
        readings = [reader.read(doc.title, doc.text) for doc in documents]
        read_ms = (time.process_time() - cpu) / count * 1e3
        clusterer = StoryClusterer()
        cpu = time.process_time()
        for n, (doc, reading) in enumerate(zip(documents, readings, strict=True), start=1):
            clusterer.add(doc, reading)
            if n % PRUNE_EVERY == 0:
                clusterer.prune(doc.published)
        place_ms = (time.process_time() - cpu) / count * 1e3
        rows.append((run, f"{count:,}", f"{read_ms:.3f}", f"{place_ms:.3f}", f"{len(clusterer):,}"))
    print_table(
        f"cost per article: {count:,} made-up ~2 KB news items (bench/ingest.py's), CPU ms",
        (
            "run",
            "articles",
            "read (parser worker)",
            "place from the reading (bot process)",
            "stories held",
        ),
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="gold JSONL (id,date,title,...)")
    parser.add_argument("--scale", type=int, default=50_000, help="synthetic docs; 0 to skip")
    parser.add_argument("--cost", type=int, default=10_000, help="news items; 0 to skip")
    parser.add_argument("--held-out-splits", type=int, default=3, help="0 to skip")
    parser.add_argument("--no-sensitivity", action="store_true", help="skip the knob tables")
    args = parser.parse_args(argv)
    data = args.data or next((p for p in DATA_CANDIDATES if p.exists()), None)
    print(machine_line())
    if data is None or not data.exists():
        print("no gold data found; pass --data")
    else:
        documents, gold = load_gold(data)
        print(
            f"data: {data} ({len(documents)} articles, {len(set(gold.values()))} events), "
            f"streamed in date order"
        )
        _quality(documents, gold)
        _crowded_table(documents, gold)
        if args.held_out_splits:
            _held_out(documents, gold, args.held_out_splits)
        if not args.no_sensitivity:
            _sensitivity(documents, gold)
    if args.cost:
        _cost(args.cost)
    if args.scale:
        _scale(args.scale)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
