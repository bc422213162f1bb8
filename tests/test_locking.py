from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import aggregator.db.engine
from aggregator.db import Database, Run, RunOutcome
from aggregator.errors import LockedError
from aggregator.run import pipeline
from aggregator.run.locking import lock_path_for, run_lock
from aggregator.run.records import last_runs, record_step

from .conftest import NOW


def test_second_holder_is_refused_at_once_and_lock_is_released(db: Database, tmp_path: Path) -> None:
    with (
        run_lock(db, tmp_path),
        pytest.raises(LockedError, match="another aggregator run is in progress"),
        run_lock(db, tmp_path),
    ):
        pass
    with run_lock(db, tmp_path):  # released after the block
        pass


def test_lock_held_by_another_process_and_freed_by_its_death(db: Database, tmp_path: Path) -> None:
    path = lock_path_for(db, tmp_path)
    assert path.name.endswith(".db.lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.write(fd, b'%d' % os.getpid())\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError, match=f"pid {holder.pid}"), run_lock(db, tmp_path):
            pass
    finally:
        holder.kill()  # SIGKILL: the kernel drops the flock with the process
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    for _ in range(50):
        try:
            with run_lock(db, tmp_path):
                return
        except LockedError:
            time.sleep(0.05)
    pytest.fail("the lock was not released when its holder was killed")


def test_record_step_keeps_outcome_and_counts(db: Database) -> None:
    with record_step(db, "fetch", lambda: NOW) as rec:
        rec.counts = {"feeds": 3}
    with pytest.raises(RuntimeError), record_step(db, "render", lambda: NOW):
        raise RuntimeError("disk full")
    with db.session() as s:
        runs = {r["step"]: r for r in last_runs(s)}
    assert runs["fetch"]["outcome"] == "ok" and runs["fetch"]["counts"] == {"feeds": 3}
    assert runs["render"]["outcome"] == "error" and "disk full" in runs["render"]["detail"]


def test_an_sqlite_uri_locks_beside_its_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data" / "aggregator.db"
    monkeypatch.chdir(tmp_path)
    uri = Database(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert lock_path_for(uri, tmp_path / "elsewhere") == Path(f"{path}.lock")
        with run_lock(uri, tmp_path / "elsewhere"):
            pass
    finally:
        uri.dispose()
    assert not (tmp_path / "file:").exists()  # not a folder named after the URI in the working directory


def test_running_records_of_dead_processes_are_marked_interrupted_at_the_next_start(db: Database) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    host = socket.gethostname()
    try:
        with db.session() as s:
            for owner in (f"{host}:{dead.pid}", f"{host}:{live.pid}", None, f"elsewhere.example:{dead.pid}"):
                s.add(Run(step="fetch", started_at=NOW, outcome=RunOutcome.RUNNING, owner=owner))
        with record_step(db, "render", lambda: NOW):
            with db.session() as s:
                during = {r.owner: r.outcome for r in s.query(Run)}
            assert during[f"{host}:{os.getpid()}"] == "running"  # this one is not touched while it runs
    finally:
        live.kill()
        live.wait()
    with db.session() as s:
        outcomes = {r.owner: r.outcome for r in s.query(Run)}
    assert outcomes == {
        f"{host}:{dead.pid}": "interrupted",
        None: "interrupted",  # a record from before owners were kept
        f"{host}:{live.pid}": "running",  # still going
        f"elsewhere.example:{dead.pid}": "running",  # another host: cannot be checked from here
        f"{host}:{os.getpid()}": "ok",
    }


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregator.db.engine, "SQLITE_BUSY_TIMEOUT_MS", 200)


@pytest.fixture
def cli_config(write_config: Callable[..., Path], run_cli: Callable[..., Any], tmp_path: Path) -> Path:
    path = write_config({"site": {"output_dir": str(tmp_path / "site")}})
    assert run_cli(path, "init").exit_code == 0
    return path


@contextmanager
def writer(path: Path) -> Iterator[None]:
    """Another process's write transaction, held for the block."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_locked_database_is_a_one_line_error_and_leaves_no_running_record(
    short_busy_timeout: None,
    cli_config: Path,
    run_cli: Callable[..., Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db_path = tmp_path / "data" / "aggregator.db"
    with writer(db_path):  # before the step: its record cannot even be written
        result = run_cli(cli_config, "render")
    assert result.exit_code == 1
    assert "render: failed: the database" in result.output and "is busy" in result.output
    assert "Traceback" not in result.output + caplog.text

    # The lock comes while the step runs: the step's end cannot be recorded.
    real = pipeline.STEP_FUNCTIONS["render"]
    held: list[Any] = []

    def render_then_lock(*args: Any, **kwargs: Any) -> Any:
        step = real(*args, **kwargs)
        held.append(writer(db_path))
        held[-1].__enter__()
        return step

    monkeypatch.setitem(pipeline.STEP_FUNCTIONS, "render", render_then_lock)
    result = run_cli(cli_config, "render")
    held[-1].__exit__(None, None, None)
    assert result.exit_code == 1 and "is busy" in result.output
    assert "Traceback" not in result.output + caplog.text
    monkeypatch.setitem(pipeline.STEP_FUNCTIONS, "render", real)
    assert run_cli(cli_config, "render").exit_code == 0
    with sqlite3.connect(db_path) as conn:
        outcomes = conn.execute("SELECT outcome FROM runs ORDER BY id").fetchall()
    assert outcomes == [("interrupted",), ("ok",)]
