"""The daemon: APScheduler wiring only. The stages themselves are :mod:`aggregator.run.pipeline`'s.

One worker thread runs the jobs, so stages never overlap; missed runs are coalesced into one; the run lock is
held for the daemon's whole life, so cron runs and a second daemon exit at once. SIGTERM or SIGINT lets the step
in progress finish, then the daemon exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..config import Config
from ..db import Database
from .locking import run_lock
from .pipeline import STEPS, run_cycle

log = logging.getLogger(__name__)

POLL_STEPS = ("fetch", "extract", "cluster")


def build_scheduler(db: Database, config: Config, clock: Callable[[], datetime]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )

    def job(steps: tuple[str, ...]) -> Callable[[], None]:
        def run() -> None:
            result = run_cycle(db, config, clock, steps)
            log.info("cycle done: %s", result.line())

        return run

    # A full cycle at start, then each part on its own schedule.
    scheduler.add_job(job(STEPS), id="startup", name="full cycle at start", next_run_time=clock())
    scheduler.add_job(
        job(POLL_STEPS),
        IntervalTrigger(minutes=config.schedule.poll_minutes, timezone=UTC),
        id="poll",
        name="fetch, extract, cluster",
    )
    scheduler.add_job(
        job(("render",)),
        CronTrigger.from_crontab(config.schedule.render, timezone=UTC),
        id="render",
        name="render",
    )
    if config.newsletter.enabled:
        scheduler.add_job(
            job(("newsletter",)),
            CronTrigger.from_crontab(config.newsletter.schedule, timezone=UTC),
            id="newsletter",
            name="newsletter",
        )
    return scheduler


def run_daemon(
    db: Database,
    config: Config,
    clock: Callable[[], datetime],
    stop: threading.Event | None = None,
    prepare: Callable[[], None] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set); the step in progress finishes first.

    ``prepare`` runs once the run lock is held, before the scheduler starts (the CLI syncs the config's
    feeds there: nothing is written before the lock is taken)."""
    stop = stop or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: finishing the step in progress, then stopping", signal.Signals(signum).name)
        stop.set()

    with run_lock(db, config.data_dir):
        if prepare is not None:
            prepare()
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        scheduler = build_scheduler(db, config, clock)
        scheduler.start()
        log.info(
            "daemon started: polling every %d min, render %r, newsletter %s",
            config.schedule.poll_minutes,
            config.schedule.render,
            repr(config.newsletter.schedule) if config.newsletter.enabled else "off",
        )
        try:
            while not stop.wait(1.0):
                pass
        finally:
            scheduler.shutdown(wait=True)
            for s, handler in previous.items():
                signal.signal(s, handler)
            log.info("daemon stopped")
