"""Migrations, schema checks and feed management against real SQLite files."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from aggregator.config import Config, FeedConfig
from aggregator.db import Database, Feed, check_schema, current_revision, head_revision, upgrade
from aggregator.db.engine import downgrade
from aggregator.db.models import Base
from aggregator.errors import FeedExistsError, FeedNotFoundError, InvalidFeedURLError, SchemaOutdatedError
from aggregator.ingest.feeds import add_feed, list_feeds, remove_feed, sync_config_feeds

from .conftest import NOW


def test_upgrade_to_head_and_downgrade_to_base(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    before, after = upgrade(db)
    assert before is None and after == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "feeds",
        "articles",
        "stories",
        "story_articles",
        "topics",
        "story_topics",
        "newsletter_sends",
    } <= tables
    downgrade(db, "base")
    assert current_revision(db.engine) is None
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
    upgrade(db)
    check_schema(db)


def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_pragmas(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_database_behind_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    with sqlite3.connect(path) as conn:  # pretend an older aggregator wrote it
        conn.execute("UPDATE alembic_version SET version_num = 'base_of_old_release'")
    with pytest.raises(SchemaOutdatedError, match="newer aggregator"):
        check_schema(db)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM alembic_version")
    with pytest.raises(SchemaOutdatedError, match="run `aggregator init`"):
        check_schema(db)


def test_cli_refuses_an_outdated_database_and_init_upgrades_it(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    config = write_config()
    result = run_cli(config, "status")
    assert result.exit_code == 1
    assert "has no aggregator schema yet: run `aggregator init`" in result.output

    assert "Created database" in run_cli(config, "init").output
    db_path = tmp_path / "data" / "aggregator.db"
    if len(_revisions()) > 1:  # step one migration back, as a database written by the previous release
        db = Database(f"sqlite:///{db_path}")
        downgrade(db, "-1")
        result = run_cli(config, "status")
        assert result.exit_code == 1
        assert "behind this version of aggregator" in result.output
        assert "run `aggregator init` to upgrade it" in result.output
        assert "Upgraded database" in run_cli(config, "init").output
    assert "is up to date" in run_cli(config, "init").output
    assert run_cli(config, "status").exit_code == 0


def _revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    from aggregator.db.engine import _alembic_config

    return [r.revision for r in ScriptDirectory.from_config(_alembic_config(None)).walk_revisions()]  # type: ignore[arg-type]


def test_feed_add_remove_and_errors(db: Database, config: Config) -> None:
    with db.session() as s:
        add_feed(s, "https://example.org/feed.xml", now=NOW, title="Example")
        with pytest.raises(FeedExistsError):
            add_feed(s, "https://example.org/feed.xml", now=NOW)
        with pytest.raises(InvalidFeedURLError, match="not a feed URL"):
            add_feed(s, "javascript:alert(1)", now=NOW)
        assert [f.title for f in list_feeds(s)] == ["Example"]
        assert remove_feed(s, "https://example.org/feed.xml", config=config, now=NOW).articles == 0
        with pytest.raises(FeedNotFoundError):
            remove_feed(s, "https://example.org/feed.xml", config=config, now=NOW)


def test_config_sync_adds_keeps_and_retires(db: Database) -> None:
    a, b = FeedConfig(url="https://a.example/rss", title="A"), FeedConfig(url="https://b.example/rss")
    with db.session() as s:
        add_feed(s, "https://cli.example/rss", now=NOW)
        result = sync_config_feeds(s, [a, b], now=NOW)
        assert result.added == [a.url, b.url]
    with db.session() as s:
        result = sync_config_feeds(s, [a], now=NOW)
        assert result.removed == [b.url]
        states = {f.url: (f.origin, f.status) for f in list_feeds(s)}
    assert states == {
        "https://a.example/rss": ("config", "active"),
        "https://b.example/rss": ("config", "removed"),
        "https://cli.example/rss": ("cli", "active"),
    }
    with db.session() as s:  # a config feed whose URL moved after redirects is still recognised
        feed = s.query(Feed).filter_by(url=a.url).one()
        feed.url = "https://a.example/new-rss"
    with db.session() as s:
        result = sync_config_feeds(s, [a, b], now=NOW)
        assert result.added == [] and result.reactivated == [b.url]
        assert len(list_feeds(s)) == 3


def test_times_round_trip_as_aware_utc(db: Database) -> None:
    with db.session() as s:
        add_feed(s, "https://example.org/feed.xml", now=NOW)
    with db.session() as s:
        (feed,) = list_feeds(s)
        assert feed.added_at == NOW and feed.added_at.tzinfo is not None
        with pytest.raises(Exception, match="naive datetime"):
            feed.next_fetch_at = datetime(2026, 1, 1)
            s.flush()


def test_cli_feeds_and_status(write_config: Callable[..., Path], run_cli: Callable[..., Any]) -> None:
    config = write_config({"feeds": [{"url": "https://a.example/rss", "title": "From config"}]})
    out = run_cli(config, "init").output
    assert "1 added" in out
    result = run_cli(config, "feeds", "add", "https://b.example/atom", "--title", "Mine", "--no-fulltext")
    assert result.exit_code == 0
    duplicate = run_cli(config, "feeds", "add", "https://b.example/atom")
    assert duplicate.exit_code == 1 and "already stored" in duplicate.output
    bad = run_cli(config, "feeds", "add", "ftp://b.example/atom")
    assert bad.exit_code == 1 and "not a feed URL" in bad.output
    listed = run_cli(config, "feeds", "list").output
    assert "From config" in listed and "Mine" in listed
    import json

    status = json.loads(run_cli(config, "status", "--json").output)
    assert status["counts"]["feeds"] == 2
    assert {f["state"] for f in status["feeds"]} == {"new"}
    assert "From config" in run_cli(config, "status").output
    removed = run_cli(config, "feeds", "remove", "https://b.example/atom")
    assert removed.exit_code == 0 and "Removed" in removed.output
    missing = run_cli(config, "feeds", "remove", "https://b.example/atom")
    assert missing.exit_code == 1 and "no such feed" in missing.output


def _at_0001_with_rows(tmp_path: Path, statements: list[str]) -> Database:
    """A database written by the first release (schema 0001), holding the rows the statements insert."""
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0001")
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    return db


def test_upgrade_from_0001_stores_the_facts_it_used_to_guess(tmp_path: Path) -> None:
    feed = (
        "INSERT INTO feeds (id, url, title, site_url, origin, status, added_at, consecutive_errors, "
        "redirect_count) VALUES (1, 'http://127.0.0.1:9/f.xml', 'Example', NULL, 'cli', 'active', "
        "'2026-11-01 00:00:00', 0, 0)"
    )
    article = (
        "INSERT INTO articles (id, feed_id, guid, title, summary, content, categories, published_at, "
        "fetched_at, extract_attempts) VALUES ({id}, 1, 'g{id}', 't', '', '', '[]', '{published}', "
        "'2026-11-02 10:00:00', 0)"
    )
    story = (
        "INSERT INTO stories (id, title, created_at, updated_at, first_published_at, last_published_at, "
        "article_count, source_count, state) VALUES ({id}, 't', '2026-11-02 10:00:00', '2026-11-02 10:00:00', "
        "'2026-11-02 08:00:00', '2026-11-02 08:00:00', 1, 1, '{state}')"
    )
    db = _at_0001_with_rows(
        tmp_path,
        [
            feed,
            article.format(id=1, published="2026-11-02 08:00:00"),  # dated by its feed
            article.format(id=2, published="2026-11-02 10:00:00"),  # the fetch time stood in for a date
            story.format(
                id=1, state='{"size": 2, "centroid": {"dam": 1.5}, "links": {"v": 1, "articles": 2}}'
            ),
            story.format(id=2, state='{"size": 1}'),
            story.format(id=3, state="null"),
            # rows that refer to the tables the migration rebuilds: they must survive it
            "UPDATE articles SET duplicate_of_id = 1 WHERE id = 2",
            "INSERT INTO story_articles (article_id, story_id, added_at, similarity) "
            "VALUES (1, 1, '2026-11-02 10:00:00', 1.0)",
        ],
    )
    upgrade(db)
    with db.engine.connect() as conn:
        dated = dict(conn.execute(text("SELECT id, dated FROM articles ORDER BY id")).all())
        members = [tuple(r) for r in conn.execute(text("SELECT article_id, story_id FROM story_articles"))]
        duplicate_of = conn.execute(text("SELECT duplicate_of_id FROM articles WHERE id = 2")).scalar()
        outlet = conn.execute(text("SELECT outlet_key, outlet, outlet_override FROM feeds")).one()
        states = {
            story_id: (_json(engine), _json(links))
            for story_id, engine, links in conn.execute(
                text("SELECT id, engine_state, links_state FROM stories ORDER BY id")
            )
        }
    assert dated == {1: True, 2: False}
    assert (members, duplicate_of) == ([(1, 1)], 1)
    assert tuple(outlet) == ("example", "Example", None)
    assert states == {
        1: ({"size": 2, "centroid": {"dam": 1.5}}, {"v": 1, "articles": 2}),
        2: ({"size": 1}, None),
        3: (None, None),
    }
    downgrade(db, "0001")
    with db.engine.connect() as conn:
        old = [_json(state) for (state,) in conn.execute(text("SELECT state FROM stories ORDER BY id"))]
    assert old == [{"size": 2, "centroid": {"dam": 1.5}, "links": {"v": 1, "articles": 2}}, {"size": 1}, None]
    upgrade(db)
    db.dispose()


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)
