"""``/ask``: an extractive answer from the archive. Search finds candidate articles, their
sentences are ranked against the question (its words weighted by rarity, its names, the
sentence's position and date), and one to three sentences are quoted verbatim. Nothing is
ever written in the bot's own words; when no sentence answers well enough, it says so."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.answers import Answer, Quote
from bot.core.errors import ValidationError
from bot.core.models import Article
from bot.core.ports import Store
from bot.core.query import Or, Query, Term
from bot.pipeline.evidence import (
    Evidence,
    SentenceReader,
    paragraphs,
    quotable_in,
    windows,
)
from bot.pipeline.tokenize import split_words
from bot.services.archive import ArchiveSearch
from bot.services.recap import MAX_DAYS, quote_of
from bot.services.validation import check_query

__all__ = ["AskService"]

CANDIDATE_ARTICLES = 20
PARAGRAPHS = 16
READ_CHARS = 8000
"""How much of each candidate's text is read: answers sit early in news articles."""
"""Paragraphs read sentence by sentence, the best by the question's words."""
MAX_QUOTES = 3
MIN_COVERAGE = 0.4
"""The share of the question's (rarity-weighted) words the best sentence must hold."""
KEEP_RATIO = 0.8
"""Further quotes must score at least this share of the best one."""
MAX_REPEAT = 0.6
"""A further quote sharing more (cosine of words) with a kept one repeats it."""
_MAX_QUESTION_WORDS = 12
_QUESTION_TEXT = (
    "what which who whom whose when where why how many much did does do is are was were "
    "has have had will would can could should happen happened"
)
_QUESTION_WORDS = frozenset(_QUESTION_TEXT.split())


@dataclass(frozen=True, slots=True)
class _Scored:
    score: float
    coverage: float
    evidence: Evidence
    quote: Quote


class AskService:
    """Answers questions from the archive (one service for every transport)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        *,
        archive: ArchiveSearch | None = None,
        reader: SentenceReader | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._archive = archive or ArchiveSearch(store)
        self._reader = reader or SentenceReader()

    async def ask(
        self, question: str, days: int | None = None, *, guild_id: int | None = None
    ) -> Answer:
        """Quotes answering ``question`` from the last ``days`` (all stored if None), from
        the articles this guild may see."""
        question = check_query(question)
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise ValidationError(f"days must be between 1 and {MAX_DAYS}, got {days}")
        return await asyncio.to_thread(self.answer, question, days, guild_id)

    def answer(self, question: str, days: int | None, guild_id: int | None) -> Answer:
        """:meth:`ask` without the checks (sync; benchmarks call it directly)."""
        words = self._question_words(question)
        if not words:
            raise ValidationError("ask about something: the question has no words to look for")
        query = Query(Or(tuple(Term(w) for w in words)) if len(words) > 1 else Term(words[0]))
        since = self._clock() - timedelta(days=days) if days else None
        hits = self._archive.hits(query, since=since, limit=CANDIDATE_ARTICLES, guild_id=guild_id)
        asked = self._reader.read(question)
        scored = self._rank(asked, [hit.article for hit in hits])
        return Answer(question=question, quotes=self._pick(scored), searched=len(hits))

    def _question_words(self, question: str) -> list[str]:
        kept: dict[str, str] = {}
        for word in split_words(question.replace('"', " ")):
            folded = word.casefold()
            if folded in _QUESTION_WORDS or not self._reader.terms(folded):
                continue
            kept.setdefault(folded, folded)
        return list(kept)[:_MAX_QUESTION_WORDS]

    def _rank(self, asked: Evidence, articles: list[Article]) -> list[_Scored]:
        if not asked.terms:
            return []

        needed = 2 if len(asked.terms) >= 3 else 1

        def holds_question(text: str) -> bool:
            """A passage of a long paragraph worth reading: it holds two of the question's
            words (one, for a question of one or two words)."""
            return len(self._reader.terms(text) & asked.terms) >= needed

        sentences = [
            (article, position, self._reader.read(sentence))
            for article, position, paragraph in self._best_paragraphs(asked, articles)
            for window in windows(paragraph, holds_question)
            for sentence in quotable_in(window)
        ]
        if not sentences:
            return []
        weight = _rarity(asked.terms, [evidence.terms for _, _, evidence in sentences])
        total = sum(weight.values()) or 1.0
        newest = max(article.published_at for article in articles)
        scored = []
        for article, position, evidence in sentences:
            matched = asked.terms & evidence.terms
            if not matched:
                continue
            coverage = sum(weight[term] for term in matched) / total
            names = len(asked.names & evidence.names) / len(asked.names) if asked.names else 0.0
            lead = 0.1 / (1 + position / 3)
            age_days = (newest - article.published_at).total_seconds() / 86400
            recency = 0.05 / (1 + age_days / 7)
            score = coverage + 0.2 * names + lead + recency
            quote = quote_of(article, evidence.text, position)
            scored.append(_Scored(score, coverage, evidence, quote))
        scored.sort(key=lambda s: (-s.score, s.quote.article_id, s.quote.position))
        return scored

    def _best_paragraphs(
        self, asked: Evidence, articles: list[Article]
    ) -> list[tuple[Article, int, str]]:
        """The paragraphs that hold the most of the question (by rarity-weighted words): only
        they are split into sentences, which costs far more than reading their words."""
        found = []
        for article in articles:
            for position, paragraph in paragraphs(article.text[:READ_CHARS]):
                terms = self._reader.terms(paragraph) & asked.terms
                if terms:
                    found.append((article, position, paragraph, terms))
        weight = _rarity(asked.terms, [terms for *_, terms in found])
        found.sort(key=lambda item: -sum(weight[term] for term in item[3]))
        return [(article, position, text) for article, position, text, _ in found[:PARAGRAPHS]]

    def _pick(self, scored: list[_Scored]) -> tuple[Quote, ...]:
        if not scored or scored[0].coverage < MIN_COVERAGE:
            return ()
        kept = [scored[0]]
        for candidate in scored[1:]:
            if len(kept) >= MAX_QUOTES or candidate.score < KEEP_RATIO * kept[0].score:
                break
            if candidate.coverage < MIN_COVERAGE:
                continue
            if all(_cosine(candidate.evidence, k.evidence) < MAX_REPEAT for k in kept):
                kept.append(candidate)
        return tuple(k.quote for k in kept)


def _rarity(asked: frozenset[str], texts: list[frozenset[str]]) -> dict[str, float]:
    """Each question word's weight: rarer among ``texts`` weighs more (an IDF)."""
    return {
        term: math.log(1 + len(texts) / (1 + sum(term in terms for terms in texts)))
        for term in asked
    }


def _cosine(first: Evidence, second: Evidence) -> float:
    if not first.terms or not second.terms:
        return 0.0
    shared = len(first.terms & second.terms)
    return shared / math.sqrt(len(first.terms) * len(second.terms))
