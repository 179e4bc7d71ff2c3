"""Settings: the TOML file named by ``NEWSBOT_CONFIG`` plus ``NEWSBOT_*`` environment overrides.

Every key of a section can be overridden as ``NEWSBOT_<SECTION>__<KEY>`` and every top-level key
as ``NEWSBOT_<KEY>``. Relative paths in the file are relative to the file's folder; relative paths
in the environment are relative to the working directory. Nothing here runs at import time.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.core.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "AlertSettings",
    "BriefingSettings",
    "DiscordSettings",
    "DiscordShardSettings",
    "FetchSettings",
    "LimitSettings",
    "LogSettings",
    "OpsSettings",
    "ParseSettings",
    "PollSettings",
    "RetentionSettings",
    "Settings",
    "SourceSettings",
    "SummarySettings",
    "load_discord_settings",
    "load_settings",
]

DEFAULT_CONFIG_PATH = Path("config/newsbot.toml")
ENV_PREFIX = "NEWSBOT_"
SUMMARY_LANGUAGES = (
    "arabic",
    "chinese",
    "czech",
    "english",
    "french",
    "german",
    "hebrew",
    "italian",
    "japanese",
    "korean",
    "portuguese",
    "slovak",
    "spanish",
    "ukrainian",
)
"""Languages sumy has stop words and a stemmer for, with no extra package."""
_MAX_USER_AGENT = 256


def _setting(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """A dataclass field with bounds or choices the loader enforces."""
    metadata = {"low": low, "high": high, "choices": choices}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How feeds and pages are downloaded."""

    connect_timeout: float = _setting(10.0, low=0.1, high=120)
    read_timeout: float = _setting(20.0, low=0.1, high=300)
    deadline: float = _setting(60.0, low=1, high=600)
    max_redirects: int = _setting(5, low=0, high=5)
    max_body_bytes: int = _setting(10 * 1024 * 1024, low=1024, high=200 * 1024 * 1024)
    max_connections: int = _setting(20, low=1, high=1000)
    max_per_host: int = _setting(2, low=1, high=50)
    user_agent: str = "newsbot/0.1 (self-hosted Discord news bot)"
    allow_networks: tuple[str, ...] = _setting(())


@dataclass(frozen=True, slots=True)
class ParseSettings:
    """Worker processes that parse feeds and pages, bounded in time and memory."""

    workers: int = _setting(2, low=0, high=32)
    """0 parses in the bot's own process (no time or memory bound)."""
    timeout: float = _setting(30.0, low=1, high=600)
    memory_mb: int = _setting(1024, low=128, high=65536)


@dataclass(frozen=True, slots=True)
class SummarySettings:
    """How articles are condensed."""

    sentences: int = _setting(3, low=1, high=10)
    algorithm: str = _setting(
        "news", choices=("news", "lexrank", "textrank", "lsa", "luhn", "edmundson", "lead")
    )
    language: str = _setting("english", choices=SUMMARY_LANGUAGES)


@dataclass(frozen=True, slots=True)
class BriefingSettings:
    """What a briefing holds."""

    hours: int = _setting(24, low=1, high=24 * 30)
    max_stories: int = _setting(10, low=1, high=50)
    grace_minutes: int = _setting(60, low=0, high=24 * 60)
    announce_empty: bool = True
    check_seconds: float = _setting(20.0, low=0.05, high=3600)


@dataclass(frozen=True, slots=True)
class PollSettings:
    """How often feeds are polled."""

    interval_minutes: float = _setting(10.0, low=0.01, high=1440)
    min_interval_minutes: float = _setting(5.0, low=0.01, high=1440)
    max_interval_minutes: float = _setting(1440.0, low=0.01, high=10080)
    check_seconds: float = _setting(15.0, low=0.05, high=3600)
    batch_size: int = _setting(500, low=1, high=100000)
    pause_after_hours: float = _setting(72.0, low=0.001, high=24 * 365)
    lease_minutes: float = _setting(10.0, low=0.01, high=1440)
    """How long claimed feeds stay claimed by a process that may have died."""


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Topic alerts and channel posts: how many may reach one place per hour."""

    per_user_per_hour: int = _setting(10, low=1, high=1000)
    per_channel_per_hour: int = _setting(20, low=1, high=1000)
    deliver_seconds: float = _setting(2.0, low=0.05, high=600)
    lease_minutes: float = _setting(2.0, low=0.01, high=1440)
    """How long claimed deliveries stay claimed by a sender that may have died."""


@dataclass(frozen=True, slots=True)
class FollowSettings:
    """Followed stories: how often one message may be edited, and when a story goes quiet."""

    edit_minutes: float = _setting(5.0, low=0, high=1440)
    quiet_hours: int = _setting(48, low=1, high=24 * 30)


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """How long articles are kept."""

    days: int = _setting(30, low=1, high=3650)


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Per-guild caps on what members and admins can create."""

    feeds_per_guild: int = _setting(50, low=1, high=10000)
    schedules_per_guild: int = _setting(20, low=1, high=1000)
    subscriptions_per_user: int = _setting(25, low=1, high=1000)
    subscriptions_per_guild: int = _setting(1000, low=1, high=100000)


@dataclass(frozen=True, slots=True)
class DiscordShardSettings:
    """Which Discord gateway shards this process holds (``[discord]``)."""

    shard_count: int = _setting(0, low=0, high=100000)
    """0: no sharding (one connection holds every guild)."""
    shard_ids: tuple[str, ...] = _setting(())
    """The shards this process connects, e.g. ``0,1``; empty: all of ``shard_count``."""

    @property
    def shard_numbers(self) -> list[int] | None:
        """The shard ids as numbers (None: every shard, or no sharding)."""
        return [int(shard) for shard in self.shard_ids] or None


@dataclass(frozen=True, slots=True)
class LogSettings:
    """How log lines are written (to stderr)."""

    format: str = _setting("text", choices=("text", "json"))
    """``text`` for people, ``json`` for one JSON object per line (log collectors)."""


@dataclass(frozen=True, slots=True)
class OpsSettings:
    """What an operator's tooling reads: metrics, health and the heartbeat."""

    listen: str = ""
    """``host:port`` serving ``/metrics`` and ``/healthz`` (empty: off)."""
    heartbeat_seconds: float = _setting(15.0, low=1, high=3600)
    """How often a running process records that it is alive (``newsbot health`` reads it)."""

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """``listen`` as (host, port), or None when off."""
        if not self.listen:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """A feed URL or a local folder of article files."""

    url: str
    name: str | None = None
    """None: the feed's own title names it."""
    extract_full_text: bool = False
    interval_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything newsbot is configured with."""

    data_dir: Path = Path("data")
    database_url: str = ""
    log_level: str = _setting("INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    fetch: FetchSettings = field(default_factory=FetchSettings)
    parse: ParseSettings = field(default_factory=ParseSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    briefing: BriefingSettings = field(default_factory=BriefingSettings)
    poll: PollSettings = field(default_factory=PollSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    follows: FollowSettings = field(default_factory=FollowSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    discord: DiscordShardSettings = field(default_factory=DiscordShardSettings)
    log: LogSettings = field(default_factory=LogSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)
    sources: tuple[SourceSettings, ...] = ()
    dev_guild_id: int = _setting(0, low=0)
    """Sync slash commands to this guild only (development); 0 syncs them globally."""
    config_path: Path | None = None

    @property
    def effective_database_url(self) -> str:
        """``database_url``, or an SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'newsbot.db'}"


_SECTIONS: dict[str, type] = {
    "fetch": FetchSettings,
    "parse": ParseSettings,
    "summary": SummarySettings,
    "briefing": BriefingSettings,
    "poll": PollSettings,
    "limits": LimitSettings,
    "alerts": AlertSettings,
    "follows": FollowSettings,
    "retention": RetentionSettings,
    "discord": DiscordShardSettings,
    "log": LogSettings,
    "ops": OpsSettings,
}
_TOP_LEVEL = ("data_dir", "database_url", "log_level", "dev_guild_id")
_EMBEDDED_SOURCES = ({"name": "seeds", "path": "seeds"},)


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """Where and as whom the Discord transport connects; from the environment only."""

    token: str
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"


def load_discord_settings(environ: Mapping[str, str] | None = None) -> DiscordSettings | None:
    """``DISCORD_TOKEN`` and friends; None when no token is set (the console runs instead)."""
    env = os.environ if environ is None else environ
    if "DISCORD_TOKEN" not in env:
        return None
    token = env["DISCORD_TOKEN"].strip()
    if not token:
        raise ConfigError("DISCORD_TOKEN", "is set but empty; unset it to use the console")
    if not token.isprintable() or any(c.isspace() for c in token):
        raise ConfigError("DISCORD_TOKEN", "contains a line break, space or control character")
    defaults = DiscordSettings(token=token)
    api_base = env.get("DISCORD_API_BASE", defaults.api_base).strip().rstrip("/")
    gateway_url = env.get("DISCORD_GATEWAY_URL", defaults.gateway_url).strip()
    if not api_base.startswith(("http://", "https://")):
        raise ConfigError("DISCORD_API_BASE", f"expected an http(s) URL, got {api_base!r}")
    if not gateway_url.startswith(("ws://", "wss://")):
        raise ConfigError("DISCORD_GATEWAY_URL", f"expected a ws(s) URL, got {gateway_url!r}")
    for key, url in (("DISCORD_API_BASE", api_base), ("DISCORD_GATEWAY_URL", gateway_url)):
        try:
            parts = urlsplit(url)
            valid = bool(parts.hostname) and (parts.port or 0) >= 0 and url.isprintable()
        except ValueError:
            valid = False
        if not valid:
            raise ConfigError(key, f"is not a valid URL: {url!r}")
    return DiscordSettings(token=token, api_base=api_base, gateway_url=gateway_url)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the config file and environment; raise :class:`ConfigError` naming the bad key."""
    env = os.environ if environ is None else environ
    explicit = env.get("NEWSBOT_CONFIG")
    path = Path(explicit) if explicit else DEFAULT_CONFIG_PATH
    if path.is_file():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(str(path), f"cannot read TOML: {error}") from error
        base_dir = path.resolve().parent
    elif explicit:
        raise ConfigError("NEWSBOT_CONFIG", f"no config file at {path}")
    else:
        document, base_dir, path = {"sources": list(_EMBEDDED_SOURCES)}, Path.cwd(), None
    return _build(document, env, base_dir, path)


def _build(
    document: dict[str, Any], env: Mapping[str, str], base_dir: Path, path: Path | None
) -> Settings:
    known = set(_TOP_LEVEL) | set(_SECTIONS) | {"sources"}
    for key in document:
        if key not in known:
            raise ConfigError(key, "unknown key")
    values: dict[str, Any] = {}
    for name in _TOP_LEVEL:
        spec = _field(Settings, name)
        values[name] = _read(spec, name, document.get(name), env.get(ENV_PREFIX + name.upper()))
    values["data_dir"] = _resolve_path(
        values["data_dir"], base_dir, from_env=ENV_PREFIX + "DATA_DIR" in env
    )
    for section, cls in _SECTIONS.items():
        table = document.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(section, "expected a table")
        names = {f.name for f in dataclasses.fields(cls)}
        for key in table:
            if key not in names:
                raise ConfigError(f"{section}.{key}", "unknown key")
        section_values = {
            f.name: _read(
                f,
                f"{section}.{f.name}",
                table.get(f.name),
                env.get(f"{ENV_PREFIX}{section.upper()}__{f.name.upper()}"),
            )
            for f in dataclasses.fields(cls)
        }
        values[section] = cls(**section_values)
    values["sources"] = _sources(document.get("sources", []), env, base_dir)
    _check_listen(values["ops"].listen)
    _check_fetch(values["fetch"])
    poll = values["poll"]
    if poll.min_interval_minutes > poll.max_interval_minutes:
        raise ConfigError("poll.min_interval_minutes", "must not exceed poll.max_interval_minutes")
    _check_shards(values["discord"])
    return Settings(**values, config_path=path)


def _check_shards(shards: DiscordShardSettings) -> None:
    for shard in shards.shard_ids:
        if not shard.isdigit():
            raise ConfigError("discord.shard_ids", f"expected shard numbers, got {shard!r}")
        if int(shard) >= shards.shard_count:
            raise ConfigError(
                "discord.shard_ids",
                f"shard {shard} does not exist with shard_count = {shards.shard_count}",
            )


def _check_listen(listen: str) -> None:
    """``ops.listen`` must be empty or ``host:port`` with a port from 1 to 65535."""
    if not listen:
        return
    host, colon, port = listen.rpartition(":")
    if not (colon and host and port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ConfigError("ops.listen", f"expected host:port (e.g. 127.0.0.1:9464), got {listen!r}")


def _check_fetch(fetch: FetchSettings) -> None:
    """Values the fetcher would only refuse later: a User-Agent HTTP cannot carry, and
    ``allow_networks`` entries that are not networks or address:port pairs."""
    agent = fetch.user_agent
    if not agent or len(agent) > _MAX_USER_AGENT or not all(" " <= ch <= "~" for ch in agent):
        raise ConfigError(
            "fetch.user_agent",
            f"expected 1 to {_MAX_USER_AGENT} printable ASCII characters, got {agent!r}",
        )
    from bot.pipeline.netguard import parse_allow_entry  # stdlib only: cheap

    for entry in fetch.allow_networks:
        try:
            parse_allow_entry(entry)
        except ValueError as error:
            raise ConfigError("fetch.allow_networks", str(error)) from None


def _field(cls: type, name: str) -> dataclasses.Field[Any]:
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def _read(spec: dataclasses.Field[Any], key: str, file_value: Any, env_value: str | None) -> Any:
    """The setting's value from the environment, else the file, else its default, validated."""
    kind = _annotation(spec)
    if env_value is not None:
        value = _from_env(kind, env_value, key)
    elif file_value is not None:
        value = _from_toml(kind, file_value, key)
    elif spec.default is not dataclasses.MISSING:
        return spec.default
    else:
        return spec.default_factory()  # type: ignore[misc]
    return _check_bounds(spec, key, value)


def _annotation(spec: dataclasses.Field[Any]) -> Any:
    kind = spec.type
    if isinstance(kind, str):
        kind = {
            "float": float,
            "int": int,
            "str": str,
            "bool": bool,
            "Path": Path,
            "tuple[str, ...]": tuple,
        }.get(kind, kind)
    if typing.get_origin(kind) is tuple:
        return tuple
    return kind


def _from_env(kind: Any, raw: str, key: str) -> Any:
    text = raw.strip()
    if kind is tuple:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    if kind is bool:
        return _parse_bool(text, key)
    return _from_toml(kind, text, key, from_text=True)


def _from_toml(kind: Any, value: Any, key: str, *, from_text: bool = False) -> Any:
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            raise TypeError
        if kind is int:
            if isinstance(value, bool) or not (isinstance(value, int) or from_text):
                raise TypeError
            return int(value)
        if kind is float:
            if isinstance(value, bool) or not (isinstance(value, (int, float)) or from_text):
                raise TypeError
            number = float(value)
            if not math.isfinite(number):  # NaN passes every bound check; infinity is no bound
                raise ValueError
            return number
        if kind is tuple:
            if isinstance(value, str):
                return _from_env(tuple, value, key)
            if not isinstance(value, list) or not all(
                isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
            ):
                raise TypeError
            return tuple(str(v) for v in value)
        if kind in (str, Path):
            if not isinstance(value, str):
                raise TypeError
            return kind(value)
    except (TypeError, ValueError):
        pass
    expected = {
        bool: "true or false",
        int: "an integer",
        float: "a finite number",
        tuple: "a list of strings",
        str: "a string",
        Path: "a path",
    }.get(kind, str(kind))
    raise ConfigError(key, f"expected {expected}, got {value!r}")


def _parse_bool(text: str, key: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(key, f"expected true or false, got {text!r}")


def _check_bounds(spec: dataclasses.Field[Any], key: str, value: Any) -> Any:
    low, high = spec.metadata.get("low"), spec.metadata.get("high")
    choices = spec.metadata.get("choices") or ()
    if low is not None and value < low:
        raise ConfigError(key, f"must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(key, f"must be at most {high}, got {value}")
    if choices:
        normalised = value.upper() if key == "log_level" else value
        if normalised not in choices:
            raise ConfigError(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return normalised
    return value


def _resolve_path(value: Path, base_dir: Path, *, from_env: bool) -> Path:
    value = value.expanduser()
    if value.is_absolute():
        return value
    return ((Path.cwd() if from_env else base_dir) / value).resolve()


def _sources(raw: Any, env: Mapping[str, str], base_dir: Path) -> tuple[SourceSettings, ...]:
    override = env.get(ENV_PREFIX + "SOURCES")
    if override is not None:
        entries: list[dict[str, Any]] = [
            {"url" if _is_http(part) else "path": part}
            for part in (piece.strip() for piece in override.split(","))
            if part
        ]
        base_dir = Path.cwd()
    elif isinstance(raw, list) and all(isinstance(entry, dict) for entry in raw):
        entries = raw
    else:
        raise ConfigError("sources", "expected an array of tables ([[sources]])")
    return tuple(
        _source(entry, f"sources[{index}]", base_dir) for index, entry in enumerate(entries)
    )


def _is_http(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def _source(entry: dict[str, Any], key: str, base_dir: Path) -> SourceSettings:
    allowed = {"url", "path", "name", "extract_full_text", "interval_minutes"}
    for name in entry:
        if name not in allowed:
            raise ConfigError(f"{key}.{name}", "unknown key")
    url, local = entry.get("url"), entry.get("path")
    if (url is None) == (local is None):
        raise ConfigError(key, "give exactly one of url or path")
    if url is not None and not (isinstance(url, str) and _is_http(url)):
        raise ConfigError(f"{key}.url", f"expected an http(s) URL, got {url!r}")
    if local is not None:
        if not isinstance(local, str) or not local:
            raise ConfigError(f"{key}.path", f"expected a folder path, got {local!r}")
        url = str(_resolve_path(Path(local), base_dir, from_env=False))
    name = entry.get("name") or None
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"{key}.name", f"expected a string, got {name!r}")
    full_text = entry.get("extract_full_text", False)
    if not isinstance(full_text, bool):
        raise ConfigError(f"{key}.extract_full_text", f"expected true or false, got {full_text!r}")
    interval = entry.get("interval_minutes")
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= 10080
    ):
        raise ConfigError(
            f"{key}.interval_minutes", f"expected minutes between 1 and 10080, got {interval!r}"
        )
    return SourceSettings(
        url=url, name=name, extract_full_text=full_text, interval_minutes=interval
    )
