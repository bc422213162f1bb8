"""The email digest, end to end against a real SMTP server (aiosmtpd) on 127.0.0.1 and a migrated database."""

from __future__ import annotations

import email
import json
import os
import re
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from aggregator.config import Config, config_from_dict
from aggregator.db import Database, upgrade
from aggregator.db.models import NewsletterSend
from aggregator.publish.mailer import DirTransport, SmtpTransport
from aggregator.publish.newsletter import (
    DigestArticle,
    Period,
    is_due,
    newsletter_due,
    newsletter_status,
    plan_digest,
    preview_newsletter,
    run_newsletter,
    select_digest_stories,
    since_phrase,
    transport_for,
)
from tests.conftest import NOW, REPO_ROOT
from tests.factories import hostile_news, newsletter_news

GOLDEN = REPO_ROOT / "tests" / "golden" / "newsletter.eml"
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


# --- a real SMTP server on loopback -----------------------------------------------------------------


@dataclass
class Recorder:
    """aiosmtpd handler: keeps what it accepts; refuses the next ``refuse`` messages with 550."""

    messages: list[Any] = field(default_factory=list)
    refuse: int = 0
    refused: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            self.refused += 1
            return "550 5.7.1 refused by the test server"
        self.messages.append(envelope)
        return "250 OK"

    def parsed(self, i: int = -1) -> EmailMessage:
        msg = email.message_from_bytes(self.messages[i].content, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        return msg


def free_port() -> int:
    # aiosmtpd's Controller needs an explicit port: let the kernel pick one, then hand it over.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    handler: Recorder
    port: int
    logins: list[tuple[str, str]]


def start_server(**kwargs: Any) -> tuple[Controller, Server]:
    handler = Recorder()
    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == b"reader"
            and auth_data.password == b"s3cret"
        )
        if ok:
            logins.append((auth_data.login.decode(), mechanism))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator, **kwargs)
    controller.start()
    return controller, Server(handler, port, logins)


@pytest.fixture
def smtp() -> Iterator[Server]:
    controller, server = start_server(auth_require_tls=False)
    yield server
    controller.stop()


# --- configuration and data -----------------------------------------------------------------------


def make_config(tmp_path: Path, port: int, **newsletter: Any) -> Config:
    settings = {
        "enabled": True,
        "delivery": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "sender": "digest@aggregator.test",
        "recipients": ["reader@aggregator.test"],
        "list_id": "digest.aggregator.test",
        "list_unsubscribe": "http://127.0.0.1:8000/unsubscribe",
        "schedule": "0 7 * * *",
        **newsletter,
    }
    raw = {
        "storage": {"data_dir": str(tmp_path / "data")},
        "site": {"base_url": "http://127.0.0.1:8000/news/", "title": "Riverside Digest"},
        "newsletter": settings,
    }
    return config_from_dict(
        raw, "test", tmp_path, environ={"AGGREGATOR_SMTP_PASSWORD": "s3cret", "DIGEST_PW": "s3cret"}
    )


@pytest.fixture
def nl_config(tmp_path: Path, smtp: Server) -> Config:
    return make_config(tmp_path, smtp.port)


def smtp_transport(config: Config, **kw: Any) -> SmtpTransport:
    nl = config.newsletter
    return SmtpTransport(host=nl.smtp_host, port=nl.smtp_port, security=nl.smtp_security, timeout=10, **kw)


def fill(db: Database, now: datetime = NOW, hostile: bool = False) -> None:
    with db.session() as s:
        newsletter_news(s, now)
        if hostile:
            hostile_news(s, now)


def ledger(db: Database) -> list[NewsletterSend]:
    with db.session() as s:
        return list(s.query(NewsletterSend).order_by(NewsletterSend.id))


# --- reading a received message ---------------------------------------------------------------------


class LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        for name, value in attrs:
            if name in ("href", "src", "action", "background", "cite") and value is not None:
                self.links.append(value)


def parts(msg: EmailMessage) -> tuple[str, str]:
    assert msg.get_content_type() == "multipart/alternative"
    subparts = list(msg.iter_parts())
    assert [p.get_content_type() for p in subparts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in subparts)
    text, html = (p.get_content() for p in subparts)
    assert isinstance(text, str) and isinstance(html, str)
    return text, html


def story_links(urls: Sequence[str]) -> list[str]:
    return sorted({u for u in urls if "/stories/" in u})


# --- the selection: pure -----------------------------------------------------------------------------


def cov(
    story: int, article: int, feed: int, added: datetime, *, copy_of: int | None = None, title: str = "t"
) -> DigestArticle:
    return DigestArticle(
        story_id=story, story_title=f"Story {story}", id=article, title=title,
        url=f"http://127.0.0.1:9/{article}", summary="", outlet=f"Outlet {feed}", outlet_key=f"outlet{feed}",
        published=added - HOUR, added_at=added, duplicate_of_id=copy_of,
    )  # fmt: skip


def test_two_feeds_of_one_outlet_are_one_source() -> None:
    period = Period(NOW - DAY, NOW)
    site, channel = cov(1, 1, 1, NOW - 2 * HOUR), cov(1, 2, 2, NOW - HOUR)
    channel = replace(channel, outlet_key=site.outlet_key, outlet="Outlet 1 (video)")
    (story,) = select_digest_stories([site, channel, cov(1, 3, 3, NOW - HOUR)], period)
    assert (story.new_sources, story.total_sources, story.outlets) == (2, 2, ("Outlet 1", "Outlet 3"))


def test_selection_separates_new_stories_from_new_coverage_and_ignores_copies() -> None:
    period = Period(NOW - DAY, NOW)
    old, new, later = NOW - 3 * DAY, NOW - 2 * HOUR, NOW + HOUR
    coverage = [
        # two new outlets, and one that covered it before
        cov(1, 1, 1, old), cov(1, 2, 2, new), cov(1, 3, 3, new), cov(1, 4, 1, new),
        cov(2, 5, 4, new),  # a new story
        cov(3, 6, 1, old), cov(3, 7, 5, new, copy_of=6),  # only a syndicated copy: not news
        cov(4, 8, 1, old),  # nothing new
        cov(5, 9, 2, later),  # after the period: the next digest's
        cov(6, 10, 1, old), cov(6, 11, 1, new),  # a new article from an outlet already there
    ]  # fmt: skip
    stories = select_digest_stories(coverage, period)
    assert [s.story_id for s in stories] == [1, 2, 6]
    bridge, fresh, again = stories
    assert (bridge.is_new, bridge.new_sources, bridge.new_articles, bridge.total_sources) == (False, 2, 3, 3)
    assert bridge.outlets == ("Outlet 2", "Outlet 3", "Outlet 1")
    assert (fresh.is_new, fresh.new_sources) == (True, 1)
    assert (again.is_new, again.new_sources, again.new_articles) == (False, 0, 1)


def test_selection_leads_with_the_earliest_new_article_and_keeps_only_http_links() -> None:
    period = Period(NOW - DAY, NOW)
    first = replace(cov(1, 1, 1, NOW - 5 * HOUR), url="javascript:alert(1)", title="<b>First</b> &amp; best")
    second = cov(1, 2, 2, NOW - 2 * HOUR)
    (story,) = select_digest_stories([second, first], period)
    assert story.lead_title == "First & best"
    assert story.lead_url is None


def test_since_phrase() -> None:
    friday = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert since_phrase(friday - timedelta(days=3), friday) == "since Tuesday"
    assert since_phrase(friday.replace(hour=1), friday) == "since 01:00 UTC"
    assert since_phrase(friday - timedelta(days=9), friday) == "since 18 November"


def test_is_due_follows_the_cron_schedule_and_the_ledger() -> None:
    seven = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert is_due("0 7 * * *", None, False, seven)  # nothing recorded yet: the first digest is due
    assert not is_due("0 7 * * *", seven, False, seven)
    assert not is_due("0 7 * * *", seven, False, seven + 23 * HOUR)
    assert is_due("0 7 * * *", seven, False, seven + DAY)
    assert is_due("0 7 * * *", seven, True, seven + HOUR)  # a failed digest is retried at once


# --- delivery to a real SMTP server -------------------------------------------------------------------


def test_digest_arrives_with_both_parts_listing_the_same_stories(
    db: Database, nl_config: Config, smtp: Server
) -> None:
    fill(db)
    result = run_newsletter(db, nl_config, NOW, smtp_transport(nl_config))
    assert [o.state for o in result.outcomes] == ["sent"]
    assert len(smtp.handler.messages) == 1
    envelope = smtp.handler.messages[0]
    assert envelope.mail_from == "digest@aggregator.test"
    assert envelope.rcpt_tos == ["reader@aggregator.test"]
    msg = smtp.handler.parsed()
    (row,) = ledger(db)
    assert msg["Message-ID"] == row.message_id
    assert msg["Subject"] == "News digest 2026-11-27: Harbour bridge closes for repairs"
    assert msg["To"] == "reader@aggregator.test"
    assert "digest@aggregator.test" in msg["From"]
    assert msg["Date"].datetime == NOW
    assert msg["List-Id"] == "Riverside Digest digest <digest.aggregator.test>"
    assert msg["List-Unsubscribe"] == "<http://127.0.0.1:8000/unsubscribe>"
    text, html = parts(msg)
    # Bridge (2 new outlets) first, then the library (new); the market's copy and the park are not news.
    expected = ["http://127.0.0.1:8000/news/stories/1.html", "http://127.0.0.1:8000/news/stories/2.html"]
    collector = LinkCollector()
    collector.feed(html)
    assert story_links(collector.links) == expected
    assert story_links(re.findall(r"https?://\S+", text)) == expected
    for part in (text, html):
        assert part.index("Harbour bridge closes") < part.index("Library opens a new wing")
        assert "Market day" not in part and "Park benches" not in part
    assert "2 new sources since Thursday" in text and "2 new sources since Thursday" in html
    assert "café" in text and "café" in html
    assert "http://127.0.0.1:9/bridge-2.html" in text  # the lead of the new coverage
    assert "<style" not in html and 'style="' in html  # CSS inlined
    assert "<table" in html
    assert row.state == "sent" and row.story_count == 2 and row.attempts == 1 and row.sent_at == NOW


def test_hostile_feed_content_arrives_sanitised(db: Database, nl_config: Config, smtp: Server) -> None:
    fill(db, hostile=True)
    run_newsletter(db, nl_config, NOW, smtp_transport(nl_config))
    text, html = parts(smtp.handler.parsed())
    assert "Storm warning for the coast" in text and "Winds strengthen." in text
    assert not re.search(r"<[a-zA-Z/!]", text), "the text part must be plain text"
    assert "alert" not in text
    collector = LinkCollector()
    collector.feed(html)
    assert "Storm warning for the coast" in html
    assert not {"script", "iframe", "form", "input", "object", "embed", "style", "link"} & set(collector.tags)
    assert not [name for name, _ in collector.attrs if name.lower().startswith("on")]
    assert collector.links, "the digest has links"
    for link in collector.links + re.findall(r"\b[a-z][a-z0-9+.-]*:[^\s\"'<>]+", text):
        if link.startswith(("Unsubscribe:", "UTC")):
            continue
        assert re.match(r"https?://[^/\s]+", link), f"not an absolute http(s) link: {link}"
    assert "javascript:" not in html.lower() and "data:" not in html.lower()
    assert "Evil &amp; Co" in html and "<b>Evil" not in html


def test_a_second_run_sends_nothing_and_says_so(db: Database, nl_config: Config, smtp: Server) -> None:
    fill(db)
    run_newsletter(db, nl_config, NOW, smtp_transport(nl_config))
    again = run_newsletter(db, nl_config, NOW + HOUR, smtp_transport(nl_config))
    assert [o.state for o in again.outcomes] == ["empty"]
    assert len(smtp.handler.messages) == 1
    same_instant = run_newsletter(db, nl_config, NOW + HOUR, smtp_transport(nl_config))
    assert same_instant.outcomes == ()
    quiet_again = run_newsletter(db, nl_config, NOW + 2 * HOUR, smtp_transport(nl_config))
    assert [(o.state, o.period.start) for o in quiet_again.outcomes] == [("empty", NOW)]
    rows = ledger(db)
    assert [r.state for r in rows] == ["sent", "empty"]  # one row for the whole quiet stretch
    assert rows[1].period_start == rows[0].period_end  # the periods chain without gaps
    assert rows[1].period_end == NOW + 2 * HOUR
    assert len(smtp.handler.messages) == 1


def test_first_digest_covers_the_look_back_then_only_what_is_new(
    db: Database, nl_config: Config, smtp: Server
) -> None:
    fill(db)
    run_newsletter(db, nl_config, NOW, smtp_transport(nl_config))
    (first,) = ledger(db)
    assert first.period_start == NOW - timedelta(hours=nl_config.newsletter.lookback_hours)
    # Two days later one more outlet covers the library story.
    with db.session() as s:
        from tests.factories import add_to_story, make_article, make_feed

        feed = make_feed(s, "http://127.0.0.1:9/gazette.xml", title="Gazette", now=NOW)
        article = make_article(
            s,
            feed,
            title="Library wing draws record crowds",
            published=NOW + DAY,
            url="http://127.0.0.1:9/lib-3",
        )
        from aggregator.db.models import Story

        library = s.get_one(Story, 2)
        add_to_story(s, library, article, added=NOW + DAY)
    result = run_newsletter(db, nl_config, NOW + 2 * DAY, smtp_transport(nl_config))
    assert [o.state for o in result.outcomes] == ["sent"]
    text, _ = parts(smtp.handler.parsed())
    assert "1 new source since Friday" in text
    assert "Library opens a new wing" in text and "Harbour bridge" not in text


def test_nothing_new_sends_no_email(db: Database, nl_config: Config, smtp: Server) -> None:
    result = run_newsletter(db, nl_config, NOW, smtp_transport(nl_config))
    assert [o.state for o in result.outcomes] == ["empty"]
    assert smtp.handler.messages == []
    assert [r.message for r in ledger(db)] == [None]


def test_a_refused_send_is_recorded_and_retried_on_the_next_run(
    db: Database, nl_config: Config, smtp: Server
) -> None:
    fill(db)
    smtp.handler.refuse = 1
    first = run_newsletter(db, nl_config, NOW, smtp_transport(nl_config))
    assert [o.state for o in first.outcomes] == ["failed"]
    assert smtp.handler.refused == 1 and smtp.handler.messages == []
    (row,) = ledger(db)
    assert (row.state, row.attempts, row.sent_at) == ("failed", 1, None)
    assert "550" in (row.last_error or "")
    with db.session() as s:
        status = newsletter_status(s)
    assert status["counts"]["failed"] == 1
    assert status["pending"][0]["last_error"] == row.last_error
    assert newsletter_due(db, nl_config, NOW + HOUR)  # pending: due at once, whatever the schedule
    stored = row.message
    assert stored is not None

    second = run_newsletter(db, nl_config, NOW + HOUR, smtp_transport(nl_config))
    assert [(o.send_id, o.state, o.retried) for o in second.outcomes] == [
        (row.id, "sent", True),
        (2, "empty", False),
    ]
    assert len(smtp.handler.messages) == 1
    assert smtp.handler.messages[0].original_content == stored  # the very bytes built on the first run
    rows = ledger(db)
    assert (rows[0].state, rows[0].attempts, rows[0].last_error) == ("sent", 2, None)
    with db.session() as s:
        assert newsletter_status(s)["pending"] == []


def test_a_failed_digest_holds_back_newer_ones(db: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, free_port())  # nothing listens there: connection refused
    fill(db)
    result = run_newsletter(db, config, NOW, smtp_transport(config))
    assert result.failed and "127.0.0.1" in (result.failed[0].error or "")
    later = run_newsletter(db, config, NOW + DAY, smtp_transport(config))
    assert [o.state for o in later.outcomes] == ["failed"]
    assert len(ledger(db)) == 1  # no second period built while the first is undelivered


class Crash(BaseException):
    """Stands for the process being killed: nothing in the code under test may catch it."""


@dataclass
class CrashingTransport:
    inner: SmtpTransport
    deliver_first: bool

    def deliver(self, message: bytes, *, sender: str, recipients: Sequence[str], name: str) -> str:
        if self.deliver_first:
            self.inner.deliver(message, sender=sender, recipients=recipients, name=name)
        raise Crash


def test_crash_between_build_and_send_loses_nothing(db: Database, nl_config: Config, smtp: Server) -> None:
    fill(db)
    with pytest.raises(Crash):
        run_newsletter(db, nl_config, NOW, CrashingTransport(smtp_transport(nl_config), deliver_first=False))
    (row,) = ledger(db)
    # The attempt was recorded before connecting; its outcome is unknown to the next run.
    assert row.state == "sending" and row.attempts == 1 and row.attempted_at == NOW
    assert row.message is not None and smtp.handler.messages == []
    result = run_newsletter(db, nl_config, NOW + HOUR, smtp_transport(nl_config))
    assert [o.state for o in result.outcomes] == ["sent", "empty"]
    assert len(smtp.handler.messages) == 1
    assert smtp.handler.messages[0].original_content == row.message
    assert smtp.handler.parsed()["Date"].datetime == NOW  # built at the crash, sent unchanged


def test_crash_after_the_server_accepted_resends_the_same_message(
    db: Database, nl_config: Config, smtp: Server
) -> None:
    """The documented at-least-once case: the copy has the same Message-ID, so it can be recognised."""
    fill(db)
    with pytest.raises(Crash):
        run_newsletter(db, nl_config, NOW, CrashingTransport(smtp_transport(nl_config), deliver_first=True))
    assert len(smtp.handler.messages) == 1
    run_newsletter(db, nl_config, NOW + HOUR, smtp_transport(nl_config))
    assert len(smtp.handler.messages) == 2
    first, second = smtp.handler.parsed(0), smtp.handler.parsed(1)
    assert first["Message-ID"] == second["Message-ID"]
    assert smtp.handler.messages[0].original_content == smtp.handler.messages[1].original_content
    assert [r.state for r in ledger(db)] == ["sent", "empty"]
    run_newsletter(db, nl_config, NOW + 2 * HOUR, smtp_transport(nl_config))
    assert len(smtp.handler.messages) == 2


# --- TLS and login ------------------------------------------------------------------------------------


@pytest.fixture
def tls_contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


def test_starttls_and_login(
    db: Database, tmp_path: Path, tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_ctx, client_ctx = tls_contexts
    controller, server = start_server(tls_context=server_ctx, require_starttls=True, auth_required=True)
    try:
        config = make_config(tmp_path, server.port, smtp_security="starttls", smtp_username="reader")
        fill(db)
        transport = smtp_transport(config, username="reader", password="s3cret", ssl_context=client_ctx)
        result = run_newsletter(db, config, NOW, transport)
        assert [o.state for o in result.outcomes] == ["sent"]
        assert server.logins and server.logins[0][0] == "reader"
        assert len(server.handler.messages) == 1
    finally:
        controller.stop()


def test_a_wrong_password_is_a_failed_send_with_an_actionable_error(
    db: Database, tmp_path: Path, tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_ctx, client_ctx = tls_contexts
    controller, server = start_server(tls_context=server_ctx, require_starttls=True, auth_required=True)
    try:
        config = make_config(tmp_path, server.port, smtp_security="starttls", smtp_username="reader")
        fill(db)
        transport = smtp_transport(config, username="reader", password="wrong", ssl_context=client_ctx)
        result = run_newsletter(db, config, NOW, transport)
        assert [o.state for o in result.outcomes] == ["failed"]
        assert "refused the login for 'reader'" in (result.outcomes[0].error or "")
        assert server.handler.messages == []
    finally:
        controller.stop()


def test_implicit_tls(
    db: Database, tmp_path: Path, tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_ctx, client_ctx = tls_contexts
    controller, server = start_server(ssl_context=server_ctx, auth_require_tls=False)
    try:
        config = make_config(tmp_path, server.port, smtp_security="tls")
        fill(db)
        result = run_newsletter(db, config, NOW, smtp_transport(config, ssl_context=client_ctx))
        assert [o.state for o in result.outcomes] == ["sent"]
        assert len(server.handler.messages) == 1
    finally:
        controller.stop()


def test_login_over_plain_smtp_with_the_password_from_the_environment(
    db: Database, tmp_path: Path, smtp: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, smtp.port, smtp_username="reader", password_env="DIGEST_PW")
    monkeypatch.setenv("DIGEST_PW", "s3cret")
    fill(db)
    result = run_newsletter(db, config, NOW, transport_for(config))
    assert [o.state for o in result.outcomes] == ["sent"]
    assert smtp.logins and smtp.logins[0][0] == "reader"


# --- files, dry run, status, schedule -------------------------------------------------------------------


def test_dir_delivery_writes_one_eml_per_digest_atomically(db: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, 25, delivery="dir")
    out = tmp_path / "out"
    fill(db)
    result = run_newsletter(db, config, NOW, DirTransport(out))
    (outcome,) = result.outcomes
    files = sorted(out.iterdir())
    assert [f.suffix for f in files] == [".eml"] and outcome.delivered_to == str(files[0])
    (row,) = ledger(db)
    assert files[0].read_bytes() == row.message
    msg = email.message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert isinstance(msg, EmailMessage)
    parts(msg)
    # A re-delivery of the same digest replaces its file instead of adding one.
    DirTransport(out).deliver(
        row.message or b"", sender="x@y.test", recipients=["r@y.test"], name=files[0].stem
    )
    assert sorted(out.iterdir()) == files


def test_dry_run_records_nothing(db: Database, nl_config: Config, smtp: Server) -> None:
    fill(db)
    (message,) = preview_newsletter(db, nl_config, NOW)
    assert b"Harbour bridge closes for repairs" in message
    assert ledger(db) == [] and smtp.handler.messages == []


def test_newsletter_due_from_schedule_and_ledger(db: Database, nl_config: Config, smtp: Server) -> None:
    seven = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert newsletter_due(db, nl_config, seven)
    run_newsletter(db, nl_config, seven, smtp_transport(nl_config))
    assert not newsletter_due(db, nl_config, seven + 12 * HOUR)
    assert newsletter_due(db, nl_config, seven + DAY)
    disabled = replace(nl_config, newsletter=replace(nl_config.newsletter, enabled=False))
    assert not newsletter_due(db, disabled, seven + DAY)


# --- golden file ------------------------------------------------------------------------------------------


def normalise(message: bytes) -> str:
    text = message.decode("ascii")
    boundaries = sorted(set(re.findall(r'boundary="([^"]+)"', text)))
    for i, boundary in enumerate(boundaries):
        text = text.replace(boundary, f"BOUNDARY-{i}")
    text = re.sub(r"^Message-ID: .*$", "Message-ID: <normalised>", text, flags=re.MULTILINE)
    return re.sub(r"^Date: .*$", "Date: (normalised)", text, flags=re.MULTILINE)


def test_golden_eml(db: Database, nl_config: Config, smtp: Server) -> None:
    """The whole message against tests/golden/newsletter.eml (UPDATE_GOLDEN=1 rewrites it after a
    deliberate change; review the diff)."""
    fill(db, hostile=True)
    run_newsletter(db, nl_config, NOW, smtp_transport(nl_config))
    (row,) = ledger(db)
    assert row.message is not None
    got = normalise(row.message)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(got.encode("ascii"))
    assert got == GOLDEN.read_bytes().decode("ascii")


# --- the command line ---------------------------------------------------------------------------------------


def test_cli_newsletter_to_dir_then_nothing_new_then_status(
    tmp_path: Path, write_config: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    path = write_config(
        {
            "newsletter": {"recipients": ["reader@aggregator.test"]},
            "site": {"base_url": "http://127.0.0.1:8000/"},
        }
    )
    assert run_cli(path, "init").exit_code == 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}")
    fill(db, now=datetime.now(UTC))
    db.dispose()

    dry = run_cli(path, "newsletter", "--dry-run")
    assert dry.exit_code == 0 and "Harbour bridge closes for repairs" in dry.stdout
    out = tmp_path / "eml"
    first = run_cli(path, "newsletter", "--to-dir", str(out))
    assert first.exit_code == 0, first.output
    assert "2 stories" in first.stdout and "delivered to" in first.stdout
    assert len(list(out.glob("*.eml"))) == 1
    second = run_cli(path, "newsletter", "--to-dir", str(out))
    assert "Nothing new" in second.stdout and len(list(out.glob("*.eml"))) == 1
    assert "newsletter: 1 digest(s) delivered, 0 failed" in first.stdout  # the step's line, as in `run`
    runs = json.loads(run_cli(path, "status", "--json").stdout)["runs"]
    assert [(r["step"], r["outcome"], r["counts"]) for r in runs] == [
        ("newsletter", "ok", {"sent": 0, "failed": 0})  # the latest run: the quiet one
    ]

    status = run_cli(path, "status", "--json")
    assert '"sent": 1' in status.stdout and '"empty": 1' in status.stdout
    both = run_cli(path, "newsletter", "--dry-run", "--send")
    assert both.exit_code == 2 and "only one of" in both.output


def test_cli_reports_a_failed_send_with_a_non_zero_exit(
    tmp_path: Path, write_config: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    port = free_port()  # nothing listens there
    path = write_config(
        {"newsletter": {"recipients": ["reader@aggregator.test"], "smtp_host": "127.0.0.1", "smtp_port": port,
                        "smtp_security": "none"}}
    )  # fmt: skip
    run_cli(path, "init")
    db = Database(f"sqlite:///{tmp_path / 'data' / 'aggregator.db'}")
    upgrade(db)
    fill(db, now=datetime.now(UTC))
    db.dispose()
    result = run_cli(path, "newsletter", "--send")
    assert result.exit_code == 1
    assert "NOT delivered" in result.stdout and "retried on the next run" in result.output
    status = run_cli(path, "status")
    assert "failed: 1" in status.stdout


def test_several_readers_get_it_by_envelope_without_seeing_each_other(
    db: Database, tmp_path: Path, smtp: Server
) -> None:
    readers = ["ann@aggregator.test", "bob@aggregator.test"]
    config = make_config(tmp_path, smtp.port, recipients=readers)
    fill(db)
    run_newsletter(db, config, NOW, smtp_transport(config))
    (envelope,) = smtp.handler.messages
    assert envelope.rcpt_tos == readers
    headers = envelope.original_content.split(b"\r\n\r\n", 1)[0]
    assert b"ann@" not in headers and b"bob@" not in headers
    assert smtp.handler.parsed()["To"] == "Riverside Digest <digest@aggregator.test>"


def test_a_long_digest_is_cut_at_max_stories_and_points_to_the_site(
    db: Database, tmp_path: Path, smtp: Server
) -> None:
    config = make_config(tmp_path, smtp.port, max_stories=1)
    fill(db, hostile=True)
    run_newsletter(db, config, NOW, smtp_transport(config))
    text, html = parts(smtp.handler.parsed())
    assert "Harbour bridge" in text and "Library opens" not in text and "Library opens" not in html
    assert "2 more stories have news: http://127.0.0.1:8000/news/" in text
    assert ledger(db)[0].story_count == 1


def test_starttls_against_a_server_without_it_fails_with_a_hint(
    db: Database, tmp_path: Path, smtp: Server
) -> None:
    config = make_config(tmp_path, smtp.port, smtp_security="starttls")
    fill(db)
    result = run_newsletter(db, config, NOW, smtp_transport(config))
    assert [o.state for o in result.outcomes] == ["failed"]
    assert "smtp_security" in (result.outcomes[0].error or "")
    assert smtp.handler.messages == []


def test_newsletter_step_runs_only_when_due(db: Database, nl_config: Config, smtp: Server) -> None:
    from aggregator.publish.newsletter import newsletter_step

    seven = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    fill(db, now=seven)
    first = newsletter_step(db, nl_config, seven, smtp_transport(nl_config))
    assert first is not None and [o.state for o in first.outcomes] == ["sent"]
    assert newsletter_step(db, nl_config, seven + HOUR, smtp_transport(nl_config)) is None
    assert len(smtp.handler.messages) == 1
    nxt = newsletter_step(db, nl_config, seven + DAY, smtp_transport(nl_config))
    assert nxt is not None and [o.state for o in nxt.outcomes] == ["empty"]


def test_no_recipients_is_an_error_before_anything_is_recorded(db: Database, tmp_path: Path) -> None:
    from aggregator.errors import NewsletterError

    config = make_config(tmp_path, 25, recipients=[], enabled=False)
    fill(db)
    with pytest.raises(NewsletterError, match="recipients is empty"):
        run_newsletter(db, config, NOW, DirTransport(tmp_path / "out"))
    assert ledger(db) == []


def test_a_title_with_line_breaks_cannot_inject_headers(
    db: Database, nl_config: Config, smtp: Server
) -> None:
    from tests.factories import make_article, make_feed, make_story

    with db.session() as s:
        feed = make_feed(s, "http://127.0.0.1:9/crlf.xml", title="Line\r\nBreaks", now=NOW)
        title = "Tide tables<br>updated\r\nBcc: someone@aggregator.test"
        article = make_article(s, feed, title=title, published=NOW - HOUR, url="http://127.0.0.1:9/crlf")
        make_story(s, [article], now=NOW - HOUR)
    run_newsletter(db, nl_config, NOW, smtp_transport(nl_config))
    msg = smtp.handler.parsed()
    # (.strip(): Python folds a value of this length onto its own line and keeps the fold's space)
    assert (
        msg["Subject"].strip() == "News digest 2026-11-27: Tide tables updated Bcc: someone@aggregator.test"
    )
    assert msg["Bcc"] is None
    assert smtp.handler.messages[0].rcpt_tos == ["reader@aggregator.test"]


def test_feedparser_sanitizer_cases_leave_no_active_content(
    db: Database, tmp_path: Path, shared_data: Path
) -> None:
    """feedparser's 746 hostile sanitizer feeds (read from ../shared/data, never copied), their titles,
    summaries, contents and links stored raw as the pipeline stores them, go through one digest."""
    import feedparser

    from tests.factories import make_article, make_feed, make_story

    files = sorted(
        (shared_data / "feeds" / "edge_cases" / "feedparser" / "wellformed_sanitize").glob("*.xml")
    )
    assert len(files) > 700
    with db.session() as s:
        for path in files:
            parsed = feedparser.parse(path.read_bytes(), sanitize_html=False)
            feed_title = str(parsed.feed.get("title") or parsed.feed.get("subtitle") or path.stem)
            feed = make_feed(s, f"http://127.0.0.1:9/sanitize/{path.stem}.xml", title=feed_title, now=NOW)
            for entry in parsed.entries or [{}]:
                content = entry.get("content") or [{}]
                summary = entry.get("summary") or content[0].get("value") or feed_title
                article = make_article(
                    s, feed, title=str(entry.get("title") or summary), summary=str(summary),
                    url=entry.get("link") or None, published=NOW - HOUR,
                )  # fmt: skip
                make_story(s, [article], now=NOW - HOUR)
    config = make_config(tmp_path, 25, delivery="dir", max_stories=1000)
    result = run_newsletter(db, config, NOW, DirTransport(tmp_path / "out"))
    (outcome,) = result.sent
    assert outcome.story_count >= len(files)
    msg = email.message_from_bytes(Path(outcome.delivered_to or "").read_bytes(), policy=default_policy)
    assert isinstance(msg, EmailMessage)
    _, html = parts(msg)
    collector = LinkCollector()
    collector.feed(html)
    allowed_tags = {
        "html",
        "head",
        "meta",
        "title",
        "body",
        "table",
        "tbody",
        "tr",
        "td",
        "div",
        "h2",
        "a",
        "p",
    }
    assert set(collector.tags) <= allowed_tags
    assert not [name for name, _ in collector.attrs if name.lower().startswith("on")]
    for link in collector.links:
        assert re.match(r"https?://[^/\s]+", link), f"not an absolute http(s) link: {link}"


def test_the_digest_leads_with_the_article_heading_the_story_on_the_site() -> None:
    period = Period(NOW - DAY, NOW)
    first = replace(cov(1, 1, 1, NOW - 3 * HOUR, title="Early report"), summary="What was known at first.")
    heading = replace(cov(1, 2, 2, NOW - HOUR, title="Story 1"), summary="The latest, as the site shows it.")
    (story,) = select_digest_stories([first, heading], period)
    assert (story.headline, story.lead_title, story.summary) == (
        "Story 1",
        "Story 1",
        "The latest, as the site shows it.",
    )
    (story,) = select_digest_stories([first, replace(heading, title="Another report")], period)
    assert story.lead_title == "Early report"  # the heading article is not new: the first new report


def test_the_digest_summary_leaves_out_the_feeds_boilerplate(db: Database, config: Config) -> None:
    from tests.factories import channel_story

    with db.session() as s:
        channel_story(s, NOW)
        (story,) = plan_digest(s, config, Period(NOW - DAY, NOW + HOUR)).stories
    assert story.summary.startswith("The mayor ordered an evacuation")
    assert "Subscribe" not in story.summary and "youtube" not in story.summary
