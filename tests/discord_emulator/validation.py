"""Discord's server-side limits, checked on what the bot sends (answers 400 like Discord)."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "ERROR_MESSAGES",
    "DiscordError",
    "validate_autocomplete_choices",
    "validate_commands",
    "validate_message",
]

ERROR_MESSAGES: dict[int, tuple[int, str]] = {
    0: (401, "401: Unauthorized"),
    10003: (404, "Unknown Channel"),
    10004: (404, "Unknown Guild"),
    10007: (404, "Unknown Member"),
    10008: (404, "Unknown Message"),
    10013: (404, "Unknown User"),
    10015: (404, "Unknown Webhook"),
    10062: (404, "Unknown interaction"),
    10063: (404, "Unknown application command"),
    40060: (400, "Interaction has already been acknowledged."),
    50001: (403, "Missing Access"),
    50005: (403, "Cannot edit a message authored by another user"),
    50006: (400, "Cannot send an empty message"),
    50007: (403, "Cannot send messages to this user"),
    50008: (400, "Cannot send messages in a non-text channel"),
    50013: (403, "Missing Permissions"),
    50033: (400, "Invalid Recipient(s)"),
    50035: (400, "Invalid Form Body"),
    50109: (400, "The request body contains invalid JSON."),
}

_NAME = re.compile(r"^[-_\w]{1,32}$")
_MAX_CONTENT = 2000
_MAX_EMBEDS = 10
_MAX_EMBED_TOTAL = 6000
_MAX_NONCE = 25


class DiscordError(Exception):
    """An error answer: HTTP status, Discord JSON error code, message and form errors."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        status: int | None = None,
        errors: dict[str, Any] | None = None,
    ) -> None:
        default_status, default_message = ERROR_MESSAGES.get(code, (400, "Bad Request"))
        self.code = code
        self.status = status or default_status
        self.message = message or default_message
        self.errors = errors
        super().__init__(f"{self.status} {self.code} {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends with this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


class _FormErrors:
    """Collects field errors into Discord's nested ``errors`` shape."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: tuple[str | int, ...], value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def raise_if_any(self) -> None:
        if self.tree:
            raise DiscordError(50035, errors=self.tree)


def validate_message(body: dict[str, Any], *, has_files: bool, is_edit: bool = False) -> None:
    """Check a message create/edit body against Discord's limits; raise DiscordError."""
    errors = _FormErrors()
    content = body.get("content")
    if content is not None:
        errors.max_length(("content",), str(content), _MAX_CONTENT)
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > _MAX_NONCE:
        errors.add(("nonce",), "BASE_TYPE_MAX_LENGTH", f"Must be {_MAX_NONCE} or fewer in length.")
    embeds = body.get("embeds") or []
    if len(embeds) > _MAX_EMBEDS:
        errors.add(
            ("embeds",), "BASE_TYPE_MAX_LENGTH", f"Must be {_MAX_EMBEDS} or fewer in length."
        )
    total = 0
    for index, embed in enumerate(embeds):
        total += _check_embed(errors, ("embeds", index), embed)
    if total > _MAX_EMBED_TOTAL:
        errors.add(
            ("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )
    _check_components(errors, body.get("components") or [], flags=int(body.get("flags") or 0))
    errors.raise_if_any()
    if (
        not is_edit
        and not (
            content or embeds or has_files or body.get("components") or body.get("sticker_ids")
        )
        and not body.get("poll")
    ):
        raise DiscordError(50006)


def _check_embed(errors: _FormErrors, path: tuple[str | int, ...], embed: dict[str, Any]) -> int:
    limits = {"title": 256, "description": 4096}
    size = 0
    for key, limit in limits.items():
        value = embed.get(key)
        if value is not None:
            errors.max_length((*path, key), value, limit)
            size += len(str(value))
    fields = embed.get("fields") or []
    if len(fields) > 25:
        errors.add((*path, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for index, item in enumerate(fields):
        name, value = item.get("name"), item.get("value")
        if not name:
            errors.add(
                (*path, "fields", index, "name"), "BASE_TYPE_REQUIRED", "This field is required"
            )
        if not value:
            errors.add(
                (*path, "fields", index, "value"), "BASE_TYPE_REQUIRED", "This field is required"
            )
        errors.max_length((*path, "fields", index, "name"), name, 256)
        errors.max_length((*path, "fields", index, "value"), value, 1024)
        size += len(str(name or "")) + len(str(value or ""))
    footer = (embed.get("footer") or {}).get("text")
    errors.max_length((*path, "footer", "text"), footer, 2048)
    author = (embed.get("author") or {}).get("name")
    errors.max_length((*path, "author", "name"), author, 256)
    size += len(str(footer or "")) + len(str(author or ""))
    for key in ("url",):
        _check_url(errors, (*path, key), embed.get(key))
    for key in ("image", "thumbnail"):
        _check_url(errors, (*path, key, "url"), (embed.get(key) or {}).get("url"))
    colour = embed.get("color")
    if colour is not None and not 0 <= int(colour) <= 0xFFFFFF:
        errors.add((*path, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215.")
    return size


def _check_url(errors: _FormErrors, path: tuple[str | int, ...], url: Any) -> None:
    if url is None:
        return
    scheme = str(url).split(":", 1)[0].lower() if ":" in str(url) else ""
    if scheme not in ("http", "https", "attachment"):
        errors.add(
            path,
            "URL_TYPE_INVALID_URL" if not scheme else "URL_TYPE_INVALID_SCHEME",
            "Not a well formed URL." if not scheme else f'Scheme "{scheme}" is not supported.',
        )
    else:
        errors.max_length(path, str(url), 2048)


def _check_components(errors: _FormErrors, components: list[dict[str, Any]], *, flags: int) -> None:
    if flags & (1 << 15):  # components v2: only check custom ids below
        rows: list[dict[str, Any]] = []
    else:
        rows = components
        if len(rows) > 5:
            errors.add(("components",), "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for index, row in enumerate(rows):
        children = row.get("components") or []
        if row.get("type") == 1 and len(children) > 5:
            errors.add(
                ("components", index, "components"),
                "BASE_TYPE_MAX_LENGTH",
                "Must be 5 or fewer in length.",
            )
    seen: set[str] = set()
    stack = list(components)
    while stack:
        component = stack.pop()
        stack.extend(component.get("components") or [])
        if component.get("accessory"):
            stack.append(component["accessory"])
        custom_id = component.get("custom_id")
        if component.get("type") == 2:
            if (component.get("label") or "") and len(component["label"]) > 80:
                errors.add(("components",), "BASE_TYPE_MAX_LENGTH", "Label must be 80 or fewer.")
            if component.get("style") == 5:
                _check_url(errors, ("components", "url"), component.get("url"))
                continue
        if component.get("type") in (2, 3, 5, 6, 7, 8, 4):
            if not custom_id:
                errors.add(
                    ("components", "custom_id"), "BASE_TYPE_REQUIRED", "This field is required"
                )
                continue
            if len(custom_id) > 100:
                errors.add(
                    ("components", "custom_id"), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer."
                )
            if custom_id in seen:
                errors.add(
                    ("components", "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
        if component.get("type") == 3 and len(component.get("options") or []) > 25:
            errors.add(("components", "options"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """Check a bulk command overwrite: names, descriptions, options, choices, duplicates."""
    errors = _FormErrors()
    seen: set[tuple[int, str]] = set()
    if sum(1 for c in commands if c.get("type", 1) == 1) > 100:
        errors.add((), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    for index, command in enumerate(commands):
        kind = int(command.get("type", 1))
        name = str(command.get("name") or "")
        key = (kind, name)
        if key in seen:
            errors.add((index, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name")
        seen.add(key)
        if kind == 1:
            _check_name(errors, (index, "name"), name)
            _check_description(errors, (index, "description"), command.get("description"))
            _check_options(errors, (index, "options"), command.get("options") or [])
        elif not 1 <= len(name) <= 32:
            errors.add(
                (index, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."
            )
    errors.raise_if_any()


def _check_name(errors: _FormErrors, path: tuple[str | int, ...], name: str) -> None:
    if not _NAME.match(name) or name != name.lower():
        errors.add(path, "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")


def _check_description(errors: _FormErrors, path: tuple[str | int, ...], text: Any) -> None:
    if not isinstance(text, str) or not 1 <= len(text) <= 100:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def _check_options(
    errors: _FormErrors, path: tuple[str | int, ...], options: list[dict[str, Any]]
) -> None:
    if len(options) > 25:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    optional_seen = False
    names: set[str] = set()
    for index, option in enumerate(options):
        here = (*path, index)
        name = str(option.get("name") or "")
        _check_name(errors, (*here, "name"), name)
        _check_description(errors, (*here, "description"), option.get("description"))
        if name in names:
            errors.add(
                (*here, "name"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Duplicate"
            )
        names.add(name)
        kind = int(option.get("type", 0))
        if kind in (1, 2):
            _check_options(errors, (*here, "options"), option.get("options") or [])
            continue
        if option.get("required"):
            if optional_seen:
                errors.add(
                    (*here, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            errors.add((*here, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if choices and option.get("autocomplete"):
            errors.add((*here, "autocomplete"), "AUTOCOMPLETE_AND_CHOICES", "Cannot have both")
        for choice_index, choice in enumerate(choices):
            _check_choice(errors, (*here, "choices", choice_index), choice)


def _check_choice(errors: _FormErrors, path: tuple[str | int, ...], choice: dict[str, Any]) -> None:
    name = choice.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        errors.add((*path, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    value = choice.get("value")
    if isinstance(value, str) and len(value) > 100:
        errors.add((*path, "value"), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")


def validate_autocomplete_choices(choices: list[dict[str, Any]]) -> None:
    """Check an autocomplete result (at most 25 choices with valid names and values)."""
    errors = _FormErrors()
    if len(choices) > 25:
        errors.add(("choices",), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for index, choice in enumerate(choices):
        _check_choice(errors, ("choices", index), choice)
    errors.raise_if_any()
