"""Process locks: an OS file lock beside an SQLite database, an advisory lock on PostgreSQL.

:func:`run_lock` makes one run at a time (cron runs, the daemon, the writing step commands);
:func:`newsletter_lock` makes one newsletter delivery at a time, whoever runs it (`aggregator newsletter`
while a `run` or the daemon delivers), so a digest is never delivered by two processes at once.

A lock dies with its process (the kernel drops a flock; PostgreSQL drops a session's advisory lock when the
connection closes), so a process killed with SIGKILL never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url

from ..db import Database
from ..errors import LockedError, StateError

# Arbitrary constants: the advisory lock keys all aggregator processes agree on.
PG_LOCK_KEY = 0x61676772  # "aggr"
PG_NEWSLETTER_LOCK_KEY = 0x6E657773  # "news"


def lock_path_for(db: Database, fallback_dir: Path, suffix: str = ".lock") -> Path:
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = url.database
        if database.startswith("file:"):  # an SQLite URI (sqlite:///file:PATH?mode=ro&uri=true): its path
            database = unquote(urlsplit(database).path)
        return Path(database + suffix)
    return fallback_dir / f"aggregator{suffix}"


@contextmanager
def run_lock(db: Database, fallback_dir: Path) -> Iterator[None]:
    """Hold the run lock for the block; raise :class:`LockedError` at once if another process holds it."""
    with _process_lock(
        db, fallback_dir, ".lock", PG_LOCK_KEY, "another aggregator run is in progress", "run lock"
    ):
        yield


@contextmanager
def newsletter_lock(db: Database, fallback_dir: Path) -> Iterator[None]:
    """Hold the newsletter lock for the block; raise :class:`LockedError` at once if another process is
    delivering the newsletter."""
    with _process_lock(
        db,
        fallback_dir,
        ".newsletter.lock",
        PG_NEWSLETTER_LOCK_KEY,
        "another process is delivering the newsletter",
        "newsletter lock",
    ):
        yield


@contextmanager
def _process_lock(
    db: Database, fallback_dir: Path, suffix: str, pg_key: int, busy: str, name: str
) -> Iterator[None]:
    if db.engine.dialect.name == "postgresql":
        with _pg_lock(db, pg_key, busy):
            yield
        return
    path = lock_path_for(db, fallback_dir, suffix)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        what = "it is a folder" if path.is_dir() else (e.strerror or str(e))
        raise StateError(f"cannot open the {name} {path}: {what}") from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise LockedError(f"{busy} (pid {holder}, lock {path}); this one exits") from None
        try:  # who holds it, for the message of the next run; the lock itself is the flock
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as e:
            raise StateError(f"cannot write the {name} {path}: {e.strerror or e}") from e
        yield
    finally:
        os.close(fd)  # closing releases the flock


@contextmanager
def _pg_lock(db: Database, key: int, busy: str) -> Iterator[None]:
    with db.engine.connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            raise LockedError(f"{busy} (it holds the database's advisory lock); this one exits")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
