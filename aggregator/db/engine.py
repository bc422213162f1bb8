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
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
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


def problem(e: BaseException) -> str:
    """One line saying what went wrong, from a driver error wrapped by SQLAlchemy (without its SQL, its
    parameters and its "Background on this error" link) or any other exception."""
    cause = getattr(e, "orig", None) or e
    text = " ".join(str(cause).split()) or type(cause).__name__
    hint = next((h for key, h in _HINTS.items() if key in text), "")
    return text + hint


_HINTS = {
    "malformed": ": the file is damaged; restore it from a backup (or try `sqlite3 FILE .recover`)",
    "not a database": ": this file is not an SQLite database (check storage.database_url / data_dir)",
    "readonly": ": the database is read-only here (file or folder permissions, a read-only mount)",
    "disk is full": ": free some disk space and run again",
    "disk I/O error": ": the disk failed to read or write (full, unplugged or failing)",
}


def is_unusable(e: SQLAlchemyError) -> bool:
    """Whether ``e`` says the database cannot be used (damaged, read-only, full, unreachable), as opposed to a
    mistake in a statement (IntegrityError, ProgrammingError, ...: programming errors, left to propagate)."""
    return isinstance(e, OperationalError) or type(e) is SQLAlchemyDatabaseError


def _folder_for(path: Path) -> None:
    """Create the folder an SQLite file goes in, or say in one line why it cannot be."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DatabaseError(
            f"cannot put the database in {folder}: it is a file, not a folder (see storage.data_dir)"
        ) from None
    except OSError as e:
        raise DatabaseError(
            f"cannot create the folder {folder} for the database: {e.strerror or e} (see storage.data_dir)"
        ) from e
    if path.is_dir():
        raise DatabaseError(f"the database path {path} is a folder, not a file")


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
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _folder_for(Path(parsed.database))
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
        """A transaction. SQLite's "database is locked" (another writer held it past the busy timeout)
        becomes :class:`DatabaseBusyError`; a database that cannot be used (damaged, read-only, full)
        becomes :class:`DatabaseError`: both one line, not a traceback."""
        try:
            with self._sessions.begin() as s:
                yield s
        except OperationalError as e:
            if is_busy(e):
                raise DatabaseBusyError(
                    f"the database {self.describe()} is busy: another process kept it locked for more than "
                    f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s; nothing was written by this transaction, try again"
                ) from e
            raise DatabaseError(f"the database {self.describe()} cannot be used: {problem(e)}") from e
        except SQLAlchemyError as e:
            if not is_unusable(e):
                raise
            raise DatabaseError(f"the database {self.describe()} cannot be used: {problem(e)}") from e

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
    """Create or upgrade the schema; returns (revision before, revision after). A database written by a newer
    aggregator, or one that cannot be read or written, is refused in one line and left as it is."""
    try:
        before = current_revision(db.engine)
        if before is not None and not _known(db, before):
            raise SchemaOutdatedError(_newer_message(db, before))
        command.upgrade(_alembic_config(db.engine), revision)
        return before, current_revision(db.engine) or ""
    except SQLAlchemyError as e:
        raise DatabaseError(f"cannot create or upgrade the database {db.describe()}: {problem(e)}") from e


def downgrade(db: Database, revision: str = "base") -> None:
    command.downgrade(_alembic_config(db.engine), revision)


def _known(db: Database, revision: str) -> bool:
    script = ScriptDirectory.from_config(_alembic_config(db.engine))
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises its own CommandError for an unknown revision
        return False


def _newer_message(db: Database, revision: str) -> str:
    return (
        f"the database {db.describe()} is at revision {revision}, which this version of aggregator does not "
        f"know (it expects {head_revision()}); it was written by a newer aggregator: upgrade aggregator"
    )


def check_schema(db: Database) -> None:
    """Refuse a database that is missing, behind or ahead of this version's migrations."""
    try:
        current = current_revision(db.engine)
    except SQLAlchemyError as e:
        raise DatabaseError(f"cannot open the database {db.describe()}: {problem(e)}") from e
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutdatedError(
            f"the database {db.describe()} has no aggregator schema yet: run `aggregator init` to create it"
        )
    if not _known(db, current):
        raise SchemaOutdatedError(_newer_message(db, current))
    raise SchemaOutdatedError(
        f"the database {db.describe()} is at revision {current}, behind this version of aggregator ({head}): "
        "run `aggregator init` to upgrade it"
    )
