"""The value types that flow through newsbot, from parsed entry to briefing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "SNIPPET_END",
    "SNIPPET_START",
    "Article",
    "Briefing",
    "ClusterReading",
    "Delivery",
    "Feed",
    "FeedEntry",
    "FeedRefresh",
    "FeedState",
    "NewArticle",
    "NewDelivery",
    "ParsedFeed",
    "PollHints",
    "Schedule",
    "SearchHit",
    "Story",
    "Subscription",
    "SummarySentence",
]


@dataclass(frozen=True, slots=True)
class ClusterReading:
    """What story clustering reads from one article's title and text, before any state.

    Made by ``bot.pipeline.cluster.DocumentReader`` (in a parser worker, or in the clusterer
    itself); the clusterer adds what depends on the documents seen before (document
    frequencies, which words are names, IDF weights).
    """

    terms: tuple[str, ...]
    """The lead's terms, in order of first appearance (stopwords left out)."""
    counts: tuple[int, ...]
    """How often each of :attr:`terms` occurs in the lead."""
    lower_case: frozenset[str]
    """Terms written in lower case somewhere in the lead."""
    headline: tuple[str, ...]
    """The headline's terms in order, repeats kept."""
    capitalised: frozenset[str]
    """Terms capitalised inside a sentence (of the lead, and of a headline not In Title Case)."""
    signature: bytes | None
    """MinHash signature of the lead's word 3-shingles; None for a lead too short."""
    lead_chars: int
    """How much of the text the reader read: a clusterer set differently reads again."""
    permutations: int
    """MinHash permutations the reader used."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item as a feed (or an article file) describes it, before storage."""

    title: str
    link: str | None
    guid: str | None
    published: datetime | None
    text: str
    language: str | None = None
    match_tokens: tuple[str, ...] | None = None
    """The title's and text's word stems in order, as alert matching reads them, when the
    parser worker computed them (``bot.pipeline.query.QueryMatcher.tokens``)."""
    cluster_reading: ClusterReading | None = None
    """What story clustering reads from the title and text, when the parser worker read it."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a parser made of a feed document."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    language: str | None = None
    ttl_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    """A source the store polls: a feed URL or a local folder of article files."""

    id: int
    url: str
    name: str
    extract_full_text: bool = False
    auto_name: bool = False
    """True while the name is a placeholder to replace with the feed's own title."""
    guild_id: int | None = None
    channel_id: int | None = None
    interval_minutes: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    initialized: bool = False
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    next_poll_at: datetime | None = None
    failure_count: int = 0
    paused: bool = False
    paused_reason: str | None = None
    failing_since: datetime | None = None
    ttl_minutes: int | None = None
    created_by: int | None = None
    """The member who added it (None for config feeds and feeds older than this field)."""

    @property
    def is_local(self) -> bool:
        """True for a folder of article files rather than a URL."""
        return not self.url.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article ready to be stored: canonical URL, stable id, plain text."""

    id: str
    url: str
    title: str
    source_name: str
    feed_id: int
    published_at: datetime
    first_seen_at: datetime
    text: str
    language: str | None = None
    text_is_teaser: bool = False
    backfill: bool = False
    story_id: str | None = None
    """The story this article joins; None starts a story of its own."""
    match_tokens: tuple[str, ...] | None = None
    """As :attr:`FeedEntry.match_tokens`, for this title and text (None: not computed)."""
    cluster_reading: ClusterReading | None = None
    """As :attr:`FeedEntry.cluster_reading`, for this title and text (None: not read)."""


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article; ``summary`` is None until first summarised."""

    id: str
    url: str
    title: str
    source_name: str
    feed_id: int | None
    published_at: datetime
    first_seen_at: datetime
    text: str
    language: str | None
    text_is_teaser: bool
    backfill: bool
    story_id: str
    summary: tuple[str, ...] | None = None
    sentence_count: int | None = None


@dataclass(frozen=True, slots=True)
class SummarySentence:
    """One sentence of a story summary and the article it came from."""

    text: str
    article_id: str
    source_name: str


@dataclass(frozen=True, slots=True)
class Story:
    """One event as reported by one or more articles."""

    id: str
    title: str
    url: str
    published_at: datetime
    articles: tuple[Article, ...]
    summary: tuple[SummarySentence, ...] = ()
    sentence_count: int = 0

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct source names, lead article's first."""
        return tuple(dict.fromkeys(article.source_name for article in self.articles))


@dataclass(frozen=True, slots=True)
class Briefing:
    """The stories a reader asked for, ready to render."""

    stories: tuple[Story, ...]
    hours: int
    topic: str | None = None
    generated_at: datetime | None = None
    fallback: bool = False
    """True when the window held nothing and the newest stories were used instead."""


SNIPPET_START = "\x02"
SNIPPET_END = "\x03"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A search result: the article, its rank and a snippet whose matches are wrapped in
    ``SNIPPET_START``/``SNIPPET_END`` (renderers turn them into their own emphasis)."""

    article: Article
    score: float
    snippet: str


@dataclass(frozen=True, slots=True)
class PollHints:
    """What a server said about when to come back."""

    http_status: int | None = None
    retry_after: float | None = None
    """Seconds, from ``Retry-After``."""
    max_age: int | None = None
    """Seconds, from ``Cache-Control: max-age``."""
    ttl_minutes: int | None = None
    """From RSS ``<ttl>``."""


@dataclass(frozen=True, slots=True)
class FeedState:
    """HTTP caching state saved after a successful fetch."""

    etag: str | None
    last_modified: str | None
    body_hash: str | None
    title: str | None = None
    """The feed's own title; it names feeds that were added without a name."""


@dataclass(frozen=True, slots=True)
class FeedRefresh:
    """The outcome of refreshing one feed, as ``newsbot fetch`` reports it."""

    feed: Feed
    status: str
    """One of ``new``, ``seen``, ``not modified``, ``error``."""
    new_articles: int = 0
    seen_articles: int = 0
    error: str | None = None
    new_article_ids: tuple[str, ...] = field(default=())
    hints: PollHints = field(default_factory=PollHints)
    unrecorded: FeedState | None = None
    """A "not modified" outcome the refresh was asked not to record itself
    (``record_unchanged=False``): the caching state its caller records, in bulk."""
    error_kind: str | None = None
    """The error's class name (``FetchTimeoutError``, ``ParseError``...) for metrics."""
    fetch_seconds: float | None = None
    """Time the fetch took (None when nothing was fetched over HTTP)."""
    parse_seconds: float | None = None
    """Time parsing took (None when nothing was parsed)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A member's standing query: matching stories are delivered by DM or to a channel."""

    id: int
    guild_id: int
    user_id: int
    query: str
    delivery: str
    """``dm`` or ``here`` (the channel it was created in)."""
    channel_id: int | None
    created_at: datetime
    active: bool = True
    disabled_reason: str | None = None
    breaking_sources: int | None = None
    breaking_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A briefing posted to a channel at a local time on some days of the week."""

    id: int
    guild_id: int
    channel_id: int
    time_of_day: str
    """``HH:MM``, local to ``timezone``."""
    timezone: str
    days: tuple[int, ...]
    """ISO weekdays, 1 = Monday … 7 = Sunday."""
    topic: str | None
    created_by: int
    created_at: datetime
    last_run_at: datetime | None = None
    active: bool = True
    """False once Discord refused its channel for good; it then never runs."""
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A message to deliver exactly once; ``dedupe_key`` makes enqueueing idempotent."""

    dedupe_key: str
    kind: str
    """``alert``, ``post`` (a feed's story in its channel), ``briefing``, ``notice``,
    or ``digest``."""
    guild_id: int
    recipient_type: str
    """``channel`` or ``user`` (a direct message)."""
    recipient_id: int
    story_id: str | None = None
    subscription_id: int | None = None
    feed_id: int | None = None
    schedule_id: int | None = None
    payload: str | None = None
    """JSON for kinds whose content is fixed when enqueued (briefings, notices, digests)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """A stored outbox row waiting to be sent."""

    id: int
    kind: str
    guild_id: int
    recipient_type: str
    recipient_id: int
    story_id: str | None
    subscription_id: int | None
    feed_id: int | None
    payload: str | None
    attempts: int
    created_at: datetime
    schedule_id: int | None = None

    @property
    def nonce(self) -> str:
        """Stable across retries, so a resend after a crash is deduplicated by Discord."""
        return f"newsbot-{self.id}"
