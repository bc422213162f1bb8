"""Read side of the story engine: what the site shows, as plain dataclasses.

Data flow::

    story members --story_coverage, signals_from_articles--> RankSignals --rank_stories (pure)--> top ids
    ids --load_story_views--> StoryView (articles grouped by outlet, copies, related, topics, summary)

Nothing here writes to the database or reads the clock: ``now`` is passed in.

Top-stories ranking (:func:`rank_score`), for a story with

* ``D`` = distinct outlets of its coverage (:func:`aggregator.stories.coverage.story_coverage`: two feeds of one
  brand are one outlet, and a syndicated copy of another article of the story adds none),
* ``M`` = outlets whose first original article in the story is at most ``MOMENTUM_HOURS`` old (momentum:
  coverage still spreading),
* ``age`` = hours since the story's latest original article,

``score = (log2(1 + D) + MOMENTUM_WEIGHT * log2(1 + M)) * 0.5 ** (age / HALF_LIFE_HOURS)``.

The logarithm makes the tenth outlet worth less than the second; the half-life lets a fresh two-outlet story
overtake a day-old five-outlet one. Ties go to the most recent story, then the highest id.

Only news counts (:mod:`aggregator.stories.kinds`): a story's live blogs, round-ups, explainers, podcasts and
promos add no outlets, momentum or freshness, and a story with no news member at all (its lead is non-news)
ranks below every news story. An undated article counts from when it was first fetched: its stored time is
never moved by a later fetch (:mod:`aggregator.ingest.store`), so it makes a story fresh once.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ..db.models import (
    Article,
    Feed,
    Story,
    StoryArticle,
    StoryRelation,
    StoryTopic,
    Topic,
    live_story,
    retired_story,
)
from ..ingest.outlets import Outlet
from ..sanitize import html_to_text, safe_url
from ..stories.coverage import story_coverage
from ..stories.hygiene import FeedHygiene
from ..stories.kinds import ItemKind, item_kind
from ..stories.links import feed_hygiene

HALF_LIFE_HOURS = 12.0
MIN_OWN_WORDS = 5  # an excerpt left with fewer words once the feed's boilerplate is out shows it whole
MOMENTUM_HOURS = 6.0
MOMENTUM_WEIGHT = 0.5
SUMMARY_SENTENCES = 2
SUMMARY_WORDS = 60
EXCERPT_WORDS = 40
NO_OUTLET = Outlet("", "")
# SQLite's default limit on bound parameters is 32766 on current builds, 999 on old ones.
_CHUNK = 900


# ---- plain data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicRef:
    id: int
    key: str
    label: str


@dataclass(frozen=True)
class StoryRef:
    """A link to a story: enough for lists (related stories, topic and archive pages)."""

    id: int
    headline: str
    outlet_count: int
    first_published: datetime
    last_published: datetime


@dataclass(frozen=True)
class CopyView:
    """A syndicated copy of an article, shown as "also published by"."""

    outlet: str
    url: str | None
    published: datetime


@dataclass(frozen=True)
class ArticleView:
    id: int
    title: str
    url: str | None  # http(s) only, else None
    outlet: str  # the outlet's name
    outlet_key: str  # the outlet's identity (Feed.outlet_key)
    feed_id: int
    published: datetime
    excerpt: str  # plain text
    summary_html: str  # the feed's summary as published (raw): pass through clean_html before showing
    copies: tuple[CopyView, ...] = ()
    is_copy: bool = False  # a syndicated copy of another article of the story
    duplicate_of_id: int | None = None  # Article.duplicate_of_id


@dataclass(frozen=True)
class OutletGroup:
    outlet: str  # name
    key: str  # Feed.outlet_key of its articles
    articles: tuple[ArticleView, ...]


@dataclass(frozen=True)
class Summary:
    text: str
    source: str  # the outlet the sentences come from
    url: str | None


@dataclass(frozen=True)
class StoryView:
    id: int
    headline: str
    first_published: datetime
    last_published: datetime
    outlet_count: int  # distinct outlets, copies counted once
    article_count: int
    outlets: tuple[str, ...]  # in order of first coverage
    summary: Summary | None
    lead: ArticleView | None
    groups: tuple[OutletGroup, ...]  # outlets in order of first coverage
    timeline: tuple[ArticleView, ...]  # every article, copies included, oldest first
    related: tuple[StoryRef, ...]
    topics: tuple[TopicRef, ...]

    @property
    def ref(self) -> StoryRef:
        return StoryRef(self.id, self.headline, self.outlet_count, self.first_published, self.last_published)


@dataclass(frozen=True)
class TopicView:
    topic: TopicRef
    stories: tuple[StoryRef, ...]  # newest first


@dataclass(frozen=True)
class RankSignals:
    story_id: int
    outlets: int
    recent_outlets: int
    last_published: datetime
    news: bool = True  # False: no member is news (the story's lead is a live blog, round-up, promo, ...)


# ---- pure logic -----------------------------------------------------------------------------------


def rank_score(signals: RankSignals, now: datetime) -> float:
    """The top-stories score (formula in the module docstring)."""
    age_hours = max(0.0, (now - signals.last_published).total_seconds() / 3600)
    coverage = math.log2(1 + signals.outlets) + MOMENTUM_WEIGHT * math.log2(1 + signals.recent_outlets)
    return float(coverage * 0.5 ** (age_hours / HALF_LIFE_HOURS))


def rank_stories(candidates: Iterable[RankSignals], now: datetime, limit: int) -> list[int]:
    """Story ids, best first; stories without news after every news story."""
    scored = sorted(
        candidates,
        key=lambda s: (s.news, rank_score(s, now), s.last_published, s.story_id),
        reverse=True,
    )
    return [s.story_id for s in scored[:limit]]


def signals_from_articles(
    story_id: int, coverage: Sequence[tuple[str, datetime]], now: datetime, *, news: bool = True
) -> RankSignals:
    """Signals from a story's original articles, given as (outlet key, published) pairs (copies left out, and
    non-news members too when the story has news)."""
    first_by_outlet: dict[str, datetime] = {}
    for outlet, published in coverage:
        if outlet not in first_by_outlet or published < first_by_outlet[outlet]:
            first_by_outlet[outlet] = published
    since = now - timedelta(hours=MOMENTUM_HOURS)
    return RankSignals(
        story_id=story_id,
        outlets=len(first_by_outlet),
        recent_outlets=sum(1 for t in first_by_outlet.values() if since <= t <= now),
        last_published=max(t for _, t in coverage),
        news=news,
    )


_SENTENCE_END = re.compile(r"([.!?][\"'”’)]?)\s+(?=[\"'“‘(]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    text = " ".join(text.split())  # no newlines left: one marks each sentence end below
    return [s for s in _SENTENCE_END.sub("\\1\n", text).split("\n") if s]


_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)


def extract_summary(text: str, max_sentences: int = SUMMARY_SENTENCES, max_words: int = SUMMARY_WORDS) -> str:
    """The lead sentences of ``text`` (news puts the essentials first), cut at ``max_words``. Bare URLs
    (video descriptions are full of them) are dropped: a summary is for reading."""
    text = _URL.sub("", text)
    picked: list[str] = []
    words = 0
    for sentence in split_sentences(text):
        n = len(sentence.split())
        if picked and words + n > max_words:
            break
        picked.append(sentence)
        words += n
        if len(picked) >= max_sentences:
            break
    summary = " ".join(picked)
    tokens = summary.split()
    return summary if len(tokens) <= max_words else " ".join(tokens[:max_words]) + "…"


def clean_title(title: str) -> str:
    """Feed titles may carry markup or entities: shown as plain text."""
    return " ".join(html_to_text(title).split()) or "(untitled)"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


# ---- queries --------------------------------------------------------------------------------------


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def merged_map(session: Session) -> dict[int, int]:
    """Absorbed story id -> final survivor id (chains of merges followed, cycles broken)."""
    rows = session.execute(select(Story.id, Story.merged_into_id).where(Story.merged_into_id.is_not(None)))
    direct = {sid: target for sid, target in rows if target is not None}
    resolved: dict[int, int] = {}
    for start, first in direct.items():
        seen, target = {start}, first
        while target in direct and target not in seen:
            seen.add(target)
            target = direct[target]
        if target not in seen:  # a cycle of merges has no survivor: leave those stories alone
            resolved[start] = target
    return resolved


@dataclass(frozen=True)
class _Member:
    id: int
    outlet_key: str
    published: datetime
    duplicate_of_id: int | None
    news: bool = True


def top_stories(session: Session, now: datetime, hours: float, limit: int) -> list[int]:
    """Ids of the best stories with coverage in the last ``hours``, best first; coverage is counted as on
    the story page (:func:`aggregator.stories.coverage.story_coverage`)."""
    since = now - timedelta(hours=hours)
    rows = session.execute(
        select(
            StoryArticle.story_id,
            Article.id,
            Feed.outlet_key,
            Article.published_at,
            Article.duplicate_of_id,
            Article.title,
            Article.url,
        )
        .join(Article, Article.id == StoryArticle.article_id)
        .join(Feed, Feed.id == Article.feed_id)
        .join(Story, Story.id == StoryArticle.story_id)
        .where(live_story(), Story.last_published_at >= since)
        .where(Article.published_at <= now)
    )
    members: dict[int, list[_Member]] = defaultdict(list)
    for story_id, article_id, outlet, published, duplicate_of, title, url in rows:
        news = item_kind(title or "", "", url) is ItemKind.NEWS
        members[story_id].append(_Member(article_id, outlet, published, duplicate_of, news))
    candidates = []
    for sid, arts in members.items():
        originals = story_coverage(arts).originals
        news = any(m.news for m in originals)
        coverage = [(m.outlet_key, m.published) for m in originals if m.news or not news]
        if coverage and max(t for _, t in coverage) >= since:
            candidates.append(signals_from_articles(sid, coverage, now, news=news))
    return rank_stories(candidates, now, limit)


def digest_stories(session: Session, now: datetime, hours: float, limit: int) -> list[StoryView]:
    """The top stories of the last ``hours`` as full views, best first (as on the front page)."""
    ids = top_stories(session, now, hours, limit)
    views = load_story_views(session, ids)
    return [views[i] for i in ids if i in views]


@dataclass(frozen=True)
class StoryRow:
    id: int
    title: str
    first_published: datetime
    last_published: datetime


@dataclass(frozen=True)
class ArticleRow:
    """The columns of an article the views need; long texts cut at ``TEXT_HEAD`` characters."""

    id: int
    feed_id: int
    title: str
    url: str | None
    summary: str
    content: str
    extracted_text: str
    published: datetime
    duplicate_of_id: int | None


# Excerpts and summaries need the start of a text only: never read whole article bodies for every page.
TEXT_HEAD = 8000


def _head(column: Any) -> Any:
    return func.coalesce(func.substr(column, 1, TEXT_HEAD), "")


def load_story_views(session: Session, story_ids: Sequence[int]) -> dict[int, StoryView]:
    """Full views of the given stories, loaded in a few batched queries."""
    ids = list(dict.fromkeys(story_ids))
    stories: dict[int, StoryRow] = {}
    members: dict[int, list[ArticleRow]] = defaultdict(list)
    relations: dict[int, list[int]] = defaultdict(list)
    topics: dict[int, list[TopicRef]] = defaultdict(list)
    outlets = {f.id: Outlet(f.outlet_key, f.outlet) for f in session.scalars(select(Feed))}
    for chunk in _chunks(ids):
        for sid, title, first, last in session.execute(
            select(Story.id, Story.title, Story.first_published_at, Story.last_published_at).where(
                Story.id.in_(chunk)
            )
        ):
            stories[sid] = StoryRow(sid, title, first, last)
        for sid, *cols in session.execute(
            select(
                StoryArticle.story_id, Article.id, Article.feed_id, Article.title, Article.url,
                _head(Article.summary), _head(Article.content), _head(Article.extracted_text),
                Article.published_at, Article.duplicate_of_id,
            )
            .join(Article, Article.id == StoryArticle.article_id)
            .where(StoryArticle.story_id.in_(chunk))
        ):  # fmt: skip
            members[sid].append(ArticleRow(*cols))
        for sid, rid in session.execute(
            select(StoryRelation.story_id, StoryRelation.related_id)
            .where(StoryRelation.story_id.in_(chunk))
            .order_by(StoryRelation.story_id, StoryRelation.rank)
        ):
            relations[sid].append(rid)
        for sid, tid, key, label in session.execute(
            select(StoryTopic.story_id, Topic.id, Topic.key, Topic.label)
            .join(Topic, Topic.id == StoryTopic.topic_id)
            .where(StoryTopic.story_id.in_(chunk))
            .order_by(StoryTopic.story_id, StoryTopic.rank)
        ):
            topics[sid].append(TopicRef(tid, key, label))
    hygiene = feed_text(session, {a.feed_id for rows in members.values() for a in rows})
    merged = merged_map(session)
    related_ids = sorted({merged.get(r, r) for rs in relations.values() for r in rs})
    refs = story_refs(session, related_ids)
    views = {}
    for sid in ids:
        if sid not in stories:
            continue
        related: list[StoryRef] = []
        for rid in relations.get(sid, []):
            target = merged.get(rid, rid)
            ref = refs.get(target)
            if ref is not None and target != sid and all(r.id != target for r in related):
                related.append(ref)
        views[sid] = build_story_view(
            stories[sid], members.get(sid, []), outlets, related, topics.get(sid, []), hygiene
        )
    return views


@dataclass(frozen=True)
class FeedText:
    """Each feed's boilerplate (a channel's "subscribe" description, links), learned from its latest items as
    the story engine learns it, so that excerpts and summaries show the item's own words."""

    hygiene: FeedHygiene
    feed_titles: Mapping[int, str]  # the key a feed's items are learned under

    def own_words(self, feed_id: int, title: str, text: str) -> str:
        """``text`` without its feed's recurring runs; the text as it is when that would leave too little."""
        if not text:
            return text
        cleaned = self.hygiene.clean(self.feed_titles.get(feed_id, ""), title, text).body
        return cleaned if len(cleaned.split()) >= MIN_OWN_WORDS else text


def feed_text(session: Session, feed_ids: Collection[int]) -> FeedText:
    """The boilerplate of the feeds ``feed_ids``, learned from their latest items (story pages, newsletter)."""
    titles = (
        {f.id: f.title for f in session.scalars(select(Feed).where(Feed.id.in_(feed_ids)))}
        if feed_ids
        else {}
    )
    return FeedText(feed_hygiene(session, feed_ids), titles)


def own_words(feed_text: FeedText | None, feed_id: int, title: str, text: str) -> str:
    return feed_text.own_words(feed_id, title, text) if feed_text is not None else text


def build_story_view(
    story: StoryRow,
    members: Sequence[ArticleRow],
    outlets: Mapping[int, Outlet],
    related: Sequence[StoryRef],
    topics: Sequence[TopicRef],
    hygiene: FeedText | None = None,
) -> StoryView:
    """Pure: a story, its articles, the outlet of each feed id, related refs and topics -> the view
    (excerpts and summary without each feed's boilerplate when ``hygiene`` knows the feeds)."""
    coverage = story_coverage(_article_view(a, outlets.get(a.feed_id, NO_OUTLET), hygiene) for a in members)
    ordered = coverage.members
    originals = [
        replace(v, copies=tuple(CopyView(c.outlet, c.url, c.published) for c in coverage.copies[v.id]))
        if v.id in coverage.copies
        else v
        for v in coverage.originals
    ]
    by_outlet: dict[str, list[ArticleView]] = {key: [] for key in coverage.outlets}
    for view in originals:
        by_outlet[view.outlet_key].append(view)
    groups = tuple(OutletGroup(arts[0].outlet, key, tuple(arts)) for key, arts in by_outlet.items())
    by_id = {a.id: a for a in members}
    # The story row keeps its lead's title (aggregator.stories.headline): the lead is the original so titled.
    headline = clean_title(story.title) if story.title.strip() else ""
    lead = next((v for v in originals if v.title == headline), originals[0] if originals else None)
    headline = headline or (lead.title if lead else "(untitled)")
    timeline = tuple(replace(v, is_copy=coverage.is_copy(v)) for v in ordered)
    return StoryView(
        id=story.id,
        headline=headline,
        first_published=ordered[0].published if ordered else story.first_published,
        last_published=ordered[-1].published if ordered else story.last_published,
        outlet_count=coverage.outlet_count,
        article_count=len(ordered),
        outlets=tuple(g.outlet for g in groups),
        summary=story_summary(
            ([lead] if lead else []) + [v for v in originals if v is not lead], by_id, hygiene
        ),
        lead=lead,
        groups=groups,
        timeline=timeline,
        related=tuple(related),
        topics=tuple(topics),
    )


def _article_view(article: ArticleRow, outlet: Outlet, hygiene: FeedText | None = None) -> ArticleView:
    text = html_to_text(article.summary) or html_to_text(article.content)
    text = own_words(hygiene, article.feed_id, article.title, text)
    return ArticleView(
        id=article.id,
        title=clean_title(article.title),
        url=safe_url(article.url),
        outlet=outlet.name,
        outlet_key=outlet.key,
        feed_id=article.feed_id,
        published=article.published,
        excerpt=" ".join(extract_summary(text, max_sentences=2, max_words=EXCERPT_WORDS).split()),
        summary_html=article.summary or article.content,
        duplicate_of_id=article.duplicate_of_id,
    )


def story_summary(
    originals: Sequence[ArticleView],
    articles: Mapping[int, ArticleRow],
    hygiene: FeedText | None = None,
) -> Summary | None:
    """Lead sentences of the first article (the story's lead comes first) with usable text: extracted full
    text first, else the feed's summary or content. The source outlet is named with the summary."""
    for view in originals:
        article = articles[view.id]
        texts = (article.extracted_text, html_to_text(article.summary), html_to_text(article.content))
        for raw in texts:
            text = extract_summary(own_words(hygiene, article.feed_id, article.title, raw))
            if len(text.split()) >= 5:
                return Summary(text=text, source=view.outlet, url=view.url)
    return None


_REF_COLUMNS = (Story.id, Story.title, Story.source_count, Story.first_published_at, Story.last_published_at)


def story_refs(session: Session, story_ids: Sequence[int]) -> dict[int, StoryRef]:
    """Refs of those of ``story_ids`` that hold articles (a retired story is never linked to)."""
    refs = {}
    for chunk in _chunks(list(story_ids)):
        held = exists().where(StoryArticle.story_id == Story.id)
        for row in session.execute(select(*_REF_COLUMNS).where(Story.id.in_(chunk), held)):
            refs[row[0]] = _ref(*row)
    return refs


def _ref(story_id: int, title: str, outlets: int, first: datetime, last: datetime) -> StoryRef:
    return StoryRef(story_id, clean_title(title), outlets, first, last)


def retired_story_ids(session: Session) -> list[int]:
    """Stories whose every article was removed with its feed (:func:`aggregator.db.models.retired_story`)."""
    return list(session.scalars(select(Story.id).where(retired_story()).order_by(Story.id)))


def all_story_refs(session: Session) -> list[StoryRef]:
    """Every live story, newest first (archive, search index)."""
    rows = session.execute(
        select(*_REF_COLUMNS).where(live_story()).order_by(Story.first_published_at.desc(), Story.id.desc())
    )
    return [_ref(*row) for row in rows]


def topic_views(session: Session, per_topic: int) -> list[TopicView]:
    """Every topic with its live stories, newest first (at most ``per_topic``), topics by label."""
    rows = session.execute(
        select(Topic.id, Topic.key, Topic.label, *_REF_COLUMNS)
        .join(StoryTopic, StoryTopic.topic_id == Topic.id)
        .join(Story, Story.id == StoryTopic.story_id)
        .where(live_story())
        .order_by(Topic.id, Story.last_published_at.desc(), Story.id.desc())
    )
    grouped: dict[int, tuple[TopicRef, list[StoryRef]]] = {}
    for tid, key, label, sid, title, outlets, first, last in rows:
        entry = grouped.setdefault(tid, (TopicRef(tid, key, label), []))
        if len(entry[1]) < per_topic:
            entry[1].append(_ref(sid, title, outlets, first, last))
    views = [TopicView(ref, tuple(stories)) for ref, stories in grouped.values()]
    return sorted(views, key=lambda v: (v.topic.label.lower(), v.topic.id))
