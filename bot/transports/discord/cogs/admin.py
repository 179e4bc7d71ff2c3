"""Server admin tools: /feeds, /schedule and /news status (Manage Server required)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import ValidationError
from bot.render.embeds import split_content
from bot.render.sanitize import safe_text, safe_title
from bot.services.schedules import format_days, known_timezones
from bot.transports.discord.messages import NO_MENTIONS, reply

if TYPE_CHECKING:
    from bot.app import Services

__all__ = ["AdminCog"]

MAX_OPML_ATTACHMENT = 1024 * 1024
_ADMIN = discord.Permissions(manage_guild=True)


def _admin_group(name: str, description: str) -> app_commands.Group:
    return app_commands.Group(
        name=name, description=description, guild_only=True, default_permissions=_ADMIN
    )


class AdminCog(commands.Cog):
    """Feeds, scheduled briefings and status, for members with Manage Server."""

    feeds = _admin_group("feeds", "Manage this server's news feeds")
    schedule = _admin_group("schedule", "Manage scheduled briefings")
    news = _admin_group("news", "newsbot status")

    def __init__(self, services: Services) -> None:
        self._services = services

    # /feeds

    @feeds.command(name="add")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        url="The feed's web address (RSS, Atom or JSON Feed)",
        channel="Where its new stories are posted (default: none, just stored)",
        interval="Minutes between checks (5 to 1440, default from config)",
    )
    async def feeds_add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 2048],
        channel: discord.TextChannel | None = None,
        interval: app_commands.Range[int, 5, 1440] | None = None,
    ) -> None:
        """Follow a feed on this server."""
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        if channel is not None:
            _check_can_post(channel)
        added = await self._services.feeds.add_guild_feed(
            interaction.guild_id,
            url,
            channel_id=channel.id if channel else None,
            interval_minutes=interval,
            created_by=interaction.user.id,
        )
        feed, refresh = added.feed, added.refresh
        count = refresh.new_articles + refresh.seen_articles
        where = f" New stories will be posted in {channel.mention}." if channel else ""
        if channel is not None:
            await _announce(
                channel,
                f"This channel will receive new stories from **{safe_title(feed.name, 200)}**.",
            )
        await reply(
            interaction,
            f"Added feed #{feed.id} **{safe_title(feed.name, 200)}** ({count} items already "
            f"there are marked as seen and will not be posted).{where}",
            ephemeral=True,
        )

    @feeds.command(name="remove")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(feed="The feed to stop following")
    async def feeds_remove(self, interaction: discord.Interaction, feed: int) -> None:
        """Stop following a feed (its stored articles stay searchable)."""
        assert interaction.guild_id is not None
        removed = await self._services.feeds.remove_guild_feed(interaction.guild_id, feed)
        await reply(
            interaction,
            f"Removed feed #{removed.id} {safe_title(removed.name, 200)}.",
            ephemeral=True,
        )

    @feeds.command(name="resume")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(feed="The paused feed to poll again")
    async def feeds_resume(self, interaction: discord.Interaction, feed: int) -> None:
        """Poll a paused feed again."""
        assert interaction.guild_id is not None
        resumed = await self._services.feeds.resume_guild_feed(
            interaction.guild_id, feed, discord.utils.utcnow()
        )
        await reply(
            interaction,
            f"Resumed feed #{resumed.id} {safe_title(resumed.name, 200)}; it is polled now.",
            ephemeral=True,
        )

    @feeds_remove.autocomplete("feed")
    @feeds_resume.autocomplete("feed")
    async def _feed_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        feeds = await self._services.feeds.guild_feeds(interaction.guild_id)
        needle = current.lower()
        return [
            app_commands.Choice(name=f"#{f.id} {f.name} ({f.url})"[:100], value=f.id)
            for f in feeds
            if needle in f"#{f.id} {f.name} {f.url}".lower()
        ][:25]

    @feeds.command(name="list")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def feeds_list(self, interaction: discord.Interaction) -> None:
        """This server's feeds and their health."""
        assert interaction.guild_id is not None
        feeds = await self._services.feeds.guild_feeds(interaction.guild_id)
        if not feeds:
            await reply(interaction, "No feeds yet. Add one with /feeds add.", ephemeral=True)
            return
        lines = []
        for feed in feeds:
            health = f"last success {_when(feed.last_success_at)}"
            if feed.last_error:
                health += (
                    f" · last error {_when(feed.last_error_at)}: {safe_text(feed.last_error[:150])}"
                )
            health += f" · next poll {_when(feed.next_poll_at, 'on the next cycle')}"
            if feed.paused:
                reason = f": {safe_text(feed.paused_reason[:150])}" if feed.paused_reason else ""
                health += f" · **paused**{reason}"
            channel = f" → <#{feed.channel_id}>" if feed.channel_id else ""
            title = f"#{feed.id} **{safe_title(feed.name, 100)}**{channel}"
            lines.append(f"{title}\n{safe_text(feed.url)}\n{health}")
        for chunk in split_content("\n\n".join(lines)):
            await reply(interaction, chunk, ephemeral=True)

    @feeds.command(name="import")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        file="An OPML file exported from another reader",
        channel="Where the imported feeds post (default: none)",
    )
    async def feeds_import(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Follow every feed of an OPML file."""
        assert interaction.guild_id is not None
        if file.size > MAX_OPML_ATTACHMENT:
            raise ValidationError("the OPML file is larger than 1 MB")
        await interaction.response.defer(ephemeral=True, thinking=True)
        if channel is not None:
            _check_can_post(channel)
        report = await self._services.feeds.import_opml(
            interaction.guild_id,
            await file.read(),
            channel_id=channel.id if channel else None,
            created_by=interaction.user.id,
        )
        lines = [f"Imported {len(report.added)} feeds."]
        lines += [
            f"Not added: {safe_text(url)}: {safe_text(reason)}" for url, reason in report.failed
        ]
        for chunk in split_content("\n".join(lines)):
            await reply(interaction, chunk, ephemeral=True)

    @feeds.command(name="export")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def feeds_export(self, interaction: discord.Interaction) -> None:
        """Download this server's feeds as an OPML file."""
        assert interaction.guild_id is not None
        document = await self._services.feeds.export_opml(interaction.guild_id)
        await reply(
            interaction,
            "This server's feeds:",
            ephemeral=True,
            file=discord.File(io.BytesIO(document), filename="newsbot-feeds.opml"),
        )

    # /schedule

    @schedule.command(name="set")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(
        channel="Where the briefing is posted",
        time="Local time of day, HH:MM (24-hour) or 8am",
        timezone="IANA timezone, e.g. Europe/Berlin (default UTC)",
        days="daily, weekdays, weekends, or days like mon,wed,fri",
        topic="Only stories about this",
    )
    async def schedule_set(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: app_commands.Range[str, 1, 10],
        timezone: app_commands.Range[str, 1, 64] = "UTC",
        days: app_commands.Range[str, 1, 40] = "daily",
        topic: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        """Post a briefing to a channel at a time of day."""
        assert interaction.guild_id is not None
        _check_can_post(channel)
        schedule = await self._services.schedules.add(
            interaction.guild_id,
            channel.id,
            time,
            timezone=timezone,
            days=days,
            topic=topic,
            created_by=interaction.user.id,
        )
        about = f" about “{safe_text(schedule.topic)}”" if schedule.topic else ""
        await reply(
            interaction,
            f"Schedule #{schedule.id}: a briefing{about} in {channel.mention} at "
            f"{schedule.time_of_day} {schedule.timezone}, {format_days(schedule.days)}.",
            ephemeral=True,
        )

    @schedule_set.autocomplete("timezone")
    async def _timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower()
        names = sorted(name for name in known_timezones() if needle in name.lower())
        return [app_commands.Choice(name=name, value=name) for name in names[:25]]

    @schedule.command(name="list")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def schedule_list(self, interaction: discord.Interaction) -> None:
        """This server's scheduled briefings."""
        assert interaction.guild_id is not None
        schedules = await self._services.schedules.list(interaction.guild_id)
        if not schedules:
            await reply(
                interaction, "No schedules yet. Add one with /schedule set.", ephemeral=True
            )
            return
        lines = [
            f"#{s.id} <#{s.channel_id}> at {s.time_of_day} {s.timezone}, {format_days(s.days)}"
            + (f" · about “{safe_text(s.topic)}”" if s.topic else "")
            + (
                ""
                if s.active
                else f" · **stopped**: {safe_text((s.disabled_reason or 'channel refused')[:150])}"
            )
            for s in schedules
        ]
        for chunk in split_content("\n".join(lines)):
            await reply(interaction, chunk, ephemeral=True)

    @schedule.command(name="remove")
    @app_commands.checks.has_permissions(manage_guild=True)
    @app_commands.describe(schedule="The schedule to delete")
    async def schedule_remove(self, interaction: discord.Interaction, schedule: int) -> None:
        """Delete a scheduled briefing."""
        assert interaction.guild_id is not None
        await self._services.schedules.remove(interaction.guild_id, schedule)
        await reply(interaction, f"Removed schedule #{schedule}.", ephemeral=True)

    @schedule_remove.autocomplete("schedule")
    async def _schedule_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        schedules = await self._services.schedules.list(interaction.guild_id)
        return [
            app_commands.Choice(
                name=f"#{s.id} {s.time_of_day} {s.timezone} {format_days(s.days)}"[:100],
                value=s.id,
            )
            for s in schedules
            if current in str(s.id) or current.lower() in s.timezone.lower()
        ][:25]

    # /news status

    @news.command(name="status")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def news_status(self, interaction: discord.Interaction) -> None:
        """Uptime, feeds, stored articles and the last refresh."""
        status = await self._services.status.status()
        hours, rest = divmod(int(status.uptime.total_seconds()), 3600)
        await reply(
            interaction,
            f"Up {hours} h {rest // 60} min · {status.feeds} feeds · {status.articles} articles "
            f"stored · last refresh {_when(status.last_refresh_at, 'never')}",
            ephemeral=True,
        )


def _check_can_post(channel: discord.TextChannel) -> None:
    """Refuse early, with the missing permissions named, when the bot cannot post there."""
    permissions = channel.permissions_for(channel.guild.me)
    missing = [
        label
        for label, granted in (
            ("View Channel", permissions.view_channel),
            ("Send Messages", permissions.send_messages),
            ("Embed Links", permissions.embed_links),
        )
        if not granted
    ]
    if missing:
        raise ValidationError(
            f"I cannot post in {channel.mention}: I am missing {', '.join(missing)} there"
        )


async def _announce(channel: discord.TextChannel, text: str) -> None:
    """Post a notice in a channel; a refusal becomes a clear error for the admin."""
    try:
        await channel.send(text, allowed_mentions=NO_MENTIONS)
    except discord.Forbidden as error:
        raise ValidationError(
            f"Discord refused my message in {channel.mention} "
            f"({error.text or 'Missing Permissions'}): "
            "give me View Channel, Send Messages and Embed Links there"
        ) from error


def _when(moment: datetime | None, never: str = "never") -> str:
    return discord.utils.format_dt(moment, "R") if moment else never
