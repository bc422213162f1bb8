"""A story's headline and summary follow its coverage: the most representative recent news article, stable
between small changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.config import Config
from aggregator.db import Database
from aggregator.db.models import Story
from aggregator.ingest.outlets import Outlet
from aggregator.publish.views import ArticleRow, StoryRow, build_story_view
from aggregator.stories.cluster import _refresh
from aggregator.stories.engine import StoryEngine
from aggregator.stories.headline import LeadCandidate, choose_lead, lead_scores
from tests.conftest import NOW
from tests.factories import make_article, make_feed, make_story

T0 = datetime(2020, 4, 30, 12, tzinfo=UTC)
BODY = " ".join(["The agency said the antiviral drug remdesivir had shown benefit in a federal trial."] * 6)


def c(i: str, title: str, hours: float = 0.0, summary: str = BODY, url: str | None = None) -> LeadCandidate:
    return LeadCandidate(i, title, summary, "", T0 + timedelta(hours=hours), url)


FDA = [
    c("fda1", "FDA authorises emergency use of remdesivir for Covid-19 patients", 48),
    c("fda2", "Remdesivir gets FDA emergency use authorisation", 49),
    c("fda3", "US regulator approves remdesivir for emergency use", 50),
]
OLD = c("old", "Experimental cancer drug is fast-tracked into human coronavirus trial", 0,
        summary="A cancer drug enters a fast-tracked coronavirus trial in Britain. " * 6)  # fmt: skip


def test_the_headline_follows_the_coverage_away_from_the_oldest_article() -> None:
    assert choose_lead([OLD]) == "old"
    lead = choose_lead([OLD, *FDA], current_lead_id="old")
    assert lead in {"fda1", "fda2", "fda3"}


def test_non_news_never_leads_while_a_news_member_exists() -> None:
    live = c("live", "Coronavirus live updates: FDA authorises emergency use of remdesivir", 51)
    assert choose_lead([live, *FDA], current_lead_id="live") != "live"
    assert "live" not in lead_scores([live, *FDA])
    assert choose_lead([live]) == "live"  # nothing else to show


def test_real_text_beats_a_video_blurb() -> None:
    blurb = c("blurb", "FDA authorises emergency use of remdesivir", 50, summary="Watch the video.")
    full = c("full", "FDA authorises emergency use of remdesivir", 48)
    assert choose_lead([blurb, full]) == "full"


def test_the_current_lead_stays_unless_clearly_beaten() -> None:
    a = c("a", "FDA authorises emergency use of remdesivir", 48)
    b = c("b", "FDA authorises emergency use of remdesivir", 49)  # the same, an hour newer
    assert choose_lead([a, b]) == "b"
    assert choose_lead([a, b], current_lead_id="a") == "a"  # a small gain does not move the headline
    assert choose_lead([a, b], current_lead_id="gone") == "b"


def test_undated_members_are_handled_and_the_choice_is_deterministic() -> None:
    a = LeadCandidate("a", "Remdesivir approved", BODY)
    b = LeadCandidate(2, "Remdesivir approved for emergency use", BODY)
    assert choose_lead([a, b]) == choose_lead([b, a])
    assert choose_lead([]) is None


def test_refresh_moves_the_story_title_to_the_representative_article(db: Database, config: Config) -> None:
    with db.session() as s:
        feed = make_feed(s, "http://127.0.0.1:9/a.xml", title="Daily Mail", now=NOW)
        other = make_feed(s, "http://127.0.0.1:9/b.xml", title="CNN", now=NOW)
        old = make_article(s, feed, title=OLD.title, summary=OLD.summary, published=NOW - timedelta(days=2))
        fresh = [
            make_article(s, other if i % 2 else feed, title=m.title, summary=m.summary,
                         published=NOW - timedelta(hours=3 - i))
            for i, m in enumerate(FDA)
        ]  # fmt: skip
        story = make_story(s, [old, *fresh], now=NOW)
        assert story.title == OLD.title
        _refresh(s, StoryEngine(config.stories), [story.id], NOW)
        title = s.get(Story, story.id).title  # type: ignore[union-attr]
        assert title in {m.title for m in FDA}
        _refresh(s, StoryEngine(config.stories), [story.id], NOW)
        assert s.get(Story, story.id).title == title  # type: ignore[union-attr]  # stable


def test_the_story_page_takes_its_summary_from_the_lead() -> None:
    outlets = {1: Outlet("mail", "Daily Mail"), 2: Outlet("cnn", "CNN")}
    rows = [
        ArticleRow(1, 1, OLD.title, "https://a.example/1", OLD.summary, "", "", T0, None),
        ArticleRow(2, 2, FDA[0].title, "https://b.example/2", "The FDA authorised remdesivir. It is a first.", "",
                   "", T0 + timedelta(hours=48), None),
    ]  # fmt: skip
    view = build_story_view(StoryRow(7, FDA[0].title, T0, T0 + timedelta(hours=48)), rows, outlets, [], [])
    assert view.headline == FDA[0].title
    assert view.lead is not None and view.lead.id == 2
    assert view.summary is not None and view.summary.source == "CNN"
    assert view.summary.text.startswith("The FDA authorised remdesivir.")
