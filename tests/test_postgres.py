"""The same code on PostgreSQL: migrations, storage, clustering, links, rendering and the advisory lock.

A throwaway PostgreSQL cluster is started in a temporary folder on a unix socket (no TCP port at all); the test
skips with a reason when no PostgreSQL server binaries are installed (`.ci/run` installs Debian's).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from aggregator.config import config_from_dict
from aggregator.db import Database, check_schema, upgrade
from aggregator.db.models import Base, NewsletterSend, Run
from aggregator.errors import LockedError
from aggregator.ingest.feeds import sync_config_feeds
from aggregator.publish.mailer import DirTransport
from aggregator.publish.newsletter import run_newsletter
from aggregator.run.locking import newsletter_lock, run_lock
from aggregator.run.pipeline import run_cycle

from .conftest import NOW
from .httpserver import FeedServer
from .test_cycle import serve_demo


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) found: apt-get install postgresql")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("the psycopg driver is not installed (pip install '.[postgres]')")
    # Not under pytest's tmp folder: its parents are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="aggregator-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        os.chmod(root, 0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True, capture_output=True
    )
    options = f"-k {sock} -c listen_addresses='' -c fsync=off"
    # The server inherits pg_ctl's output: a log file, not a pipe (a pipe would never reach end of file).
    log = str(root / "server.log")
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-l", log, "-o", options, "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_full_cycle_on_postgresql(pg_url: str, feed_server: FeedServer, tmp_path: Path) -> None:
    feeds = serve_demo(feed_server)
    config = config_from_dict(
        {
            "storage": {"data_dir": str(tmp_path / "data"), "database_url": pg_url},
            "fetch": {"allowed_networks": ["127.0.0.1/32"], "jitter_seconds": 0},
            "fulltext": {"default": False},
            "site": {"output_dir": str(tmp_path / "site"), "top_hours": 14 * 24},
            "feeds": feeds,
        },
        "test",
        tmp_path,
        environ={},
    )
    db = Database(config.database_url)
    try:
        upgrade(db)
        check_schema(db)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        with db.session() as s:
            sync_config_feeds(s, config.feeds, now=NOW)
        with run_lock(db, config.data_dir):
            with pytest.raises(LockedError, match="advisory lock"), run_lock(db, config.data_dir):
                pass
            cycle = run_cycle(db, config, lambda: NOW, ("fetch", "cluster", "render"))
            again = run_cycle(db, config, lambda: NOW, ("fetch", "cluster"))
        assert [s.outcome for s in cycle.steps] == ["ok", "ok", "ok"], cycle.line()
        assert cycle.steps[0].counts["failed"] == 0 and "48 new articles" in cycle.steps[0].line
        assert again.steps[1].counts["articles"] == 0  # nothing clustered twice
        from sqlalchemy import text

        with db.engine.connect() as conn:
            stories = conn.execute(text("SELECT count(*) FROM stories WHERE merged_into_id IS NULL")).scalar()
            members = conn.execute(text("SELECT count(*) FROM story_articles")).scalar()
            # The links stage ran for every story (its lists may be empty: only specific storyline evidence lists).
            unlinked = conn.execute(
                text("SELECT count(*) FROM stories WHERE merged_into_id IS NULL AND links_state IS NULL")
            ).scalar()
            # The stories id sequence was moved past the engine's explicit ids.
            next_id = conn.execute(text("SELECT nextval(pg_get_serial_sequence('stories', 'id'))")).scalar()
            top = conn.execute(text("SELECT max(id) FROM stories")).scalar()
        assert members == 48 and stories and 0 < stories < 48
        assert unlinked == 0
        assert next_id is not None and top is not None and next_id > top
        assert (tmp_path / "site" / "index.html").is_file()

        # The newsletter: its own advisory lock, the claim's compare-and-set, the run records' owners.
        with newsletter_lock(db, config.data_dir):
            with (
                pytest.raises(LockedError, match="delivering the newsletter"),
                newsletter_lock(db, config.data_dir),
            ):
                pass
            with run_lock(db, config.data_dir):  # another key: both can be held
                pass
        mail = replace(config, newsletter=replace(config.newsletter, recipients=("reader@aggregator.test",)))
        result = run_newsletter(db, mail, NOW, DirTransport(tmp_path / "eml"))
        assert [o.state for o in result.outcomes] == ["sent"]
        assert len(list((tmp_path / "eml").glob("*.eml"))) == 1
        with db.session() as s:
            (row,) = s.query(NewsletterSend).all()
            assert (row.state, row.attempts, row.attempted_at) == ("sent", 1, NOW)
            assert {r.owner for r in s.query(Run)} == {f"{socket.gethostname()}:{os.getpid()}"}
    finally:
        with db.engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.dispose()
