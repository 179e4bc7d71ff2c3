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
    queries: list[Query],
    matcher: QueryMatcher,
    frequency: Callable[[str], float],
    articles: list[MatchDocument],
    brute_force_articles: int,
) -> dict[str, str]:
    """Build an index, match every article; CPU time, so other load on the machine counts
    less."""
    gc.collect()
    before = rss_mib()
    started = time.process_time()
    index = SubscriptionIndex(matcher, term_frequency=frequency)
    for subscription_id, query in enumerate(queries):
        index.add(subscription_id, query)
    build = time.process_time() - started
    index_mib = rss_mib() - before

    started = time.process_time()
    all_terms: list[DocumentTerms] = [matcher.document_terms(article) for article in articles]
    terms_seconds = time.process_time() - started

    started = time.process_time()
    for terms in all_terms:
        index.match(terms)
    match_seconds = time.process_time() - started

    stats = [index.match_stats(terms) for terms in all_terms]
    count = len(articles)

    predicates = [matcher.compile(query) for query in queries]
    started = time.process_time()
    for terms in all_terms[:brute_force_articles]:
        expected = {i for i, predicate in enumerate(predicates) if predicate(terms)}
        if expected != index.match(terms):
            raise SystemExit("index and brute force disagree")
    brute = (time.process_time() - started) / max(brute_force_articles, 1)
    del predicates

    def mean(values: list[int]) -> str:
        return f"{sum(values) / count:,.1f}"

    return {
        "subscriptions (distinct queries)": f"{len(index):,} ({len(set(queries)):,})",
        "index build (parse excluded)": f"{build:.2f} s",
        "index memory (RSS growth)": f"{index_mib:.0f} MiB",
        "articles (~300 words)": f"{count:,}",
        "document_terms per article": f"{terms_seconds / count * 1e6:.0f} µs",
        "match per article": f"{match_seconds / count * 1e6:.0f} µs",
        "articles/s, match only": f"{count / match_seconds:,.0f}",
        "articles/s, document_terms + match": f"{count / (terms_seconds + match_seconds):,.0f}",
        "subscriptions matched without verifying": mean([s.sure for s in stats]),
        "candidate queries verified per article": mean([s.verified for s in stats]),
        "subscriptions matched per article": mean([s.matched_subscriptions for s in stats]),
        f"brute force per article ({brute_force_articles}, results equal)": f"{brute * 1e3:.1f} ms",
        "peak RSS (process so far)": f"{peak_rss_mib():.0f} MiB",
    }


def print_table(columns: dict[str, dict[str, str]]) -> None:
    rows = list(next(iter(columns.values())))
    width = max(len(row) for row in rows)
    widths = [
        max(len(label), *(len(v) for v in values.values())) for label, values in columns.items()
    ]
    print(
        "| "
        + " " * width
        + " | "
        + " | ".join(label.ljust(w) for label, w in zip(columns, widths, strict=True))
        + " |"
    )
    print("|" + "-" * (width + 2) + "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [values[row].rjust(w) for values, w in zip(columns.values(), widths, strict=True)]
        print(f"| {row.ljust(width)} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--brute-force", type=int, default=10)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--pick-start",
        type=int,
        default=COMMON_RANKS,
        help="subscriptions use words from this frequency rank on (default %(default)s)",
    )
    parser.add_argument(
        "--pick-exponent",
        type=float,
        default=0.9,
        help="Zipf exponent of subscription words (default %(default)s; lower: rarer words)",
    )
    args = parser.parse_args()

    rng = random.Random(args.seed)
    matcher = QueryMatcher()
    words = make_vocabulary(rng, matcher)
    zipf = Zipf(len(words), rng)
    topics = Zipf(len(words), rng, exponent=0.9, start=COMMON_RANKS)
    picks = Zipf(len(words), rng, exponent=args.pick_exponent, start=args.pick_start)
    sources = make_sources(rng)
    source_zipf = Zipf(len(sources), rng)

    texts = [make_subscription(rng, words, picks, sources) for _ in range(args.subscriptions)]
    started = time.process_time()
    queries = [parse_query(text) for text in texts]
    parse_seconds = time.process_time() - started

    def article() -> MatchDocument:
        return make_article(rng, words, zipf, topics, sources, source_zipf)

    articles = [article() for _ in range(args.articles)]
    warm_up = [matcher.document_terms(article()) for _ in range(2_000)]
    counts = Counter(key for terms in warm_up for key in terms.keys)
    floor = 0.5 / len(warm_up)

    def document_frequency(key: str) -> float:
        return counts.get(key, floor) / len(warm_up)

    print(
        f"machine: {cpu_name()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}, Python {platform.python_version()} "
        f"({platform.python_implementation()}); one core, CPU time"
    )
    print(
        f"vocabulary {len(words):,} words; subscription words from rank {args.pick_start}, "
        f"Zipf exponent {args.pick_exponent}; parse {len(queries):,} queries: "
        f"{parse_seconds:.2f} s ({parse_seconds / len(queries) * 1e6:.0f} µs each)"
    )
    print("sample queries: " + " | ".join(texts[:8]))
    print()
    columns = {
        "anchors by length (default)": run(
            queries, matcher, estimated_frequency, articles, args.brute_force
        ),
        "anchors by document frequency": run(
            queries, matcher, document_frequency, articles, args.brute_force
        ),
    }
    print_table(columns)


if __name__ == "__main__":
    main()
