"""The email digest: what is new in the stories since the last digest, built, recorded and delivered.

Data flow of one run (:func:`run_newsletter`, under the newsletter lock)::

    ledger: pending digests (built/failed/unconfirmed/sending) -> deliver each again, same bytes
            (stop at the first one not sent)
    ledger: period = (end of the last digest, now]   (first digest: now - lookback_hours)
    story tables -> load_coverage -> select_digest_stories (pure) -> Digest
    Digest -> render_digest (Jinja2, css-inline) -> compose_message -> bytes stored in the ledger row
    claim (sending, attempts + 1) -> transport.deliver(bytes) -> row sent / failed / unconfirmed

**Delivery guarantee (the send ledger, table ``newsletter_sends``): at-least-once, with a stable
Message-ID, in period order, and at most one extra copy per delivery of unknown outcome.** The README's
newsletter section states it for users.

- Every period is covered exactly once: a digest's period starts where the previous ledger row's ended
  (a stretch with nothing new is one ``empty`` row, so the chain has no gaps), and the first one starts
  ``newsletter.lookback_hours`` before the first run. An article belongs to the period in which the
  story engine put it into a story (``story_articles.added_at``), so an article clustered late is
  not skipped.
- The message is built once. Its exact bytes, Message-ID included, are committed to the ledger row
  (state ``built``) *before* any delivery is attempted, so a crash after building loses nothing.
- One process delivers at a time: :func:`run_newsletter` holds the newsletter lock
  (:func:`aggregator.run.locking.newsletter_lock`) for the whole run, building included, so two runs
  never build overlapping periods nor deliver one digest twice. Each attempt also claims its row with a
  compare-and-set on (state, attempts), committed *before* the transport connects: the row becomes
  ``sending``, ``attempts`` + 1, ``attempted_at`` = now.
- A row becomes ``sent`` only after the transport accepted the message (the SMTP server answered 250
  to DATA, or the `.eml` file was renamed into place). A refusal, or a failure before the whole message
  went out, delivered nothing: ``failed``, retried by every later run.
- Outcome unknown: the whole message went out but no answer came (:class:`DeliveryUnknownError`:
  ``unconfirmed``), or a ``sending`` row is found by a later run (which holds the lock, so the process
  that claimed it died mid-attempt). Such a row is delivered once more; if that attempt's answer is lost
  too it counts as ``sent`` (noted in ``last_error``); a failure before the message went out keeps it
  ``unconfirmed``. Hence one more identical copy (same Message-ID, Date, bytes) after each crash or lost
  answer, never one per later run. With ``delivery = "dir"`` the file name is stable per digest and the
  file is replaced atomically, so the directory never holds a digest twice.
- Pending rows are delivered oldest first, and a new period is only built once none is pending. A
  second run right after a successful one sends nothing; a dry run neither writes the ledger nor sends.
  Recipients are fixed when a digest is built (a retry goes to the same addresses). A server that
  accepts the message for some recipients and refuses others counts as sent (logged).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from importlib import resources
from typing import Any, Literal
from urllib.parse import urlsplit

import css_inline
from apscheduler.triggers.cron import CronTrigger
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..config import Config
from ..db import Database
from ..db.models import Article, Feed, NewsletterSend, Story, StoryArticle
from ..db.states import SendState
from ..errors import NewsletterError
from ..sanitize import html_to_text, truncate_words
from ..stories.coverage import story_coverage
from .mailer import DeliveryError, DeliveryUnknownError, DirTransport, SmtpTransport, Transport, safe_name
from .views import FeedText, feed_text, own_words

log = logging.getLogger(__name__)

SUMMARY_WORDS = 60
HEADLINE_CHARS = 90  # in the Subject line
# Delivered (again) by the next run. SENDING is pending too: the next run holds the newsletter lock, so a
# row still SENDING then was left by a process that died mid-delivery.
PENDING_STATES = (SendState.BUILT, SendState.FAILED, SendState.UNCONFIRMED, SendState.SENDING)


# --- selection: pure functions over plain data ------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A digest covers articles that joined a story in ``start < added_at <= end``."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class DigestArticle:
    """One article of a story, as the selection needs it (text fields as published: may hold HTML)."""

    story_id: int
    story_title: str
    id: int
    title: str
    url: str | None
    summary: str
    outlet: str  # name
    outlet_key: str  # identity (Feed.outlet_key): two feeds of one outlet are one source
    published: datetime
    added_at: datetime  # when the story engine put it in the story: "first seen" for the digest
    duplicate_of_id: int | None  # a copy of another article of the story is no coverage of its own
    feed_id: int = 0  # whose boilerplate (learned per feed) leaves the summary


@dataclass(frozen=True)
class DigestStory:
    """One story in the digest; every text field is plain text (safe only once escaped for HTML)."""

    story_id: int
    headline: str
    is_new: bool  # the story first appeared in this period
    new_articles: int
    new_sources: int  # outlets covering it for the first time in this period
    total_sources: int
    outlets: tuple[str, ...]  # outlets with new coverage, earliest first
    summary: str
    lead_title: str
    lead_outlet: str
    lead_url: str | None  # absolute http(s) only
    latest: datetime


@dataclass(frozen=True)
class Digest:
    period: Period
    stories: tuple[DigestStory, ...]
    more: int = 0  # stories with news beyond ``max_stories``, not listed


def absolute_http(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def select_digest_stories(
    articles: Sequence[DigestArticle], period: Period, text: FeedText | None = None
) -> list[DigestStory]:
    """Stories with articles first seen in ``period``, top first.

    A story is *new* when none of its articles was seen before the period, else it is an existing story
    with new coverage. Coverage is counted as on the site (:func:`aggregator.stories.coverage.story_coverage`):
    a syndicated copy of another article of the story neither makes the story news nor counts as a source,
    and two feeds of one outlet are one source. Ranking: most outlets with new coverage, then most outlets
    overall, then the latest new article, then story id.
    """
    by_story: dict[int, list[DigestArticle]] = {}
    for item in articles:
        if item.added_at <= period.end:
            by_story.setdefault(item.story_id, []).append(item)
    picked = []
    for items in by_story.values():
        story = _digest_story(items, period, text)
        if story is not None:
            picked.append(story)
    picked.sort(key=lambda s: (-s.new_sources, -s.total_sources, -s.latest.timestamp(), s.story_id))
    return picked


def _line(fragment: str) -> str:
    """Plain text on one line: titles end up in the Subject header, where a line break would be an
    injected header."""
    return " ".join(html_to_text(fragment).split())


def _digest_story(items: list[DigestArticle], period: Period, text: FeedText | None) -> DigestStory | None:
    coverage = story_coverage(items)
    new = [c for c in coverage.originals if c.added_at > period.start]  # oldest first
    if not new:
        return None
    old_outlets = {c.outlet_key for c in coverage.originals if c.added_at <= period.start}
    is_new = not any(c.added_at <= period.start for c in coverage.members)
    outlets: dict[str, str] = {}
    for c in new:
        outlets.setdefault(c.outlet_key, _line(c.outlet))
    # The article heading the story on the site (its headline and summary), when it is new in this
    # period; else the period's first new report.
    lead = next((c for c in new if c.story_title and c.title == c.story_title), new[0])
    return DigestStory(
        story_id=lead.story_id,
        headline=_line(lead.story_title) or _line(lead.title),
        is_new=is_new,
        new_articles=len(new),
        new_sources=len(set(outlets) - old_outlets),
        total_sources=coverage.outlet_count,
        outlets=tuple(outlets.values()),
        summary=truncate_words(
            own_words(text, lead.feed_id, lead.title, html_to_text(lead.summary)), SUMMARY_WORDS
        ),
        lead_title=_line(lead.title),
        lead_outlet=outlets[lead.outlet_key],
        lead_url=absolute_http(lead.url),
        latest=max(c.published for c in new),
    )


def since_phrase(start: datetime, end: datetime) -> str:
    """ "since 07:00 UTC" (same day), "since Tuesday" (this week), else "since 20 November"."""
    if start.date() == end.date():
        return f"since {start:%H:%M} UTC"
    if end - start < timedelta(days=6):
        return f"since {start:%A}"
    return f"since {start.day} {start:%B}"


def coverage_label(story: DigestStory, period: Period) -> str:
    if story.is_new:
        return "New story"
    since = since_phrase(period.start, period.end)
    if story.new_sources:
        return f"{story.new_sources} new source{'s' if story.new_sources != 1 else ''} {since}"
    return f"{story.new_articles} new article{'s' if story.new_articles != 1 else ''} {since}"


# --- reading the story tables ----------------------------------------------------------------------


def load_coverage(session: Session, period: Period) -> list[DigestArticle]:
    """All articles (up to the period's end) of the live stories that gained an article in ``period``."""
    touched = (
        select(StoryArticle.story_id)
        .join(Story, Story.id == StoryArticle.story_id)
        .where(
            StoryArticle.added_at > period.start,
            StoryArticle.added_at <= period.end,
            Story.merged_into_id.is_(None),
        )
        .distinct()
    )
    rows = session.execute(
        select(
            StoryArticle.story_id,
            Story.title,
            Article.id,
            Article.title,
            Article.url,
            Article.summary,
            Feed.outlet,
            Feed.outlet_key,
            Article.published_at,
            StoryArticle.added_at,
            Article.duplicate_of_id,
            Feed.id,
        )
        .join(Story, Story.id == StoryArticle.story_id)
        .join(Article, Article.id == StoryArticle.article_id)
        .join(Feed, Feed.id == Article.feed_id)
        .where(StoryArticle.story_id.in_(touched), StoryArticle.added_at <= period.end)
    )
    return [
        DigestArticle(
            story_id=story_id,
            story_title=story_title,
            id=article_id,
            title=title,
            url=url,
            summary=summary,
            outlet=outlet,
            outlet_key=outlet_key,
            published=published_at,
            added_at=added_at,
            duplicate_of_id=duplicate_of,
            feed_id=feed_id,
        )
        for (story_id, story_title, article_id, title, url, summary, outlet, outlet_key,
             published_at, added_at, duplicate_of, feed_id) in rows
    ]  # fmt: skip


def plan_digest(session: Session, config: Config, period: Period) -> Digest:
    coverage = load_coverage(session, period)
    # The summaries without their feeds' boilerplate, as the story pages show them.
    text = feed_text(session, {a.feed_id for a in coverage})
    stories = select_digest_stories(coverage, period, text)
    limit = config.newsletter.max_stories
    return Digest(period=period, stories=tuple(stories[:limit]), more=max(0, len(stories) - limit))


# --- rendering ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(resources.files("aggregator.templates"))),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False, load_remote_stylesheets=False)


def story_url(config: Config, story_id: int) -> str:
    """The static site's page for a story: ``<site.base_url>stories/<id>.html``."""
    base = config.site.base_url if config.site.base_url.endswith("/") else config.site.base_url + "/"
    return f"{base}stories/{story_id}.html"


def subject_line(config: Config, digest: Digest) -> str:
    headline = digest.stories[0].headline if digest.stories else "nothing new"
    if len(headline) > HEADLINE_CHARS:
        headline = headline[: HEADLINE_CHARS - 1].rstrip() + "…"
    return f"{config.newsletter.subject_prefix} {digest.period.end:%Y-%m-%d}: {headline}"


def render_digest(config: Config, digest: Digest) -> RenderedDigest:
    """Text and HTML bodies from the same view, so both parts always list the same stories."""
    nl = config.newsletter
    unsubscribe = nl.list_unsubscribe
    view: dict[str, Any] = {
        "title": config.site.title,
        "subject": subject_line(config, digest),
        "period": digest.period,
        "since": since_phrase(digest.period.start, digest.period.end),
        "site_url": absolute_http(config.site.base_url),
        "more": digest.more,
        "unsubscribe_url": absolute_http(unsubscribe),
        "unsubscribe_mail": unsubscribe.removeprefix("mailto:")
        if unsubscribe.startswith("mailto:")
        else None,
        "stories": [
            {
                "headline": s.headline,
                "label": coverage_label(s, digest.period),
                "outlets": ", ".join(s.outlets),
                "summary": s.summary,
                "url": story_url(config, s.story_id),
                "lead_title": s.lead_title,
                "lead_outlet": s.lead_outlet,
                "lead_url": s.lead_url,
            }
            for s in digest.stories
        ],
    }
    env = _environment()
    text = env.get_template("newsletter.txt").render(view)
    html = _INLINER.inline(env.get_template("newsletter.html").render(view))
    return RenderedDigest(subject=view["subject"], text=text, html=html)


def make_message_id(config: Config, period_end: datetime, send_id: int | str) -> str:
    domain = config.newsletter.sender.rsplit("@", 1)[1]
    return f"<digest.{period_end:%Y%m%dT%H%M%SZ}.{send_id}@{domain}>"


def compose_message(config: Config, rendered: RenderedDigest, *, message_id: str, date: datetime) -> bytes:
    """One multipart/alternative message (text/plain, then text/html), UTF-8, CRLF line ends."""
    nl = config.newsletter
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = rendered.subject
    msg["From"] = formataddr((config.site.title, nl.sender))
    # Several readers: addressed to the list itself (like a mailing list), readers only in the envelope,
    # so they do not see each other's addresses.
    msg["To"] = nl.recipients[0] if len(nl.recipients) == 1 else formataddr((config.site.title, nl.sender))
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["List-Id"] = f"{config.site.title} digest <{nl.list_id}>"
    if nl.list_unsubscribe:
        msg["List-Unsubscribe"] = f"<{nl.list_unsubscribe}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg.as_bytes(policy=SMTP)


# --- the ledger and a run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    send_id: int
    period: Period
    state: SendState  # sent, failed, unconfirmed or empty
    story_count: int
    message_id: str | None = None
    delivered_to: str | None = None
    error: str | None = None
    retried: bool = False  # a digest built by an earlier run


@dataclass(frozen=True)
class NewsletterResult:
    outcomes: tuple[SendOutcome, ...] = field(default_factory=tuple)

    @property
    def sent(self) -> list[SendOutcome]:
        return [o for o in self.outcomes if o.state == SendState.SENT]

    @property
    def failed(self) -> list[SendOutcome]:
        """Not delivered, or not known to be (unconfirmed)."""
        return [o for o in self.outcomes if o.state in (SendState.FAILED, SendState.UNCONFIRMED)]


def next_period(session: Session, config: Config, now: datetime) -> Period | None:
    """From the end of the last recorded digest (or the look-back) to ``now``; None if empty."""
    last_end = session.scalar(select(func.max(NewsletterSend.period_end)))
    start = last_end if last_end is not None else now - timedelta(hours=config.newsletter.lookback_hours)
    return Period(start, now) if now > start else None


def _pending_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(NewsletterSend.id)
            .where(NewsletterSend.state.in_(PENDING_STATES))
            .order_by(NewsletterSend.period_end, NewsletterSend.id)
        )
    )


def _file_name(row: NewsletterSend) -> str:
    return safe_name(f"digest-{row.period_end:%Y%m%dT%H%M%SZ}-{row.id}")


def build_next_digest(db: Database, config: Config, now: datetime) -> int | None:
    """Record the next period in the ledger: ``built`` with the message bytes, or ``empty``.

    Returns the row's id, or None when no time has passed since the last digest. A run of empty
    periods is kept as one ``empty`` row whose end moves on, so frequent runs do not grow the ledger.
    Committed before returning: from here on the period is neither lost nor built again.
    """
    with db.session() as s:
        period = next_period(s, config, now)
        if period is None:
            return None
        digest = plan_digest(s, config, period)
        last = s.scalars(select(NewsletterSend).order_by(NewsletterSend.period_end.desc()).limit(1)).first()
        if not digest.stories and last is not None and last.state == SendState.EMPTY:
            last.period_end = period.end
            log.info("newsletter: nothing new since %s", last.period_start)
            return last.id
        row = NewsletterSend(
            period_start=period.start,
            period_end=period.end,
            state=SendState.BUILT if digest.stories else SendState.EMPTY,
            recipients=list(config.newsletter.recipients),
            story_count=len(digest.stories),
            created_at=now,
            attempts=0,
        )
        s.add(row)
        s.flush()
        if digest.stories:
            rendered = render_digest(config, digest)
            row.message_id = make_message_id(config, period.end, row.id)
            row.subject = rendered.subject
            row.message = compose_message(config, rendered, message_id=row.message_id, date=period.end)
        log.info(
            "newsletter: digest %d for %s .. %s: %d stories",
            row.id,
            period.start,
            period.end,
            row.story_count,
        )
        return row.id


def _claim(db: Database, send_id: int, now: datetime) -> tuple[NewsletterSend, SendState] | None:
    """Take the row for one delivery attempt: state ``sending``, attempts + 1, ``attempted_at``, committed
    before the transport connects. A compare-and-set on (state, attempts): of two processes reading the same
    row, only one changes it; the other gets None and delivers nothing. Returns the row and the state it
    had (the row's fields are as read before the claim)."""
    with db.session() as s:
        row = s.get(NewsletterSend, send_id)
        if row is None or row.state not in PENDING_STATES:
            return None
        if row.message is None:
            raise NewsletterError(f"newsletter send {send_id} has no stored message to deliver")
        before, attempts = row.state, row.attempts
        claimed = s.execute(
            update(NewsletterSend)
            .where(
                NewsletterSend.id == send_id,
                NewsletterSend.state == before,
                NewsletterSend.attempts == attempts,
            )
            .values(state=SendState.SENDING, attempts=attempts + 1, attempted_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        s.expunge(row)
        return row, before


def _settle(db: Database, send_id: int, **values: Any) -> None:
    with db.session() as s:
        s.execute(
            update(NewsletterSend)
            .where(NewsletterSend.id == send_id, NewsletterSend.state == SendState.SENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def deliver_send(
    db: Database, config: Config, send_id: int, transport: Transport, now: datetime
) -> SendOutcome | None:
    """Claim one ledger row, deliver its stored message and record the outcome (see the module docstring).

    None when the row is not pending any more (another process took it or delivered it)."""
    claim = _claim(db, send_id, now)
    if claim is None:
        log.info("newsletter: digest %d is not pending any more; not delivered by this run", send_id)
        return None
    row, before = claim
    assert row.message is not None
    recipients, name = list(row.recipients), _file_name(row)
    period, message_id, count = Period(row.period_start, row.period_end), row.message_id, row.story_count
    retried = row.attempts > 0 or row.created_at < now
    # SENDING found under the newsletter lock: its process died mid-attempt; UNCONFIRMED: no answer to DATA.
    uncertain = before in (SendState.SENDING, SendState.UNCONFIRMED)
    if not recipients:
        _settle(db, send_id, state=before, attempts=row.attempts)
        raise NewsletterError("newsletter.recipients is empty: add at least one address to the config")
    try:
        where = transport.deliver(
            row.message, sender=config.newsletter.sender, recipients=recipients, name=name
        )
    except DeliveryUnknownError as e:
        if not uncertain:
            _settle(db, send_id, state=SendState.UNCONFIRMED, last_error=str(e))
            log.warning("newsletter: digest %d: %s; it is delivered once more next run", send_id, e)
            return SendOutcome(
                send_id, period, SendState.UNCONFIRMED, count, message_id, error=str(e), retried=retried
            )
        # The second attempt of unknown outcome: one more copy at most, then it counts as sent.
        note = f"outcome unknown twice, counted as sent: {e}"
        _settle(db, send_id, state=SendState.SENT, sent_at=now, last_error=note)
        log.warning("newsletter: digest %d: %s", send_id, note)
        return SendOutcome(
            send_id, period, SendState.SENT, count, message_id, delivered_to=f"{e} (counted)", retried=retried
        )
    except DeliveryError as e:
        # Nothing delivered by this attempt; an earlier one of unknown outcome keeps the row unconfirmed.
        state = SendState.UNCONFIRMED if uncertain else SendState.FAILED
        _settle(db, send_id, state=state, last_error=str(e))
        log.warning("newsletter: digest %d not delivered (will retry next run): %s", send_id, e)
        return SendOutcome(
            send_id, period, SendState.FAILED, count, message_id, error=str(e), retried=retried
        )
    _settle(db, send_id, state=SendState.SENT, sent_at=now, last_error=None)
    log.info("newsletter: digest %d delivered to %s", send_id, where)
    return SendOutcome(
        send_id, period, SendState.SENT, count, message_id, delivered_to=where, retried=retried
    )


def run_newsletter(db: Database, config: Config, now: datetime, transport: Transport) -> NewsletterResult:
    """Re-deliver pending digests, then build and deliver the next period's (see the module docstring).

    Holds the newsletter lock throughout: a second process delivering at the same moment raises
    :class:`~aggregator.errors.LockedError` at once and sends nothing.
    """
    from ..run.locking import newsletter_lock

    if not config.newsletter.recipients:
        raise NewsletterError("newsletter.recipients is empty: add at least one address to the config")
    with newsletter_lock(db, config.data_dir):
        return _run_newsletter(db, config, now, transport)


def _run_newsletter(db: Database, config: Config, now: datetime, transport: Transport) -> NewsletterResult:
    outcomes: list[SendOutcome] = []
    with db.session() as s:
        pending = _pending_ids(s)
    for send_id in pending:
        outcome = deliver_send(db, config, send_id, transport, now)
        if outcome is None:
            continue
        outcomes.append(outcome)
        if outcome.state != SendState.SENT:
            return NewsletterResult(tuple(outcomes))  # keep the order: no newer digest before this one
    new_id = build_next_digest(db, config, now)
    if new_id is None:
        return NewsletterResult(tuple(outcomes))
    with db.session() as s:
        row = s.get_one(NewsletterSend, new_id)
        state, period = row.state, Period(row.period_start, row.period_end)
    if state == SendState.EMPTY:
        outcomes.append(SendOutcome(new_id, period, SendState.EMPTY, 0))
    else:
        outcome = deliver_send(db, config, new_id, transport, now)
        if outcome is not None:
            outcomes.append(outcome)
    return NewsletterResult(tuple(outcomes))


def preview_newsletter(db: Database, config: Config, now: datetime) -> list[bytes]:
    """The messages a run would deliver now (pending ones, then the next), without writing anything."""
    messages: list[bytes] = []
    with db.session() as s:
        for send_id in _pending_ids(s):
            row = s.get_one(NewsletterSend, send_id)
            if row.message is not None:
                messages.append(row.message)
        period = next_period(s, config, now)
        if period is None:
            return messages
        digest = plan_digest(s, config, period)
        if digest.stories:
            rendered = render_digest(config, digest)
            message_id = make_message_id(config, period.end, "preview")
            messages.append(compose_message(config, rendered, message_id=message_id, date=now))
    return messages


def transport_for(
    config: Config, mode: Literal["config", "smtp", "dir"] = "config", directory: Any = None
) -> Transport:
    """The configured transport, or the one a command-line flag asks for."""
    nl = config.newsletter
    kind = nl.delivery if mode == "config" else mode
    if kind == "dir":
        return DirTransport(config.resolve(directory) if directory is not None else config.newsletter_dir)
    return SmtpTransport(
        host=nl.smtp_host,
        port=nl.smtp_port,
        security=nl.smtp_security,
        username=nl.smtp_username,
        password=config.smtp_password(),
        timeout=nl.smtp_timeout,
    )


# --- schedule and status ---------------------------------------------------------------------------


def is_due(schedule: str, last_digest_end: datetime | None, pending: bool, now: datetime) -> bool:
    """Pure: a pending digest is always due; else due once the cron schedule fired after the last one.

    With no digest recorded yet the first one is due at once (it covers the look-back).
    """
    if pending or last_digest_end is None:
        return True
    trigger = CronTrigger.from_crontab(schedule, timezone="UTC")
    # +1 µs: a digest made exactly at a fire time must not make that same fire time due again.
    fire = trigger.get_next_fire_time(None, last_digest_end + timedelta(microseconds=1))
    return fire is not None and fire <= now


def newsletter_due(db: Database, config: Config, now: datetime) -> bool:
    """Whether the full cycle should run the newsletter step now (always False when it is disabled)."""
    if not config.newsletter.enabled:
        return False
    with db.session() as s:
        pending = bool(_pending_ids(s))
        last_end = s.scalar(select(func.max(NewsletterSend.period_end)))
    return is_due(config.newsletter.schedule, last_end, pending, now)


def newsletter_step(
    db: Database, config: Config, now: datetime, transport: Transport | None = None
) -> NewsletterResult | None:
    """For the full cycle: run the newsletter if it is due; None when it was not."""
    if not newsletter_due(db, config, now):
        return None
    return run_newsletter(db, config, now, transport or transport_for(config))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def newsletter_status(session: Session) -> dict[str, Any]:
    """For `aggregator status`: counts by state, the last digest sent, and every pending one."""
    counts: Mapping[SendState, int] = dict(
        session.execute(select(NewsletterSend.state, func.count()).group_by(NewsletterSend.state)).all()
    )
    last_sent = session.scalars(
        select(NewsletterSend)
        .where(NewsletterSend.state == SendState.SENT)
        .order_by(NewsletterSend.period_end.desc())
    ).first()
    pending = session.scalars(
        select(NewsletterSend)
        .where(NewsletterSend.state.in_(PENDING_STATES))
        .order_by(NewsletterSend.period_end, NewsletterSend.id)
    ).all()
    return {
        "counts": {
            state.value: counts.get(state, 0)
            for state in (
                SendState.SENT,
                SendState.EMPTY,
                SendState.BUILT,
                SendState.FAILED,
                SendState.UNCONFIRMED,
                SendState.SENDING,
            )
        },
        "last_period_end": _iso(session.scalar(select(func.max(NewsletterSend.period_end)))),
        "last_sent": None
        if last_sent is None
        else {
            "id": last_sent.id,
            "sent_at": _iso(last_sent.sent_at),
            "period_start": _iso(last_sent.period_start),
            "period_end": _iso(last_sent.period_end),
            "stories": last_sent.story_count,
            "message_id": last_sent.message_id,
        },
        "pending": [
            {
                "id": row.id,
                "state": row.state,
                "period_start": _iso(row.period_start),
                "period_end": _iso(row.period_end),
                "attempts": row.attempts,
                "attempted_at": _iso(row.attempted_at),
                "last_error": row.last_error,
                "message_id": row.message_id,
            }
            for row in pending
        ],
    }
