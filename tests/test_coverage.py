"""A story's coverage is counted once, the same way on the story page, in the ranking, in Story.source_count
and in the newsletter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.config import StoriesConfig
from aggregator.db import Database
from aggregator.db.models import Story
from aggregator.publish.newsletter import Period, load_coverage, select_digest_stories
from aggregator.publish.views import load_story_views
from aggregator.stories.cluster import _refresh
from aggregator.stories.coverage import story_coverage
from aggregator.stories.engine import StoryEngine

from .conftest import NOW
from .factories import make_article, make_feed, make_story


@dataclass(frozen=True)
class M:
    id: int
    outlet_key: str
    published: datetime
    duplicate_of_id: int | None = None


def test_copies_of_a_member_fold_into_it_a_copy_of_an_outsider_is_coverage() -> None:
    t = NOW - timedelta(hours=5)
    wire = M(1, "wire", t)
    copy = M(2, "courier", t + timedelta(hours=1), duplicate_of_id=1)
    lone = M(3, "radio", t + timedelta(hours=2), duplicate_of_id=99)  # its original is in another story
    own = M(4, "wire", t + timedelta(hours=3))  # the same outlet again
    coverage = story_coverage([own, lone, copy, wire])
    assert [m.id for m in coverage.members] == [1, 2, 3, 4]
    assert [m.id for m in coverage.originals] == [1, 3, 4]
    assert coverage.copies == {1: (copy,)} and coverage.is_copy(copy) and not coverage.is_copy(lone)
    assert coverage.outlets == ("wire", "radio") and coverage.outlet_count == 2
    assert coverage.lead == wire
    assert story_coverage([]).lead is None


def test_the_site_the_ranking_the_story_row_and_the_email_count_the_same_outlets(db: Database) -> None:
    """The same story showed 2 outlets on the site and 1 source in the email: the email dropped every
    copy, the site only copies of the story's own articles."""
    with db.session() as s:
        wire = make_feed(s, "http://127.0.0.1:9/wire.xml", title="Wire Daily", now=NOW)
        courier = make_feed(s, "http://127.0.0.1:9/courier.xml", title="Harbour Courier", now=NOW)
        radio = make_feed(s, "http://127.0.0.1:9/radio.xml", title="Valley Radio", now=NOW)
        t = NOW - timedelta(hours=3)
        elsewhere = make_article(s, wire, title="Strike called", published=t - timedelta(days=1))
        make_story(s, [elsewhere], now=NOW - timedelta(days=1))
        report = make_article(s, courier, title="Ferries stop", published=t)
        lone_copy = make_article(
            s, radio, title="Strike called", published=t + timedelta(hours=1), duplicate_of_id=elsewhere.id
        )
        story = make_story(s, [report, lone_copy], now=NOW - timedelta(hours=1))
        story.source_count = 0
        _refresh(s, StoryEngine(StoriesConfig()), [story.id], NOW)
        view = load_story_views(s, [story.id])[story.id]
        (digest,) = [
            d
            for d in select_digest_stories(
                load_coverage(s, Period(NOW - timedelta(days=1), NOW)), Period(NOW - timedelta(days=1), NOW)
            )
            if d.story_id == story.id
        ]
        row = s.get(Story, story.id)
        assert row is not None
        assert view.outlet_count == digest.total_sources == row.source_count == 2
        assert view.outlets == digest.outlets == ("Harbour Courier", "Valley Radio")
        assert view.lead is not None and view.lead.title == digest.lead_title == "Ferries stop"
