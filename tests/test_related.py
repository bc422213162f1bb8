"""The related-story index: same-topic stories weeks apart rank above unrelated recent ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.stories.related import RelatedIndex, RelatedParams, StoryProfile
from aggregator.stories.terms import article_terms
from tests.factories import BACKGROUND_SUBJECTS as SUBJECTS

T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def story(key: str, title: str, summary: str, days: float, feed: str = "Daily: News") -> StoryProfile:
    return StoryProfile(key, article_terms(title, summary), T0 + timedelta(days=days), {}, frozenset({feed}))


STORIES = [
    story(
        "dam",
        "Kessler Dam inquiry opens into collapse",
        "Engineers tell the Kessler Dam inquiry of cracks.",
        0,
    ),
    story(
        "dam-early",
        "Kessler Dam collapse floods valley",
        "The Kessler Dam gave way after weeks of rain.",
        -24,
    ),
    story(
        "dam-later",
        "Kessler Dam inquiry blames inspectors",
        "Inspectors missed cracks in the Kessler Dam.",
        21,
    ),
    story("opera", "Opera house opens new season", "A new season opens with a premiere on Tuesday.", -0.2),
    story(
        "market", "Shares fall as inquiry into bank opens", "Markets fell on Tuesday.", 0.1, "Daily: Business"
    ),
    story("old", "Kessler Dam built", "The Kessler Dam was completed.", -400),
]


VERBS = [
    "opens",
    "closes",
    "reviews",
    "plans",
    "delays",
    "expands",
    "faces inquiry",
    "gets new",
    "wins",
    "loses",
]
BACKGROUND = [
    story(
        f"bg{i}-{j}",
        f"{subject.title()} {verb} budget",
        f"The {subject} {verb} its budget on Tuesday.",
        i - 5,
    )
    for i, subject in enumerate(SUBJECTS)
    for j, verb in enumerate(VERBS)
]


def build(params: RelatedParams | None = None) -> RelatedIndex:
    index = RelatedIndex(params)
    for s in BACKGROUND + STORIES:
        index.add(s)
    return index


def test_same_topic_weeks_apart_ranks_above_unrelated_recent_stories() -> None:
    index = build()
    ranked = [str(r.key) for r in index.related(STORIES[0], 10)]
    assert set(ranked[:2]) == {"dam-later", "dam-early"}
    assert "dam" not in ranked  # never the story itself
    assert "opera" not in ranked  # shares no distinctive term: never even a candidate
    if "market" in ranked:
        assert ranked.index("market") > 1
    assert "old" not in ranked  # outside the window (60 days)


def test_the_window_can_be_lifted_and_recency_breaks_ties() -> None:
    index = build(RelatedParams(window=None))
    ranked = [r.key for r in index.related(STORIES[0], 10)]
    assert "old" in ranked
    twin_near = story("near", "Kessler Dam inquiry", "", 1)
    twin_far = story("far", "Kessler Dam inquiry", "", 40)
    index.add(twin_near)
    index.add(twin_far)
    ranked = [r.key for r in index.related(story("q", "Kessler Dam inquiry", "", 0), 10)]
    assert ranked.index("near") < ranked.index("far")


def test_updates_and_removals_are_reflected() -> None:
    index = build()
    gala = story("dam-later", "Opera house gala season premiere", "A gala premiere at the opera house.", 1)
    index.add(gala)
    ranked = [r.key for r in index.related(STORIES[0], 10)]
    assert "dam-later" not in ranked
    assert index.related(gala, 1)[0].key == "opera"
    index.remove("dam-early")
    assert "dam-early" not in [r.key for r in index.related(STORIES[0], 10)]
    assert len(index) == len(BACKGROUND) + len(STORIES) - 1


def test_shared_topics_relate_stories_with_different_words() -> None:
    index = RelatedIndex()
    a = StoryProfile("a", article_terms("Minister resigns", ""), T0, {"scandal x": 1.0})
    b = StoryProfile("b", article_terms("Payments inquiry widens", ""), T0, {"scandal x": 1.0})
    index.add(a)
    index.add(b)
    assert [r.key for r in index.related(a, 5)] == ["b"]


def test_ranking_is_deterministic() -> None:
    first = [(r.key, r.score) for r in build().related(STORIES[0], 10)]
    again = [(r.key, r.score) for r in build().related(STORIES[0], 10)]
    assert first == again
