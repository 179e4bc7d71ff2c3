"""An emulator of Discord's REST API and gateway for newsbot's end-to-end tests.

See README.md beside this file for the test-side API.
"""

from .gateway import GatewayConnection, GatewaySession, Intent
from .interactions import (
    CallbackType,
    InteractionCallback,
    InteractionType,
    OptionType,
    RecordedInteraction,
    UploadedFile,
)
from .rest import Fault, RecordedRequest
from .server import Emulator
from .state import (
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_MEMBER_PERMISSIONS,
    Attachment,
    Channel,
    ChannelType,
    CommandSync,
    Guild,
    Member,
    MessageFlag,
    Perm,
    RecordedMessage,
    Role,
    User,
)
from .validation import DiscordError
from .waiting import BotProcessExitedError, EmulatorTimeoutError

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_MEMBER_PERMISSIONS",
    "Attachment",
    "BotProcessExitedError",
    "CallbackType",
    "Channel",
    "ChannelType",
    "CommandSync",
    "DiscordError",
    "Emulator",
    "EmulatorTimeoutError",
    "Fault",
    "GatewayConnection",
    "GatewaySession",
    "Guild",
    "Intent",
    "InteractionCallback",
    "InteractionType",
    "Member",
    "MessageFlag",
    "OptionType",
    "Perm",
    "RecordedInteraction",
    "RecordedMessage",
    "RecordedRequest",
    "Role",
    "UploadedFile",
    "User",
]
