"""The emulator against a real discord.py ``commands.Bot`` running in the test's event loop."""

from __future__ import annotations

import asyncio
import io
import math
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from tests.discord_emulator import (
    BotProcessExitedError,
    CallbackType,
    Emulator,
    EmulatorTimeoutError,
    Perm,
    UploadedFile,
)

TOKEN = "emulator-test-token"
REPO_ROOT = Path(__file__).resolve().parents[2]
TOPICS = ["ai", "aviation", "climate", "chips", "elections"]


class VoteView(discord.ui.View):
    """A button only the person who ran /vote may press."""

    def __init__(self, owner_id: int) -> None:
        super().__init__(timeout=60)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message("This vote is not yours.", ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Approve", custom_id="vote:approve", style=discord.ButtonStyle.success)
    async def approve(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        button.disabled = True
        await interaction.response.edit_message(content="Approved", view=self)
        self.stop()


class TopicSelect(discord.ui.View):
    """A select menu of topics."""

    @discord.ui.select(
        custom_id="topics", options=[discord.SelectOption(label=t, value=t) for t in TOPICS]
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"following {', '.join(select.values)}")


class SampleBot(commands.Bot):
    """A bot with the kinds of commands newsbot has."""

    def __init__(self, guild_id: int, intents: discord.Intents | None = None) -> None:
        super().__init__(
            command_prefix="!",
            intents=intents or discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.guild_id = guild_id
        self.resumed = asyncio.Event()
        self.seen: list[str] = []
        self._add_commands()

    async def setup_hook(self) -> None:
        await self.tree.sync()
        await self.tree.sync(guild=discord.Object(self.guild_id))

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(f"{message.author.name}: {message.content}")

    def _add_commands(self) -> None:
        tree = self.tree

        @tree.command()
        @app_commands.describe(text="What to say", private="Only you see it")
        async def echo(interaction: discord.Interaction, text: str, private: bool = False) -> None:
            """Say something back."""
            await interaction.response.send_message(
                text, ephemeral=private, allowed_mentions=discord.AllowedMentions.none()
            )

        @tree.command()
        async def slow(interaction: discord.Interaction) -> None:
            """Defer, edit the original, then follow up."""
            await interaction.response.defer(thinking=True)
            await interaction.edit_original_response(content="step 1 done")
            await interaction.followup.send("all done", ephemeral=True)

        @tree.command()
        async def thinker(interaction: discord.Interaction) -> None:
            """Defer publicly, then answer with a followup asking to be ephemeral."""
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("thought about it", ephemeral=True)
            await interaction.followup.send("one more thing")

        @tree.command()
        async def topics(interaction: discord.Interaction) -> None:
            """Offer a topic menu."""
            await interaction.response.send_message("Pick topics", view=TopicSelect())

        @tree.command()
        async def early(interaction: discord.Interaction) -> None:
            """Follow up before responding (Discord refuses)."""
            try:
                await interaction.followup.send("too early")
            except discord.NotFound as exc:
                await interaction.response.send_message(f"followup refused: {exc.code}")

        @tree.command()
        async def vote(interaction: discord.Interaction) -> None:
            """Post a vote with a button."""
            view = VoteView(interaction.user.id)
            await interaction.response.send_message("Vote now", view=view)

        @tree.command()
        @app_commands.describe(topic="A topic")
        async def search(interaction: discord.Interaction, topic: str) -> None:
            """Search stories."""
            await interaction.response.send_message(f"searching {topic}")

        @search.autocomplete("topic")
        async def topic_choices(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=t, value=t) for t in TOPICS if current in t]

        feeds = app_commands.Group(name="feeds", description="Manage feeds")

        @feeds.command(name="add", description="Add a feed to a channel")
        async def feeds_add(
            interaction: discord.Interaction, url: str, channel: discord.TextChannel
        ) -> None:
            await interaction.response.send_message(f"{url} -> #{channel.name}")

        @feeds.command(name="import", description="Import an OPML file")
        async def feeds_import(interaction: discord.Interaction, file: discord.Attachment) -> None:
            data = await file.read()
            await interaction.response.send_message(
                f"read {len(data)} bytes from {file.filename}",
                file=discord.File(io.BytesIO(data.upper()), filename="echo.opml"),
                ephemeral=True,
            )

        tree.add_command(feeds)

        @app_commands.command()
        async def ping(interaction: discord.Interaction) -> None:
            """A guild-only command."""
            await interaction.response.send_message(f"pong from {interaction.guild.name}")

        tree.add_command(ping, guild=discord.Object(self.guild_id))


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(token=TOKEN) as emulator:
        guild = emulator.add_guild(name="News")
        emulator.add_text_channel(guild.id, "general")
        emulator.add_text_channel(guild.id, "briefings")
        emulator.add_member(guild.id, username="alice")
        emulator.add_member(guild.id, username="bob", permissions=int(Perm.MANAGE_GUILD))
        yield emulator


@pytest.fixture
def _discord_at_emulator(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", emu.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(emu.gateway_url)
    )


@pytest.fixture
async def bot(emu: Emulator, _discord_at_emulator: None) -> AsyncIterator[SampleBot]:
    client = SampleBot(emu.guild().id)
    await client.login(TOKEN)
    task = asyncio.create_task(client.connect())
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)


def _member(emu: Emulator, name: str) -> int:
    return next(m.user.id for m in emu.guild().members.values() if m.user.username == name)


def _channel(emu: Emulator, name: str) -> int:
    return next(c.id for c in emu.guild().channels.values() if c.name == name)


# --------------------------------------------------------------------------- gateway
async def test_login_ready_and_guild_create(bot: SampleBot, emu: Emulator) -> None:
    assert bot.user is not None
    assert bot.user.id == emu.bot_user.id
    guild = bot.get_guild(emu.guild().id)
    assert guild is not None
    assert [c.name for c in guild.text_channels] == ["general", "briefings"]
    assert guild.member_count == 4
    assert guild.get_member(_member(emu, "alice")) is None  # no GUILD_MEMBERS intent
    assert guild.me.guild_permissions.send_messages
    assert emu.identify_count == 1
    assert emu.gateway.connections[0].compression == "zlib-stream"
    await emu.wait_for(lambda: emu.gateway.connections[0].heartbeats >= 1, what="a heartbeat")
    await emu.wait_for(lambda: not math.isinf(bot.latency), what="a heartbeat ACK")


async def test_guild_added_while_connected_reaches_the_bot(bot: SampleBot, emu: Emulator) -> None:
    second = emu.add_guild(name="Second")
    emu.add_text_channel(second.id, "news")
    seen = await emu.wait_for(lambda: bot.get_guild(second.id), what="the new guild in the bot")
    await emu.wait_for(lambda: seen.text_channels or None, what="the new channel in the bot")
    assert [c.name for c in seen.text_channels] == ["news"]


async def test_removing_the_bot_from_a_guild(bot: SampleBot, emu: Emulator) -> None:
    guild_id = emu.guild().id
    emu.remove_guild(guild_id)
    await emu.wait_for(lambda: bot.get_guild(guild_id) is None, what="GUILD_DELETE in the bot")
    assert list(bot.guilds) == []


@pytest.mark.parametrize("code", [4000, None], ids=["close-4000", "abrupt"])
async def test_gateway_drop_resumes_and_replays_missed_events(
    bot: SampleBot, emu: Emulator, code: int | None
) -> None:
    await emu.drop_gateway(code)
    interaction = await emu.invoke("echo", {"text": "sent while you were away"})
    await emu.wait_for_resume()
    await asyncio.wait_for(bot.resumed.wait(), 10)
    message = await interaction.wait_original()
    assert message.content == "sent while you were away"
    assert emu.identify_count == 1


async def test_reconnect_request_is_answered_with_a_resume(bot: SampleBot, emu: Emulator) -> None:
    await emu.send_reconnect()
    await emu.wait_for_resume()
    assert (emu.identify_count, len(emu.gateway.connections)) == (1, 2)


@pytest.mark.slow  # discord.py waits 5 s before identifying again
async def test_invalid_session_makes_the_bot_identify_again(bot: SampleBot, emu: Emulator) -> None:
    await emu.invalidate_session()
    await emu.wait_for_identify(2)
    interaction = await emu.invoke("echo", {"text": "new session"})
    assert (await interaction.wait_original()).content == "new session"


@pytest.mark.usefixtures("_discord_at_emulator")
async def test_rejected_token_fails_login(emu: Emulator) -> None:
    emu.token_valid = False
    client = SampleBot(emu.guild().id)
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login(TOKEN)
    finally:
        await client.close()
    assert emu.requests("GET", "/users/@me")[-1].status == 401


@pytest.mark.usefixtures("_discord_at_emulator")
async def test_token_rejected_on_identify_closes_with_4004(emu: Emulator) -> None:
    client = SampleBot(emu.guild().id)
    try:
        await client.login(TOKEN)
        emu.token_valid = False
        with pytest.raises(discord.ConnectionClosed) as caught:
            await asyncio.wait_for(client.connect(reconnect=True), 10)
        assert caught.value.code == 4004
    finally:
        await client.close()


@pytest.mark.usefixtures("_discord_at_emulator")
async def test_members_intent_gets_members_and_chunks(emu: Emulator) -> None:
    intents = discord.Intents.default()
    intents.members = True
    client = SampleBot(emu.guild().id, intents)
    await client.login(TOKEN)
    task = asyncio.create_task(client.connect())
    try:
        await asyncio.wait_for(client.wait_until_ready(), 10)
        guild = client.get_guild(emu.guild().id)
        assert guild is not None
        assert guild.chunked
        assert sorted(m.name for m in guild.members) == ["alice", "bob", "newsbot", "owner"]
        bob = guild.get_member(_member(emu, "bob"))
        assert bob is not None
        assert bob.guild_permissions.manage_guild
        assert len(await asyncio.wait_for(guild.chunk(), 5)) == 4  # REQUEST_GUILD_MEMBERS
        found = await asyncio.wait_for(guild.query_members("al"), 5)
        assert [m.name for m in found] == ["alice"]
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)


@pytest.mark.usefixtures("_discord_at_emulator")
async def test_disallowed_privileged_intent_closes_with_4014(emu: Emulator) -> None:
    emu.allowed_intents = 0
    intents = discord.Intents.default()
    intents.members = True
    client = SampleBot(emu.guild().id, intents)
    try:
        await client.login(TOKEN)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(client.connect(), 10)
    finally:
        await client.close()


# ------------------------------------------------------------------ commands and replies
async def test_command_sync_is_recorded(bot: SampleBot, emu: Emulator) -> None:
    sync = await emu.wait_for_command_sync(None)
    assert sorted(sync.names) == [
        "early",
        "echo",
        "feeds",
        "search",
        "slow",
        "thinker",
        "topics",
        "vote",
    ]
    guild_sync = await emu.wait_for_command_sync(emu.guild().id)
    assert guild_sync.names == ["ping"]
    echo = emu.commands()["echo"]
    assert [(o["name"], o["type"], o.get("required")) for o in echo["options"]] == [
        ("text", 3, True),
        ("private", 5, False),
    ]


async def test_invoke_records_reply_and_allowed_mentions(bot: SampleBot, emu: Emulator) -> None:
    alice = _member(emu, "alice")
    interaction = await emu.invoke("echo", {"text": "hi @everyone"}, user_id=alice)
    response = await interaction.wait_response()
    assert response.type == CallbackType.CHANNEL_MESSAGE
    message = await interaction.wait_original()
    assert message.content == "hi @everyone"
    assert message.allowed_mentions == {"parse": []}
    assert not message.ephemeral
    assert message.channel_id == _channel(emu, "general")

    private = await emu.invoke("echo", {"text": "psst", "private": True}, user_id=alice)
    assert (await private.wait_original()).ephemeral


async def test_command_in_direct_messages(bot: SampleBot, emu: Emulator) -> None:
    alice = _member(emu, "alice")
    interaction = await emu.invoke("echo", {"text": "in private"}, dm=True, user_id=alice)
    message = await interaction.wait_original()
    assert message.content == "in private"
    assert emu.dm_messages(alice) == [message]


async def test_guild_command_is_found_by_discord_py(bot: SampleBot, emu: Emulator) -> None:
    interaction = await emu.invoke("ping")
    assert (await interaction.wait_original()).content == "pong from News"


async def test_deferred_reply_then_edit_and_followup(bot: SampleBot, emu: Emulator) -> None:
    interaction = await emu.invoke("slow")
    assert (await interaction.wait_response()).type == CallbackType.DEFERRED_CHANNEL_MESSAGE
    followup = await interaction.wait_followup()
    assert followup.content == "all done"
    assert followup.ephemeral
    original = await interaction.wait_original()
    assert original.content == "step 1 done"
    assert [m.content for m in interaction.messages] == ["step 1 done", "all done"]


async def test_first_followup_after_a_defer_fills_the_deferred_response(
    bot: SampleBot, emu: Emulator
) -> None:
    interaction = await emu.invoke("thinker")
    original, extra = await interaction.wait_messages(2)
    assert (original.content, original.ephemeral) == ("thought about it", False)
    assert original.id == interaction.original_message_id
    assert (extra.content, extra.source) == ("one more thing", "followup")


async def test_rate_limited_interaction_response_is_retried(bot: SampleBot, emu: Emulator) -> None:
    fault = emu.fail("POST", "/interactions/*/*/callback", status=429, retry_after=0.05)
    interaction = await emu.invoke("echo", {"text": "patience"})
    assert (await interaction.wait_original()).content == "patience"
    assert fault.hits == 1
    assert len(interaction.callbacks) == 1


async def test_followup_before_ack_is_refused(bot: SampleBot, emu: Emulator) -> None:
    interaction = await emu.invoke("early")
    assert (await interaction.wait_original()).content == "followup refused: 10015"


async def test_subcommand_with_channel_option(bot: SampleBot, emu: Emulator) -> None:
    target = _channel(emu, "briefings")
    interaction = await emu.invoke("feeds add", {"url": "https://e.x/rss", "channel": target})
    assert (await interaction.wait_original()).content == "https://e.x/rss -> #briefings"
    option = interaction.data["options"][0]
    assert (option["name"], option["type"], option["options"][1]["value"]) == (
        "add",
        1,
        str(target),
    )


async def test_attachment_option_is_served_and_files_are_recorded(
    bot: SampleBot, emu: Emulator
) -> None:
    opml = b'<opml version="2.0"><body/></opml>'
    upload = UploadedFile("feeds.opml", opml, "text/x-opml")
    interaction = await emu.invoke("feeds import", {"file": upload})
    message = await interaction.wait_original()
    assert message.content == f"read {len(opml)} bytes from feeds.opml"
    assert message.ephemeral
    assert [(a.filename, a.data) for a in message.attachments] == [("echo.opml", opml.upper())]


async def test_button_click_by_the_caller_and_by_someone_else(
    bot: SampleBot, emu: Emulator
) -> None:
    alice, bob = _member(emu, "alice"), _member(emu, "bob")
    interaction = await emu.invoke("vote", user_id=alice)
    message = await interaction.wait_original()
    assert [b["label"] for b in message.buttons()] == ["Approve"]

    stranger = await emu.click(message, "vote:approve", user_id=bob)
    refusal = await stranger.wait_original()
    assert (refusal.content, refusal.ephemeral) == ("This vote is not yours.", True)
    assert message.content == "Vote now"

    click = await emu.click(message, label="Approve")
    assert (await click.wait_response()).type == CallbackType.UPDATE_MESSAGE
    assert message.content == "Approved"
    assert message.buttons()[0]["disabled"] is True
    assert message.history[0]["content"] == "Vote now"
    with pytest.raises(ValueError, match="disabled"):
        await emu.click(message, "vote:approve")


async def test_select_menu(bot: SampleBot, emu: Emulator) -> None:
    menu = await (await emu.invoke("topics")).wait_original()
    choice = await emu.select(menu, "topics", ["ai", "climate"])
    assert (await choice.wait_original()).content == "following ai, climate"


async def test_user_message_reaches_the_bot(bot: SampleBot, emu: Emulator) -> None:
    await emu.user_message(_channel(emu, "general"), _member(emu, "alice"), "hello bot")
    await emu.wait_for(lambda: bot.seen or None, what="on_message in the bot")
    assert bot.seen == ["alice: "]  # no MESSAGE_CONTENT intent: Discord blanks the content


async def test_autocomplete_choices_are_captured(bot: SampleBot, emu: Emulator) -> None:
    interaction = await emu.autocomplete("search", "topic", "c")
    choices = await interaction.wait_autocomplete()
    assert [c["value"] for c in choices] == ["climate", "chips", "elections"]


async def test_invoke_checks_commands_and_options_like_the_client(
    bot: SampleBot, emu: Emulator
) -> None:
    with pytest.raises(LookupError, match="never synced"):
        await emu.invoke("nope")
    with pytest.raises(ValueError, match="missing required option 'text'"):
        await emu.invoke("echo")
    with pytest.raises(LookupError, match="needs a subcommand"):
        await emu.invoke("feeds")
    with pytest.raises(TypeError):
        await emu.invoke("echo", {"text": 5})


# ------------------------------------------------------------------ channel messages
async def _send(bot: SampleBot, emu: Emulator, content: str, **kwargs: object) -> discord.Message:
    channel = bot.get_channel(_channel(emu, "general"))
    assert isinstance(channel, discord.TextChannel)
    return await channel.send(content, **kwargs)  # type: ignore[arg-type]


async def test_rate_limited_send_is_retried_and_lands_once(bot: SampleBot, emu: Emulator) -> None:
    fault = emu.fail("POST", "/channels/*/messages", status=429, retry_after=0.05)
    sent = await _send(bot, emu, "after the limit")
    assert fault.hits == 1
    assert [m.content for m in emu.messages(_channel(emu, "general"))] == ["after the limit"]
    statuses = [r.status for r in emu.requests("POST", "/channels/{channel_id}/messages")]
    assert statuses == [429, 200]
    assert sent.id == emu.messages()[0].id


@pytest.mark.slow
async def test_server_error_is_retried(bot: SampleBot, emu: Emulator) -> None:
    emu.fail("POST", "/channels/{channel_id}/messages", status=500)
    await _send(bot, emu, "second try")
    assert [m.content for m in emu.messages()] == ["second try"]
    assert [r.status for r in emu.requests("POST")] == [500, 200]


async def test_enforce_nonce_returns_the_existing_message(bot: SampleBot, emu: Emulator) -> None:
    first = await _send(bot, emu, "once", nonce="brief-42")
    second = await _send(bot, emu, "once", nonce="brief-42")
    assert first.id == second.id
    recorded = emu.messages()
    assert len(recorded) == 1
    assert (recorded[0].nonce, recorded[0].enforce_nonce) == ("brief-42", True)


@pytest.mark.slow
async def test_nonce_makes_a_retry_after_a_lost_answer_safe(bot: SampleBot, emu: Emulator) -> None:
    fault = emu.fail("POST", "/channels/*/messages", status=500, after_processing=True)
    sent = await _send(bot, emu, "exactly once", nonce="outbox-7")
    assert fault.hits == 1
    assert [m.content for m in emu.messages()] == ["exactly once"]
    assert sent.id == emu.messages()[0].id


async def test_errors_surface_as_discord_exceptions(bot: SampleBot, emu: Emulator) -> None:
    guild = emu.guild()
    muted = emu.add_text_channel(guild.id, "read-only", bot_can_send=False)
    channel = await emu.wait_for(lambda: bot.get_channel(muted.id), what="the new channel")
    assert isinstance(channel, discord.TextChannel)
    assert not channel.permissions_for(channel.guild.me).send_messages
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("nope")
    assert forbidden.value.code == 50013

    emu.fail("POST", "/channels/*/messages", code=10003)
    with pytest.raises(discord.NotFound) as missing:
        await _send(bot, emu, "gone")
    assert missing.value.code == 10003

    with pytest.raises(discord.HTTPException) as invalid:
        await _send(bot, emu, "x" * 2001)
    assert (invalid.value.status, invalid.value.code) == (400, 50035)
    assert emu.messages() == []


async def test_direct_messages(bot: SampleBot, emu: Emulator) -> None:
    alice = await bot.fetch_user(_member(emu, "alice"))
    await alice.send("your alert")
    assert (await emu.wait_for_dm(alice.id)).content == "your alert"

    closed = emu.add_user(username="private", dms_open=False)
    user = await bot.fetch_user(closed.id)
    with pytest.raises(discord.Forbidden) as refused:
        await user.send("alert")
    assert refused.value.code == 50007


async def test_wait_for_message_times_out_with_a_summary(emu: Emulator) -> None:
    with pytest.raises(EmulatorTimeoutError, match="1 message"):
        await emu.wait_for_message(timeout=0.05)


async def test_waits_fail_fast_when_the_watched_bot_process_exits(emu: Emulator) -> None:
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "raise SystemExit(3)")
    emu.watch_process(process)
    await process.wait()
    with pytest.raises(BotProcessExitedError, match="exited with code 3"):
        await emu.wait_for_command_sync(timeout=30)


@pytest.mark.slow
async def test_bot_in_a_subprocess(emu: Emulator) -> None:
    env = {**os.environ, **emu.env, "PYTHONPATH": str(REPO_ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.discord_emulator.example_bot", cwd=REPO_ROOT, env=env
    )
    emu.watch_process(process)
    try:
        assert (await emu.wait_for_command_sync(timeout=30)).names == ["echo"]
        await emu.wait_until_connected(timeout=30)
        interaction = await emu.invoke("echo", {"text": "across processes"})
        message = await interaction.wait_original(timeout=30)
        assert (message.content, message.allowed_mentions) == ("across processes", {"parse": []})
    finally:
        process.terminate()
        await process.wait()


@pytest.mark.slow
def test_standalone_server_prints_its_environment() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "tests.discord_emulator", "--port", "0", "--no-repl"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            lines = [process.stdout.readline() for _ in range(2)]  # type: ignore[union-attr]
        finally:
            process.terminate()
    assert lines[0].startswith("DISCORD_API_BASE=http://127.0.0.1:")
    assert lines[1].startswith("DISCORD_GATEWAY_URL=ws://127.0.0.1:")
