"""Topic-alert matching speed: 100,000 subscriptions against generated articles.

    python3 dev.py bench alerts_match [--subscriptions N] [--articles N] [--seed N]

Builds a Zipf-distributed vocabulary of ~20,000 made-up words, random subscriptions (1-4
terms, some phrases, OR, NOT and source:) and ~300-word articles, then times
:class:`~bot.pipeline.percolate.SubscriptionIndex` with two anchor choices: the built-in
length heuristic, and document frequencies counted from a separate warm-up sample. A few
articles are also matched by brute force (every subscription) to check the index is exact and
show what it saves. Prints one table per run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import itertools
import os
import platform
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.pipeline.percolate import SubscriptionIndex, estimated_frequency
from bot.pipeline.query import (
    DocumentTerms,
    MatchDocument,
    Query,
    QueryMatcher,
    parse_query,
)

VOCABULARY_SIZE = 20_000
ARTICLE_WORDS = 300
SOURCES = 300
COMMON_RANKS = 100
"""Subscriptions skip the most common words ("the", "said", ...)."""
ONSETS = ["", "b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m", "n",
          "p", "pr", "r", "s", "sh", "st", "t", "tr", "v", "w", "z"]  # fmt: skip
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
CODAS = ["", "", "n", "r", "s", "t", "l", "m", "nd", "rk", "st"]


class Zipf:
    """Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1) ** exponent."""

    def __init__(self, size: int, rng: random.Random, exponent: float = 1.07, start: int = 0):
        weights = [1 / (rank + 1) ** exponent for rank in range(start, size)]
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]
        self.start = start
        self.rng = rng

    def draw(self) -> int:
        return self.start + bisect.bisect(self.cumulative, self.rng.random() * self.total)

    def draws(self, count: int) -> list[int]:
        random_value, cumulative, total = self.rng.random, self.cumulative, self.total
        return [
            self.start + bisect.bisect(cumulative, random_value() * total) for _ in range(count)
        ]


def make_vocabulary(rng: random.Random, matcher: QueryMatcher) -> list[str]:
    """Made-up words with distinct stems; rank 0 is the most frequent."""
    words: list[str] = []
    stems: set[str] = set()
    while len(words) < VOCABULARY_SIZE:
        syllables = rng.choice([1, 2, 2, 2, 3, 3, 4]) if len(words) > 200 else rng.choice([1, 1, 2])
        word = "".join(
            rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)
        )
        stem = matcher.stem(word)
        if len(word) > 1 and stem not in stems and word not in ("and", "or", "not"):
            stems.add(stem)
            words.append(word)
    return words


def make_sources(rng: random.Random) -> list[tuple[str, str]]:
    sources = []
    for number in range(SOURCES):
        site = f"site{number}"
        tld = rng.choice(["com", "co.uk", "de", "org", "net"])
        host = rng.choice([f"{site}.{tld}", f"www.{site}.{tld}", f"feeds.{site}.{tld}"])
        sources.append((host, f"{site.title()} {rng.choice(['News', 'Times', 'Daily', 'Post'])}"))
    return sources


def make_article(
    rng: random.Random, words: list[str], zipf: Zipf, topics: Zipf, sources: list, source_zipf: Zipf
) -> MatchDocument:
    """~300 Zipf words plus a handful of repeated topic words, as news text tends to have."""
    body = [words[rank] for rank in zipf.draws(ARTICLE_WORDS - 15)]
    for rank in topics.draws(5):
        for _ in range(3):
            body.insert(rng.randrange(len(body) + 1), words[rank])
    title = [words[rank] for rank in topics.draws(3)] + [words[r] for r in zipf.draws(6)]
    rng.shuffle(title)
    host, name = sources[source_zipf.draw()]
    return MatchDocument(" ".join(title), " ".join(body), host, name)


def make_subscription(rng: random.Random, words: list[str], pick: Zipf, sources: list) -> str:
    """One query as a user might type it."""

    def word() -> str:
        return words[pick.draw()]

    kind = rng.random()
    if kind < 0.40:
        return word()
    if kind < 0.62:
        return f"{word()} {word()}"
    if kind < 0.70:
        return " ".join(word() for _ in range(rng.randint(3, 4)))
    if kind < 0.78:
        phrase = '"' + " ".join(word() for _ in range(rng.randint(2, 3))) + '"'
        return phrase if rng.random() < 0.6 else f"{phrase} {word()}"
    if kind < 0.88:
        alternatives = " OR ".join(word() for _ in range(rng.randint(2, 3)))
        return alternatives if rng.random() < 0.6 else f"({alternatives}) {word()}"
    if kind < 0.94:
        return f"{word()} {word()} -{word()}" if rng.random() < 0.5 else f"{word()} NOT {word()}"
    host, name = rng.choice(sources)
    site = host.removeprefix("www.").removeprefix("feeds.")
    if rng.random() < 0.2:
        return f"source:{site}"
    if rng.random() < 0.3:
        return f'source:"{name}" {word()}'
    return f"source:{site} {word()}"


def rss_mib() -> float:
    """Current resident set size."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(
    label: str,
    queries: list[Query],
    matcher: QueryMatcher,
    frequency: Callable[[str], float],
    articles: list[MatchDocument],
    brute_force_articles: int,
) -> list[tuple[str, str]]:
    gc.collect()
    before = rss_mib()
    started = time.perf_counter()
    index = SubscriptionIndex(matcher, term_frequency=frequency)
    for subscription_id, query in enumerate(queries):
        index.add(subscription_id, query)
    build = time.perf_counter() - started
    index_mib = rss_mib() - before

    started = time.perf_counter()
    all_terms: list[DocumentTerms] = [matcher.document_terms(article) for article in articles]
    terms_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for terms in all_terms:
        index.match(terms)
    match_seconds = time.perf_counter() - started

    stats = [index.match_stats(terms) for terms in all_terms]
    count = len(articles)
    verified = sum(s.verified for s in stats) / count
    sure = sum(s.sure for s in stats) / count
    matched = sum(s.matched_subscriptions for s in stats) / count

    predicates = [matcher.compile(query) for query in queries]
    started = time.perf_counter()
    for terms in all_terms[:brute_force_articles]:
        expected = {i for i, predicate in enumerate(predicates) if predicate(terms)}
        if expected != index.match(terms):
            raise SystemExit("index and brute force disagree")
    brute = (time.perf_counter() - started) / max(brute_force_articles, 1)
    del predicates

    return [
        ("anchors", label),
        ("subscriptions (distinct queries)", f"{len(index):,} ({len(set(queries)):,})"),
        ("index build (parse excluded)", f"{build:.2f} s"),
        ("index memory (RSS growth)", f"{index_mib:.0f} MiB"),
        ("articles", f"{count:,}"),
        ("document_terms per article", f"{terms_seconds / count * 1e6:.0f} µs"),
        ("match per article", f"{match_seconds / count * 1e6:.0f} µs"),
        ("articles/s, match only", f"{count / match_seconds:,.0f}"),
        ("articles/s, terms + match", f"{count / (terms_seconds + match_seconds):,.0f}"),
        ("mean sure hits per article", f"{sure:,.1f}"),
        ("mean candidates verified per article", f"{verified:,.1f}"),
        ("mean subscriptions matched per article", f"{matched:,.1f}"),
        (
            f"brute force per article ({brute_force_articles} checked, equal)",
            f"{brute * 1e3:.1f} ms",
        ),
    ]


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--brute-force", type=int, default=10)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    matcher = QueryMatcher()
    words = make_vocabulary(rng, matcher)
    zipf = Zipf(len(words), rng)
    topics = Zipf(len(words), rng, exponent=0.9, start=COMMON_RANKS)
    picks = Zipf(len(words), rng, exponent=0.9, start=COMMON_RANKS)
    sources = make_sources(rng)
    source_zipf = Zipf(len(sources), rng)

    texts = [make_subscription(rng, words, picks, sources) for _ in range(args.subscriptions)]
    started = time.perf_counter()
    queries = [parse_query(text) for text in texts]
    parse_seconds = time.perf_counter() - started

    def article() -> MatchDocument:
        return make_article(rng, words, zipf, topics, sources, source_zipf)

    articles = [article() for _ in range(args.articles)]
    warm_up = [matcher.document_terms(article()) for _ in range(2_000)]
    counts = Counter(key for terms in warm_up for key in terms.stems | terms.source_keys)
    floor = 0.5 / len(warm_up)

    def document_frequency(key: str) -> float:
        return counts.get(key, floor) / len(warm_up)

    print(
        f"machine: {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.python_implementation()}); one core used"
    )
    print(
        f"parse {len(queries):,} queries: {parse_seconds:.2f} s "
        f"({parse_seconds / len(queries) * 1e6:.0f} µs each); sample: " + "; ".join(texts[:6])
    )
    print()
    for label, frequency in (
        ("length heuristic (default)", estimated_frequency),
        ("document frequency (2,000 warm-up articles)", document_frequency),
    ):
        rows = run(label, queries, matcher, frequency, articles, args.brute_force)
        rows.append(("peak RSS (process so far)", f"{peak_rss_mib():.0f} MiB"))
        print_table(rows)


if __name__ == "__main__":
    main()
