"""update_story_links on a real migrated SQLite database: relations, topics, refresh of older lists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.config import Config
from aggregator.db import Database
from aggregator.db.models import Feed, Story, StoryRelation, StoryTopic, Topic
from aggregator.stories.links import stale_story_ids, update_story_links
from aggregator.stories.storylines import FEATURES, StorylineModel, Tree
from tests.conftest import NOW
from tests.factories import BACKGROUND_SUBJECTS as SUBJECTS
from tests.factories import make_article, make_feed, make_story


def related_of(s: Session, story: Story) -> list[int]:
    rows = s.scalars(
        select(StoryRelation).where(StoryRelation.story_id == story.id).order_by(StoryRelation.rank)
    )
    return [r.related_id for r in rows]


def topics_of(s: Session, story: Story) -> list[str]:
    rows = s.execute(
        select(Topic.key, Topic.label)
        .join(StoryTopic, StoryTopic.topic_id == Topic.id)
        .where(StoryTopic.story_id == story.id)
        .order_by(StoryTopic.rank)
    )
    return [key for key, _ in rows]


def world(s: Session) -> dict[str, Story]:
    """A tagging outlet and an untagged one; a dam story over five weeks; background news."""
    tagged = make_feed(s, "http://127.0.0.1:9/tagged.xml", title="Valley Times", now=NOW)
    plain = make_feed(s, "http://127.0.0.1:9/plain.xml", title="Plain News", now=NOW)
    stories: dict[str, Story] = {}
    for i, subject in enumerate(SUBJECTS):
        a = make_article(
            s, tagged, title=f"{subject.title()} budget approved", published=NOW - timedelta(days=i + 1),
            summary=f"<p>The {subject} budget passed.</p>", categories=["Local news", "Budgets"],
        )  # fmt: skip
        stories[f"bg{i}"] = make_story(s, [a], now=NOW)
    early = make_article(
        s, tagged, title="Kessler Dam collapse floods valley", published=NOW - timedelta(days=30),
        summary="<p>The <b>Kessler Dam</b> gave way after weeks of rain.</p>",
        categories=["Kessler Dam", "Floods", "Local news"],
    )  # fmt: skip
    early_copy = make_article(
        s, plain, title="Valley flooded as Kessler Dam fails", published=NOW - timedelta(days=30, hours=-2),
        summary="Residents fled as the Kessler Dam failed.",
    )  # fmt: skip
    stories["early"] = make_story(s, [early, early_copy], now=NOW)
    inquiry = make_article(
        s, plain, title="Kessler Dam inquiry hears of cracks", published=NOW - timedelta(hours=3),
        summary="<p>Engineers told the Kessler Dam inquiry of cracks in the wall.</p>",
    )  # fmt: skip
    stories["inquiry"] = make_story(s, [inquiry], now=NOW)
    prize = make_article(s, plain, title="Orchestra wins national prize", published=NOW - timedelta(hours=2))
    stories["prize"] = make_story(s, [prize], now=NOW)
    return stories


def rare_name_rule() -> StorylineModel:
    """A stand-in for the shipped model, so these tests check the glue: same storyline when a rare name is shared."""
    tree = Tree(
        (FEATURES.index("rare_names"), -1, -1), (0.5, 0.0, 0.0), (1, -1, -1), (2, -1, -1), (0.0, -9.0, 9.0)
    )
    return StorylineModel(0.0, 1.0, (tree,), 0.5, 30)


def test_related_lists_and_topics_are_written(db: Database, config: Config) -> None:
    with db.session() as s:
        stories = world(s)
        result = update_story_links(s, [stories["inquiry"].id], config, NOW, rare_name_rule())
        inquiry, early, prize = stories["inquiry"], stories["early"], stories["prize"]

        ranked = related_of(s, inquiry)
        assert ranked == [early.id]  # a month apart, the same storyline; never the same-day orchestra
        assert inquiry.id not in ranked
        assert prize.id not in ranked
        assert related_of(s, prize) == []  # nothing of its storyline: an empty list
        ranks = s.scalars(select(StoryRelation.rank).where(StoryRelation.story_id == inquiry.id)).all()
        assert sorted(ranks) == list(range(1, len(ranks) + 1))
        assert len(ranks) <= config.stories.related_count

        # The untagged story's topics are inferred: the tagged dam report shares its names.
        assert "kessler dam" in topics_of(s, inquiry)
        assert len(topics_of(s, inquiry)) <= config.stories.topic_count
        # The older story's own list was refreshed too (it now relates to the new one), with its categories.
        assert inquiry.id in related_of(s, early)
        assert topics_of(s, early)[:2] == ["kessler dam", "floods"]
        assert result.stories >= 2 and result.relations >= 2 and result.topics >= 2


def test_updating_again_replaces_rows_and_merged_ids_follow_the_survivor(
    db: Database, config: Config
) -> None:
    with db.session() as s:
        stories = world(s)
        update_story_links(s, [stories["inquiry"].id], config, NOW, rare_name_rule())
        first = related_of(s, stories["inquiry"])
        assert first
        update_story_links(s, [stories["inquiry"].id], config, NOW, rare_name_rule())
        assert related_of(s, stories["inquiry"]) == first  # idempotent: rows replaced, not added

        feed = s.scalars(select(Feed).where(Feed.title == "Plain News")).one()
        later = make_article(
            s, feed, title="Kessler Dam inquiry report published", published=NOW - timedelta(hours=1),
            summary="The Kessler Dam inquiry blamed the inspectors.",
        )  # fmt: skip
        absorbed = make_story(s, [later], now=NOW)
        absorbed.merged_into_id = stories["inquiry"].id
        s.flush()
        result = update_story_links(s, [absorbed.id], config, NOW, rare_name_rule())
        assert result.stories >= 1
        assert related_of(s, absorbed) == []  # the absorbed id is never listed or given a list
        for story in stories.values():
            assert absorbed.id not in related_of(s, story)


def test_profiles_are_cached_in_the_stories_own_column(db: Database, config: Config) -> None:
    with db.session() as s:
        stories = world(s)
        early = stories["early"]
        early.engine_state = {"centroid": [1, 2]}  # the clustering step's column: never written here
        s.flush()
        update_story_links(s, [stories["inquiry"].id], config, NOW, rare_name_rule())
        assert early.engine_state == {"centroid": [1, 2]}
        cached = early.links_state
        assert cached is not None and cached["articles"] == early.article_count
        assert "kessler" in cached["terms"] and cached["categories"][0] == "Kessler Dam"
        tagged = s.scalars(select(Feed).where(Feed.title == "Valley Times")).one()
        assert cached["category_outlets"] == [tagged.outlet_key]  # what the topic model learns with

        # A later call reads the cached profile: a changed cache (same story) changes the ranking.
        assert "kessler dam" in cached["evidence"]["names"]
        assert related_of(s, stories["inquiry"]) == [early.id]
        early.links_state = {**cached, "terms": {"orchestra": 5.0}, "topics": []}
        s.flush()
        update_story_links(s, [stories["inquiry"].id], config, NOW, rare_name_rule())
        assert related_of(s, stories["inquiry"])[:1] != [early.id]
        assert stale_story_ids(s, config, NOW) == []

        # A cache of the earlier layouts (version 3: without evidence, or without category outlets) is read again.
        early.links_state = {**cached, "v": 3}
        s.flush()
        assert stale_story_ids(s, config, NOW) == [early.id]
        early.links_state = cached

        # Once the clustering step has changed the story, the cache is stale and read again.
        early.updated_at = NOW + timedelta(minutes=1)
        s.flush()
        assert stale_story_ids(s, config, NOW) == [early.id]


def test_a_live_blog_is_never_listed_under_another_story(db: Database, config: Config) -> None:
    """The links stage asks the item-kind detector (aggregator.stories.kinds) what may be listed."""
    with db.session() as s:
        stories = world(s)
        plain = s.scalars(select(Feed).where(Feed.title == "Plain News")).one()
        live = make_article(
            s, plain, title="Live: Kessler Dam collapse updates", published=NOW - timedelta(days=29),
            summary="<p>Follow the Kessler Dam news as it happens.</p>",
        )  # fmt: skip
        stories["live"] = make_story(s, [live], now=NOW)
        update_story_links(s, [stories["inquiry"].id, stories["live"].id], config, NOW, rare_name_rule())
        assert related_of(s, stories["inquiry"]) == [stories["early"].id]
        assert stories["live"].links_state is not None
        assert stories["live"].links_state["evidence"]["listable"] is False
        assert related_of(s, stories["live"]) == [stories["early"].id, stories["inquiry"].id]


def test_lists_are_timelines_and_the_shipped_model_lists_no_unrelated_story(
    db: Database, config: Config
) -> None:
    with db.session() as s:
        stories = world(s)
        feed = s.scalars(select(Feed).where(Feed.title == "Plain News")).one()
        middle = make_article(
            s, feed, title="Kessler Dam repairs begin", published=NOW - timedelta(days=10),
            summary="Crews began repairing the Kessler Dam wall.",
        )  # fmt: skip
        stories["middle"] = make_story(s, [middle], now=NOW)
        update_story_links(s, [stories["inquiry"].id], config, NOW, rare_name_rule())
        # In date order, whatever the scores: the storyline's earlier reports, oldest first.
        assert related_of(s, stories["inquiry"]) == [stories["early"].id, stories["middle"].id]

        update_story_links(s, [stories["inquiry"].id, stories["prize"].id], config, NOW)
        unrelated = {stories["prize"].id} | {v.id for k, v in stories.items() if k.startswith("bg")}
        assert not unrelated & set(related_of(s, stories["inquiry"]))
        assert related_of(s, stories["prize"]) == []


def test_nothing_to_do(db: Database, config: Config) -> None:
    with db.session() as s:
        assert update_story_links(s, [12345], config, NOW).stories == 0


def test_stories_from_untagged_feeds_get_their_names_as_topics(db: Database, config: Config) -> None:
    with db.session() as s:
        plain = make_feed(s, "http://127.0.0.1:9/plain.xml", title="Plain News", now=NOW)
        a = make_article(
            s, plain, title="Harbour Board approves Kessler Dam repairs", published=NOW - timedelta(hours=1),
            summary="<p>The Harbour Board met on Monday.</p>",
        )  # fmt: skip
        story = make_story(s, [a], now=NOW)
        update_story_links(s, [story.id], config, NOW)
        assert topics_of(s, story)[:2] == ["harbour board", "kessler dam"]
        labels = s.scalars(select(Topic.label).where(Topic.key == "kessler dam")).all()
        assert labels == ["Kessler Dam"]


def rows_naming(s: Session, story_id: int) -> list[tuple[str, int]]:
    relations = s.execute(
        select(StoryRelation.story_id, StoryRelation.related_id).where(
            (StoryRelation.story_id == story_id) | (StoryRelation.related_id == story_id)
        )
    ).all()
    topics = s.scalars(select(StoryTopic.story_id).where(StoryTopic.story_id == story_id)).all()
    return [("relation", a) for a, _ in relations] + [("topic", t) for t in topics]


def test_the_next_links_run_cleans_rows_left_on_merged_stories(db: Database, config: Config) -> None:
    """Rows an older version left on stories merged since: removed by the next links run."""
    with db.session() as s:
        stories = world(s)
        update_story_links(s, [stories["inquiry"].id, stories["early"].id], config, NOW)
        early = stories["early"]
        assert rows_naming(s, early.id)
        early.merged_into_id = stories["inquiry"].id  # merged without cleaning, as before
        s.flush()
        update_story_links(s, [stories["prize"].id], config, NOW)
        assert rows_naming(s, early.id) == []


def test_junk_categories_never_become_topics_and_ignore_categories_is_honoured(
    db: Database, config: Config
) -> None:
    from dataclasses import replace

    from aggregator.config import FeedConfig

    url = "http://127.0.0.1:9/fox.xml"
    config = replace(config, feeds=(FeedConfig(url=url, ignore_categories=("HARBOUR NEWS",)),))
    with db.session() as s:
        fox = make_feed(s, url, title="FOX News", now=NOW)
        raw = [
            "8806b50a-77d2-59c2-99ad-b52ad3f85705", "fnc", "fnc/politics", "article", "FOX News", "PAID",
            "fox-news/person/joe-biden", "Harbour News", "Tom Writer",
        ]  # fmt: skip
        a = make_article(
            s, fox, title="Joe Biden visits the harbour", published=NOW - timedelta(hours=1),
            summary="<p>Joe Biden toured the harbour on Monday.</p>", categories=raw, author="Tom Writer",
        )  # fmt: skip
        story = make_story(s, [a], now=NOW)
        update_story_links(s, [story.id], config, NOW)
        assert topics_of(s, story) == ["joe biden"]
        assert s.scalars(select(Topic.label)).all() == ["Joe Biden"]
