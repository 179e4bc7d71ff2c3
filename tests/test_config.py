"""Configuration: file, environment overrides, and one clear message for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.core.errors import ConfigError
from tests.conftest import REPO, run_newsbot


def write(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return {"NEWSBOT_CONFIG": str(path)}


def test_repo_default_config_matches_embedded_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    from_file = load_settings({})
    assert from_file.config_path is not None
    assert from_file.sources[0].name == "seeds"
    assert Path(from_file.sources[0].url) == REPO / "seeds"
    assert from_file.data_dir == REPO / "data"
    assert from_file.effective_database_url == f"sqlite:///{REPO / 'data' / 'newsbot.db'}"


def test_no_file_means_embedded_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.config_path is None
    assert settings.sources[0].url == str(tmp_path / "seeds")
    assert settings.summary.sentences == 3


def test_environment_overrides_every_level(tmp_path: Path) -> None:
    env = write(tmp_path, "[fetch]\ndeadline = 30\n[briefing]\nhours = 12\n")
    env |= {
        "NEWSBOT_FETCH__DEADLINE": "15.5",
        "NEWSBOT_FETCH__ALLOW_NETWORKS": "10.0.0.0/8, 127.0.0.1:8097",
        "NEWSBOT_DATA_DIR": "/srv/newsbot",
        "NEWSBOT_DATABASE_URL": "sqlite:////tmp/x.db",
        "NEWSBOT_SUMMARY__SENTENCES": "4",
        "NEWSBOT_SOURCES": "https://news.example/rss, ./articles",
    }
    settings = load_settings(env)
    assert settings.fetch.deadline == 15.5
    assert settings.fetch.allow_networks == ("10.0.0.0/8", "127.0.0.1:8097")
    assert settings.briefing.hours == 12
    assert settings.data_dir == Path("/srv/newsbot")
    assert settings.effective_database_url == "sqlite:////tmp/x.db"
    assert settings.summary.sentences == 4
    assert [s.name for s in settings.sources] == [None, None]
    assert settings.sources[1].url == str(Path.cwd() / "articles")


@pytest.mark.parametrize(
    ("text", "env", "key"),
    [
        ("[fetch]\ndeadline = 'soon'\n", {}, "fetch.deadline"),
        ("[fetch]\nmax_redirects = 9\n", {}, "fetch.max_redirects"),
        ("[fetch]\ncolour = 1\n", {}, "fetch.colour"),
        ("bogus = 1\n", {}, "bogus"),
        ("", {"NEWSBOT_SUMMARY__SENTENCES": "many"}, "summary.sentences"),
        ("", {"NEWSBOT_SUMMARY__ALGORITHM": "gpt"}, "summary.algorithm"),
        ("[[sources]]\nurl = 'ftp://x.example/feed'\n", {}, "sources[0].url"),
        ("[[sources]]\nname = 'nothing'\n", {}, "sources[0]"),
        ("[summary\n", {}, "c.toml"),
        ("", {"NEWSBOT_SUMMARY__LANGUAGE": "klingon"}, "summary.language"),
        ("", {"NEWSBOT_SUMMARY__LANGUAGE": "greek"}, "summary.language"),  # needs a package
        ("", {"NEWSBOT_FETCH__USER_AGENT": "newsbot\r\nX-Evil: 1"}, "fetch.user_agent"),
        ("[fetch]\nuser_agent = 'bot é'\n", {}, "fetch.user_agent"),
        ("", {"NEWSBOT_FETCH__ALLOW_NETWORKS": "10.0.0.0/33"}, "fetch.allow_networks"),
        ("[fetch]\nallow_networks = ['intranet']\n", {}, "fetch.allow_networks"),
    ],
)
def test_invalid_values_name_the_key(
    tmp_path: Path, text: str, env: dict[str, str], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text) | env)
    assert key in str(caught.value)


def test_missing_named_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEWSBOT_CONFIG"):
        load_settings({"NEWSBOT_CONFIG": str(tmp_path / "absent.toml")})


@pytest.mark.parametrize(
    ("source", "value"),
    [("toml", "nan"), ("toml", "inf"), ("env", "NaN"), ("env", "-Infinity")],
)
def test_nan_and_infinity_are_refused_with_one_line(
    tmp_path: Path, source: str, value: str
) -> None:
    env = write(tmp_path, f"[fetch]\ndeadline = {value}\n" if source == "toml" else "")
    if source == "env":
        env["NEWSBOT_FETCH__DEADLINE"] = value
    with pytest.raises(ConfigError) as refused:
        load_settings(env)
    assert str(refused.value).startswith("config error in fetch.deadline: expected a finite")


@pytest.mark.slow
def test_cli_reports_bad_config_with_status_2(tmp_path: Path) -> None:
    env = write(tmp_path, "[fetch]\ndeadline = 'soon'\n")
    result = run_newsbot(["brief"], env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newsbot: config error in fetch.deadline: expected a finite number, got 'soon'"
    ]


def test_every_key_is_documented_in_the_readme_and_the_default_config() -> None:
    import dataclasses
    import tomllib

    from bot.config import Settings

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    default = tomllib.loads((REPO / "config" / "newsbot.toml").read_text(encoding="utf-8"))
    for top in dataclasses.fields(Settings):
        if top.name in ("config_path", "sources"):
            continue
        if (
            dataclasses.is_dataclass(top.default_factory)
            if callable(top.default_factory)
            else False
        ):
            section = top.name
            for key in dataclasses.fields(top.default_factory):
                env = f"NEWSBOT_{section.upper()}__{key.name.upper()}"
                assert f"`{section}.{key.name}`" in readme, f"{section}.{key.name} not in README"
                assert env in readme
                assert key.name in default[section], f"{section}.{key.name} not in the config"
        else:
            assert f"`{top.name}`" in readme
            assert f"NEWSBOT_{top.name.upper()}" in readme
            assert top.name in default


def test_discord_shards_from_the_environment_and_the_file(tmp_path: Path) -> None:
    env = write(tmp_path, "[discord]\nshard_count = 4\nshard_ids = [2, 3]\n")
    assert load_settings(env).discord.shard_numbers == [2, 3]
    env |= {"NEWSBOT_DISCORD__SHARD_COUNT": "2", "NEWSBOT_DISCORD__SHARD_IDS": "0,1"}
    shards = load_settings(env).discord
    assert (shards.shard_count, shards.shard_numbers) == (2, [0, 1])
    assert load_settings({}).discord.shard_numbers is None


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ("0,2", "shard 2 does not exist with shard_count = 2"),
        ("0,one", "expected shard numbers, got 'one'"),
    ],
)
def test_a_shard_outside_the_count_is_refused(tmp_path: Path, ids: str, message: str) -> None:
    env = write(tmp_path, "") | {
        "NEWSBOT_DISCORD__SHARD_COUNT": "2",
        "NEWSBOT_DISCORD__SHARD_IDS": ids,
    }
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert str(error.value) == f"config error in discord.shard_ids: {message}"
