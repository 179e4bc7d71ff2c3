"""One error handler for every command: a human sentence for the member, details for the log."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.errors import NewsbotError
from bot.transports.discord.messages import PUBLIC_PLACEHOLDER, reply

__all__ = ["NewsTree", "describe_error"]

log = logging.getLogger(__name__)


def describe_error(error: app_commands.AppCommandError) -> str:
    """What to tell the member who ran the command."""
    original = getattr(error, "original", error)
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_names(error.missing_permissions)} permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {_names(error.missing_permissions)} permission here to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works inside a server only."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.TransformerError):
        return f"“{error.value}” is not a valid value for this option."
    if isinstance(original, NewsbotError):
        text = str(original)
        return text[:1].upper() + text[1:]
    if isinstance(original, discord.Forbidden):
        return (
            "Discord refused: I lack a permission for that channel "
            "(View Channel, Send Messages and Embed Links are needed)."
        )
    return "Something went wrong on my side; it has been logged for the bot's admin."


class NewsTree(app_commands.CommandTree):
    """The command tree with newsbot's single error handler."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        record_command(interaction, outcome="error")
        message = describe_error(error)
        original = getattr(error, "original", error)
        context = {"guild_id": interaction.guild_id, "channel_id": interaction.channel_id}
        if isinstance(original, NewsbotError | app_commands.CheckFailure):
            log.info("/%s refused: %s", _name(interaction), original, extra=context)
        else:
            log.error("/%s failed", _name(interaction), exc_info=original, extra=context)
        try:
            await _reply_privately(interaction, message)
        except discord.HTTPException:
            log.warning("could not tell the member about the error in /%s", _name(interaction))


def record_command(interaction: discord.Interaction, *, outcome: str) -> None:
    """Report how long the command took to answer (from the member's press)."""
    services = getattr(interaction.client, "services", None)
    if services is None:
        return
    seconds = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    services.telemetry.command_done(_name(interaction), seconds, outcome=outcome)


async def _reply_privately(interaction: discord.Interaction, message: str) -> None:
    """An ephemeral answer. After a public "thinking" defer the first followup would inherit
    its visibility, so the placeholder is deleted first and the error sent on its own."""
    if interaction.extras.pop(PUBLIC_PLACEHOLDER, False):
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("could not delete the thinking placeholder of /%s", _name(interaction))
    await reply(interaction, message, ephemeral=True)


def _names(permissions: list[str]) -> str:
    """Permission names as Discord's settings show them (``manage_guild`` → Manage Server)."""
    return ", ".join(_PERMISSION_LABELS.get(p, p.replace("_", " ").title()) for p in permissions)


_PERMISSION_LABELS = {
    "manage_guild": "Manage Server",
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
}


def _name(interaction: discord.Interaction) -> str:
    command = interaction.command
    return command.qualified_name if command else "?"
