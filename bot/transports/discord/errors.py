"""One error handler for every command: a human sentence for the member, details for the log."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.errors import NewsbotError
from bot.transports.discord.messages import reply

__all__ = ["NewsTree", "describe_error"]

log = logging.getLogger(__name__)


def describe_error(error: app_commands.AppCommandError) -> str:
    """What to tell the member who ran the command."""
    original = getattr(error, "original", error)
    if isinstance(error, app_commands.MissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"You need the {needed} permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        needed = ", ".join(p.replace("_", " ").title() for p in error.missing_permissions)
        return f"I need the {needed} permission here to do that."
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
        message = describe_error(error)
        original = getattr(error, "original", error)
        if isinstance(original, NewsbotError | app_commands.CheckFailure):
            log.info("/%s refused: %s", _name(interaction), original)
        else:
            log.error("/%s failed", _name(interaction), exc_info=original)
        try:
            await reply(interaction, message, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the member about the error in /%s", _name(interaction))


def _name(interaction: discord.Interaction) -> str:
    command = interaction.command
    return command.qualified_name if command else "?"
