"""The static digest site: database -> pages (Jinja2) -> an atomic, incremental publish.

Data flow::

    db --views, health--> StoryView/TopicView/FeedHealth --templates--> {path: bytes} --publish_tree--> <out>

Safety: autoescape is on for every template (HTML and Atom) and undefined names fail (StrictUndefined). Feed
HTML is only ever shown after :func:`aggregator.sanitize.clean_html` (in the Atom/JSON feeds; pages show
plain text); every outside link goes through :func:`aggregator.sanitize.safe_url` (http/https only). Pages
carry a Content-Security-Policy allowing nothing but the site's own stylesheet, script and icon.

Pages never show the render time, only data: rendering twice with nothing new gives identical bytes, which
is what lets :mod:`aggregator.publish.atomic` write nothing.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from ..config import Config
from ..db import Database
from ..errors import RenderError
from ..ingest.health import feed_health
from ..sanitize import clean_html, truncate_words
from . import views as views_module
from .atomic import StaleReuseError, publish_tree, published_inputs
from .views import (
    StoryRef,
    StoryView,
    TopicRef,
    TopicView,
    all_story_refs,
    load_story_views,
    merged_map,
    retired_story_ids,
    slugify,
    top_stories,
    topic_views,
)

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)
ASSETS = ("style.css", "search.js", "icon.svg")
TOPIC_PAGE_STORIES = 200
FEED_ENTRIES = 50
SEARCH_INDEX_STORIES = 5000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Characters XML 1.0 forbids (feeds carry them now and then); stripped from every value a template prints.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class RenderSummary:
    out_dir: Path
    build_dir: Path
    pages: int  # files in the site
    written: int  # files written (new or changed)
    unchanged: int
    removed: int
    stories: int
    swapped: bool


# ---- URLs (relative inside the site, so it also works from a file browser) ----------------------------------


def story_path(story_id: int) -> str:
    """A story's stable URL: built from its id only, so it never changes."""
    return f"stories/{story_id}.html"


def topic_path(topic: TopicRef) -> str:
    return f"topics/{topic.id}-{slugify(topic.key) or 'topic'}.html"


def day_path(day: date) -> str:
    return f"archive/{day.isoformat()}.html"


def story_feed_path(story_id: int) -> str:
    return f"feeds/stories/{story_id}.atom"


def topic_feed_path(topic: TopicRef) -> str:
    return f"feeds/topics/{topic.id}.atom"


# ---- Jinja ---------------------------------------------------------------------------------------------------


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("aggregator.templates", "."),
        autoescape=True,  # everywhere: HTML pages and Atom feeds alike
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_printable,
        auto_reload=False,  # one render, one set of templates: skip the per-call mtime check
    )
    env.filters["human"] = lambda dt: f"{dt.day} {dt:%b %Y, %H:%M} UTC"
    env.filters["hm"] = lambda dt: f"{dt:%H:%M}"
    env.filters["dayname"] = lambda d: f"{d:%A} {d.day} {d:%B %Y}"
    env.filters["iso"] = lambda dt: dt.isoformat().replace("+00:00", "Z")
    env.filters["words"] = truncate_words
    env.globals.update(
        story_path=story_path, topic_path=topic_path, day_path=day_path, story_feed_path=story_feed_path,
        topic_feed_path=topic_feed_path,
    )  # fmt: skip
    return env


def _printable(value: Any) -> Any:
    if isinstance(value, str) and _XML_INVALID.search(value):
        cleaned = _XML_INVALID.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


class Site:
    """Renders templates into the file map, with the per-page relative root and absolute URL.

    Skips work already done: each page gets an input key (a hash of everything it is rendered from: the
    template files, this code, the site settings and the page's data); when the published build was made from
    the same key, the page maps to None ("keep the published file") instead of being rendered again."""

    def __init__(self, env: jinja2.Environment, config: Config, previous: Mapping[str, str]) -> None:
        self.env = env
        self.config = config
        self.base = config.site.base_url.rstrip("/") + "/"
        self.files: dict[str, bytes | None] = {}
        self.inputs: dict[str, str] = {}
        self.previous = previous
        self.salt = _code_and_settings_digest(config)

    def absolute(self, path: str) -> str:
        return self.base + path

    def fresh(self, path: str, *data: Any) -> bool:
        """Record the input key of ``path``; False (and the page kept as published) if it is unchanged."""
        key = hashlib.sha256((self.salt + path + repr(data)).encode("utf-8", "surrogatepass")).hexdigest()
        self.inputs[path] = key
        if self.previous.get(path) == key:
            self.files[path] = None
            return False
        return True

    def page(self, path: str, template: str, **context: Any) -> None:
        if not self.fresh(path, template, context):
            return
        depth = path.count("/")
        values: dict[str, Any] = {
            "site_title": self.config.site.title,
            "root": "../" * depth,
            "path": path,
            "canonical": self.absolute(path),
            "csp": CSP,
            "absolute": self.absolute,
        }
        values.update(context)
        self.files[path] = self.env.get_template(template).render(values).encode("utf-8")


def _code_and_settings_digest(config: Config) -> str:
    """Changes when a template, the rendering code or a site setting changes: then every page is redone."""
    h = hashlib.sha256(repr(config.site).encode())
    package = resources.files("aggregator.templates")
    for item in sorted(package.iterdir(), key=lambda p: p.name):
        if item.is_file() and not item.name.startswith(
            "newsletter"
        ):  # the email's templates are not the site's
            h.update(item.name.encode() + item.read_bytes())
    for module in (__file__, views_module.__file__):
        h.update(Path(module).read_bytes() if module else b"")
    return h.hexdigest()


# ---- building -----------------------------------------------------------------------------------------------


def build_site(
    db: Database, config: Config, now: datetime, previous: Mapping[str, str] | None = None
) -> Site:
    """Every file of the site, in memory: ``site.files`` maps a relative path to bytes, or to None for a page
    whose input key is in ``previous`` (the published build's keys) and so is not rendered again."""
    with db.session() as s:
        top_ids = top_stories(s, now, config.site.top_hours, config.site.top_count)
        refs = all_story_refs(s)
        views = load_story_views(s, [r.id for r in refs])
        merged = merged_map(s)
        retired = load_story_views(s, retired_story_ids(s))
        topics = topic_views(s, TOPIC_PAGE_STORIES)
        health = feed_health(s)
    site = Site(make_environment(), config, previous or {})
    top = [views[i] for i in top_ids if i in views]
    stories_by_topic = {t.topic.id: t for t in topics}

    site.page("index.html", "index.html", nav="home", stories=top, hours=config.site.top_hours)
    for view in views.values():
        site.page(story_path(view.id), "story.html", nav="", story=view)
    for view in retired.values():  # every article went with a removed feed: the old URL still answers
        site.page(story_path(view.id), "retired.html", nav="", story=view)
    for old, survivor in merged.items():
        target = views.get(survivor) or retired.get(survivor)
        if target is not None:
            site.page(story_path(old), "merged.html", nav="", old_id=old, survivor=target.ref)
    site.page("topics/index.html", "topics.html", nav="topics", topics=topics)
    for topic in topics:
        site.page(topic_path(topic.topic), "topic.html", nav="topics", topic=topic)
    days = _by_day(refs)
    site.page(
        "archive/index.html", "archive.html", nav="archive", days=[(d, len(v)) for d, v in days.items()]
    )
    day_list = list(days)
    for i, (day, day_refs) in enumerate(days.items()):
        newer = day_list[i - 1] if i > 0 else None
        older = day_list[i + 1] if i + 1 < len(day_list) else None
        site.page(
            day_path(day), "day.html", nav="archive", day=day, stories=day_refs, newer=newer, older=older
        )
    site.page("sources.html", "sources.html", nav="sources", feeds=health)
    site.page("search.html", "search.html", nav="search")
    site.files["search.json"] = _json(
        [
            {
                "t": r.headline,
                "u": story_path(r.id),
                "d": r.first_published.date().isoformat(),
                "n": r.outlet_count,
            }
            for r in refs[:SEARCH_INDEX_STORIES]
        ]
    )

    _feeds(site, top, views, merged, stories_by_topic, retired)
    for name in ASSETS:
        site.files[f"assets/{name}"] = resources.files("aggregator.templates").joinpath(name).read_bytes()
    return site


def _by_day(refs: Sequence[StoryRef]) -> dict[date, list[StoryRef]]:
    """Stories by the UTC day of their first coverage, newest day first (refs come newest first)."""
    days: dict[date, list[StoryRef]] = defaultdict(list)
    for ref in refs:
        days[ref.first_published.date()].append(ref)
    return dict(sorted(days.items(), reverse=True))


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


# ---- feeds out ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    link: str
    published: datetime
    updated: datetime
    content_html: str  # sanitised HTML; the Atom template escapes it as text (type="html")
    authors: tuple[str, ...]


def _story_entry(site: Site, view: StoryView, render_html: Callable[..., str]) -> FeedEntry:
    link = site.absolute(story_path(view.id))
    return FeedEntry(
        id=link,
        title=view.headline,
        link=link,
        published=view.first_published,
        updated=view.last_published,
        content_html=render_html(story=view, link=link),
        authors=view.outlets,
    )


def _feeds(
    site: Site,
    top: Sequence[StoryView],
    views: Mapping[int, StoryView],
    merged: Mapping[int, int],
    topics: Mapping[int, TopicView],
    retired: Mapping[int, StoryView],
) -> None:
    fragment = site.env.get_template("feed_story.html")

    def story_html(**context: Any) -> str:
        return clean_html(fragment.render(absolute=site.absolute, **context))

    cache: dict[int, FeedEntry] = {}

    def entry(view: StoryView) -> FeedEntry:
        if view.id not in cache:
            cache[view.id] = _story_entry(site, view, story_html)
        return cache[view.id]

    top = top[:FEED_ENTRIES]
    # `|`, not `or`: both keys must be recorded
    if site.fresh("feeds/top.atom", top) | site.fresh("feeds/top.json", top):
        top_entries = [entry(v) for v in top]
        _atom(site, "feeds/top.atom", f"{site.config.site.title}: top stories", "index.html", top_entries)
        site.files["feeds/top.json"] = _json_feed(site, top_entries)
    for topic in topics.values():
        members = [views[r.id] for r in topic.stories[:FEED_ENTRIES] if r.id in views]
        path = topic_feed_path(topic.topic)
        if site.fresh(path, topic.topic, members):
            title = f"{site.config.site.title}: {topic.topic.label}"
            _atom(site, path, title, topic_path(topic.topic), [entry(v) for v in members])
    for view in views.values():
        if site.fresh(story_feed_path(view.id), view):
            _story_feed(site, view, story_feed_path(view.id))
    for view in retired.values():  # its subscribers get a feed with nothing in it, not a 404
        if site.fresh(story_feed_path(view.id), view):
            _story_feed(site, view, story_feed_path(view.id))
    for old, survivor in merged.items():
        # subscribers of an absorbed story keep following the survivor
        target = views.get(survivor) or retired.get(survivor)
        if target is not None and site.fresh(story_feed_path(old), target):
            _story_feed(site, target, story_feed_path(old))


def _story_feed(site: Site, view: StoryView, path: str) -> None:
    """One entry per original article: the coverage of the story as it grows."""
    entries = []
    for group in view.groups:
        for article in group.articles:
            also = "".join(f"<li>Also published by {html.escape(c.outlet)}</li>" for c in article.copies)
            entries.append(
                FeedEntry(
                    id=f"{site.absolute(story_path(view.id))}#a{article.id}",
                    title=f"{article.outlet}: {article.title}",
                    link=article.url or site.absolute(story_path(view.id)),
                    published=article.published,
                    updated=article.published,
                    content_html=clean_html(article.summary_html + (f"<ul>{also}</ul>" if also else "")),
                    authors=(article.outlet,),
                )
            )
    entries.sort(key=lambda e: (e.published, e.id), reverse=True)
    _atom(
        site, path, f"{view.headline} ({site.config.site.title})", story_path(view.id), entries[:FEED_ENTRIES]
    )


def _atom(site: Site, path: str, title: str, html_path: str, entries: Sequence[FeedEntry]) -> None:
    updated = max((e.updated for e in entries), default=EPOCH)
    xml = site.env.get_template("atom.xml").render(
        title=title,
        site_title=site.config.site.title,
        self_url=site.absolute(path),
        html_url=site.absolute(html_path),
        feed_id=site.absolute(path),
        updated=updated,
        entries=entries,
    )
    site.files[path] = xml.encode("utf-8")


def _json_feed(site: Site, entries: Sequence[FeedEntry]) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    return _json(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": f"{site.config.site.title}: top stories",
            "home_page_url": site.absolute("index.html"),
            "feed_url": site.absolute("feeds/top.json"),
            "items": [
                {
                    "id": e.id,
                    "url": e.link,
                    "title": e.title,
                    "content_html": e.content_html,
                    "date_published": e.published.isoformat(),
                    "date_modified": e.updated.isoformat(),
                    "authors": [{"name": a} for a in e.authors],
                }
                for e in entries
            ],
        }
    )


# ---- entry point ------------------------------------------------------------------------------------------


def site_output_dir(config: Config) -> Path:
    """``site.output_dir`` made absolute without following symbolic links (``config.site_dir`` resolves them,
    which would point at the current build instead of the link that is swapped)."""
    path = config.site.output_dir
    return Path(os.path.abspath(path if path.is_absolute() else config.base_dir / path))


def render_site(db: Database, config: Config, now: datetime, out_dir: Path | None = None) -> RenderSummary:
    """Build the site from the database and publish it to ``out_dir`` (default: ``config.site_dir``)."""
    out = out_dir or site_output_dir(config)
    if urlsplit(config.site.base_url).scheme not in ("http", "https"):
        raise RenderError(f"site.base_url must be http(s), got {config.site.base_url!r}")
    previous = published_inputs(out)
    try:
        site = build_site(db, config, now, previous)
        try:
            result = publish_tree(out, site.files, site.inputs)
        except StaleReuseError as e:  # the published build lost a page it should still have: redo them all
            log.warning("%s; rendering every page afresh", e)
            site = build_site(db, config, now, {})
            result = publish_tree(out, site.files, site.inputs)
    except jinja2.TemplateError as e:
        raise RenderError(f"a site template failed: {e}") from e
    stories = sum(1 for p in site.files if p.startswith("stories/"))
    rendered = sum(1 for data in site.files.values() if data is not None)
    log.info(
        "%d files (%d rendered, %d story pages) for %s: %d written",
        len(site.files), rendered, stories, out, result.written,
    )  # fmt: skip
    return RenderSummary(
        out_dir=result.out_dir,
        build_dir=result.build_dir,
        pages=result.files,
        written=result.written,
        unchanged=result.unchanged,
        removed=result.removed,
        stories=stories,
        swapped=result.swapped,
    )
