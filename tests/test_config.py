"""Bad configuration is refused with a message naming the file, the key, the value and what is allowed."""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from aggregator.config import SECTIONS, FeedConfig, Range, find_config_path, load_config, reference
from aggregator.errors import ConfigError

from .conftest import REPO_ROOT


def test_shipped_config_is_valid_and_lists_real_feeds() -> None:
    config = load_config(REPO_ROOT / "config.toml", environ={})
    assert len(config.feeds) >= 12
    assert all(f.url.startswith("https://") for f in config.feeds)
    assert config.database_url.startswith("sqlite:///")
    assert config.database_url.endswith("/data/aggregator.db")


def test_defaults_without_a_file() -> None:
    config = load_config(None, environ={})
    assert config.feeds == ()
    assert config.fetch.max_body_bytes == 15 * 1024 * 1024
    assert config.fulltext.default == "auto"


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        ({"fetch": {"timeout_seconds": 5}}, "fetch.timeout_seconds", "unknown key; allowed keys in [fetch]"),
        ({"fetchh": {}}, "fetchh", "unknown key; allowed top-level keys"),
        ({"fetch": {"concurrency": "many"}}, "fetch.concurrency", "must be a whole number, got 'many'"),
        ({"fetch": {"concurrency": 0}}, "fetch.concurrency", "0 is out of range (allowed: 1 to 1000)"),
        ({"fetch": {"deadline": float("inf")}}, "fetch.deadline", "must be a finite number, got inf"),
        ({"fetch": {"read_timeout": float("nan")}}, "fetch.read_timeout", "must be a finite number, got nan"),
        (
            {"fetch": {"max_body_bytes": 2**64}},
            "fetch.max_body_bytes",
            "18446744073709551616 is out of range (allowed: 1 to 4294967296)",
        ),
        ({"fetch": {"parse_workers": 100000}}, "fetch.parse_workers", "(allowed: 0 to 256)"),
        ({"newsletter": {"smtp_port": 70000}}, "newsletter.smtp_port", "(allowed: 1 to 65535)"),
        ({"fulltext": {"min_words": -1}}, "fulltext.min_words", "(allowed: 0 to 100000)"),
        ({"stories": {"join_probability": 1.5}}, "stories.join_probability", "(allowed: 0 to 1)"),
        (
            {"fetch": {"user_agent": "bot/1\r\nX-Injected: 1"}},
            "fetch.user_agent",
            "must not contain control characters (found '\\r')",
        ),
        ({"fetch": {"user_agent": "b" * 501}}, "fetch.user_agent", "is too long: at most 500 characters"),
        ({"newsletter": {"subject_prefix": "News\nBcc: x@y.z"}}, "newsletter.subject_prefix", "control"),
        ({"newsletter": {"list_id": "a\rb"}}, "newsletter.list_id", "control characters"),
        (
            {"newsletter": {"list_unsubscribe": "mailto:a@b\r\nX: y"}},
            "newsletter.list_unsubscribe",
            "control",
        ),
        ({"newsletter": {"smtp_host": "mail\n"}}, "newsletter.smtp_host", "control characters"),
        ({"newsletter": {"recipients": ["a@b.example\n"]}}, "newsletter.recipients", "control characters"),
        ({"site": {"title": "News\u0000"}}, "site.title", "control characters"),
        ({"feeds": [{"url": "https://a.example/rss", "title": "A\nB"}]}, "feeds[0].title", "control"),
        (
            {"fetch": {"allow_private_networks": "yes"}},
            "fetch.allow_private_networks",
            "must be true or false",
        ),
        (
            {"site": {"base_url": "ftp://example.org/"}},
            "site.base_url",
            "must be an absolute http:// or https://",
        ),
        (
            {"feeds": [{"url": "file:///etc/passwd"}]},
            "feeds[0].url",
            "must be an absolute http:// or https://",
        ),
        (
            {"feeds": [{"url": "https://a.example/rss", "fulltext": "sometimes"}]},
            "feeds[0].fulltext",
            "true, false",
        ),
        ({"feeds": [{"title": "no url"}]}, "feeds[0].url", "is required"),
        (
            {"feeds": [{"url": "https://a.example/rss"}, {"url": "https://a.example/rss"}]},
            "feeds[1].url",
            "already listed as feeds[0]",
        ),
        ({"newsletter": {"schedule": "every morning"}}, "newsletter.schedule", "not a valid cron expression"),
        ({"schedule": {"render": "61 * * * *"}}, "schedule.render", "not a valid cron expression"),
        (
            {"newsletter": {"smtp_security": "ssl"}},
            "newsletter.smtp_security",
            "must be one of 'starttls', 'tls'",
        ),
        (
            {"newsletter": {"recipients": ["not-an-address"]}},
            "newsletter.recipients",
            "is not an email address",
        ),
        ({"storage": {"database_url": "aggregator.db"}}, "storage.database_url", "SQLAlchemy URL"),
        ({"feeds": [{"url": "http://[::1/x"}]}, "feeds[0].url", "cannot be parsed (Invalid IPv6 URL)"),
        ({"feeds": [{"url": "http://[::1]x/"}]}, "feeds[0].url", "cannot be parsed (Invalid IPv6 URL)"),
        ({"feeds": [{"url": "https://a.example:99999/"}]}, "feeds[0].url", "cannot be parsed (Port out"),
        ({"site": {"base_url": "http://[::1/x"}}, "site.base_url", "cannot be parsed (Invalid IPv6 URL)"),
        ({"newsletter": {"list_unsubscribe": "https://[::1/u"}}, "newsletter.list_unsubscribe", "must be"),
    ],
)
def test_bad_values_name_file_key_and_value(
    write_config: Callable[..., Path], data: dict[str, Any], key: str, fragment: str
) -> None:
    path = write_config(data)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert fragment in message


def test_every_number_setting_has_a_range() -> None:
    """No number setting is left unbounded (a new one must say what it accepts), and the reference shows it."""
    for cls in [*SECTIONS.values(), FeedConfig]:
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            if hints[f.name] in (int, float):
                assert isinstance(f.metadata.get("check"), Range), f"{cls.__name__}.{f.name}"
    kinds = {key: kind for key, kind, _, _ in reference()}
    assert kinds["newsletter.smtp_port"] == "integer (1 to 65535)"
    assert kinds["fetch.deadline"] == "number (greater than 0, at most 86400)"


def test_header_strings_with_line_breaks_are_a_one_line_error_in_the_cli(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[newsletter]\nsender = "news@example.org"\nsubject_prefix = "Daily\\r\\nBcc: all@example.org"\n'
    )
    result = run_cli(path, "newsletter", "--dry-run")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {path}: newsletter.subject_prefix: 'Daily\\r\\nBcc: all@example.org' must not contain "
        "control characters (found '\\r')"
    ]


def test_missing_secret_variable_is_named(write_config: Callable[..., Path]) -> None:
    path = write_config(
        {
            "newsletter": {
                "enabled": True,
                "delivery": "smtp",
                "recipients": ["reader@example.org"],
                "smtp_username": "mailer",
                "password_env": "NEWS_SMTP_PASS",
            }
        }
    )
    with pytest.raises(
        ConfigError, match=r"newsletter.password_env: the environment variable NEWS_SMTP_PASS"
    ):
        load_config(path, environ={})
    config = load_config(path, environ={"NEWS_SMTP_PASS": "s3cret"})
    assert config.smtp_password({"NEWS_SMTP_PASS": "s3cret"}) == "s3cret"


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[fetch\nconcurrency = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.toml")


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.toml"
    path.write_text('[storage]\ndata_dir = "state"\n[site]\noutput_dir = "www"\n')
    config = load_config(path)
    assert config.data_dir == tmp_path / "sub" / "state"
    assert config.site_dir == tmp_path / "sub" / "www"


def test_config_file_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config_path(None, environ={}) is None
    (tmp_path / "config.toml").write_text("")
    assert find_config_path(None, environ={}) == Path("config.toml")
    assert find_config_path(None, environ={"AGGREGATOR_CONFIG": "/etc/agg.toml"}) == Path("/etc/agg.toml")
    assert find_config_path("x.toml", environ={"AGGREGATOR_CONFIG": "/etc/agg.toml"}) == Path("x.toml")


def test_cli_refuses_bad_config_without_touching_the_database(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    path = write_config({"fetch": {"concurrency": -1}})
    result = run_cli(path, "init")
    assert result.exit_code != 0
    assert "fetch.concurrency: -1 is out of range (allowed: 1 to 1000)" in result.output
    assert not (tmp_path / "data").exists()


def test_environment_variable_selects_the_config(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config({"site": {"base_url": "nope"}})
    monkeypatch.setenv("AGGREGATOR_CONFIG", str(path))
    result = run_cli(None, "status")
    assert result.exit_code != 0
    assert "site.base_url: 'nope' must be an absolute" in result.output


def test_a_bad_url_is_a_one_line_error_in_the_cli(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    good = write_config()
    assert run_cli(good, "init").exit_code == 0
    for args in (("feeds", "add", "http://[::1/x"), ("feeds", "add", "https://a.example:99999/rss")):
        result = run_cli(good, *args)  # catch_exceptions=False: a traceback fails the test
        assert result.exit_code == 1 and "not a feed URL" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    opml = tmp_path / "subs.opml"
    opml.write_text(
        "<opml version='2.0'><body><outline xmlUrl='http://[::1/x'/><outline xmlUrl='http://[::1]x/'/>"
        "<outline xmlUrl='https://ok.example/rss'/></body></opml>",
        encoding="utf-8",
    )
    result = run_cli(good, "feeds", "import", str(opml))
    assert result.exit_code == 0 and "Imported 1 feeds" in result.output
    assert result.output.count("skipped (invalid)") == 2
    bad = write_config({"feeds": [{"url": "http://[::1/x"}]}, name="bad.toml")
    result = run_cli(bad, "status")
    assert result.exit_code == 1 and "feeds[0].url" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_settings_of_the_old_story_engine_are_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[stories]\njoin_threshold = 0.3\nlate_penalty = 0.2\ntime_window_hours = 48\n")
    config = load_config(path, environ={})
    assert config.stories.time_window_hours == 48
    assert "stories.join_threshold is no longer used" in caplog.text
    assert "stories.late_penalty is no longer used" in caplog.text
