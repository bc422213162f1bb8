"""The one place that opens the database: engine settings, sessions, and the schema version check."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import DatabaseBusyError, DatabaseError, SchemaOutdatedError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the site, status) never block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed transaction
    cursor.close()


def is_busy(error: OperationalError) -> bool:
    """SQLite's answer when the busy timeout ran out waiting for another connection's lock."""
    text = str(error.orig)
    return "database is locked" in text or "database table is locked" in text


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout, and their folder is created."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError as e:
        raise DatabaseError(f"bad database URL {url!r}: {e}") from e
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as e:
        raise DatabaseError(f"cannot use database {parsed.render_as_string(hide_password=True)}: {e}") from e


class Database:
    """An engine and its session factory. ``with db.session() as s:`` commits on success, rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction; SQLite's "database is locked" (another writer held it past the busy timeout)
        becomes :class:`DatabaseBusyError`, a one-line error, not a traceback."""
        try:
            with self._sessions.begin() as s:
                yield s
        except OperationalError as e:
            if not is_busy(e):
                raise
            raise DatabaseBusyError(
                f"the database {self.describe()} is busy: another process kept it locked for more than "
                f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s; nothing was written by this transaction, try again"
            ) from e

    def describe(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("aggregator.migrations")))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Create or upgrade the schema; returns (revision before, revision after)."""
    before = current_revision(db.engine)
    try:
        command.upgrade(_alembic_config(db.engine), revision)
    except SQLAlchemyError as e:
        raise DatabaseError(f"upgrading {db.describe()} failed: {e}") from e
    return before, current_revision(db.engine) or ""


def downgrade(db: Database, revision: str = "base") -> None:
    command.downgrade(_alembic_config(db.engine), revision)


def check_schema(db: Database) -> None:
    """Refuse a database that is missing, behind or ahead of this version's migrations."""
    try:
        current = current_revision(db.engine)
    except SQLAlchemyError as e:
        raise DatabaseError(f"cannot open the database {db.describe()}: {e}") from e
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutdatedError(
            f"the database {db.describe()} has no aggregator schema yet: run `aggregator init` to create it"
        )
    script = ScriptDirectory.from_config(_alembic_config(db.engine))
    try:
        known = script.get_revision(current) is not None
    except Exception:  # alembic raises its own CommandError for an unknown revision
        known = False
    if not known:
        raise SchemaOutdatedError(
            f"the database {db.describe()} is at revision {current}, which this version of aggregator does not "
            f"know (it expects {head}); it was written by a newer aggregator: upgrade aggregator"
        )
    raise SchemaOutdatedError(
        f"the database {db.describe()} is at revision {current}, behind this version of aggregator ({head}): "
        "run `aggregator init` to upgrade it"
    )
