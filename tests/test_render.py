"""The static site: structure of the pages, links, feeds, merged stories, atomic and incremental publishing."""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import lxml.etree
import pytest
from click.testing import Result
from sqlalchemy import select

from aggregator.config import Config, load_config
from aggregator.db import Database
from aggregator.db.models import Feed, Story
from aggregator.errors import RenderError
from aggregator.publish import atomic as publish
from aggregator.publish.atomic import published_inputs
from aggregator.publish.render import build_site, render_site
from aggregator.run.records import last_runs
from tests.conftest import NOW
from tests.factories import make_article, make_feed, make_story, relate, sample_news, tag
from tests.sitecheck import ATOM, broken_links, feed_problems, page_problems, parse_html


def texts(elements: list[Any]) -> list[str]:
    return [" ".join(e.text_content().split()) for e in elements]


@pytest.fixture
def world(db: Database) -> dict[str, Any]:
    with db.session() as s:
        data = sample_news(s, NOW)
        stories = data["stories"]
        assert isinstance(stories, dict)
        return {k: v.id for k, v in stories.items()}


@pytest.fixture
def site(db: Database, config: Config, world: dict[str, int], tmp_path: Path) -> Path:
    render_site(db, config, NOW, tmp_path / "site")
    return tmp_path / "site"


def snapshot(site: Path) -> dict[str, tuple[int, int]]:
    """Every published file's (inode, mtime): a rewrite changes one of them."""
    return {
        p.relative_to(site).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in site.rglob("*")
        if p.is_file()
    }


def test_story_page_groups_articles_by_outlet_with_copies_related_and_topics(
    site: Path, world: dict[str, int]
):
    doc = parse_html(site / f"stories/{world['flood']}.html")
    assert texts(doc.xpath("//h1")) == ["Flood waters rise in Riverton"]
    groups = doc.xpath("//section[@id='coverage']/section[contains(@class, 'outlet')]")
    assert texts([g.xpath("h3")[0] for g in groups]) == ["BBC News", "NPR"]  # the copy's outlet has no group
    npr_links = groups[1].xpath(".//a[contains(@class, 'article-title')]")
    assert texts(npr_links) == ["Riverton evacuates as river bursts its banks"]
    assert npr_links[0].get("href").startswith("http://127.0.0.1:9/npr.xml/article-")
    also = texts(groups[1].xpath(".//p[contains(@class, 'also')]"))
    assert also == ["Also published by Wire Daily"]
    assert not groups[0].xpath(".//p[contains(@class, 'also')]")
    timeline = texts(doc.xpath("//ol[contains(@class, 'timeline')]/li/span[@class='who']"))
    assert timeline == ["BBC News", "NPR", "Wire Daily (syndicated copy)"]
    related = doc.xpath("//section[@id='related']//a")
    assert texts(related) == ["Riverton flood inquiry opens"]
    assert related[0].get("href") == f"../stories/{world['inquiry']}.html"
    # The storyline as a timeline: each report with its date, this story in its place among them.
    items = doc.xpath("//ol[contains(@class, 'storyline')]/li")
    assert [bool(li.xpath("time|span/time")) for li in items] == [True, True]
    assert [li.get("class") for li in items].count("this-story") == 1
    assert texts(doc.xpath("//section[@id='topics']//a")) == ["Floods", "Riverton"]
    summary = doc.xpath("//section[contains(@class, 'summary-box')]")[0]
    assert "Heavy rain has flooded Riverton." in summary.text_content()
    assert texts(summary.xpath(".//p[@class='source']")) == ["Summary from BBC News"]
    follow = doc.xpath("//a[contains(@class, 'follow')]")[0]
    assert follow.get("href") == f"../feeds/stories/{world['flood']}.atom"


def test_headings_are_in_order_and_landmarks_present(site: Path):
    for page in site.rglob("*.html"):
        doc = parse_html(page)
        levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert levels and levels[0] == 1 and levels.count(1) == 1, page
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (page, levels)
        assert doc.xpath("//main[@id='main']") and doc.xpath("//header") and doc.xpath("//footer"), page
        assert doc.xpath("//nav[@aria-label]"), page
        assert all(img.get("alt") is not None for img in doc.iter("img")), page
        assert doc.get("lang") == "en"


def test_front_page_ranks_two_outlet_story_first_and_shows_its_parts(site: Path, world: dict[str, int]):
    doc = parse_html(site / "index.html")
    cards = doc.xpath("//ol[contains(@class, 'top-stories')]/li")
    headlines = texts([c.xpath(".//h2")[0] for c in cards])
    # The week-old inquiry is outside the 48-hour window; the two-outlet flood beats the one-outlet prize.
    assert headlines == ["Flood waters rise in Riverton", "Orchestra wins national prize"]
    first = cards[0]
    assert texts(first.xpath(".//span[@class='badge']")) == ["2 outlets"]
    assert texts(first.xpath(".//p[@class='summary']")) == ["Heavy rain has flooded Riverton."]
    assert texts(first.xpath(".//ul[@class='chips']//a")) == ["Floods", "Riverton"]
    assert first.xpath(".//h2/a")[0].get("href") == f"stories/{world['flood']}.html"
    assert first.xpath(".//time")[0].get("datetime") == (NOW - timedelta(hours=3)).isoformat().replace(
        "+00:00", "Z"
    )


def test_every_internal_link_resolves_to_a_file(site: Path):
    assert broken_links(site) == {}
    # and the pages that must exist do
    for path in ("index.html", "sources.html", "search.html", "search.json", "topics/index.html",
                 "archive/index.html", "feeds/top.atom", "feeds/top.json", "assets/style.css"):  # fmt: skip
        assert (site / path).is_file(), path


def test_topic_archive_and_sources_pages(site: Path, db: Database, world: dict[str, int]):
    riverton = next(site.glob("topics/*-riverton.html"))
    doc = parse_html(riverton)
    # newest first: the flood (today) before the inquiry (a week ago)
    assert texts(doc.xpath("//ul[@class='story-list']/li/a")) == [
        "Flood waters rise in Riverton",
        "Riverton flood inquiry opens",
    ]
    days = texts(parse_html(site / "archive/index.html").xpath("//ul[@class='day-index']/li/a"))
    assert days == ["Friday 27 November 2026", "Friday 20 November 2026"]
    day = parse_html(site / "archive/2026-11-27.html")
    assert sorted(texts(day.xpath("//ul[@class='story-list']/li/a"))) == [
        "Flood waters rise in Riverton",
        "Orchestra wins national prize",
    ]
    rows = parse_html(site / "sources.html").xpath("//table[@class='sources']/tbody/tr")
    assert [r.xpath("th")[0].text_content().split("feed")[0].strip() for r in rows] == [
        "BBC News",
        "NPR",
        "Wire Daily",
    ]


def test_sources_page_tells_a_failing_feed_from_a_quiet_one(db: Database, config: Config, tmp_path: Path):
    with db.session() as s:
        make_feed(
            s, "http://127.0.0.1:9/dead.xml", title="Dead Feed", now=NOW, consecutive_errors=4,
            last_error="HTTP 404 Not Found", last_error_at=NOW - timedelta(hours=1),
            last_success_at=NOW - timedelta(days=3), next_fetch_at=NOW + timedelta(hours=8),
        )  # fmt: skip
        make_feed(
            s, "http://127.0.0.1:9/quiet.xml", title="Quiet Feed", now=NOW,
            last_success_at=NOW - timedelta(minutes=20), next_fetch_at=NOW + timedelta(minutes=10),
        )  # fmt: skip
    render_site(db, config, NOW, tmp_path / "site")
    rows = {
        r.xpath("th")[0].text_content().split("feed")[0].strip(): texts(r.xpath("td"))
        for r in parse_html(tmp_path / "site/sources.html").xpath("//tbody/tr")
    }
    assert rows["Dead Feed"][0] == "error (4 failures in a row)"
    assert "HTTP 404 Not Found" in rows["Dead Feed"][4]
    assert rows["Dead Feed"][3] == "24 Nov 2026, 12:00 UTC"
    assert rows["Quiet Feed"][0] == "ok"
    assert rows["Quiet Feed"][3] == "27 Nov 2026, 11:40 UTC"
    assert rows["Quiet Feed"][4] == "none"
    assert rows["Quiet Feed"][5] == "27 Nov 2026, 12:10 UTC"


def test_atom_and_json_feeds(site: Path, world: dict[str, int]):
    top = feedparser.parse((site / "feeds/top.atom").read_bytes())
    assert not top.bozo, top.get("bozo_exception")
    assert [e.title for e in top.entries] == [
        "Flood waters rise in Riverton",
        "Orchestra wins national prize",
    ]
    assert top.entries[0].link == f"http://localhost:8000/stories/{world['flood']}.html"
    story = feedparser.parse((site / f"feeds/stories/{world['flood']}.atom").read_bytes())
    assert not story.bozo
    assert sorted(e.title for e in story.entries) == [
        "BBC News: Flood waters rise in Riverton",
        "NPR: Riverton evacuates as river bursts its banks",
    ]
    topic_feeds = list(site.glob("feeds/topics/*.atom"))
    assert len(topic_feeds) == 3
    for path in topic_feeds:
        assert not feedparser.parse(path.read_bytes()).bozo
    data = json.loads((site / "feeds/top.json").read_text())
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["title"] for i in data["items"]] == [
        "Flood waters rise in Riverton",
        "Orchestra wins national prize",
    ]
    assert data["items"][0]["authors"] == [{"name": "BBC News"}, {"name": "NPR"}]
    index = json.loads((site / "search.json").read_text())
    assert {i["t"] for i in index} == {
        "Flood waters rise in Riverton",
        "Riverton flood inquiry opens",
        "Orchestra wins national prize",
    }


def test_sample_hostile_article_is_inert_in_pages_and_feeds(site: Path):
    assert page_problems(site) == {}
    assert feed_problems(site) == {}
    for path in site.rglob("*.atom"):
        lxml.etree.fromstring(path.read_bytes())


def test_merged_story_page_points_to_survivor(
    db: Database, config: Config, world: dict[str, int], tmp_path: Path
):
    with db.session() as s:
        inquiry = s.get(Story, world["inquiry"])
        assert inquiry is not None
        inquiry.merged_into_id = world["flood"]
    render_site(db, config, NOW, tmp_path / "site")
    site = tmp_path / "site"
    doc = parse_html(site / f"stories/{world['inquiry']}.html")
    link = doc.xpath("//a[@id='survivor']")[0]
    assert link.get("href") == f"../stories/{world['flood']}.html"
    assert link.text_content() == "Flood waters rise in Riverton"
    refresh = doc.xpath("//meta[@http-equiv='refresh']")[0].get("content")
    assert refresh == f"0; url={world['flood']}.html"
    # the survivor no longer lists the absorbed story as related to itself
    flood = parse_html(site / f"stories/{world['flood']}.html")
    assert flood.xpath("//section[@id='related']//a") == []
    # subscribers of the absorbed story's feed now get the survivor's coverage
    feed = feedparser.parse((site / f"feeds/stories/{world['inquiry']}.atom").read_bytes())
    assert len(feed.entries) == 2
    assert broken_links(site) == {}


def test_rerender_with_nothing_new_writes_nothing(db: Database, config: Config, site: Path):
    before = snapshot(site)
    target = site.resolve()
    result = render_site(db, config, NOW, site)
    assert (result.written, result.swapped) == (0, False)
    assert result.unchanged == result.pages == len(before) - 1  # the manifest is not a page
    assert site.resolve() == target
    assert snapshot(site) == before


def test_rerender_after_news_rewrites_only_changed_pages(
    db: Database, config: Config, site: Path, world: dict[str, int]
):
    before = snapshot(site)
    first_build = site.resolve()
    with db.session() as s:
        wire = s.scalars(select(Feed).where(Feed.title == "Wire Daily")).one()
        prize = s.get(Story, world["prize"])
        assert prize is not None
        article = make_article(
            s, wire, title="Orchestra prize: the winners", published=NOW - timedelta(hours=1)
        )
        from aggregator.db.models import StoryArticle

        s.add(StoryArticle(article_id=article.id, story_id=prize.id, added_at=NOW, similarity=1.0))
        prize.source_count, prize.article_count, prize.last_published_at = 2, 2, article.published_at
    result = render_site(db, config, NOW, site)
    after = snapshot(site)
    assert result.swapped and site.resolve() != first_build
    changed = {p for p in after if before.get(p) != after[p]}
    assert f"stories/{world['prize']}.html" in changed
    assert f"feeds/stories/{world['prize']}.atom" in changed
    assert "index.html" in changed
    # pages the news does not touch keep their file: same inode and mtime, not rewritten
    for untouched in (f"stories/{world['flood']}.html", f"stories/{world['inquiry']}.html", "topics/index.html",
                      "assets/style.css", f"feeds/stories/{world['flood']}.atom"):  # fmt: skip
        assert after[untouched] == before[untouched], untouched
    assert result.written == len(changed) - 1  # minus the manifest
    # the previous build is kept for readers in flight; older ones are pruned
    with db.session() as s:
        prize = s.get(Story, world["prize"])
        assert prize is not None
        prize.title = "Orchestra wins the national prize"
    assert render_site(db, config, NOW, site).swapped
    builds = {p for p in publish.builds_dir(site).iterdir() if p.is_dir()}
    assert first_build not in builds and len(builds) <= 2


def test_failed_render_leaves_the_published_site_untouched(
    db: Database, config: Config, site: Path, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
):
    before = {p: (site / p).read_bytes() for p in snapshot(site)}
    published = site.resolve()
    real_write = Path.write_bytes
    calls = {"n": 0}

    def failing_write(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write)
    with db.session() as s:
        story = s.get(Story, world["prize"])
        assert story is not None
        story.title = "A new headline that changes several pages"
    with pytest.raises(RenderError, match=r"cannot write the site to .*: No space left on device"):
        render_site(db, config, NOW, site)
    monkeypatch.undo()
    assert site.resolve() == published
    assert {p: (site / p).read_bytes() for p in snapshot(site)} == before
    assert [p for p in publish.builds_dir(site).iterdir() if p.is_dir()] == [published]
    assert not list(site.parent.glob("site.tmp-*"))


def test_readers_never_see_a_missing_or_partial_page_during_swaps(
    db: Database, config: Config, site: Path, world: dict[str, int]
):
    pages = ["index.html", f"stories/{world['prize']}.html", "archive/index.html", "feeds/top.atom"]
    stop = threading.Event()
    failures: list[str] = []
    reads = {"n": 0}

    def reader() -> None:
        while not stop.is_set():
            for page in pages:
                try:
                    data = (site / page).read_bytes()
                except OSError as e:
                    failures.append(f"{page}: {e}")
                    continue
                if not data.rstrip().endswith((b"</html>", b"</feed>")):
                    failures.append(f"{page}: partial ({len(data)} bytes)")
                reads["n"] += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(12):
            with db.session() as s:
                story = s.get(Story, world["prize"])
                assert story is not None
                story.title = f"Orchestra wins national prize, update {i}"
            assert render_site(db, config, NOW, site).swapped
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert reads["n"] > 0
    assert "update 11" in (site / f"stories/{world['prize']}.html").read_text()


def test_refuses_to_replace_a_directory_it_did_not_write(db: Database, config: Config, tmp_path: Path):
    out = tmp_path / "www"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(RenderError, match="did not write"):
        render_site(db, config, NOW, out)
    assert (out / "precious.txt").read_text() == "keep me"


def test_replaces_a_plain_site_directory_of_an_older_version(db: Database, config: Config, tmp_path: Path):
    out = tmp_path / "www"
    out.mkdir()
    (out / publish.MANIFEST).write_text('{"files": {}}')
    (out / "old-page.html").write_text("old")
    result = render_site(db, config, NOW, out)
    assert out.is_symlink() and result.swapped
    assert (out / "index.html").is_file() and not (out / "old-page.html").exists()
    assert not list(tmp_path.glob("www.old-*"))


def test_many_outlets_copies_count_once_in_the_front_page(db: Database, config: Config, tmp_path: Path):
    with db.session() as s:
        feeds = [make_feed(s, f"http://127.0.0.1:9/f{i}.xml", title=f"Outlet {i}", now=NOW) for i in range(4)]
        orig = make_article(s, feeds[0], title="Wire story", published=NOW - timedelta(hours=2))
        copies = [
            make_article(
                s, f, title="Wire story", published=NOW - timedelta(hours=1), duplicate_of_id=orig.id
            )
            for f in feeds[1:]
        ]
        wire = make_story(s, [orig, *copies], now=NOW)
        a = make_article(s, feeds[1], title="Two outlets", published=NOW - timedelta(hours=3))
        b = make_article(s, feeds[2], title="Two outlets too", published=NOW - timedelta(hours=3))
        two = make_story(s, [a, b], now=NOW)
        relate(s, two, [wire])
        tag(s, two, ["Things"])
        ids = (wire.id, two.id)
    render_site(db, config, NOW, tmp_path / "site")
    doc = parse_html(tmp_path / "site/index.html")
    cards = doc.xpath("//ol[contains(@class, 'top-stories')]/li")
    assert texts([c.xpath(".//h2")[0] for c in cards]) == ["Two outlets", "Wire story"]
    assert texts([c.xpath(".//span[@class='badge']")[0] for c in cards]) == ["2 outlets", "1 outlet"]
    story = parse_html(tmp_path / f"site/stories/{ids[0]}.html")
    assert texts(story.xpath("//p[contains(@class, 'also')]")) == [
        "Also published by Outlet 1, Outlet 2, Outlet 3"
    ]


def test_render_command(
    write_config: Callable[..., Path], run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    path = write_config({"site": {"output_dir": str(tmp_path / "public"), "title": "Riverton Daily"}})
    assert run_cli(path, "init").exit_code == 0
    config = load_config(path)
    database = Database(config.database_url)
    with database.session() as s:
        sample_news(s, NOW)
    database.dispose()

    result = run_cli(path, "render")
    assert result.exit_code == 0, result.output
    assert "render: site published at" in result.output
    doc = parse_html(tmp_path / "public/index.html")
    assert texts(doc.xpath("//a[@class='brand']")) == ["Riverton Daily"]
    again = run_cli(path, "render")
    assert "render: site unchanged at" in again.output and "(0 files written)" in again.output
    database = Database(config.database_url)
    with database.session() as s:
        runs = [
            (r["step"], r["outcome"], r["counts"]["written"], r["counts"]["stories"]) for r in last_runs(s)
        ]
    database.dispose()
    assert runs == [("render", "ok", 0, 3)]  # recorded like any run of the step: its three story pages
    other = run_cli(path, "render", "--out", str(tmp_path / "elsewhere"))
    assert other.exit_code == 0 and (tmp_path / "elsewhere/index.html").is_file()


def test_base_url_makes_absolute_feed_links(
    db: Database, config: Config, world: dict[str, int], tmp_path: Path
):
    custom = replace(config, site=replace(config.site, base_url="https://news.example.org/digest/"))
    render_site(db, custom, NOW, tmp_path / "site")
    feed = lxml.etree.fromstring((tmp_path / "site/feeds/top.atom").read_bytes())
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == "https://news.example.org/digest/feeds/top.atom"
    canonical = parse_html(tmp_path / "site/index.html").xpath("//link[@rel='canonical']")[0].get("href")
    assert canonical == "https://news.example.org/digest/index.html"
    assert os.path.islink(tmp_path / "site")


def test_later_render_with_nothing_new_writes_nothing(db: Database, config: Config, site: Path) -> None:
    """Pages carry no render time: ten minutes later, with no news, nothing is rewritten."""
    before = snapshot(site)
    result = render_site(db, config, NOW + timedelta(minutes=10), site)
    assert (result.written, result.swapped) == (0, False)
    assert snapshot(site) == before


def test_empty_database_renders_a_working_site(db: Database, config: Config, tmp_path: Path) -> None:
    result = render_site(db, config, NOW, tmp_path / "site")
    site = tmp_path / "site"
    assert result.stories == 0 and result.swapped
    assert "No stories in the last 48 hours yet" in parse_html(site / "index.html").text_content()
    assert broken_links(site) == {}
    assert not feedparser.parse((site / "feeds/top.atom").read_bytes()).bozo


def test_pages_whose_inputs_did_not_change_are_not_rendered_again(
    db: Database, config: Config, site: Path, world: dict[str, int]
) -> None:
    previous = published_inputs(site)
    assert previous
    again = build_site(db, config, NOW, previous)
    rendered = {p for p, data in again.files.items() if data is not None}
    assert rendered == {"search.json", "assets/style.css", "assets/search.js", "assets/icon.svg"}
    with db.session() as s:
        story = s.get(Story, world["prize"])
        assert story is not None
        story.title = "Orchestra wins the national prize"
    after = build_site(db, config, NOW, previous)
    redone = {p for p, data in after.files.items() if data is not None and p.endswith((".html", ".atom"))}
    assert f"stories/{world['prize']}.html" in redone and "index.html" in redone
    assert f"stories/{world['flood']}.html" not in redone and "sources.html" not in redone
    # another site setting changes every page
    retitled = replace(config, site=replace(config.site, title="Other"))
    assert all(data is not None for data in build_site(db, retitled, NOW, previous).files.values())


def test_a_page_lost_from_the_published_build_is_rendered_again(
    db: Database, config: Config, site: Path, world: dict[str, int]
) -> None:
    page = site / f"stories/{world['flood']}.html"
    expected = page.read_bytes()
    page.unlink()  # someone tidied the build by hand
    with db.session() as s:
        story = s.get(Story, world["prize"])
        assert story is not None
        story.title = "Something new"
    result = render_site(db, config, NOW, site)
    assert result.swapped
    assert page.read_bytes() == expected
    assert broken_links(site) == {}


def test_relative_output_dir_keeps_publishing_through_the_link(
    write_config: Callable[..., Path], run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    path = write_config({"site": {"output_dir": "public"}})
    assert run_cli(path, "init").exit_code == 0
    database = Database(load_config(path).database_url)
    with database.session() as s:
        sample_news(s, NOW)
    database.dispose()
    first = run_cli(path, "render")
    assert f"render: site published at {tmp_path / 'public'} " in first.output
    again = run_cli(path, "render")
    assert f"render: site unchanged at {tmp_path / 'public'} (0 files written)" in again.output
    assert (tmp_path / "public").is_symlink()
    builds = [p for p in publish.builds_dir(tmp_path / "public").iterdir() if p.is_dir()]
    assert len(builds) == 1 and not builds[0].is_symlink()


def test_refuses_to_publish_inside_a_build(db: Database, config: Config, site: Path) -> None:
    with pytest.raises(RenderError, match="inside a published build"):
        render_site(db, config, NOW, site / "nested")
    with pytest.raises(RenderError, match="inside a published build"):
        render_site(db, config, NOW, site.resolve())


def test_what_a_killed_render_left_is_removed_by_the_next_one_even_with_nothing_new(
    db: Database, config: Config, site: Path
) -> None:
    builds = publish.builds_dir(site)
    published = site.resolve()
    partial = builds / "99999-deadbeef"  # killed while writing pages: no manifest yet
    (partial / "stories").mkdir(parents=True)
    (partial / "stories" / "1.html").write_bytes(b"<html><body><h1>Half a pa")
    (published / f"{publish.MANIFEST}.tmp-99999").write_text("{", encoding="utf-8")  # killed mid-manifest
    os.symlink(os.path.relpath(partial, site.parent), site.parent / f"{site.name}.tmp-99999")  # mid-swap

    result = render_site(db, config, NOW, site)
    assert not result.swapped  # nothing new: still, the leftovers go
    assert not partial.exists()
    assert not (published / f"{publish.MANIFEST}.tmp-99999").exists()
    assert not (site.parent / f"{site.name}.tmp-99999").is_symlink()
    assert site.resolve() == published and (published / "index.html").is_file()


def test_front_page_ranks_news_by_news_coverage_and_non_news_last(
    db: Database, config: Config, tmp_path: Path
) -> None:
    with db.session() as s:
        feeds = [make_feed(s, f"http://127.0.0.1:9/f{i}.xml", title=f"Outlet {i}", now=NOW) for i in range(4)]

        def art(feed: int, title: str, hours: float) -> Any:
            return make_article(
                s,
                feeds[feed],
                title=title,
                published=NOW - timedelta(hours=hours),
                summary=f"<p>{title}.</p>",
            )

        ban = make_story(
            s, [art(i, f"Canada bans assault-style weapons ({i})", 20) for i in range(3)], now=NOW
        )
        live = make_story(
            s, [art(i, f"Coronavirus live updates: cases pass 3 million ({i})", 1) for i in range(4)], now=NOW
        )
        promos = [art(i, f"Orchestra Nights | Official Trailer ({i})", 0.2) for i in (1, 2, 3)]
        prize = make_story(s, [art(0, "Orchestra wins national prize", 26), *promos], now=NOW)
    render_site(db, config, NOW, tmp_path / "site")
    cards = parse_html(tmp_path / "site/index.html").xpath("//ol[contains(@class, 'top-stories')]/li")
    links = [c.xpath(".//h2/a")[0].get("href") for c in cards]
    # Three outlets of news beat one outlet whose story only trailers keep fresh; the live blog comes last.
    assert links == [f"stories/{ban.id}.html", f"stories/{prize.id}.html", f"stories/{live.id}.html"]


def test_story_page_chips_carry_no_feed_internal_junk(db: Database, config: Config, tmp_path: Path) -> None:
    from aggregator.stories.links import update_story_links

    with db.session() as s:
        fox = make_feed(s, "http://127.0.0.1:9/fox.xml", title="FOX News", now=NOW)
        cnn = make_feed(s, "http://127.0.0.1:9/cnn.xml", title="CNN", now=NOW)
        raw = ["6ff9ddc6-ae62-588c-8351-6dbf9b2d1b8b", "fnc", "fnc/sports", "article", "Fox News",
               "fox-news/world/conflicts/iran", "Yael Halon"]  # fmt: skip
        a = make_article(
            s, fox, title="Iran fires missiles at Gulf tanker", published=NOW - timedelta(hours=2),
            summary="<p>Iran fired missiles, said Admiral Ali Fadavi.</p>", categories=raw, author="Yael Halon",
        )  # fmt: skip
        b = make_article(
            s, cnn, title="Tanker hit in the Gulf", published=NOW - timedelta(hours=1),
            summary="<p>Admiral Ali Fadavi said the navy acted.</p>",
        )  # fmt: skip
        story = make_story(s, [a, b], now=NOW)
        update_story_links(s, [story.id], config, NOW)
    render_site(db, config, NOW, tmp_path / "site")
    page = parse_html(tmp_path / f"site/stories/{story.id}.html")
    assert texts(page.xpath("//section[@id='topics']//a")) == ["Admiral Ali Fadavi", "Iran", "Gulf"]
