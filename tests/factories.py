"""Builders for database rows in tests: feeds, articles, stories with members, relations and topics.

They write through the ORM into a real migrated database, as the pipeline's stages would.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from aggregator.db.models import Article, Feed, Story, StoryArticle, StoryRelation, StoryTopic, Topic
from aggregator.ingest.feeds import assign_outlet

_ids = itertools.count(1)

# Subjects of background news in engine tests, so that everyday words ("opens", "inquiry", "new") are common
# and names are rare, as in any real index.
BACKGROUND_SUBJECTS = [
    "council",
    "school",
    "hospital",
    "train",
    "museum",
    "festival",
    "police",
    "court",
    "airport",
    "farm",
]


def make_feed(session: Session, url: str, *, title: str = "", now: datetime, **fields: object) -> Feed:
    feed = Feed(url=url, title=title or url, origin="cli", status="active", added_at=now, **fields)
    assign_outlet(feed)  # as the feed's store and each fetch do
    session.add(feed)
    session.flush()
    return feed


def make_article(
    session: Session,
    feed: Feed,
    *,
    title: str,
    published: datetime,
    summary: str = "",
    content: str = "",
    url: str | None = None,
    categories: Sequence[str] = (),
    **fields: object,
) -> Article:
    n = next(_ids)
    url = url or f"{feed.url.rstrip('/')}/article-{n}"
    article = Article(
        feed_id=feed.id,
        guid=url,
        url=url,
        canonical_url=url,
        title=title,
        summary=summary,
        content=content,
        categories=list(categories),
        published_at=published,
        fetched_at=published,
        **fields,
    )
    session.add(article)
    session.flush()
    return article


def make_story(
    session: Session, articles: Sequence[Article], *, now: datetime, title: str | None = None
) -> Story:
    """A story holding ``articles`` (the first is the lead); counts and times follow from them."""
    times = [a.published_at for a in articles]
    feeds = {a.feed_id for a in articles if a.duplicate_of_id is None}
    story = Story(
        title=title or articles[0].title,
        created_at=now,
        updated_at=now,
        first_published_at=min(times),
        last_published_at=max(times),
        article_count=len(articles),
        source_count=len(feeds),
    )
    session.add(story)
    session.flush()
    for article in articles:
        session.add(StoryArticle(article_id=article.id, story_id=story.id, added_at=now, similarity=1.0))
        article.clustered_at = now
    session.flush()
    return story


def relate(session: Session, story: Story, related: Sequence[Story]) -> None:
    for rank, other in enumerate(related, 1):
        session.add(StoryRelation(story_id=story.id, related_id=other.id, rank=rank, score=1.0 / rank))
    session.flush()


def tag(session: Session, story: Story, labels: Sequence[str]) -> list[Topic]:
    topics = []
    for rank, label in enumerate(labels, 1):
        key = label.lower()
        topic = session.query(Topic).filter_by(key=key).one_or_none()
        if topic is None:
            topic = Topic(key=key, label=label, kind="subject")
            session.add(topic)
            session.flush()
        session.add(StoryTopic(story_id=story.id, topic_id=topic.id, rank=rank, score=1.0 / rank))
        topics.append(topic)
    session.flush()
    return topics


def sample_news(session: Session, now: datetime) -> dict[str, object]:
    """A small world: three outlets, a two-outlet story with a syndicated copy, a related follow-up a week
    later, an unrelated story, topics, and one article carrying hostile HTML."""
    bbc = make_feed(session, "http://127.0.0.1:9/bbc.xml", title="BBC News", now=now)
    npr = make_feed(session, "http://127.0.0.1:9/npr.xml", title="NPR", now=now)
    wire = make_feed(session, "http://127.0.0.1:9/wire.xml", title="Wire Daily", now=now)
    t0 = now - timedelta(hours=5)
    a1 = make_article(
        session, bbc, title="Flood waters rise in Riverton", published=t0,
        summary="<p>Heavy rain has flooded <b>Riverton</b>.</p>", categories=["Weather", "Floods"],
    )  # fmt: skip
    a2 = make_article(
        session, npr, title="Riverton evacuates as river bursts its banks", published=t0 + timedelta(hours=1),
        summary='<p>Residents left.<script>alert("x")</script><img src=x onerror="alert(1)"></p>'
        '<a href="javascript:alert(1)">click</a>',
    )  # fmt: skip
    a3 = make_article(
        session, wire, title="Riverton evacuates as river bursts its banks", published=t0 + timedelta(hours=2),
        summary="<p>Residents left.</p>", duplicate_of_id=a2.id, duplicate_reason="text",
    )  # fmt: skip
    flood = make_story(session, [a1, a2, a3], now=now)
    a4 = make_article(
        session, bbc, title="Riverton flood inquiry opens", published=now - timedelta(days=7),
        summary="An inquiry into last year's flood defences.",
    )  # fmt: skip
    inquiry = make_story(session, [a4], now=now)
    a5 = make_article(session, npr, title="Orchestra wins national prize", published=now - timedelta(hours=2))
    prize = make_story(session, [a5], now=now)
    relate(session, flood, [inquiry])
    relate(session, inquiry, [flood])
    tag(session, flood, ["Floods", "Riverton"])
    tag(session, inquiry, ["Riverton"])
    tag(session, prize, ["Music"])
    return {"feeds": [bbc, npr, wire], "stories": {"flood": flood, "inquiry": inquiry, "prize": prize}}


def add_to_story(session: Session, story: Story, article: Article, *, added: datetime) -> None:
    """Put ``article`` into ``story`` as the story engine would at time ``added`` (new coverage)."""
    session.add(StoryArticle(article_id=article.id, story_id=story.id, added_at=added, similarity=1.0))
    article.clustered_at = added
    story.last_published_at = max(story.last_published_at, article.published_at)
    story.article_count += 1
    story.updated_at = added
    session.flush()


def newsletter_news(session: Session, now: datetime) -> dict[str, Story]:
    """Our own small world for the digest, with fixed URLs (for golden files): relative to ``now``,
    the last 24 hours brought a new story, new outlets on a three-day-old story, only a syndicated
    copy to another old story, and nothing to a fourth."""
    bugle = make_feed(session, "http://127.0.0.1:9/bugle.xml", title="Daily Bugle", now=now)
    planet = make_feed(session, "http://127.0.0.1:9/planet.xml", title="The Planet", now=now)
    sentinel = make_feed(session, "http://127.0.0.1:9/sentinel.xml", title="Harbour Sentinel", now=now)
    wire = make_feed(session, "http://127.0.0.1:9/wire.xml", title="Wire Daily", now=now)
    day = timedelta(days=1)
    hour = timedelta(hours=1)

    def article(
        feed: Feed, slug: str, title: str, published: datetime, summary: str = "", **kw: object
    ) -> Article:
        url = f"http://127.0.0.1:9/{slug}.html"
        return make_article(session, feed, title=title, published=published, summary=summary, url=url, **kw)

    b1 = article(bugle, "bridge-1", "Harbour bridge closes for repairs", now - 3 * day,
                 "<p>The harbour bridge is closed for three weeks of repairs.</p>")  # fmt: skip
    bridge = make_story(session, [b1], now=now - 3 * day, title="Harbour bridge closes for repairs")
    b2 = article(planet, "bridge-2", "Bridge works ahead of schedule", now - 6 * hour,
                 "<p>Engineers say the <em>harbour bridge</em> may reopen early &amp; traffic will ease.</p>",
                 )  # fmt: skip
    b3 = article(sentinel, "bridge-3", "Ferries busy while the bridge is shut", now - 5 * hour,
                 "Ferry operators added crossings.")  # fmt: skip
    b4 = article(wire, "bridge-4", "Bridge works ahead of schedule", now - 4 * hour,
                 "<p>Engineers say the harbour bridge may reopen early.</p>", duplicate_of_id=b2.id,
                 duplicate_reason="text")  # fmt: skip
    for a in (b2, b3, b4):
        add_to_story(session, bridge, a, added=a.published_at + hour)

    l1 = article(sentinel, "library-1", "Library opens a new wing and a café", now - 8 * hour,
                 "<p>The city library's new wing has 40,000 books, a reading garden and a café.</p>",
                 )  # fmt: skip
    l2 = article(bugle, "library-2", "Crowds at the library's new wing", now - 7 * hour)
    library = make_story(session, [l1, l2], now=now - 7 * hour)

    m1 = article(planet, "market-1", "Market day moves to Saturday", now - 3 * day, "Stalls move.")
    market = make_story(session, [m1], now=now - 3 * day)
    m2 = article(wire, "market-2", "Market day moves to Saturday", now - 2 * hour, "Stalls move.",
                 duplicate_of_id=m1.id, duplicate_reason="text")  # fmt: skip
    add_to_story(session, market, m2, added=now - 2 * hour)

    p1 = article(bugle, "park-1", "Park benches repainted", now - 4 * day)
    park = make_story(session, [p1], now=now - 4 * day)
    return {"bridge": bridge, "library": library, "market": market, "park": park}


HOSTILE_TITLE = '<img src=x onerror="alert(1)">Storm <script>alert("t")</script>warning for the coast'
HOSTILE_SUMMARY = (
    '<p onclick="alert(2)">Winds <b>strengthen</b>.<script>alert("s")</script>'
    '<iframe src="http://127.0.0.1:9/frame"></iframe>'
    '<form action="http://127.0.0.1:9/steal"><input name="pw"></form>'
    '<a href="javascript:alert(3)">more</a> <a href="data:text/html;base64,PHNjcmlwdD4=">data</a>'
    "<style>body { background: url(http://127.0.0.1:9/x.png) }</style></p>"
)


def hostile_news(session: Session, now: datetime) -> Story:
    """A story whose every feed-supplied field is hostile: markup in the outlet name, title and summary,
    and a javascript: link as the article URL."""
    feed = make_feed(session, "http://127.0.0.1:9/evil.xml", title="<b>Evil</b> &amp; Co", now=now)
    a = make_article(
        session, feed, title=HOSTILE_TITLE, published=now - timedelta(hours=1), summary=HOSTILE_SUMMARY,
        url="javascript:alert(document.cookie)",
    )  # fmt: skip
    return make_story(session, [a], now=now - timedelta(hours=1), title=HOSTILE_TITLE)


def channel_story(session: Session, now: datetime) -> Story:
    """A video channel's feed whose every summary ends with the channel's description, and a story holding its
    second item ("The mayor ordered an evacuation ..."): what shows of it must be the item's own words."""
    channel = (
        "To watch TV Patrol videos, click the link below: https://www.youtube.com/playlist?list=PL1 "
        "Subscribe to our channel and turn on notifications for the latest news"
    )
    own = [
        "Floods closed the coastal road near the port on Monday.",
        "The mayor ordered an evacuation of three villages after the river rose overnight.",
        "Schools reopened in the capital after a week of storms.",
        "Fishermen were told to stay ashore until the typhoon passes the islands.",
    ]
    feed = make_feed(session, "http://127.0.0.1:9/tv.xml", title="TV Patrol", now=now)
    articles = [
        make_article(session, feed, title=f"Report {i}", published=now - timedelta(hours=i), summary=f"{text} {channel}")
        for i, text in enumerate(own)
    ]  # fmt: skip
    return make_story(session, articles[1:2], now=now)
