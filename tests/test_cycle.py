"""The full cycle under cron conditions: the run lock, kill -9 mid-run, and the daemon (real subprocesses)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aggregator.db import Database
from aggregator.demo.corpus import load_manifest, shifted_body
from aggregator.run.locking import run_lock

from .conftest import NOW
from .httpserver import FeedServer

MANIFEST = load_manifest()
GOOD_FEEDS = [f for f in MANIFEST.feeds if not f.broken]


def serve_demo(server: FeedServer, *, slow: str | None = None) -> list[dict[str, str]]:
    """Route every good demo feed (dates moved to end at NOW); ``slow`` trickles one byte per second."""
    feeds = []
    for feed in GOOD_FEEDS:
        path = f"/feeds/{feed.file}"
        body = shifted_body(feed, MANIFEST, NOW)
        if feed.file == slow:
            server.trickle(path, body, delay=1.0)
        else:
            server.route(path, body, content_type=feed.content_type)
        feeds.append({"url": server.url(path), "title": feed.title})
    return feeds


def cycle_config(write_config: Callable[..., Path], feeds: list[dict[str, str]], **extra: Any) -> Path:
    data: dict[str, Any] = {
        "fetch": {"allowed_networks": ["127.0.0.1/32"], "concurrency": 1, "jitter_seconds": 0},
        "fulltext": {"default": False},
        "feeds": feeds,
    }
    for key, value in extra.items():
        data.setdefault(key, {}).update(value)
    return write_config(data)


def aggregator(config: Path, *args: str, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aggregator", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def db_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_second_run_exits_at_once_while_one_holds_the_lock(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    config = cycle_config(write_config, serve_demo(feed_server))
    assert run_cli(config, "init").exit_code == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}")
    with run_lock(db, tmp_path):
        result = run_cli(config, "run")
    db.dispose()
    assert result.exit_code == 1
    assert "another aggregator run is in progress" in result.output
    assert feed_server.paths() == []  # it did nothing before giving up


@pytest.mark.parametrize("command", [("run",), ("fetch",), ("daemon",)])
def test_a_command_refused_by_the_lock_writes_nothing(
    write_config: Callable[..., Path],
    run_cli: Callable[..., Any],
    feed_server: FeedServer,
    tmp_path: Path,
    command: tuple[str, ...],
) -> None:
    """The lock is taken before any write: a feed added to the config since the last run is not stored by a
    run that then finds the lock taken (it used to be, and to wait on the holder's write transaction)."""
    feeds = serve_demo(feed_server)
    config = cycle_config(write_config, feeds[:1])
    assert run_cli(config, "init").exit_code == 0
    db_path = tmp_path / "data" / "aggregator.db"
    feeds_before = db_rows(db_path, "SELECT * FROM feeds")
    runs_before = db_rows(db_path, "SELECT * FROM runs")
    cycle_config(write_config, feeds[:2])  # one more feed in the config
    db = Database(f"sqlite:///{db_path}")
    with run_lock(db, tmp_path):
        result = run_cli(config, *command)
    db.dispose()
    assert result.exit_code == 1
    assert "another aggregator run is in progress" in result.output
    assert db_rows(db_path, "SELECT * FROM feeds") == feeds_before
    assert db_rows(db_path, "SELECT * FROM runs") == runs_before
    assert feed_server.paths() == []


def test_kill_9_mid_run_loses_nothing_and_the_next_run_completes(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    slow = GOOD_FEEDS[-1].file
    config = cycle_config(write_config, serve_demo(feed_server, slow=slow))
    assert run_cli(config, "init").exit_code == 0
    db_path = tmp_path / "data" / "aggregator.db"

    proc = aggregator(config, "run")
    try:
        deadline = time.monotonic() + 60
        while f"/feeds/{slow}" not in feed_server.paths():  # the other feeds are fetched and stored
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never reached the slow feed"
            time.sleep(0.05)
        time.sleep(0.5)
        stored_before_kill = db_rows(db_path, "SELECT feed_id, guid FROM articles")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert stored_before_kill, "nothing was committed before the slow feed"
    assert db_rows(db_path, "SELECT step, outcome FROM runs") == [("fetch", "running")]

    serve_demo(feed_server)  # the slow feed answers normally now
    result = run_cli(config, "run")
    assert result.exit_code == 0, result.output
    runs = db_rows(db_path, "SELECT step, outcome FROM runs ORDER BY id")
    assert runs[0] == ("fetch", "interrupted")  # the killed run's record, marked at the next start
    assert "running" not in {outcome for _, outcome in runs}, runs
    after = db_rows(db_path, "SELECT feed_id, guid FROM articles")
    assert set(stored_before_kill) <= set(after)  # nothing lost
    assert len(after) == len(set(after))  # nothing duplicated
    guids = {g for _, g in after}
    expected = {g for story in MANIFEST.stories for g in story.guids} | set(MANIFEST.singletons)
    assert guids == expected
    unclustered = db_rows(db_path, "SELECT count(*) FROM articles WHERE clustered_at IS NULL")
    assert unclustered == [(0,)]
    # Every article is in exactly one story.
    memberships = db_rows(db_path, "SELECT article_id, count(*) FROM story_articles GROUP BY article_id")
    assert len(memberships) == len(after) and all(n == 1 for _, n in memberships)


def test_daemon_completes_a_cycle_and_stops_cleanly_on_sigterm(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    config = cycle_config(
        write_config,
        serve_demo(feed_server),
        schedule={"poll_minutes": 1, "render": "* * * * *"},
        site={"output_dir": str(tmp_path / "site")},
    )
    assert run_cli(config, "init").exit_code == 0
    db_path = tmp_path / "data" / "aggregator.db"
    proc = aggregator(config, "-v", "daemon")
    try:
        deadline = time.monotonic() + 90
        while not db_rows(db_path, "SELECT 1 FROM runs WHERE step = 'render' AND outcome = 'ok'"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the daemon did not complete a cycle"
            time.sleep(0.2)
        second = run_cli(config, "run")  # one instance at a time: the daemon holds the lock
        assert second.exit_code == 1 and "another aggregator run is in progress" in second.output
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "received SIGTERM" in stderr and "daemon stopped" in stderr
    steps = {s for (s,) in db_rows(db_path, "SELECT DISTINCT step FROM runs WHERE outcome != 'running'")}
    assert {"fetch", "extract", "cluster", "render"} <= steps
    assert (tmp_path / "site" / "index.html").is_file()
    assert db_rows(db_path, "SELECT count(*) FROM articles")[0][0] > 0


@pytest.mark.parametrize("signame", ["SIGINT"])
def test_daemon_stops_on_sigint_too(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], feed_server: FeedServer, signame: str
) -> None:
    config = cycle_config(write_config, serve_demo(feed_server))
    assert run_cli(config, "init").exit_code == 0
    proc = aggregator(config, "-v", "daemon")
    try:
        deadline = time.monotonic() + 60
        while "daemon started" not in (proc.stderr.readline() if proc.stderr else ""):
            assert time.monotonic() < deadline and proc.poll() is None
        proc.send_signal(getattr(signal, signame))
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "daemon stopped" in stderr
