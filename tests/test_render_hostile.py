"""Hostile feed content never becomes active content in any page or feed of the site."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest

from aggregator.config import Config
from aggregator.db import Database
from aggregator.publish.render import render_site
from aggregator.sanitize import html_to_text
from tests.conftest import NOW
from tests.factories import make_article, make_feed, make_story, tag
from tests.hostile import hostile_world
from tests.sitecheck import (
    active_content,
    broken_links,
    feed_problems,
    fragment_problems,
    page_problems,
    parse_html,
)

SANITIZE_CASES = Path("feeds/edge_cases/feedparser/wellformed_sanitize")


def test_checker_finds_what_it_must(tmp_path: Path) -> None:
    """The checker itself: each kind of active content is reported (a checker that finds nothing proves nothing)."""
    bad = [
        "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>',
        '<a href="java\tscript:alert(1)">x</a>', '<a href="data:text/html,x">x</a>', "<form></form>",
        '<div style="position:fixed">x</div>', "<iframe></iframe>", "<style>p{}</style>", "<svg></svg>",
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', '<link rel="stylesheet" href="x">',
    ]  # fmt: skip
    for html in bad:
        assert fragment_problems(html), html
    assert (
        fragment_problems('<p>fine <a href="https://127.0.0.1/">link</a> <img src="x.png" alt=""></p>') == []
    )


def test_own_payloads_are_inert_everywhere(db: Database, config: Config, tmp_path: Path) -> None:
    with db.session() as s:
        world = hostile_world(s, NOW)
    site = tmp_path / "site"
    render_site(db, config, NOW, site)
    assert page_problems(site) == {}
    assert feed_problems(site) == {}
    assert broken_links(site) == {}
    # the payloads are shown as text where they are text, not dropped silently: a title stays readable
    first = parse_html(site / f"stories/{world['first']}.html")
    assert "Story 0" in first.xpath("//h1")[0].text_content()
    sources = (site / "sources.html").read_text()
    assert "Evil" in sources and "&lt;script&gt;" in sources  # the error message is escaped, not executed
    # no outside link survives with a bad scheme, and the CSP meta is on every page
    for page in site.rglob("*.html"):
        doc = parse_html(page)
        csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")
        assert csp and "default-src 'none'" in csp[0] and "script-src 'self'" in csp[0], page


def _raw_feed_fields(path: Path) -> dict[str, str]:
    parsed = feedparser.parse(path.read_bytes(), sanitize_html=False, resolve_relative_uris=False)
    feed = parsed.get("feed", {})
    entry = parsed.entries[0] if parsed.entries else {}
    content = "".join(c.get("value", "") for c in entry.get("content", []))
    return {
        "feed_title": feed.get("title", ""),
        "feed_text": " ".join(feed.get(k, "") for k in ("subtitle", "info", "rights")),
        "title": entry.get("title", ""),
        "summary": entry.get("summary", ""),
        "content": content,
    }


def test_feedparser_sanitizer_cases_are_inert_in_pages_and_feeds(
    shared_data: Path, db: Database, config: Config, tmp_path: Path
) -> None:
    folder = shared_data / SANITIZE_CASES
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    cases = sorted(folder.glob("*.xml"))
    expectations = {}
    used = 0
    with db.session() as s:
        feeds = [
            make_feed(s, f"http://127.0.0.1:9/outlet{i}.xml", title=f"Outlet {i}", now=NOW) for i in range(5)
        ]
        batch = []
        for n, path in enumerate(cases):
            text = path.read_text(encoding="utf-8", errors="replace")
            expect = re.search(r"Expect:\s*(.*)", text)
            expectations[path.name] = expect.group(1) if expect else ""
            fields = _raw_feed_fields(path)
            if not any(fields.values()):
                continue
            used += 1
            case_feed = make_feed(
                s, f"http://127.0.0.1:9/case{n}.xml", title=fields["feed_title"] or path.stem, now=NOW,
                last_error=fields["feed_text"] or None, last_error_at=NOW if fields["feed_text"] else None,
            )  # fmt: skip
            article = make_article(
                s, case_feed, title=fields["title"] or path.stem, summary=fields["summary"],
                content=fields["content"], published=NOW - timedelta(minutes=n), extracted_text=fields["content"],
            )  # fmt: skip
            batch.append(article)
            if len(batch) == 8:
                lead = make_article(
                    s, feeds[n % 5], title=f"Case batch {n}", published=NOW - timedelta(minutes=n)
                )
                story = make_story(s, [lead, *batch], now=NOW, title=fields["title"] or f"Batch {n}")
                tag(s, story, [(fields["title"] or path.stem)[:150]])
                batch = []
        if batch:
            make_story(s, batch, now=NOW)
    assert used > 700, f"only {used} of {len(cases)} sanitizer cases had content: the reader is broken"
    site = tmp_path / "site"
    render_site(db, config, NOW, site)
    pages = page_problems(site)
    feeds_found = feed_problems(site)
    assert pages == {}, {k: v for k, v in list(pages.items())[:5]}
    assert feeds_found == {}, {k: v for k, v in list(feeds_found.items())[:5]}
    assert broken_links(site) == {}
    assert len(list(site.glob("stories/*.html"))) >= used // 8
    # Safe text survives: where feedparser's expected (sanitised) value is a plain literal, its visible text
    # appears in the site (pages or feeds): the allowlist removes the dangerous parts, not the content.
    corpus = " ".join(
        " ".join(html_to_text(p.read_text(encoding="utf-8")).split())
        for pattern in ("stories/*.html", "sources.html", "feeds/stories/*.atom")
        for p in site.glob(pattern)
    )
    corpus = " ".join(html_to_text(corpus).split())  # feeds hold escaped HTML: unescape it once more
    missing, checked = [], 0
    for name, expect in expectations.items():
        literal = re.search(r"==\s*(u?'(?:[^'\\]|\\.)*'|u?\"(?:[^\"\\]|\\.)*\")\s*$", expect)
        if not literal:
            continue
        text = " ".join(html_to_text(ast.literal_eval(literal.group(1).lstrip("u"))).split())
        if len(text) < 4 or "<" in text:  # text that looks like markup cannot survive the corpus' unescaping
            continue
        checked += 1
        if text not in corpus:
            missing.append((name, text))
    print(f"{checked} expected texts checked")
    assert checked > 100, checked
    assert missing == []


def test_active_content_checker_accepts_our_own_pages(db: Database, config: Config, tmp_path: Path) -> None:
    """Our search script, search box, CSP meta and redirect are the only active parts, and only ours."""
    with db.session() as s:
        feed = make_feed(s, "http://127.0.0.1:9/f.xml", title="F", now=NOW)
        make_story(s, [make_article(s, feed, title="Plain", published=NOW)], now=NOW)
    render_site(db, config, NOW, tmp_path / "site")
    search = parse_html(tmp_path / "site/search.html")
    assert active_content(search, ours=True) == []
    assert active_content(search, ours=False)  # the same page would fail as feed content: the script is there


def test_stored_urls_that_do_not_parse_are_shown_not_a_crash(
    db: Database, config: Config, tmp_path: Path
) -> None:
    """Feeds stored before links were checked may hold http://[::1/x: clustering and the site carry on."""
    from aggregator.ingest.feeds import assign_outlet

    with db.session() as s:
        feed = make_feed(s, "http://[::1/feed.xml", title="", site_url="http://[::1/site", now=NOW)
        article = make_article(s, feed, title="Odd links", published=NOW, url="http://[::1/a")
        make_story(s, [article], now=NOW)
        assign_outlet(feed, entry_urls=["http://[::1/a"])
        assert feed.outlet_key
    site = tmp_path / "site"
    render_site(db, config, NOW, site)
    assert "http://[::1/feed.xml" in (site / "sources.html").read_text()
    assert not any(
        "[::1/" in href for href in re.findall(r'href="([^"]*)"', (site / "index.html").read_text())
    )
