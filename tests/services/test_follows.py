"""Following a developing story through the outbox: one DM card edited in place, channel
posts edited as "developing", rate-limited edits, a deleted message ends the follow; and
/recap, /ask and the one query language on the same articles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Services, open_services
from bot.config import load_settings
from bot.core.errors import DeliveryError, QueryError
from bot.services.delivery import DeliveryService, FloodCaps
from tests.conftest import write_config
from tests.support.clock import FakeClock
from tests.support.developing import STORY_REPORTS
from tests.support.feed_server import FeedServer
from tests.support.feeds import rss
from tests.support.sink import RecordingSink

GUILD, OTHER_GUILD, ALICE, POSTS = 1, 2, 11, 400
WIRES = ("north", "south", "east", "west")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def services(
    tmp_path: Path, feed_server: FeedServer, clock: FakeClock
) -> AsyncIterator[Services]:
    workspace = write_config(
        tmp_path, allow=[feed_server.allow_entry], extra="[follows]\nedit_minutes = 5"
    )
    async with open_services(load_settings(workspace.env), clock=clock) as opened:
        for wire in WIRES:
            feed_server.add(f"/{wire}.xml", rss(wire.title(), []))
            channel = POSTS if wire == "north" else None
            await opened.feeds.add_guild_feed(
                GUILD, feed_server.url(f"/{wire}.xml"), channel_id=channel
            )
        await opened.feeds.refresh()  # first fetch: nothing to announce
        yield opened


async def publish(
    services: Services, feed_server: FeedServer, clock: FakeClock, n: int, minutes: int = 11
) -> None:
    """Wire ``n`` publishes report ``n`` and, ``minutes`` later, every feed is read."""
    wire = WIRES[n]
    title, text = STORY_REPORTS[n]
    link = f"{feed_server.base_url}/{wire}/kostrava-{n}"
    feed_server.add(f"/{wire}.xml", rss(wire.title(), [(title, link, text)]))
    clock.advance(minutes=minutes)
    await services.feeds.refresh()


def sender(services: Services, sink: RecordingSink, clock: FakeClock) -> DeliveryService:
    return DeliveryService(
        services.store,
        services.summaries,
        sink,
        clock,
        FloodCaps(),
        alerts=services.alerts,
        follows=services.follows,
    )


def story_id(services: Services) -> str:
    [article] = services.store.latest_articles(1)
    return article.story_id


async def test_one_dm_card_edited_in_place_as_the_story_gains_sources(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    sink = RecordingSink()
    outbox = sender(services, sink, clock)
    await publish(services, feed_server, clock, 0)
    assert await outbox.deliver_due() == 1  # the feed's post in its channel
    [post] = sink.to("channel", POSTS)
    assert post.embeds and sink.edits == []

    story = story_id(services)
    headline, new = await services.follows.follow(GUILD, ALICE, story)
    assert new and "Varnel" in headline
    assert (await services.follows.follow(GUILD, ALICE, story))[1] is False
    await outbox.deliver_due()
    [card] = sink.to("user", ALICE)
    assert "updated" in card.embeds[0]["footer"]["text"]

    await publish(services, feed_server, clock, 1)
    assert story_id(services) == story, "the second report joins the story"
    await outbox.deliver_due()
    assert len(sink.to("user", ALICE)) == 1, "an edit, never a new DM"
    dm_edits = [e for e in sink.edits if e.recipient_type == "user"]
    [channel_edit] = [e for e in sink.edits if e.recipient_type == "channel"]
    assert [e.message_id for e in dm_edits] == [card.message_id]
    assert "**New:**" in dm_edits[0].embeds[0]["description"]
    assert channel_edit.message_id == post.message_id
    assert channel_edit.content.startswith("developing · 2 sources · updated ")

    await publish(services, feed_server, clock, 2)  # 11 minutes later: past the rate limit
    await outbox.deliver_due()
    assert len([e for e in sink.edits if e.recipient_type == "user"]) == 2
    assert len(sink.to("user", ALICE)) == 1
    latest = sink.edits[-1].embeds[0]["description"]
    assert "3 sources" in sink.edits[-1].embeds[0]["footer"]["text"] or "3 sources" in latest

    follows = await services.follows.following(ALICE)
    assert [f.story_id for f in follows] == [story]


async def test_edits_of_one_message_wait_for_its_rate_limit(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    sink = RecordingSink()
    outbox = sender(services, sink, clock)
    await publish(services, feed_server, clock, 0)
    await services.follows.follow(GUILD, ALICE, story_id(services))
    await outbox.deliver_due()
    await publish(services, feed_server, clock, 1)
    await outbox.deliver_due()
    first_edits = len(sink.edits)
    await publish(services, feed_server, clock, 2, minutes=1)  # a minute after that edit
    assert await outbox.deliver_due() == 0, "too soon after the last edit"
    assert len(sink.edits) == first_edits
    clock.advance(minutes=4)
    assert await outbox.deliver_due() >= 1
    assert len(sink.edits) > first_edits


async def test_a_deleted_card_ends_the_follow_and_is_not_reposted(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    sink = RecordingSink()
    outbox = sender(services, sink, clock)
    await publish(services, feed_server, clock, 0)
    await services.follows.follow(GUILD, ALICE, story_id(services))
    await outbox.deliver_due()
    [card] = sink.to("user", ALICE)
    sink.deleted.add(card.message_id)
    await publish(services, feed_server, clock, 1)
    await outbox.deliver_due()
    assert len(sink.to("user", ALICE)) == 1
    assert await services.follows.following(ALICE) == []


async def test_unfollow_and_quiet_stories_stop_updates(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    sink = RecordingSink()
    outbox = sender(services, sink, clock)
    await publish(services, feed_server, clock, 0)
    story = story_id(services)
    await services.follows.follow(GUILD, ALICE, story)
    await outbox.deliver_due()
    clock.advance(hours=49)
    assert await services.follows.end_quiet() == 2  # the card and the channel's post
    await outbox.deliver_due()
    [card] = [e for e in sink.edits if e.recipient_type == "user"]
    [post] = [e for e in sink.edits if e.recipient_type == "channel"]
    assert "gone quiet" in card.embeds[0]["footer"]["text"]
    assert post.content.startswith("this story has gone quiet · 1 source · updated ")
    [quiet] = await services.follows.following(ALICE)
    assert quiet.status == "quiet"
    await services.follows.unfollow(ALICE, story)
    assert await services.follows.following(ALICE) == []


async def test_search_reads_or_not_and_phrases(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    for n in range(4):
        await publish(services, feed_server, clock, n)
    titles = {h.article.title for h in await services.search.search('"pontoon crossing" OR ferry')}
    assert titles == {STORY_REPORTS[2][0], STORY_REPORTS[3][0]}
    excluded = await services.search.search("kostrava NOT prosecutors")
    assert STORY_REPORTS[2][0] not in {h.article.title for h in excluded} and excluded
    assert await services.search.search("kostrava source:nowhere.example") == []
    with pytest.raises(QueryError):
        await services.search.search("kostrava or helm")


async def test_recap_lines_are_dated_sourced_and_each_adds_something(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    for n in range(4):
        await publish(services, feed_server, clock, n)
    recap = await services.recap.recap("kostrava bridge", 7, guild_id=GUILD)
    [story] = recap.stories
    assert len(story.lines) >= 3
    texts = [line.text for line in story.lines]
    assert all(any(text in report[1] for report in STORY_REPORTS) for text in texts)
    dates = [line.published_at for line in story.lines]
    assert dates == sorted(dates)
    assert len(set(texts)) == len(texts)
    hidden = await services.recap.recap("kostrava bridge", 7, guild_id=OTHER_GUILD)
    assert hidden.stories == (), "another server's private feeds stay private"


async def test_ask_quotes_the_answering_sentence_or_says_it_cannot(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    for n in range(4):
        await publish(services, feed_server, clock, n)
    answer = await services.ask.ask("Who is the governor promising a ferry?", guild_id=GUILD)
    assert answer.quotes and "Ilse Marrow" in " ".join(q.text for q in answer.quotes)
    assert all(any(q.text in report[1] for report in STORY_REPORTS) for q in answer.quotes)
    engineers = await services.ask.ask("when will the pontoon carry cars", guild_id=GUILD)
    assert "ten days" in engineers.quotes[0].text
    nothing = await services.ask.ask("volcanic eruption in Iceland lava", guild_id=GUILD)
    assert nothing.quotes == ()
    private = await services.ask.ask("pontoon carry cars", guild_id=OTHER_GUILD)
    assert private.quotes == ()


async def test_a_card_that_cannot_be_sent_ends_the_follow(
    services: Services, feed_server: FeedServer, clock: FakeClock
) -> None:
    sink = RecordingSink()
    sink.failures[("user", ALICE)] = DeliveryError("DMs closed", permanent=True)
    outbox = sender(services, sink, clock)
    await publish(services, feed_server, clock, 0)
    await services.follows.follow(GUILD, ALICE, story_id(services))
    await outbox.deliver_due()
    assert sink.to("user", ALICE) == []
    assert await services.follows.following(ALICE) == []
