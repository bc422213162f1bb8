"""The address guard against every spelling of the loopback address, on every path a URL takes.

Each test forbids loopback and points at the real server on 127.0.0.1: a request in its log is a request
the guard let through. Every host below connects to 127.0.0.1 if it is let through (yarl maps Unicode
digits and dots to ASCII, aiohttp connects to what looks like an IP address without resolving, and the
OS resolver reads the legacy numeric forms), so a failure of the guard can only reach that server. Names
are answered by a stub resolver with 127.0.0.1 and nothing else, so no test asks a real DNS server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from click.testing import Result
from sqlalchemy import select

from aggregator.config import config_from_dict, load_config
from aggregator.db import Database
from aggregator.db.models import Article, Feed
from aggregator.errors import ConfigError, FetchError
from aggregator.fulltext.extract import run_extract
from aggregator.fulltext.worker import ExtractPool
from aggregator.ingest import http
from aggregator.ingest.fetch import fetch_feeds
from aggregator.ingest.http import AddressPolicy, Fetcher, FetchOptions
from aggregator.ingest.robots import RobotsCache

from .conftest import NOW
from .factories import make_article, make_feed
from .httpserver import FeedServer

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
PAGE = b"<!doctype html><html><body><article><p>text</p></article></body></html>"
FORBID_LOOPBACK = AddressPolicy()  # the default: loopback (and every other private range) refused

# (test id, host as written in the URL): each one is 127.0.0.1 (or ::ffff:127.0.0.1) to the HTTP stack.
LOOPBACK_HOSTS = [
    ("fullwidth-digits-and-stops", "１２７．０．０．１"),
    ("ideographic-full-stops", "127。0。0。1"),
    ("halfwidth-ideographic-full-stops", "127｡0｡0｡1"),
    ("circled-digits", "①②⑦.⓪.⓪.①"),
    ("mathematical-bold-digits", "𝟏𝟐𝟕.𝟎.𝟎.𝟏"),
    ("mathematical-double-struck-digits", "𝟙𝟚𝟟.𝟘.𝟘.𝟙"),
    ("fullwidth-digits-ascii-stops", "１２７.０.０.１"),
    ("one-fullwidth-digit", "127.0.0.１"),
    ("mixed-stops", "127．0。0｡1"),
    ("ascii", "127.0.0.1"),
    ("trailing-dot", "127.0.0.1."),
    ("fullwidth-trailing-stop", "１２７．０．０．１．"),
    ("ipv4-mapped", "[::ffff:127.0.0.1]"),
    ("ipv4-mapped-hex", "[::ffff:7f00:1]"),
    ("ipv4-mapped-long", "[0:0:0:0:0:ffff:127.0.0.1]"),
    ("ipv4-mapped-fullwidth-digits", "[::ffff:１２７.０.０.１]"),
    ("decimal", "2130706433"),
    ("fullwidth-decimal", "２１３０７０６４３３"),
    ("octal", "0177.0.0.1"),
    ("hex-parts", "0x7f.1"),
    ("hex", "0x7f000001"),
    ("fullwidth-hex", "０ｘ７ｆ.１"),
    ("short", "127.1"),
    ("fullwidth-short", "１２７．１"),
    ("leading-zero", "127.0.0.01"),
    ("percent-encoded", "%31%32%37.0.0.1"),
    ("localhost", "localhost"),
    ("uppercase-localhost", "LOCALHOST"),
    ("localhost-trailing-dot", "localhost."),
    ("fullwidth-localhost", "ｌｏｃａｌｈｏｓｔ"),
    ("below-localhost", "feeds.localhost"),
]
HOSTS = [host for _, host in LOOPBACK_HOSTS]
HOST_IDS = [name for name, _ in LOOPBACK_HOSTS]


class LoopbackDNS(AbstractResolver):
    """Answers every name with 127.0.0.1, and records the names asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def loopback_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The guarded resolver asks the stub instead of the system resolver (which could ask real DNS)."""
    monkeypatch.setattr(http, "DefaultResolver", LoopbackDNS)
    yield


def url_at(server: FeedServer, host: str, path: str) -> str:
    return f"http://{host}:{server.port}{path}"


def fetch(url: str, policy: AddressPolicy) -> None:
    async def run() -> None:
        async with Fetcher(FetchOptions(policy=policy, deadline=10.0)) as f:
            await f.get(url)

    asyncio.run(run())


# Feed fetch and redirects -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", HOSTS, ids=HOST_IDS)
def test_feed_fetch_refuses_every_spelling_of_loopback(feed_server: FeedServer, host: str) -> None:
    feed_server.route("/f.xml", RSS)
    with pytest.raises(FetchError):
        fetch(url_at(feed_server, host, "/f.xml"), FORBID_LOOPBACK)
    assert feed_server.requests == []


@dataclass(frozen=True)
class FirstHopOnly(AddressPolicy):
    """Loopback allowed for the first address check only, refused from then on.

    The guard judges addresses, not spellings: once 127.0.0.1 is allowed it is allowed however it is
    written, and the server listens on 127.0.0.1 alone, so a redirect target cannot be another address.
    Allowing exactly the first check lets the first hop (written 127.0.0.1) through; the target of its
    redirect, the same server under another spelling, is then refused, so it reaches the server only if
    the guard never checked that hop. ``checks`` shows what each check saw.
    """

    checks: list[str] = field(default_factory=list)

    def refusal(self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        self.checks.append(str(address))
        if len(self.checks) == 1:
            return AddressPolicy(allowed=(ipaddress.ip_network("127.0.0.1/32"),)).refusal(address)
        return AddressPolicy().refusal(address)


@pytest.mark.parametrize("host", HOSTS, ids=HOST_IDS)
def test_redirect_hop_refuses_every_spelling_of_loopback(feed_server: FeedServer, host: str) -> None:
    feed_server.route("/b", RSS)
    feed_server.redirect("/a", url_at(feed_server, host, "/b"), status=302)
    policy = FirstHopOnly()
    with pytest.raises(FetchError):
        fetch(feed_server.url("/a"), policy)
    assert policy.checks[0] == "127.0.0.1"  # the first hop, let through
    assert feed_server.paths() == ["/a"]  # and nothing after it


def test_scheme_relative_redirect_is_checked_too(feed_server: FeedServer) -> None:
    feed_server.route("/b", RSS)
    feed_server.redirect("/a", f"//１２７．０．０．１:{feed_server.port}/b", status=301)
    with pytest.raises(FetchError, match="loopback"):
        fetch(feed_server.url("/a"), FirstHopOnly())
    assert feed_server.paths() == ["/a"]


def test_poll_records_the_refusal_of_stored_feeds(
    feed_server: FeedServer, tmp_path: Path, db: Database
) -> None:
    """Feeds stored before validation knew these spellings are refused when polled, and nothing is sent."""
    feed_server.route("/f.xml", RSS)
    urls = [url_at(feed_server, host, "/f.xml") for host in HOSTS]
    with db.session() as s:
        for url in urls:
            make_feed(s, url, now=NOW)
    config = config_from_dict(
        {"storage": {"data_dir": str(tmp_path / "data")}, "fetch": {"parse_workers": 1}}, "test", tmp_path
    )
    summary = fetch_feeds(db, config, NOW)
    assert sorted(url for url, _ in summary.failed) == sorted(urls)
    assert feed_server.requests == []
    with db.session() as s:
        assert all(f.consecutive_errors == 1 for f in s.scalars(select(Feed)))


# Article pages and robots.txt -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pool() -> Iterator[ExtractPool]:
    with ExtractPool(1, timeout=20.0) as p:
        yield p


def extract_all(
    tmp_path: Path, db: Database, pool: ExtractPool, server: FeedServer, *, robots: bool
) -> dict[str, Article]:
    server.route("/story", PAGE, content_type="text/html")
    server.route("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")
    ids = {}
    with db.session() as s:
        feed = make_feed(s, "http://feeds.test/rss", now=NOW, fulltext="always")
        for host in HOSTS:
            url = url_at(server, host, "/story")
            ids[host] = make_article(s, feed, title="t", url=url, published=NOW).id
    config = config_from_dict(
        {
            "storage": {"data_dir": str(tmp_path / "data")},
            "fulltext": {"per_host_delay": 0.0, "respect_robots": robots},
        },
        "test",
        tmp_path,
    )
    run_extract(db, config, NOW, pool=pool, options=FetchOptions(policy=FORBID_LOOPBACK, deadline=10.0))
    with db.session() as s:
        return {host: s.get_one(Article, id_) for host, id_ in ids.items()}


def test_article_page_fetch_refuses_every_spelling_of_loopback(
    tmp_path: Path, db: Database, pool: ExtractPool, feed_server: FeedServer
) -> None:
    articles = extract_all(tmp_path, db, pool, feed_server, robots=False)
    assert feed_server.requests == []
    assert not_refused(articles) == {}


# A URL urllib cannot parse ([::ffff:１２７.０.０.１]) is not even queued: skipped, never requested.
UNPARSEABLE = "[::ffff:１２７.０.０.１]"


def not_refused(articles: dict[str, Article]) -> dict[str, tuple[str | None, str | None]]:
    """Articles not refused for good (a retry cannot change what the host is)."""
    expected = {host: "skipped" if host == UNPARSEABLE else "failed" for host in articles}
    return {
        h: (a.extract_status, a.extract_error) for h, a in articles.items() if a.extract_status != expected[h]
    }


def test_article_pages_with_robots_refuse_every_spelling_of_loopback(
    tmp_path: Path, db: Database, pool: ExtractPool, feed_server: FeedServer
) -> None:
    articles = extract_all(tmp_path, db, pool, feed_server, robots=True)
    assert feed_server.requests == []  # neither robots.txt nor a page
    assert not_refused(articles) == {}


@pytest.mark.parametrize("host", HOSTS, ids=HOST_IDS)
def test_robots_txt_fetch_refuses_every_spelling_of_loopback(feed_server: FeedServer, host: str) -> None:
    feed_server.route("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")

    async def run() -> Any:
        async with Fetcher(FetchOptions(policy=FORBID_LOOPBACK, deadline=10.0)) as f:
            return await RobotsCache(f, "aggregator-test").rules_for(url_at(feed_server, host, "/story"))

    rules = asyncio.run(run())
    assert rules.disallow_all  # no rules known: the host's pages wait
    assert feed_server.requests == []


# Validation: config, `feeds add`, OPML import ---------------------------------------------------------------

# Loopback and other refused addresses that no test connects to: only validated, never fetched.
UNFETCHED_HOSTS = [
    "[::1]",
    "[::１]",
    "[::1%25lo]",
    "[::127.0.0.1]",
    "[fe80::1%25eth0]",
    "[::]",
    "0.0.0.0",
    "０.０.０.０",
]


@pytest.mark.parametrize("host", HOSTS + UNFETCHED_HOSTS, ids=HOST_IDS + UNFETCHED_HOSTS)
def test_config_refuses_every_spelling_of_loopback(tmp_path: Path, host: str) -> None:
    raw = {"feeds": [{"url": f"http://{host}:8080/feed.xml"}]}
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.url"):
        config_from_dict(raw, "config.toml", tmp_path)


def test_config_judges_the_normalised_address(tmp_path: Path) -> None:
    raw = {
        "fetch": {"allowed_networks": ["127.0.0.1/32"]},
        "feeds": [{"url": "http://１２７．０．０．１:8080/f"}],
    }
    assert len(config_from_dict(raw, "config.toml", tmp_path).feeds) == 1  # it is 127.0.0.1, which is allowed
    raw["fetch"] = {"allowed_networks": ["127.0.0.2/32"]}
    with pytest.raises(ConfigError, match="loopback"):
        config_from_dict(raw, "config.toml", tmp_path)


RunCli = Callable[..., Result]


def stored_urls(config_path: Path) -> list[str]:
    db = Database(load_config(config_path).database_url)
    try:
        with db.session() as s:
            return list(s.scalars(select(Feed.url)))
    finally:
        db.dispose()


def test_feeds_add_refuses_every_spelling_of_loopback(
    write_config: Callable[..., Path], run_cli: RunCli
) -> None:
    config = write_config()
    assert run_cli(config, "init").exit_code == 0
    accepted = []
    for host in HOSTS + UNFETCHED_HOSTS:
        result = run_cli(config, "feeds", "add", f"http://{host}:8080/feed.xml")
        if result.exit_code != 1 or "Traceback" in result.output:
            accepted.append((host, result.output))
    assert accepted == []
    assert stored_urls(config) == []


def test_opml_import_refuses_every_spelling_of_loopback(
    write_config: Callable[..., Path], run_cli: RunCli, tmp_path: Path
) -> None:
    config = write_config()
    assert run_cli(config, "init").exit_code == 0
    outlines = "".join(
        f"<outline type='rss' text='x' xmlUrl={quoteattr(f'http://{host}:8080/feed.xml')}/>"
        for host in HOSTS + UNFETCHED_HOSTS
    )
    opml = tmp_path / "subs.opml"
    opml.write_text(
        f"<?xml version='1.0'?><opml version='2.0'><body>{outlines}</body></opml>", encoding="utf-8"
    )
    result = run_cli(config, "feeds", "import", str(opml))
    assert result.exit_code == 0, result.output
    assert "Imported 0 feeds" in result.output
    assert result.output.count("skipped (invalid)") == len(HOSTS + UNFETCHED_HOSTS)
    assert stored_urls(config) == []
