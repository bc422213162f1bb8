"""The read side: ranking (pure), summaries, story views, merges and feed health."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregator.db import Database
from aggregator.db.models import Story
from aggregator.ingest.feeds import assign_outlet
from aggregator.ingest.health import feed_health
from aggregator.publish.views import (
    HALF_LIFE_HOURS,
    TEXT_HEAD,
    RankSignals,
    digest_stories,
    extract_summary,
    load_story_views,
    merged_map,
    rank_score,
    rank_stories,
    signals_from_articles,
    split_sentences,
    top_stories,
)
from tests.conftest import NOW
from tests.factories import channel_story, make_article, make_feed, make_story, relate, sample_news


def sig(story_id: int, outlets: int, hours_ago: float, recent: int = 0) -> RankSignals:
    return RankSignals(story_id, outlets, recent, NOW - timedelta(hours=hours_ago))


def test_score_grows_with_outlets_and_halves_every_half_life() -> None:
    assert rank_score(sig(1, 3, 1), NOW) > rank_score(sig(2, 2, 1), NOW) > rank_score(sig(3, 1, 1), NOW)
    fresh, old = rank_score(sig(1, 4, 0), NOW), rank_score(sig(1, 4, HALF_LIFE_HOURS), NOW)
    assert old == pytest.approx(fresh / 2)
    assert rank_score(sig(1, 2, 1, recent=2), NOW) > rank_score(sig(1, 2, 1, recent=0), NOW)
    # a story dated in the future (clock skew at a publisher) is not boosted beyond "now"
    assert rank_score(sig(1, 2, -5), NOW) == rank_score(sig(1, 2, 0), NOW)


def test_fresh_spreading_story_beats_a_day_old_big_one_and_ties_go_to_the_newest() -> None:
    ranked = rank_stories([sig(1, 5, 24), sig(2, 2, 1, recent=2), sig(3, 1, 0.5)], NOW, limit=10)
    assert ranked == [2, 3, 1]
    assert rank_stories([sig(1, 2, 3), sig(2, 2, 3)], NOW, limit=10) == [2, 1]
    assert rank_stories([sig(i, 1, i) for i in range(10)], NOW, limit=3) == [0, 1, 2]


def test_signals_count_each_outlet_once_and_momentum_by_first_article() -> None:
    coverage = [
        (1, NOW - timedelta(hours=20)),
        (1, NOW - timedelta(hours=1)),  # the same outlet again: still one outlet, and not "new"
        (2, NOW - timedelta(hours=2)),
        (3, NOW - timedelta(hours=10)),
    ]
    s = signals_from_articles(7, coverage, NOW)
    assert (s.story_id, s.outlets, s.recent_outlets, s.last_published) == (7, 3, 1, NOW - timedelta(hours=1))


def test_extractive_summary_takes_lead_sentences_within_the_word_limit() -> None:
    text = (
        "The dam broke at dawn. About 300 people left their homes. Officials said more rain was due. Later..."
    )
    assert extract_summary(text) == "The dam broke at dawn. About 300 people left their homes."
    assert extract_summary(text, max_sentences=1) == "The dam broke at dawn."
    long_first = " ".join(["word"] * 100) + ". Second sentence."
    assert extract_summary(long_first, max_words=10) == " ".join(["word"] * 10) + "…"
    assert split_sentences('He said "no." Then left. e.g. this stays') == [
        'He said "no."',
        "Then left. e.g. this stays",
    ]
    assert extract_summary("") == ""


def test_story_view_summary_prefers_extracted_text_and_names_its_source(db: Database) -> None:
    with db.session() as s:
        a = make_feed(s, "http://127.0.0.1:9/a.xml", title="Alpha", now=NOW)
        b = make_feed(s, "http://127.0.0.1:9/b.xml", now=NOW, site_url="http://127.0.0.1:9/beta")
        b.title = "  "  # a feed that gave no title
        assign_outlet(b)
        first = make_article(s, a, title="T", published=NOW - timedelta(hours=2), summary="Too short.")
        second = make_article(
            s, b, title="<b>Bold</b> &amp; title", published=NOW - timedelta(hours=1), summary="<p>Feed text.</p>",
            extracted_text="Full text from the page says a lot of things. And more. And more still.",
        )  # fmt: skip
        story = make_story(s, [first, second], now=NOW, title="")
        view = load_story_views(s, [story.id])[story.id]
    assert view.summary is not None
    assert view.summary.text == "Full text from the page says a lot of things. And more."
    assert view.summary.source == "127.0.0.1"  # no title: the outlet is named by its host
    assert view.headline == "T"  # no story title: the lead (first) article's
    assert [g.outlet for g in view.groups] == ["Alpha", "127.0.0.1"]
    assert view.groups[1].articles[0].title == "Bold & title"
    assert view.outlet_count == 2 and view.article_count == 2


def test_excerpts_and_summary_leave_out_the_feeds_boilerplate(db: Database) -> None:
    with db.session() as s:
        story = channel_story(s, NOW)
        view = load_story_views(s, [story.id])[story.id]
    excerpt = view.groups[0].articles[0].excerpt
    assert excerpt.startswith("The mayor ordered an evacuation") and "Subscribe" not in excerpt
    assert (
        view.summary is not None
        and "Subscribe" not in view.summary.text
        and "youtube" not in view.summary.text
    )


def test_copy_without_its_original_in_the_story_counts_as_coverage(db: Database) -> None:
    with db.session() as s:
        a = make_feed(s, "http://127.0.0.1:9/a.xml", title="Alpha", now=NOW)
        b = make_feed(s, "http://127.0.0.1:9/b.xml", title="Beta", now=NOW)
        original = make_article(s, a, title="Original", published=NOW - timedelta(hours=3))
        make_story(s, [original], now=NOW)
        copy = make_article(
            s, b, title="Copy", published=NOW - timedelta(hours=2), duplicate_of_id=original.id
        )
        elsewhere = make_story(s, [copy], now=NOW)
        view = load_story_views(s, [elsewhere.id])[elsewhere.id]
    assert [g.outlet for g in view.groups] == ["Beta"]
    assert not view.timeline[0].is_copy


def test_merges_resolve_to_the_final_survivor_and_related_lists_follow(db: Database) -> None:
    with db.session() as s:
        world = sample_news(s, NOW)
        stories = world["stories"]
        assert isinstance(stories, dict)
        flood, inquiry, prize = stories["flood"], stories["inquiry"], stories["prize"]
        feed = world["feeds"][0]  # type: ignore[index]
        extra = make_story(s, [make_article(s, feed, title="Extra", published=NOW)], now=NOW)
        relate(s, prize, [inquiry, extra, flood])
        inquiry.merged_into_id = extra.id
        extra.merged_into_id = flood.id
        s.flush()
        assert merged_map(s) == {inquiry.id: flood.id, extra.id: flood.id}
        view = load_story_views(s, [prize.id])[prize.id]
        # three related ids, all now the flood story: listed once
        assert [r.id for r in view.related] == [flood.id]
        flood_view = load_story_views(s, [flood.id])[flood.id]
        assert flood_view.related == ()  # its related story merged into itself
        # the front page never lists an absorbed story
        assert inquiry.id not in top_stories(s, NOW, 24 * 30, 10)


def test_a_cycle_of_merges_is_left_alone(db: Database) -> None:
    with db.session() as s:
        feed = make_feed(s, "http://127.0.0.1:9/a.xml", now=NOW)
        one = make_story(s, [make_article(s, feed, title="One", published=NOW)], now=NOW)
        two = make_story(s, [make_article(s, feed, title="Two", published=NOW)], now=NOW)
        one.merged_into_id, two.merged_into_id = two.id, one.id
        s.flush()
        assert merged_map(s) == {}
        assert s.get(Story, one.id) is not None


def test_feed_health_reports_state_counts_and_last_article(db: Database) -> None:
    with db.session() as s:
        ok = make_feed(s, "http://127.0.0.1:9/ok.xml", title="Ok", now=NOW, last_success_at=NOW)
        make_feed(s, "javascript:alert(1)", title="Bad URL", now=NOW, consecutive_errors=2, last_error="boom")
        gone = make_feed(s, "http://127.0.0.1:9/gone.xml", title="Gone", now=NOW, next_fetch_at=NOW)
        gone.status = "gone"
        make_article(s, ok, title="A", published=NOW - timedelta(hours=5))
        make_article(s, ok, title="B", published=NOW - timedelta(hours=1))
        health = {h.title: h for h in feed_health(s)}
    assert health["Ok"].state == "ok" and health["Ok"].articles == 2
    assert health["Ok"].last_article == NOW - timedelta(hours=1)
    assert health["Bad URL"].state == "error" and health["Bad URL"].feed_link is None  # not a link
    assert health["Gone"].state == "gone" and health["Gone"].next_poll is None


def test_top_stories_count_copies_once_but_a_lone_copy_is_coverage(db: Database) -> None:
    with db.session() as s:
        feeds = [make_feed(s, f"http://127.0.0.1:9/{i}.xml", title=f"F{i}", now=NOW) for i in range(4)]
        orig = make_article(s, feeds[0], title="Wire", published=NOW - timedelta(hours=2))
        copies = [
            make_article(s, f, title="Wire", published=NOW - timedelta(hours=1), duplicate_of_id=orig.id)
            for f in feeds[1:3]
        ]
        wire = make_story(s, [orig, *copies], now=NOW)
        lone = make_article(s, feeds[3], title="Copy elsewhere", published=NOW - timedelta(hours=1),
                            duplicate_of_id=orig.id)  # fmt: skip
        alone = make_story(s, [lone], now=NOW)
        two = make_story(
            s,
            [make_article(s, f, title="Two", published=NOW - timedelta(hours=2)) for f in feeds[:2]],
            now=NOW,
        )
        top = digest_stories(s, NOW, 24, 10)
    assert [v.id for v in top] == [two.id, alone.id, wire.id]
    assert [v.outlet_count for v in top] == [2, 1, 1]


def test_summary_leaves_out_bare_urls() -> None:
    text = "Watch the report. More at https://127.0.0.1/x?y=1 and www.example.org/page today. Subscribe now."
    assert extract_summary(text) == "Watch the report. More at and today."


def test_views_read_only_the_head_of_long_article_texts(db: Database) -> None:
    body = "<p>The opening sentence carries the news here. " + "Filler words go on. " * 20_000 + "</p>"
    with db.session() as s:
        feed = make_feed(s, "http://127.0.0.1:9/a.xml", title="Alpha", now=NOW)
        article = make_article(s, feed, title="Long", published=NOW, content=body, extracted_text=body[3:])
        story = make_story(s, [article], now=NOW)
        view = load_story_views(s, [story.id])[story.id]
    assert view.lead is not None and len(view.lead.summary_html) == TEXT_HEAD
    assert view.summary is not None
    assert view.summary.text == "The opening sentence carries the news here. Filler words go on."
    assert view.lead is not None and view.lead.excerpt.startswith(
        "The opening sentence carries the news here."
    )


def test_two_feeds_of_one_outlet_are_one_outlet_on_the_page_and_in_the_ranking(db: Database) -> None:
    with db.session() as s:
        site = make_feed(s, "http://127.0.0.1:9/site.xml", title="Quay News - World", now=NOW)
        channel = make_feed(s, "http://127.0.0.1:9/channel.xml", title="Quay News", now=NOW)
        other = make_feed(s, "http://127.0.0.1:9/other.xml", title="Harbour Courier", now=NOW)
        one = make_story(
            s,
            [
                make_article(s, site, title="Dam opens", published=NOW - timedelta(hours=2)),
                make_article(s, channel, title="Dam opens (video)", published=NOW - timedelta(hours=1)),
            ],
            now=NOW,
        )
        two = make_story(
            s,
            [
                make_article(s, site, title="Ferry strike", published=NOW - timedelta(hours=3)),
                make_article(s, other, title="Ferries stop", published=NOW - timedelta(hours=3)),
            ],
            now=NOW,
        )
        views = load_story_views(s, [one.id, two.id])
        top = top_stories(s, NOW, 24, 10)
    assert views[one.id].outlet_count == 1 and [g.outlet for g in views[one.id].groups] == ["Quay News"]
    assert len(views[one.id].groups[0].articles) == 2
    assert views[two.id].outlet_count == 2
    assert top == [two.id, one.id]  # two outlets outrank one outlet's two feeds, though one is fresher


def test_status_and_the_sources_page_report_the_same_health(db: Database) -> None:
    from aggregator.run.status import gather_status

    with db.session() as s:
        make_feed(s, "http://127.0.0.1:9/ok.xml", title="Ok", now=NOW, last_success_at=NOW, next_fetch_at=NOW)
        removed = make_feed(s, "http://127.0.0.1:9/old.xml", title="", now=NOW, next_fetch_at=NOW)
        removed.title, removed.status = "", "removed"
        s.flush()
        health = feed_health(s)
        status = gather_status(s, NOW)
    rows = [(r["name"], r["state"], r["articles"], r["next_fetch_at"]) for r in status["feeds"]]
    assert rows == [(h.name, h.state, h.articles, h.next_poll and h.next_poll.isoformat()) for h in health]
    assert ("127.0.0.1", "removed", 0, None) in rows  # no title: named by its host; not polled: no next fetch
    assert status["counts"]["feeds"] == 2 and status["counts"]["feeds_in_error"] == 0


def test_a_story_without_news_ranks_below_every_news_story() -> None:
    live = RankSignals(1, 6, 6, NOW - timedelta(minutes=10), news=False)  # a busy live blog, fresh
    small = sig(2, 1, 30)  # one outlet, a day and more old
    assert rank_stories([live, small], NOW, limit=10) == [2, 1]
    assert rank_stories([live], NOW, limit=10) == [1]  # still listed when nothing else is
