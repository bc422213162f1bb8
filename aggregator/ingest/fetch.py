"""Polling: fetch the due feeds concurrently, parse, store, and record each feed's health and schedule.

    due feeds (one short read)  ->  fetch (async, bounded)  ->  unchanged? (304 / same body hash)
        -> parse (process pool on all cores)  ->  store + health (one transaction per feed)

No database session is open while a request is in flight. One feed's failure is recorded on that feed
and the run goes on; :class:`PollSummary` names every failed feed and why.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import multiprocessing
import os
import random
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..config import Config
from ..db import Database
from ..db.models import Feed
from ..db.states import FeedStatus
from ..errors import DatabaseError, FeedNotFoundError, FetchError, ParseError
from .feeds import assign_outlet
from .http import PERMANENT_REDIRECTS, Fetcher, FetchOptions, Redirect, Response
from .parse import FeedData, die_with, parse_feed, parse_feed_timed
from .schedule import next_fetch_after_error, next_fetch_after_success, parse_max_age, parse_retry_after
from .store import store_entries

log = logging.getLogger(__name__)

INLINE_PARSES = 8  # bodies parsed in this process before a process pool is started


@dataclass(frozen=True)
class FeedSnapshot:
    """What a fetch needs from the stored feed, read before any request is made."""

    id: int
    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None


@dataclass
class FeedOutcome:
    url: str
    state: str  # "updated", "not_modified", "unchanged", "error", "gone"
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    entries: int = 0
    error: str | None = None
    status_code: int | None = None
    permanent: bool = False  # the error is one a retry soon cannot fix (FetchError.permanent)


@dataclass
class PollSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    parsed_in_pool: int = 0  # bodies parsed by worker processes (the rest in this process)
    pool_cpu_seconds: float = 0.0  # CPU the workers spent parsing them (they are not our children)

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [(o.url, o.error or o.state) for o in self.outcomes if o.state in ("error", "gone")]

    @property
    def new(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def updated(self) -> int:
        return sum(o.updated for o in self.outcomes)

    @property
    def entries(self) -> int:
        return sum(o.entries for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        return {
            "feeds": len(self.outcomes),
            "parsed": self.count("updated"),
            "not_modified": self.count("not_modified"),
            "unchanged": self.count("unchanged"),
            "failed": len(self.failed),
            "entries": self.entries,
            "new": self.new,
            "updated": self.updated,
        }

    def line(self) -> str:
        text = (
            f"fetched {len(self.outcomes)} feeds: {self.count('updated')} parsed, "
            f"{self.count('not_modified')} not modified, {self.count('unchanged')} unchanged, "
            f"{len(self.failed)} failed; {self.new} new articles, {self.updated} updated"
        )
        if self.failed:
            text += "; failed: " + "; ".join(f"{url} ({why})" for url, why in self.failed)
        return text


Progress = Callable[[FeedOutcome, int, int], None]  # (outcome, done, total)


def due_feeds(
    session: Session, now: datetime, *, all: bool = False, feed_url: str | None = None
) -> list[Feed]:
    if feed_url is not None:
        feed = session.scalar(select(Feed).where(Feed.url == feed_url))
        if feed is None:
            raise FeedNotFoundError(feed_url, "no such feed (see `aggregator feeds list`)")
        return [feed]
    stmt = select(Feed).where(Feed.status == FeedStatus.ACTIVE).order_by(Feed.id)
    if not all:
        stmt = stmt.where(or_(Feed.next_fetch_at.is_(None), Feed.next_fetch_at <= now))
    return list(session.scalars(stmt))


def fetch_feeds(
    db: Database,
    config: Config,
    now: datetime,
    *,
    all: bool = False,
    feed_url: str | None = None,
    progress: Progress | None = None,
    rng: random.Random | None = None,
) -> PollSummary:
    """Poll the due feeds (``all``: every active feed; ``feed_url``: that one feed, whatever its state)."""
    with db.session() as s:
        snapshots = [
            FeedSnapshot(f.id, f.url, f.etag, f.last_modified, f.content_hash)
            for f in due_feeds(s, now, all=all, feed_url=feed_url)
        ]
    if not snapshots:
        return PollSummary()
    poller = _Poller(db, config, now, rng or random.Random(), progress, total=len(snapshots))
    return asyncio.run(poller.run(snapshots))


def parser_pool(workers: int) -> ProcessPoolExecutor:
    """Processes for parsing feed bodies, which die with this process (:func:`~.parse.die_with`).

    forkserver: this process runs threads and must not fork itself; the fork server starts once with only the
    parser imported, and each worker forks from it (cheap, nothing else loaded).
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["aggregator.ingest.parse"])
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=die_with, initargs=(os.getpid(),))


def _parse_workers(config: Config, feeds: int) -> int:
    workers = config.fetch.parse_workers or os.cpu_count() or 1
    return max(1, min(workers, feeds))


class _Poller:
    def __init__(
        self,
        db: Database,
        config: Config,
        now: datetime,
        rng: random.Random,
        progress: Progress | None,
        total: int,
    ) -> None:
        self.db = db
        self.config = config
        self.now = now
        self.rng = rng
        self.progress = progress
        self.total = total
        self.summary = PollSummary()
        # Set by the first feed that finds the database unusable (damaged, read-only, disk full): the other
        # feeds are not polled, and the step fails with that one error instead of one per feed.
        self.stopped: DatabaseError | None = None
        self.workers = _parse_workers(config, total)
        self._pool: Executor | None = None
        self._parses = 0
        self.interval = timedelta(minutes=config.fetch.interval_minutes)
        self.cap = timedelta(hours=config.fetch.backoff_max_hours)

    async def run(self, snapshots: Sequence[FeedSnapshot]) -> PollSummary:
        options = FetchOptions.from_config(self.config.fetch)
        limit = asyncio.Semaphore(self.config.fetch.concurrency)
        try:
            async with Fetcher(options) as fetcher:
                await asyncio.gather(*(self._one(fetcher, limit, snap) for snap in snapshots))
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        if self.stopped is not None:
            raise self.stopped
        return self.summary

    def _pool_for_parsing(self) -> Executor | None:
        if self.workers <= 1:
            return None
        if self._pool is None:
            self._pool = parser_pool(self.workers)
        return self._pool

    async def _one(self, fetcher: Fetcher, limit: asyncio.Semaphore, snap: FeedSnapshot) -> None:
        try:
            async with limit:
                if self.stopped is not None:
                    return
                outcome = await self._poll(fetcher, snap)
        except DatabaseError as e:  # not this feed's problem: nothing more can be stored
            self.stopped = self.stopped or e
            return
        except Exception as e:  # the one broad catch: record on the feed, carry on with the rest
            log.exception("polling %s failed unexpectedly", snap.url)
            outcome = FeedOutcome(snap.url, "error", error=f"internal error: {type(e).__name__}: {e}")
            try:
                with self.db.session() as s:
                    self._record_error(s, snap, outcome.error or "", None)
            except Exception:
                log.exception("cannot record the error of %s", snap.url)
        self.summary.outcomes.append(outcome)
        if self.progress is not None:
            self.progress(outcome, len(self.summary.outcomes), self.total)

    async def _poll(self, fetcher: Fetcher, snap: FeedSnapshot) -> FeedOutcome:
        headers = {}
        if snap.etag:
            headers["If-None-Match"] = snap.etag
        if snap.last_modified:
            headers["If-Modified-Since"] = snap.last_modified
        try:
            response = await fetcher.get(snap.url, headers=headers)
        except FetchError as e:
            with self.db.session() as s:
                self._record_error(s, snap, e.reason, None, permanent=e.permanent)
            return FeedOutcome(snap.url, "error", error=e.reason, permanent=e.permanent)

        status = response.status
        if status == 410:
            with self.db.session() as s:
                self._record_gone(s, snap, response)
            return FeedOutcome(
                snap.url, "gone", error="410 Gone: the publisher removed this feed", status_code=410
            )
        if status >= 400 or status not in (200, 203, 304):
            reason = f"HTTP {status}" + (f" {_STATUS_TEXT.get(status, '')}".rstrip())
            with self.db.session() as s:
                self._record_error(s, snap, reason, response)
            return FeedOutcome(snap.url, "error", error=reason, status_code=status)
        if status == 304:
            with self.db.session() as s:
                self._record_success(s, snap, response, None, keep_validators=True)
            return FeedOutcome(snap.url, "not_modified", status_code=304)

        body_hash = hashlib.sha256(response.body).hexdigest()
        if body_hash == snap.content_hash:
            with self.db.session() as s:
                self._record_success(s, snap, response, None, body_hash=body_hash)
            return FeedOutcome(snap.url, "unchanged", status_code=status)

        try:
            data = await self._parse(response, snap.url)
        except ParseError as e:
            with self.db.session() as s:
                self._record_error(s, snap, e.reason, response)
            return FeedOutcome(snap.url, "error", error=e.reason, status_code=status)

        with self.db.session() as s:
            stored = store_entries(s, snap.id, data.entries, now=self.now)
            self._record_success(s, snap, response, data, body_hash=body_hash)
        return FeedOutcome(
            snap.url,
            "updated",
            new=stored.new,
            updated=stored.updated,
            duplicates=stored.duplicates,
            entries=len(data.entries),
            status_code=status,
        )

    async def _parse(self, response: Response, url: str) -> FeedData:
        headers = dict(response.headers)
        headers["content-location"] = response.final_url
        job = functools.partial(parse_feed, response.body, headers, url=url, now=self.now)
        self._parses += 1
        # The first few bodies are parsed here: starting worker processes costs more than a handful of
        # parses (a run where a few feeds changed, or a broken feed is re-parsed, never starts them).
        pool = self._pool_for_parsing() if self._parses > INLINE_PARSES else None
        if pool is None:
            return job()
        timed = functools.partial(parse_feed_timed, response.body, headers, url=url, now=self.now)
        self.summary.parsed_in_pool += 1
        try:
            data, cpu = await asyncio.get_running_loop().run_in_executor(pool, timed)
        except (BrokenProcessPool, OSError, RuntimeError) as e:
            # Parser processes cannot run here (or one died): parse in this process from now on.
            log.warning(
                "parser processes unavailable (%s: %s); parsing in the main process", type(e).__name__, e
            )
            self.workers = 1
            return job()
        self.summary.pool_cpu_seconds += cpu
        return data

    # Health and schedule ----------------------------------------------------------------------------------

    def _jitter(self) -> timedelta:
        return timedelta(seconds=self.rng.uniform(0, self.config.fetch.jitter_seconds))

    def _record_success(
        self,
        s: Session,
        snap: FeedSnapshot,
        response: Response,
        data: FeedData | None,
        *,
        body_hash: str | None = None,
        keep_validators: bool = False,
    ) -> None:
        feed = s.get_one(Feed, snap.id)
        now = self.now
        if keep_validators:  # 304: a validator sent with the 304 replaces the stored one
            feed.etag = response.header("etag") or feed.etag
            feed.last_modified = response.header("last-modified") or feed.last_modified
        else:
            feed.etag = response.header("etag")
            feed.last_modified = response.header("last-modified")
            feed.content_hash = body_hash
        if data is not None:
            if not feed.title and data.title:
                feed.title = data.title[:500]
            feed.site_url = data.site_url or feed.site_url
            assign_outlet(feed, own_title=data.title, entry_urls=[e.url for e in data.entries])
        feed.last_fetched_at = feed.last_success_at = now
        feed.consecutive_errors = 0
        if feed.status == FeedStatus.GONE:  # fetched on request (--feed) and back: poll it again
            feed.status = FeedStatus.ACTIVE
            log.info("feed %s answers again: no longer gone", feed.url)
        feed.last_status_code = response.status
        feed.next_fetch_at = next_fetch_after_success(
            now,
            interval=self.interval,
            ttl=data.ttl if data is not None else None,
            max_age=parse_max_age(response.header("cache-control")),
            retry_after=parse_retry_after(response.header("retry-after"), now),
            jitter=self._jitter(),
            cap=self.cap,
        )
        self._track_redirect(s, feed, response.history)

    def _record_error(
        self,
        s: Session,
        snap: FeedSnapshot,
        reason: str,
        response: Response | None,
        *,
        permanent: bool = False,
    ) -> None:
        feed = s.get_one(Feed, snap.id)
        now = self.now
        feed.last_fetched_at = feed.last_error_at = now
        feed.last_error = reason
        feed.consecutive_errors += 1
        feed.last_status_code = response.status if response is not None else None
        retry_after = None
        if response is not None and response.status in (429, 503):
            retry_after = parse_retry_after(response.header("retry-after"), now)
        feed.next_fetch_at = next_fetch_after_error(
            now,
            consecutive_errors=feed.consecutive_errors,
            interval=self.interval,
            cap=self.cap,
            retry_after=retry_after,
            jitter=self._jitter(),
            permanent=permanent,
        )
        log.warning(
            "feed %s: %s (%d in a row%s)",
            snap.url,
            reason,
            feed.consecutive_errors,
            "; permanent: next try after the longest backoff" if permanent else "",
        )
        if response is not None:
            self._track_redirect(s, feed, response.history)

    def _record_gone(self, s: Session, snap: FeedSnapshot, response: Response) -> None:
        feed = s.get_one(Feed, snap.id)
        feed.status = FeedStatus.GONE
        feed.last_fetched_at = feed.last_error_at = self.now
        feed.last_error = "410 Gone: the publisher removed this feed; it is kept but no longer polled"
        feed.last_status_code = 410
        feed.next_fetch_at = None
        log.warning("feed %s answered 410 Gone: marked gone, no longer polled", snap.url)

    def _track_redirect(self, s: Session, feed: Feed, history: Sequence[Redirect]) -> None:
        target = permanent_target(history)
        if target is None or target == feed.url:
            feed.redirect_url, feed.redirect_count = None, 0
            return
        if feed.redirect_url == target:
            feed.redirect_count += 1
        else:
            feed.redirect_url, feed.redirect_count = target, 1
        if feed.redirect_count < self.config.fetch.redirect_confirmations:
            return
        if s.scalar(select(Feed.id).where(Feed.url == target, Feed.id != feed.id)) is not None:
            log.warning(
                "feed %s moved permanently to %s, which is already stored as a feed", feed.url, target
            )
            return
        log.info(
            "feed %s moved permanently to %s (seen %d times): URL updated",
            feed.url,
            target,
            feed.redirect_count,
        )
        feed.url = target
        feed.redirect_url, feed.redirect_count = None, 0


def permanent_target(history: Sequence[Redirect]) -> str | None:
    """Where the leading run of permanent redirects (301/308) points; None when the first hop is not one.

    A temporary hop (302/307) ends the run: only what the publisher declared permanent moves a feed.
    """
    target = None
    for hop in history:
        if hop.status not in PERMANENT_REDIRECTS:
            break
        target = hop.location
    return target


_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

__all__ = ["FeedOutcome", "PollSummary", "due_feeds", "fetch_feeds", "permanent_target"]
