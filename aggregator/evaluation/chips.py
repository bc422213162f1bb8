"""`aggregator eval chips`: the share of displayed topic chips that are junk, on polls of real feeds.

snapshot folders (one poll of many feeds each; the judging days are refused)
  -> each feed file: parse_feed (the production parser), outlet_of, FeedVocabulary from its items
  -> ArticleDoc with cleaned categories (as aggregator.stories.links stores them)
  -> StoryEngine stories -> build_links (aggregator.stories.linking, the site's own topic rules: the TopicModel
     learns the categorised stories with their outlets, article_topics -> shown_story_topics)
  -> displayed_topics (the same thresholds as the site)
  -> a chip is junk when the cleaning rules reject its label, or it is one of the raw categories the
     cleaning dropped that day, or one of ``HAND_JUNK``
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..config import StoriesConfig
from ..ingest.outlets import outlet_of
from ..ingest.parse import parse_feed
from ..stories.categories import FeedVocabulary, is_junk_label
from ..stories.doc import ArticleDoc, article_doc
from ..stories.engine import StoryEngine, cluster_stream
from ..stories.linking import build_links
from ..stories.topics import displayed_topics, fold
from .data import EvalDataError

# Kept for judging: never read by this evaluation.
# The development polls this evaluation reads; any other snapshot (a day kept for judging) is refused.
DEVELOPMENT_DAYS = ("20200428", "20200430", "20200501", "20200503", "20200504", "20210917", "20210920")
# Feed-internal labels seen on real feeds, junk whatever the rules say.
HAND_JUNK = (
    "fnc", "article", "Fox News", "FOX News", "PAID", "premium", "video", "news", "top stories",
    "your-feed-science", "fox-news-flash", "Associated Press", "Breaking News", "Latest News",
)  # fmt: skip
_POLL_TIME = re.compile(r"(\d{8}T\d{6})")


@dataclass
class ChipsReport:
    snapshots: int = 0
    articles: int = 0
    stories: int = 0
    stories_with_chips: int = 0
    chips: int = 0
    junk: int = 0
    junk_examples: list[str] = field(default_factory=list)
    raw_categories: int = 0  # distinct raw categories seen
    raw_junk: int = 0  # of them, dropped by the cleaning

    @property
    def junk_share(self) -> float:
        return self.junk / self.chips if self.chips else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "snapshots": self.snapshots,
            "articles": self.articles,
            "stories": self.stories,
            "stories_with_chips": self.stories_with_chips,
            "chips": self.chips,
            "junk": self.junk,
            "junk_share": round(self.junk_share, 4),
            "junk_examples": self.junk_examples[:20],
            "raw_categories": self.raw_categories,
            "raw_junk_share": round(self.raw_junk / self.raw_categories, 4) if self.raw_categories else 0.0,
        }


def _poll_time(folder: Path) -> datetime:
    match = _POLL_TIME.search(folder.name)
    if match is None:
        raise EvalDataError(f"{folder}: expected a poll time (YYYYMMDDTHHMMSS) in the folder name")
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def load_snapshot(folder: Path) -> tuple[list[ArticleDoc], set[str]]:
    """The articles of one poll as the engine sees them (categories cleaned), and the raw categories the
    cleaning dropped."""
    if not folder.name.startswith(DEVELOPMENT_DAYS) or "gesab001-headlines" not in str(folder.resolve()):
        raise EvalDataError(f"{folder}: not one of the development polls; only those are evaluated")
    now = _poll_time(folder)
    docs: list[ArticleDoc] = []
    dropped: set[str] = set()
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix not in {".xml", ".rss", ".atom", ".json"}:
            continue
        feed = parse_feed(path.read_bytes(), {}, url=f"https://{path.stem}.feeds.invalid/", now=now)
        outlet = outlet_of(feed.title, feed.site_url, [e.url for e in feed.entries])
        vocabulary = FeedVocabulary.build(
            (feed.title,), (outlet.name, outlet.key), (), [e.categories for e in feed.entries]
        )
        for i, entry in enumerate(feed.entries):
            cleaned = vocabulary.clean(entry.categories, entry.author)
            kept = {fold(c) for c in cleaned}
            dropped.update(c for c in entry.categories if fold(c) not in kept)
            docs.append(
                article_doc(
                    id=f"{folder.name}/{path.stem}/{i}",
                    title=entry.title,
                    summary=entry.summary,
                    content=entry.content,
                    published=entry.published_at,
                    dated=entry.dated,
                    outlet=outlet.key,
                    feed_title=feed.title,
                    categories=cleaned,
                    url=entry.url,
                )
            )
    return docs, dropped


def story_chips(
    docs: Sequence[ArticleDoc], settings: StoriesConfig
) -> list[tuple[list[ArticleDoc], list[str]]]:
    """Stories of ``docs`` (the production engine) with the chips their pages would show."""
    ordered = sorted(docs, key=lambda d: (d.published or datetime.min.replace(tzinfo=UTC), d.id))
    stories: dict[int, list[ArticleDoc]] = {}
    for doc, result in cluster_stream(StoryEngine(settings), ordered):
        if result.duplicate_of is None:
            stories.setdefault(result.story_id, []).append(doc)
    links = build_links(stories)
    shown = []
    for sid, group in stories.items():
        topics = displayed_topics(links[sid].topics, settings.topic_count)
        shown.append((group, [t.label for t in topics]))
    return shown


def evaluate_chips(folders: Iterable[Path], settings: StoriesConfig | None = None) -> ChipsReport:
    settings = settings or StoriesConfig()
    report = ChipsReport()
    raw: set[str] = set()
    raw_dropped: set[str] = set()
    for folder in folders:
        docs, dropped = load_snapshot(folder)
        report.snapshots += 1
        report.articles += len(docs)
        raw.update(c for d in docs for c in d.categories)
        raw.update(dropped)
        raw_dropped.update(dropped)
        rejected = dropped | set(HAND_JUNK)
        for group, chips in story_chips(docs, settings):
            report.stories += 1
            report.stories_with_chips += bool(chips)
            report.chips += len(chips)
            for chip in chips:
                if is_junk_label(chip, rejected):
                    report.junk += 1
                    report.junk_examples.append(f"{chip} ({group[0].title[:60]})")
    report.raw_categories = len({fold(c) for c in raw})
    report.raw_junk = len({fold(c) for c in raw_dropped} - {fold(c) for c in raw - raw_dropped})
    return report
