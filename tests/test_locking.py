from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from aggregator.db import Database
from aggregator.errors import LockedError
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
