"""The full-text step: fetch the article page of summary-only entries and keep its main text.

Data flow (``aggregator extract``, and the full cycle after polling)::

    decide_articles    extract_status NULL -> pending (the feed's mode wants the page) | skipped
    due_articles       pending, whose extract_after has passed             -> [PageJob]
    for each job (fulltext.concurrency at once; per host: fetch.per_host_concurrency and
                  fulltext.per_host_delay between request starts):
        robots.txt     disallowed -> "skipped"; unreadable (unreachable, over the size cap, a redirect
                       loop...) -> rules unknown: a failure, retried later
        fetch page     our client: deadline, decoded size cap, address guard on every hop
        check          2xx and text/html or application/xhtml+xml, else a failure
        extract        trafilatura in a worker process with a time limit (aggregator.fulltext.worker)
        store          one short transaction per article: done, or a failure

A failure adds one to ``extract_attempts`` and sets ``extract_after`` (the retry time, doubling from
``fulltext.retry_minutes``); at ``fulltext.max_attempts`` attempts, or at once for a failure a retry
cannot fix (404, not HTML, too large), the article is failed. Nothing is silently dropped: every
article ends done, failed or skipped (:class:`~aggregator.db.states.ExtractStatus`) with the reason in
``extract_error``. No session is open
while a page is fetched or extracted, so the step can be stopped at any point and run again.

What changes on an article: ``extracted_text``, and ``language``, ``author``, ``image_url`` and the
publication time only where the feed lacked them; the feed's own title, summary and content stay.
Stories are not reshuffled: an article the story engine has already placed keeps its ``clustered_at``
(its story stays); one not yet clustered still has ``clustered_at`` NULL and is clustered with its
full text. The pipeline runs this step before clustering so that most articles arrive with it.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..config import Config
from ..db import Database
from ..db.models import Article, Feed
from ..db.states import ExtractStatus
from ..errors import ExtractError, FetchError
from ..ingest.http import PAGE_ACCEPT, Fetcher, FetchOptions, Response
from ..ingest.limits import AUTHOR_MAX, EXTRACTED_TEXT_MAX, cut, fitting_url
from ..ingest.robots import RobotsCache, host_key
from ..sanitize import html_to_text, safe_url
from .worker import Extracted, ExtractPool

log = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
MAX_RETRY_DELAY = timedelta(days=2)
MAX_CRAWL_DELAY = 30.0  # a robots.txt Crawl-delay above this is capped, not obeyed in full
DECIDE_BATCH = 500


# Pure decisions ---------------------------------------------------------------------------------------------


def fulltext_mode(feed_mode: str | None, default: str) -> str:
    """The feed's own mode, else ``fulltext.default``."""
    return feed_mode or default


def entry_word_count(summary: str | None, content: str | None) -> int:
    """Words of the entry's own text: its content, else its summary (as plain text)."""
    return max(len(html_to_text(content).split()), len(html_to_text(summary).split()))


def wants_page(mode: str, entry_words: int, min_words: int) -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    return entry_words < min_words


def retry_delay(attempts: int, base_minutes: float) -> timedelta:
    """Wait after the ``attempts``-th failure: base, 2 x base, 4 x base, ... at most two days."""
    minutes = base_minutes * 2.0 ** min(max(attempts - 1, 0), 30)
    return timedelta(minutes=min(minutes, MAX_RETRY_DELAY.total_seconds() / 60))


def media_type(content_type: str | None) -> tuple[str, str | None]:
    """("text/html", "utf-8") from a Content-Type header; ("", None) when absent."""
    if not content_type:
        return "", None
    msg = Message()
    msg["content-type"] = content_type
    charset = msg.get_param("charset")
    return msg.get_content_type().lower(), charset if isinstance(charset, str) else None


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DECLARED = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([a-z0-9_.:-]+)""",
    re.IGNORECASE,
)
# Text codecs Python has that are no web charset: a header naming one decodes nothing.
_NOT_CHARSETS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7"})
_SINGLE_BYTE_DEFAULTS = frozenset({"ascii", "iso8859-1", "cp1252"})  # what servers send when unconfigured


def _codec(name: str | None) -> str | None:
    """Python's name for a web charset label, or None (unknown, or a codec that is no charset)."""
    if not name:
        return None
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        return None
    # base64, rot13, zlib...: registered codecs that bytes.decode() refuses.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def declared_charset(body: bytes) -> str | None:
    """The document's own encoding: <meta charset>, <meta http-equiv ... charset=>, or <?xml encoding=?>
    in its first 4 KiB (HTML's prescan reads 1 KiB; long heads are common)."""
    found = _DECLARED.search(body[:4096])
    if found is None:
        return None
    return _codec((found[1] or found[2]).decode("ascii"))


def decode_page(body: bytes, charset: str | None) -> bytes | str:
    """The page as text in its encoding, or the bytes when none decodes it (trafilatura then guesses).

    A byte order mark decides, as in browsers. Then the header's charset, if it decodes the bytes; if it
    does not (a wrong header), the document's own declaration. One exception: a single-byte charset in
    the header (a server's unconfigured default) over bytes that are valid UTF-8 and declare UTF-8 gives
    UTF-8, since those bytes read as Latin-1 are mojibake.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            try:
                return body.decode(encoding)
            except UnicodeDecodeError:
                break
    header, declared = _codec(charset), declared_charset(body)
    order = [header, declared]
    if header in _SINGLE_BYTE_DEFAULTS and declared == "utf-8":
        order.reverse()
    for candidate in order:
        if candidate is None:
            continue
        try:
            return body.decode(candidate)
        except (UnicodeDecodeError, ValueError):  # ValueError: a codec that rejects this input otherwise
            continue
    return body


@dataclass(frozen=True)
class PageProblem:
    """Why a fetched page cannot be used; ``permanent`` when retrying cannot help."""

    reason: str
    permanent: bool


def check_response(response: Response) -> PageProblem | None:
    status = response.status
    if status in (408, 425, 429) or status >= 500:
        return PageProblem(f"HTTP {status}", permanent=False)
    if not 200 <= status < 300:
        return PageProblem(f"HTTP {status}", permanent=True)
    kind, _ = media_type(response.header("content-type"))
    if kind in HTML_TYPES or (not kind and looks_like_html(response.body)):
        return None
    return PageProblem(f"not an HTML page (Content-Type {kind or 'missing'})", permanent=True)


def article_body(extracted_text: str | None, content: str | None, summary: str | None) -> str:
    """The text dedupe, clustering and story summaries should use: the extracted full text, else the
    feed's content, else its summary (plain text). The feed's own fields are never overwritten."""
    return (extracted_text or "").strip() or html_to_text(content) or html_to_text(summary)


# Selecting articles -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageJob:
    article_id: int
    url: str
    attempts: int


def decide_articles(session: Session, config: Config) -> tuple[int, int]:
    """Give every undecided article a status: pending or skipped. Returns (pending, skipped)."""
    default, min_words = config.fulltext.default, config.fulltext.min_words
    modes = dict((row[0], row[1]) for row in session.execute(select(Feed.id, Feed.fulltext)))
    pending = skipped = 0
    while True:
        rows = list(
            session.scalars(
                select(Article)
                .where(Article.extract_status.is_(None))
                .order_by(Article.id)
                .limit(DECIDE_BATCH)
            )
        )
        if not rows:
            break
        for article in rows:
            mode = fulltext_mode(modes.get(article.feed_id), default)
            article.extract_attempts, article.extract_after = 0, None
            reason = _skip_reason(article, mode, min_words)
            if reason is None:
                article.extract_status, article.extract_error = ExtractStatus.PENDING, None
                pending += 1
            else:
                article.extract_status, article.extract_error = ExtractStatus.SKIPPED, reason
                skipped += 1
        session.flush()
    return pending, skipped


def _skip_reason(article: Article, mode: str, min_words: int) -> str | None:
    if mode == "never":
        return "the feed's full-text mode is never"
    if article.duplicate_of_id is not None:
        return f"same URL as article {article.duplicate_of_id}, whose page is fetched instead"
    if safe_url(article.url) is None:
        return "no http(s) article URL"
    words = entry_word_count(article.summary, article.content)
    if not wants_page(mode, words, min_words):
        return f"the entry has {words} words (full-text mode auto needs fewer than {min_words})"
    return None


def due_articles(
    session: Session, now: datetime, *, limit: int | None = None, article_id: int | None = None
) -> list[PageJob]:
    stmt = (
        select(Article.id, Article.url, Article.extract_attempts)
        .where(
            Article.extract_status == ExtractStatus.PENDING,
            or_(Article.extract_after.is_(None), Article.extract_after <= now),
        )
        .order_by(Article.published_at.desc(), Article.id)
    )
    if article_id is not None:
        stmt = stmt.where(Article.id == article_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [PageJob(id_, url, attempts) for id_, url, attempts in session.execute(stmt) if url]


def request_article(session: Session, article_id: int) -> Article:
    """Make one article pending now, whatever its feed's mode and its past attempts (``--article``)."""
    article = session.get(Article, article_id)
    if article is None:
        raise ExtractError(f"no article with id {article_id} (see `aggregator status`)")
    if safe_url(article.url) is None:
        raise ExtractError(f"article {article_id} has no http(s) URL to fetch")
    article.extract_status, article.extract_attempts = ExtractStatus.PENDING, 0
    article.extract_after = article.extract_error = None
    return article


# Recording outcomes -----------------------------------------------------------------------------------------


def record_success(session: Session, article_id: int, extracted: Extracted, now: datetime) -> None:
    article = session.get(Article, article_id)
    if article is None:  # deleted with its feed while the page was fetched
        return
    article.extracted_text = cut(extracted.text, EXTRACTED_TEXT_MAX)
    article.extract_status, article.extract_error = ExtractStatus.DONE, None
    article.extract_attempts += 1
    article.extract_after = None
    if not article.language and extracted.language:
        article.language = extracted.language
    if not article.author and extracted.author:
        article.author = cut(extracted.author, AUTHOR_MAX)
    if not article.image_url and extracted.image:
        article.image_url = fitting_url(extracted.image)
    if not article.dated and extracted.published is not None and extracted.published <= now:
        article.published_at, article.dated = extracted.published, True  # the page's own date


def record_failure(
    session: Session,
    article_id: int,
    reason: str,
    *,
    permanent: bool,
    now: datetime,
    max_attempts: int,
    retry_minutes: float,
) -> ExtractStatus:
    """Count a failed attempt; returns the new status (pending: retried later, or failed)."""
    article = session.get(Article, article_id)
    if article is None:
        return ExtractStatus.FAILED
    article.extract_attempts += 1
    article.extract_error = reason[:2000]
    if permanent or article.extract_attempts >= max_attempts:
        article.extract_status = ExtractStatus.FAILED
        article.extract_after = now  # when it was given up: `status` lists the latest failures first
    else:
        article.extract_status = ExtractStatus.PENDING
        article.extract_after = now + retry_delay(article.extract_attempts, retry_minutes)
    return article.extract_status


def record_skip(session: Session, article_id: int, reason: str, now: datetime) -> None:
    article = session.get(Article, article_id)
    if article is not None:
        article.extract_status, article.extract_error, article.extract_after = (
            ExtractStatus.SKIPPED,
            reason,
            now,
        )


# Politeness -------------------------------------------------------------------------------------------------


class HostPacer:
    """Per host: at most ``per_host`` requests at a time, and request starts at least ``delay`` apart."""

    def __init__(
        self,
        delay: float,
        per_host: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.delay = delay
        self.per_host = per_host
        self.clock = clock
        self.sleep = sleep
        self._delays: dict[str, float] = {}
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}

    def set_delay(self, key: str, delay: float) -> None:
        """A longer delay for one host (its robots.txt Crawl-delay), capped at MAX_CRAWL_DELAY."""
        self._delays[key] = max(self.delay, min(delay, MAX_CRAWL_DELAY))

    async def wait_turn(self, key: str) -> None:
        async with self._locks.setdefault(key, asyncio.Lock()):
            wait = self._next.get(key, 0.0) - self.clock()
            if wait > 0:
                await self.sleep(wait)
            self._next[key] = self.clock() + self._delays.get(key, self.delay)

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        async with self._slots.setdefault(key, asyncio.Semaphore(self.per_host)):
            await self.wait_turn(key)
            yield


# The step ---------------------------------------------------------------------------------------------------


@dataclass
class ExtractSummary:
    decided_pending: int = 0
    decided_skipped: int = 0
    attempted: int = 0
    done: int = 0
    retry: int = 0  # failed this time, will be retried
    failed: int = 0  # given up
    robots_skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "decided_pending": self.decided_pending,
            "decided_skipped": self.decided_skipped,
            "attempted": self.attempted,
            "done": self.done,
            "retry": self.retry,
            "failed": self.failed,
            "robots_skipped": self.robots_skipped,
        }

    def line(self) -> str:
        return (
            f"extract: {self.attempted} pages tried, {self.done} done, {self.retry} to retry, "
            f"{self.failed} failed, {self.robots_skipped} disallowed by robots.txt; "
            f"{self.decided_pending} new articles queued, {self.decided_skipped} need no page"
        )


def fetch_options(config: Config, *, allowed: tuple[str, ...] = ()) -> FetchOptions:
    """[fetch] limits and guard, with fulltext.concurrency pages at a time."""
    options = FetchOptions.from_config(config.fetch, allowed=allowed)
    return replace(options, concurrency=config.fulltext.concurrency)


class Extraction:
    """One run of the step over the due articles; see the module docstring for the flow."""

    def __init__(
        self,
        db: Database,
        config: Config,
        now: datetime,
        *,
        pool: ExtractPool,
        options: FetchOptions | None = None,
        pacer: HostPacer | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.now = now
        self.pool = pool
        self.options = options or fetch_options(config)
        self.pacer = pacer or HostPacer(config.fulltext.per_host_delay, config.fetch.per_host_concurrency)
        self.summary = ExtractSummary()

    async def run(self, jobs: Sequence[PageJob]) -> ExtractSummary:
        limit = asyncio.Semaphore(self.config.fulltext.concurrency)
        async with Fetcher(self.options) as fetcher:
            robots = RobotsCache(fetcher, self.options.user_agent, before_request=self.pacer.wait_turn)

            async def one(job: PageJob) -> None:
                async with limit:
                    await self._one(fetcher, robots, job)

            await asyncio.gather(*(one(job) for job in jobs))
        return self.summary

    async def _one(self, fetcher: Fetcher, robots: RobotsCache | None, job: PageJob) -> None:
        self.summary.attempted += 1
        try:
            fetcher.check_url(job.url)  # a URL the guard refuses is refused before its robots.txt
        except FetchError as e:
            self._failure(job, f"fetch: {e.reason}", permanent=True)
            return
        key = host_key(job.url)
        if self.config.fulltext.respect_robots and robots is not None:
            rules = await robots.rules_for(job.url)
            delay = rules.crawl_delay(self.options.user_agent)
            if delay is not None:
                self.pacer.set_delay(key, delay)
            if rules.disallow_all:
                # Rules unknown (unreachable, too large, a redirect loop...): the pages wait and are retried,
                # never failed for good; a page URL the guard refuses was refused above, for good.
                reason = f"{rules.reason}; not fetching pages of {key} this run"
                self._failure(job, reason, permanent=False)
                return
            if not rules.allows(job.url, self.options.user_agent):
                self.summary.robots_skipped += 1
                with self.db.session() as s:
                    record_skip(s, job.article_id, "robots.txt disallows this page", self.now)
                return
        try:
            async with self.pacer.slot(key):
                response = await fetcher.get(job.url, accept=PAGE_ACCEPT)
        except FetchError as e:
            self._failure(job, f"fetch: {e.reason}", permanent=e.permanent)
            return
        problem = check_response(response)
        if problem is not None:
            self._failure(job, problem.reason, permanent=problem.permanent)
            return
        _, charset = media_type(response.header("content-type"))
        html = decode_page(response.body, charset)
        try:
            extracted = await asyncio.to_thread(self.pool.extract, html, response.final_url)
        except ExtractError as e:
            self._failure(job, f"extract: {e}", permanent=False)
            return
        with self.db.session() as s:
            record_success(s, job.article_id, extracted, self.now)
        self.summary.done += 1
        log.debug("extracted %d words from %s", extracted.word_count(), job.url)

    def _failure(self, job: PageJob, reason: str, *, permanent: bool) -> None:
        ft = self.config.fulltext
        with self.db.session() as s:
            status = record_failure(
                s,
                job.article_id,
                reason,
                permanent=permanent,
                now=self.now,
                max_attempts=ft.max_attempts,
                retry_minutes=ft.retry_minutes,
            )
        if status == ExtractStatus.FAILED:
            self.summary.failed += 1
        else:
            self.summary.retry += 1
        self.summary.errors.append((job.article_id, reason))
        log.info("article %d (%s): %s -> %s", job.article_id, job.url, reason, status)


def run_extract(
    db: Database,
    config: Config,
    now: datetime,
    *,
    limit: int | None = None,
    article_id: int | None = None,
    pool: ExtractPool | None = None,
    options: FetchOptions | None = None,
    pacer: HostPacer | None = None,
) -> ExtractSummary:
    """The whole step: decide new articles, then fetch and extract the due ones. Safe to re-run."""
    with db.session() as s:
        if article_id is not None:
            request_article(s, article_id)
        decided = decide_articles(s, config)
    with db.session() as s:
        jobs = due_articles(s, now, limit=limit, article_id=article_id)
    own_pool = pool is None
    pool = pool or ExtractPool(config.fulltext.workers, config.fulltext.timeout)
    try:
        step = Extraction(db, config, now, pool=pool, options=options, pacer=pacer)
        summary = asyncio.run(step.run(jobs)) if jobs else step.summary
    finally:
        if own_pool:
            pool.close()
    summary.decided_pending, summary.decided_skipped = decided
    return summary


def extraction_status(session: Session, *, last: int = 5) -> dict[str, Any]:
    """The "extraction" block of `aggregator status`: counts by status and the latest errors."""
    counts: dict[ExtractStatus | None, int] = {
        status: count
        for status, count in session.execute(
            select(Article.extract_status, func.count())
            .where(Article.extract_status.is_not(None))
            .group_by(Article.extract_status)
        )
    }
    undecided = session.scalar(
        select(func.count()).select_from(Article).where(Article.extract_status.is_(None))
    )
    retrying = session.scalar(
        select(func.count())
        .select_from(Article)
        .where(Article.extract_status == ExtractStatus.PENDING, Article.extract_attempts > 0)
    )
    rows = session.execute(
        select(
            Article.id, Article.url, Article.extract_status, Article.extract_attempts, Article.extract_error
        )
        .where(
            Article.extract_status.in_((ExtractStatus.FAILED, ExtractStatus.PENDING)),
            Article.extract_error.is_not(None),
        )
        .order_by(Article.extract_after.desc(), Article.id.desc())
        .limit(last)
    )
    return {
        "pending": counts.get(ExtractStatus.PENDING, 0),
        "retrying": int(retrying or 0),
        "done": counts.get(ExtractStatus.DONE, 0),
        "failed": counts.get(ExtractStatus.FAILED, 0),
        "skipped": counts.get(ExtractStatus.SKIPPED, 0),
        "undecided": int(undecided or 0),
        "last_errors": [
            {"article_id": id_, "url": url, "status": st, "attempts": n, "error": err}
            for id_, url, st, n, err in rows
        ],
    }
