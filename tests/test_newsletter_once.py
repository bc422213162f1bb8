"""One digest, one delivery: concurrent senders and killed senders, each a real `aggregator` process, against a
real SMTP server (aiosmtpd) on 127.0.0.1 that counts what it receives."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from aggregator.db import Database
from aggregator.db.models import NewsletterSend
from tests.test_newsletter import fill, free_port

WAIT = 120  # seconds a test waits for something that must happen, before failing (not a timing assertion)


@dataclass
class Gate:
    """aiosmtpd handler that counts every message it is handed in full (at DATA's final dot), and can
    hold its answer until released, or drop the connection without answering."""

    received: list[bytes] = field(default_factory=list)
    hold: int = 0  # the next ``hold`` messages wait for ``release`` before the 250
    drop: bool = False  # close the connection instead of answering
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content)
        self.entered.set()
        if self.hold:
            self.hold -= 1
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        if self.drop:
            server.transport.close()
        return "250 OK"


@pytest.fixture
def gate() -> Iterator[tuple[Gate, int]]:
    handler = Gate()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    handler.release.set()
    controller.stop()


@pytest.fixture
def setup(
    tmp_path: Path, write_config: Callable[..., Path], run_cli: Callable[..., Any], gate: tuple[Gate, int]
) -> Iterator[tuple[Path, Database]]:
    _, port = gate
    path = write_config(
        {
            "newsletter": {
                "enabled": True,
                "delivery": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_security": "none",
                "smtp_timeout": 10.0,
                "sender": "digest@aggregator.test",
                "recipients": ["reader@aggregator.test"],
            },
            "site": {"base_url": "http://127.0.0.1:8000/"},
        }
    )
    assert run_cli(path, "init").exit_code == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}")
    fill(db, now=datetime.now(UTC))
    yield path, db
    db.dispose()


def start(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aggregator", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (where several processes matter; else the tests run it in-process)."""
    return subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def ledger(db: Database) -> list[NewsletterSend]:
    with db.session() as s:
        return list(s.query(NewsletterSend).order_by(NewsletterSend.id))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("newsletter", "--send"), ("newsletter", "--send")),
        (("run",), ("newsletter", "--send")),
        (("newsletter", "--send"), ("run",)),
    ],
    ids=["newsletter-newsletter", "run-newsletter", "newsletter-run"],
)
def test_a_second_sender_while_one_delivers_sends_nothing(
    setup: tuple[Path, Database],
    gate: tuple[Gate, int],
    run_cli: Callable[..., Any],
    first: tuple[str, ...],
    second: tuple[str, ...],
) -> None:
    config, db = setup
    server, _ = gate
    server.hold = 1
    a = start(config, *first)
    try:
        assert server.entered.wait(WAIT), "the first sender never reached DATA"
        b = cli(config, *second)  # while the first one waits for the server's answer
        assert "Traceback" not in b.stderr
        if second == ("run",):  # the cycle leaves the digest to the process delivering it
            assert b.returncode == 0, b.stdout + b.stderr
            assert "newsletter: skipped: another process is delivering the newsletter" in b.stderr
        else:  # asked for explicitly: a one-line error
            assert b.returncode == 1, b.stdout + b.stderr
            assert "Error: newsletter: failed: another process is delivering the newsletter" in b.stderr
    finally:
        server.release.set()
        out, err = a.communicate(timeout=WAIT)
    assert a.returncode == 0, out + err
    assert len(server.received) == 1
    rows = ledger(db)
    assert [(r.state, r.attempts) for r in rows if r.story_count] == [("sent", 1)]
    assert run_cli(config, "newsletter", "--send").exit_code == 0
    assert len(server.received) == 1


@pytest.mark.parametrize("answers", ["normally", "never"])
def test_a_sender_killed_before_the_answer_means_one_more_copy_in_all(
    setup: tuple[Path, Database], gate: tuple[Gate, int], run_cli: Callable[..., Any], answers: str
) -> None:
    """Killed after the server took the whole message, before its 250: the next run cannot know it arrived,
    delivers it once more, and then no later run delivers it again, even when the server never answers."""
    config, db = setup
    server, _ = gate
    server.hold = 1
    a = start(config, "newsletter", "--send")
    try:
        assert server.entered.wait(WAIT), "the sender never reached DATA"
    finally:
        a.send_signal(signal.SIGKILL)
        a.communicate(timeout=WAIT)
    server.release.set()
    assert len(server.received) == 1
    (row,) = [r for r in ledger(db) if r.story_count]
    assert (row.state, row.attempts) == ("sending", 1)  # the attempt was recorded before connecting

    server.drop = answers == "never"
    for _ in range(3):
        run_cli(config, "newsletter", "--send")
    assert len(server.received) == 2
    assert server.received[0] == server.received[1]  # the same bytes, Message-ID included
    (row,) = [r for r in ledger(db) if r.story_count]
    assert (row.state, row.attempts) == ("sent", 2)
    if answers == "never":
        assert row.last_error is not None and "counted as sent" in row.last_error


def test_an_answer_lost_after_data_is_delivered_once_more_not_every_run(
    setup: tuple[Path, Database], gate: tuple[Gate, int], run_cli: Callable[..., Any]
) -> None:
    """The server takes the message and drops the connection before answering, every time."""
    config, db = setup
    server, _ = gate
    server.drop = True
    first = run_cli(config, "newsletter", "--send")
    assert first.exit_code == 1 and "may have been delivered" in first.stdout, first.output
    (row,) = [r for r in ledger(db) if r.story_count]
    assert (row.state, row.attempts) == ("unconfirmed", 1)
    for _ in range(3):
        run_cli(config, "newsletter", "--send")
    assert len(server.received) == 2
    (row,) = [r for r in ledger(db) if r.story_count]
    assert (row.state, row.attempts) == ("sent", 2)
