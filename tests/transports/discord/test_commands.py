"""Every slash command through the real discord.py bot process and the Discord emulator."""

from __future__ import annotations

import re

import pytest

from tests.discord_emulator import UploadedFile
from tests.transports.discord.conftest import Harness

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

NO_PINGS = {"parse": []}


def text_of(message) -> str:
    return message.all_text()


async def test_commands_are_synced_with_descriptions(harness: Harness) -> None:
    commands = harness.emu.commands()
    assert {
        "brief",
        "latest",
        "search",
        "summarize",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "feeds",
        "schedule",
        "news",
    } <= set(commands)
    brief = commands["brief"]
    assert brief["description"].startswith("The top stories")
    assert all(option["description"] for option in brief["options"])
    hours = next(o for o in brief["options"] if o["name"] == "hours")
    assert (hours["min_value"], hours["max_value"]) == (1, 720)
    assert int(commands["feeds"]["default_member_permissions"]) == 1 << 5


async def test_brief_posts_one_embed_per_story_and_pings_nobody(harness: Harness) -> None:
    interaction = await harness.emu.invoke("brief", {}, user_id=harness.member_id)
    message = await interaction.wait_original()
    assert message.allowed_mentions == NO_PINGS
    titles = [embed.get("title", "") for embed in message.embeds]
    assert any("floating solar farm" in t for t in titles), titles
    prank = next((e for e in message.embeds if "Breaking" in e.get("title", "")), None)
    assert prank is not None, titles
    assert prank["title"].startswith("@\u200beveryone \\<@\u200b&123")  # reads as text
    rendered = text_of(message)
    assert "@everyone" not in rendered.replace("@\u200beveryone", "")
    assert "<@&123456789012345678>" not in rendered
    assert not re.search(r"(?<!\\)\[[^\]]*\]\(https://evil", rendered)  # no masked link
    assert prank["url"].endswith("/prank/ping-all")  # the javascript: link is never used
    assert all(e.get("url", "").startswith("http") for e in message.embeds if "url" in e)


async def test_brief_with_topic_and_pager(harness: Harness) -> None:
    interaction = await harness.emu.invoke(
        "brief", {"topic": "harbour bridge", "hours": 48}, user_id=harness.member_id
    )
    message = await interaction.wait_original()
    assert "harbour bridge" in message.content
    assert 1 <= len(message.embeds) <= 10


async def test_latest_and_search(harness: Harness) -> None:
    latest = await (await harness.emu.invoke("latest", {"count": 2})).wait_original()
    assert len(latest.embeds) == 2
    found = await (await harness.emu.invoke("search", {"query": "rail strike"})).wait_original()
    assert "Northern rail strike ends after pay deal" in text_of(found)
    assert "**strike**" in text_of(found) or "**Strike**" in text_of(found)
    none = await (await harness.emu.invoke("search", {"query": "zeppelin"})).wait_original()
    assert "zeppelin" in text_of(none).lower()


async def test_summarize_is_deferred_then_answered(harness: Harness) -> None:
    url = harness.feeds.url("/pages/harvest.html")
    interaction = await harness.emu.invoke(
        "summarize", {"url": url}, user_id=harness.other_member_id
    )
    first = await interaction.wait_response()
    assert first.type == 5  # deferred with "thinking"
    message = await interaction.wait_original()
    assert message.embeds[0]["title"] == "Vineyards report early harvest after hot summer"
    assert "3 of 6 sentences" in text_of(message)


async def test_summarize_refuses_internal_addresses(harness: Harness) -> None:
    interaction = await harness.emu.invoke(
        "summarize", {"url": "http://127.0.0.1:9/secret"}, user_id=harness.other_member_id
    )
    message = await interaction.wait_followup()
    assert "127.0.0.1" in message.content
    assert message.ephemeral


async def test_a_second_quick_summarize_gets_the_cooldown_sentence(harness: Harness) -> None:
    emu = harness.emu
    newcomer = emu.add_member(harness.guild_id, username="newcomer")
    for _ in range(2):  # the cooldown allows two per minute
        refused = await (
            await emu.invoke("summarize", {"url": "http://127.0.0.1:9/x"}, user_id=newcomer.user.id)
        ).wait_followup()
        assert "127.0.0.1" in refused.content
    third = await (
        await emu.invoke("summarize", {"url": "https://news.example/a"}, user_id=newcomer.user.id)
    ).wait_original()
    assert third.ephemeral
    assert re.fullmatch(r"Slow down a little: try again in \d+ seconds\.", third.content)


async def test_invalid_arguments_get_clear_private_errors(harness: Harness) -> None:
    emu, admin = harness.emu, harness.admin_id

    async def answer(command: str, options: dict[str, object]) -> str:
        interaction = await emu.invoke(command, options, user_id=admin)
        first = await interaction.wait_response()
        public_defer = first.type == 5 and not (first.data or {}).get("flags", 0) & 64
        # After a public "thinking" defer the error comes as a private followup.
        message = await (
            interaction.wait_followup() if public_defer else interaction.wait_original()
        )
        assert message.ephemeral, (command, message.content)
        return message.content

    assert "not an http(s) URL" in await answer("feeds add", {"url": "javascript:alert(1)"})
    assert "only http and https" in await answer("summarize", {"url": "file:///etc/passwd"})
    assert "not a known timezone" in await answer(
        "schedule set", {"channel": harness.news_id, "time": "08:00", "timezone": "Mars/Base"}
    )
    assert "not a time" in await answer(
        "schedule set", {"channel": harness.news_id, "time": "24:61"}
    )
    nested = "a AND (b OR (c AND (d OR (e AND (f OR (g AND h))))))"
    assert "Too deeply nested" in await answer("subscribe", {"query": nested})
    many = " OR ".join(f"w{n}" for n in range(21))
    assert "Too many terms: at most 20" in await answer("subscribe", {"query": many})


async def test_subscriptions_are_private_and_autocompleted(harness: Harness) -> None:
    emu, user = harness.emu, harness.member_id
    made = await (
        await emu.invoke("subscribe", {"query": "solar OR wind"}, user_id=user)
    ).wait_original()
    assert made.ephemeral
    assert "Subscribed (#" in made.content
    bad = await (await emu.invoke("subscribe", {"query": "(solar"}, user_id=user)).wait_original()
    assert bad.ephemeral
    assert "parenthesis" in bad.content.lower()
    listing = await (await emu.invoke("subscriptions", {}, user_id=user)).wait_original()
    assert "solar OR wind" in listing.content
    choices = await (
        await emu.autocomplete("unsubscribe", "subscription", "", user_id=user)
    ).wait_autocomplete()
    assert choices[0]["name"].endswith("(dm)")
    others = await (
        await emu.autocomplete("unsubscribe", "subscription", "", user_id=harness.other_member_id)
    ).wait_autocomplete()
    assert others == []
    gone = await (
        await emu.invoke("unsubscribe", {"subscription": choices[0]["value"]}, user_id=user)
    ).wait_original()
    assert gone.content.startswith("Unsubscribed")


async def test_non_admin_is_refused_by_feeds_add(harness: Harness) -> None:
    interaction = await harness.emu.invoke(
        "feeds add", {"url": harness.feeds.url("/atom.xml")}, user_id=harness.member_id
    )
    message = await interaction.wait_original()
    assert message.ephemeral
    assert "Manage Server" in message.content


async def test_feeds_admin_lifecycle(harness: Harness) -> None:
    emu, admin = harness.emu, harness.admin_id
    added = await (
        await emu.invoke(
            "feeds add",
            {"url": harness.feeds.url("/atom.xml"), "channel": harness.news_id},
            user_id=admin,
        )
    ).wait_original()
    assert "Added feed #" in added.content
    assert "Ocean Science Weekly" in added.content
    notice = await emu.wait_for_message(channel_id=harness.news_id, source="channel")
    assert "Ocean Science Weekly" in notice.content
    assert notice.allowed_mentions == NO_PINGS
    listing = await (await emu.invoke("feeds list", {}, user_id=admin)).wait_original()
    assert "Ocean Science Weekly" in listing.content
    assert "last success" in listing.content
    exported = await (await emu.invoke("feeds export", {}, user_id=admin)).wait_original()
    opml = exported.attachments[0].data
    assert harness.feeds.url("/atom.xml").encode() in opml
    choices = await (
        await emu.autocomplete("feeds remove", "feed", "ocean", user_id=admin)
    ).wait_autocomplete()
    removed = await (
        await emu.invoke("feeds remove", {"feed": choices[0]["value"]}, user_id=admin)
    ).wait_original()
    assert removed.content.startswith("Removed feed #")
    imported = await (
        await emu.invoke("feeds import", {"file": UploadedFile("feeds.opml", opml)}, user_id=admin)
    ).wait_original()
    assert "Imported 1 feeds." in imported.content


async def test_channel_post_is_retried_after_429_and_500_and_lands_once(harness: Harness) -> None:
    emu = harness.emu
    path = f"/channels/{harness.general_id}/messages"
    rate_limited = emu.fail("POST", path, status=429, retry_after=0.2)
    failed = emu.fail("POST", path, status=500)
    await (
        await emu.invoke(
            "feeds add",
            {"url": harness.feeds.url("/rss1.xml"), "channel": harness.general_id},
            user_id=harness.admin_id,
        )
    ).wait_original()
    notice = await emu.wait_for_message(channel_id=harness.general_id, source="channel", timeout=20)
    assert "Finance Daily" in notice.content
    assert (rate_limited.hits, failed.hits) == (1, 1)
    posted = [
        m
        for m in emu.messages(channel_id=harness.general_id, source="channel")
        if "Finance Daily" in m.content
    ]
    assert len(posted) == 1
    assert posted[0].nonce is None or posted[0].enforce_nonce


async def test_channel_without_permissions_gives_the_admin_a_clear_message(
    harness: Harness,
) -> None:
    emu = harness.emu
    refused = await (
        await emu.invoke(
            "schedule set", {"channel": harness.muted_id, "time": "08:00"}, user_id=harness.admin_id
        )
    ).wait_original()
    assert refused.ephemeral
    assert "missing Send Messages" in refused.content
    emu.fail("POST", f"/channels/{harness.news_id}/messages", code=50013)
    denied = await (
        await emu.invoke(
            "feeds add",
            {"url": harness.feeds.url("/feed.json"), "channel": harness.news_id},
            user_id=harness.admin_id,
        )
    ).wait_original()
    assert denied.ephemeral
    assert denied.content.startswith("Discord refused my message in <#")
    assert "Send Messages" in denied.content


async def test_schedules_and_status(harness: Harness) -> None:
    emu, admin = harness.emu, harness.admin_id
    made = await (
        await emu.invoke(
            "schedule set",
            {
                "channel": harness.news_id,
                "time": "8am",
                "timezone": "Europe/Berlin",
                "days": "weekdays",
            },
            user_id=admin,
        )
    ).wait_original()
    assert "08:00 Europe/Berlin, weekdays" in made.content
    zones = await (
        await emu.autocomplete("schedule set", "timezone", "berl", user_id=admin)
    ).wait_autocomplete()
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in zones
    bad = await (
        await emu.invoke(
            "schedule set", {"channel": harness.news_id, "time": "25:99"}, user_id=admin
        )
    ).wait_original()
    assert "not a time" in bad.content
    listing = await (await emu.invoke("schedule list", {}, user_id=admin)).wait_original()
    assert "Europe/Berlin" in listing.content
    schedule_id = int(made.content.split("#", 1)[1].split(":", 1)[0])
    removed = await (
        await emu.invoke("schedule remove", {"schedule": schedule_id}, user_id=admin)
    ).wait_original()
    assert removed.content == f"Removed schedule #{schedule_id}."
    status = await (await emu.invoke("news status", {}, user_id=admin)).wait_original()
    assert "feeds" in status.content
    assert "articles stored" in status.content


async def test_brief_pages_turn_only_for_the_caller(harness: Harness) -> None:
    from tests.support.feeds import rss, story

    base = harness.feeds.base_url
    harness.feeds.add(
        "/many.xml", rss("Many Stories", [story("canal", n, base) for n in range(14)])
    )
    await (
        await harness.emu.invoke(
            "feeds add", {"url": harness.feeds.url("/many.xml")}, user_id=harness.admin_id
        )
    ).wait_original()
    interaction = await harness.emu.invoke("brief", {}, user_id=harness.member_id)
    first = await interaction.wait_original()
    assert len(first.embeds) == 10
    assert "Page 1 of" in first.content
    first_titles = [embed["title"] for embed in first.embeds]
    follows = [f"Follow {n}" for n in range(1, 11)]
    assert [b["label"] for b in first.buttons()] == ["Previous", "Next", *follows]
    followed = await harness.emu.click(first, label="Follow 2", user_id=harness.other_member_id)
    assert "Following" in (await followed.wait_response()).data["content"]
    card = await harness.emu.wait_for_dm(harness.other_member_id, timeout=30)
    assert card.embeds[0]["title"] == first_titles[1]
    refused = await harness.emu.click(first, label="Next", user_id=harness.other_member_id)
    answer = await refused.wait_original()
    assert answer.ephemeral
    assert "Only the member who asked" in answer.content
    turned = await harness.emu.click(first, label="Next", user_id=harness.member_id)
    await turned.wait_response()
    page_two = harness.emu.message(first.id)
    assert "Page 2 of" in page_two.content
    assert not {embed["title"] for embed in page_two.embeds} & set(first_titles)
    assert page_two.allowed_mentions == NO_PINGS or page_two.allowed_mentions is None
