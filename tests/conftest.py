"""Shared fixtures: real SQLite files created by the migrations, config files, the shared data folder."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from aggregator.cli import cli
from aggregator.config import Config, config_from_dict
from aggregator.db import Database, upgrade

from .httpserver import FeedServer

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the repository (publishers' text: read there, never copied in)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}: the real-feed and evaluation tests need it")
    return SHARED_DATA


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + re.sub("[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def dump_toml(data: dict[str, Any]) -> str:
    """Enough TOML for test configs: tables of scalars/lists, and [[feeds]]."""
    lines: list[str] = []
    for section, values in data.items():
        if section == "feeds":
            for feed in values:
                lines.append("[[feeds]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in feed.items()]
            continue
        lines.append(f"[{section}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # a broken helper should fail here, not in the code under test
    return text


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """write_config({"fetch": {...}, "feeds": [...]}) -> path of a config.toml whose data lives in tmp_path."""

    def write(data: dict[str, Any] | None = None, name: str = "config.toml") -> Path:
        merged: dict[str, Any] = {"storage": {"data_dir": str(tmp_path / "data")}}
        for key, value in (data or {}).items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
        path = tmp_path / name
        path.write_text(dump_toml(merged), encoding="utf-8")
        return path

    return write


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_from_dict({"storage": {"data_dir": str(tmp_path / "data")}}, "test", tmp_path)


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    """A real SQLite file in tmp_path, created by running the Alembic migrations."""
    database = Database(config.database_url)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """run_cli(config_path, "feeds", "list") invokes the real entry point in-process."""

    def run(config_path: Path | None, *args: str, input: str | None = None) -> Result:
        argv = (["--config", str(config_path)] if config_path else []) + list(args)
        return CliRunner().invoke(cli, argv, input=input, catch_exceptions=False)

    return run


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A real HTTP server on 127.0.0.1, port 0, with configurable routes and a request log."""
    with FeedServer() as server:
        yield server
