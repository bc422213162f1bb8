"""The pure story engine, with the shipped model: joins need evidence, copies are real copies, a feed's
boilerplate and non-news items never make stories, and the engine is bounded and deterministic."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import StoriesConfig
from aggregator.stories.doc import ArticleDoc
from aggregator.stories.engine import ALL_TERMS, CENTROID_MEMORY, MAX_CANDIDATES, StoryEngine, StoryState
from aggregator.stories.model import default_model

from .story_fixtures import BUDGET, QUAKE_2026_B, T0, doc, event_stream


def run(docs: list[ArticleDoc], config: StoriesConfig | None = None) -> dict[str, int]:
    engine = StoryEngine(config)
    for d in docs:
        engine.observe(d)
    assigned = {d.id: engine.add(d).story_id for d in docs}
    return assigned


def test_the_shipped_model_loads_and_says_where_it_came_from() -> None:
    model = default_model()
    assert model.trees and 0 < model.threshold < 1
    assert "train_story_model.py" in model.about


def test_reports_of_one_event_share_a_story_and_other_events_do_not() -> None:
    stories = run(event_stream())
    assert stories["q1"] == stories["q2"] == stories["q1-copy"]
    assert stories["b1"] == stories["b2"]
    assert stories["b1"] != stories["q1"]


def test_a_syndicated_copy_joins_its_original_and_says_so() -> None:
    engine = StoryEngine()
    results = {d.id: engine.add(d) for d in event_stream()}
    assert results["q1-copy"].duplicate_of == "q1"
    assert results["q1-copy"].story_id == results["q1"].story_id
    assert results["q2"].duplicate_of is None


def test_a_similar_event_a_year_later_is_a_new_story() -> None:
    stories = run(event_stream())
    assert stories["q4"] not in {stories["q1"], stories["b1"]}


def test_same_input_order_gives_the_same_stories() -> None:
    assert [StoryEngine().add(d) for d in event_stream()] != []
    first, second = StoryEngine(), StoryEngine()
    assert [first.add(d) for d in event_stream()] == [second.add(d) for d in event_stream()]


def test_story_state_round_trips_through_json_and_an_older_state_is_left_alone() -> None:
    engine = StoryEngine()
    for d in event_stream()[:6]:
        engine.add(d)
    story = engine.stories[1]
    again = StoryState.from_json(1, story.to_json(), story.first, story.last)
    assert again is not None
    assert (again.size, again.names, again.outlets, again.titles) == (
        story.size,
        story.names,
        story.outlets,
        story.titles,
    )
    assert set(again.all) == set(story.all)
    assert StoryState.from_json(1, {"v": 2, "centroid": {"x": 1.0}}, None, None) is None


def test_restored_engine_decides_like_the_one_that_ran() -> None:
    docs = event_stream()
    live = StoryEngine()
    placed = {d.id: live.add(d).story_id for d in docs[:3]}
    restored = StoryEngine(next_story_id=1)
    for d in docs[:3]:
        restored.learn_terms(d, placed[d.id])
    for story in live.stories.values():
        back = StoryState.from_json(story.id, story.to_json(), story.first, story.last)
        assert back is not None
        restored.restore_story(back)
    for d in docs[3:]:
        assert restored.add(d).story_id == live.add(d).story_id


def test_expired_stories_leave_the_candidate_index() -> None:
    engine = StoryEngine(StoriesConfig(max_gap_days=2))
    engine.add(doc("b1", "Estonia's parliament approves 2027 budget", BUDGET))
    assert 1 in engine.stories
    engine.add(doc("x", "Orchestra wins a national prize for its new recording", hours=24 * 3))
    assert 1 not in engine.stories
    assert all(1 not in ids for ids in engine._postings.values())


def test_beyond_the_cap_the_least_recently_updated_story_leaves_the_index() -> None:
    engine = StoryEngine(StoriesConfig(max_open_stories=2))
    first, budget, *_ = event_stream()
    engine.add(first)  # story 1
    engine.add(budget)  # story 2
    engine.add(doc("x", "Orchestra wins a national prize for its new recording", hours=3))  # story 3
    assert set(engine.stories) == {2, 3}
    assert all(1 not in ids for ids in engine._postings.values())


WORDS = ["quake", "chile", "budget", "estonia", "vote", "tsunami", "mine", "minister", "flood", "river"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(WORDS), min_size=0, max_size=8), st.integers(0, 24 * 90), st.booleans()
        ),
        min_size=1,
        max_size=25,
    )
)
def test_every_article_lands_in_exactly_one_live_story(items: list[tuple[list[str], int, bool]]) -> None:
    engine = StoryEngine(StoriesConfig(max_gap_days=1000))
    docs = [
        ArticleDoc(
            id=str(i),
            title=" ".join(words),
            published=None if undated else T0 + timedelta(hours=hours),
            source=f"s{i % 3}",
            feed=f"feed {i % 2}",
        )
        for i, (words, hours, undated) in enumerate(items)
    ]
    for d in docs:
        engine.observe(d)
    results = []
    for d in docs:
        result = engine.add(d)
        assert result.story_id in engine.stories
        assert (result.created is not None) == result.new_story
        results.append(result)
    # Every article but a copy is a member of exactly one story; a copy is counted by its original's story.
    assert sum(s.size for s in engine.stories.values()) == sum(1 for r in results if r.duplicate_of is None)


# -- real-feed behaviour, in small (texts written for these tests) ------------------------------------

CHANNEL = (
    "To watch the latest Harbour TV videos, click the link below: https://video.example/playlist?list=HTV "
    "Subscribe to the Harbour TV channel! - https://video.example/harbourtv Visit our website at "
    "https://harbour.example Follow us on social media for the latest updates #HarbourTV #News"
)
VIDEO_TITLES = [
    "Fishermen protest new quota at the harbour office",
    "City council approves budget for flood barriers",
    "Museum reopens its maritime gallery after repairs",
    "Police search for missing hiker on Mount Kessel",
    "School choir wins regional competition",
    "Ferry fares rise for the summer season",
    "Storm warning issued for the northern coast",
    "Hospital opens new children's ward",
    "Farmers' market moves to the old railway yard",
    "Bus drivers announce a two-day strike",
    "Lighthouse keeper retires after forty years",
    "Road closures planned for the marathon",
]


def _channel_videos() -> list[ArticleDoc]:
    return [
        ArticleDoc(
            id=f"v{i}",
            title=f"{title} | Harbour TV",
            summary=f"{title}. {CHANNEL}",
            published=T0 + timedelta(hours=i),
            source="harbourtv",
            feed="Harbour TV",
        )
        for i, title in enumerate(VIDEO_TITLES)
    ]


def test_a_channels_videos_with_one_description_are_neither_one_story_nor_copies() -> None:
    engine = StoryEngine()
    videos = _channel_videos()
    for d in videos:
        engine.observe(d)
    results = [engine.add(d) for d in videos]
    assert len({r.story_id for r in results}) == len(videos)
    assert all(r.duplicate_of is None for r in results)


def test_feed_hygiene_strips_what_the_feed_repeats_and_keeps_what_the_item_says() -> None:
    engine = StoryEngine()
    for d in _channel_videos():
        engine.observe(d)
    cleaned = engine.hygiene.clean(
        "Harbour TV", "Bus drivers announce a two-day strike | Harbour TV", f"Bus drivers strike. {CHANNEL}"
    )
    assert cleaned.title == "Bus drivers announce a two-day strike"
    assert "Subscribe" not in cleaned.body and "click" not in cleaned.body
    assert "Bus drivers strike" in cleaned.body


def test_a_live_blog_stays_alone_and_never_swallows_reports() -> None:
    live = doc("l1", "Chile earthquake live updates: tsunami warning lifted near Iquique", QUAKE_2026_B)
    report = doc("q2", "Chile lifts tsunami warning after 6.8 quake near Iquique", QUAKE_2026_B, hours=1)
    stories = run([live, report])
    assert stories["l1"] != stories["q2"]


def test_a_retitled_wire_copy_in_another_outlet_is_a_copy() -> None:
    original = doc("w1", "Estonia's parliament approves 2027 budget", BUDGET, source="a.example")
    retitled = doc(
        "w2", "Estonian MPs back budget with more defence spending", BUDGET, hours=2, source="b.example"
    )
    engine = StoryEngine()
    engine.add(original)
    assert engine.add(retitled).duplicate_of == "w1"


def test_an_edited_repost_with_no_text_is_a_copy_but_a_daily_series_title_is_not() -> None:
    engine = StoryEngine()
    first = doc("r1", "Full video: Governor's coronavirus update for April 28", source="tv.example")
    edited = doc(
        "r2", "Full video: Governor's coronavirus update for April 28th", hours=1, source="tv.example"
    )
    engine.add(first)
    assert engine.add(edited).duplicate_of == "r1"
    next_day = doc(
        "r3", "Full video: Governor's coronavirus update for April 28th", hours=60, source="tv.example"
    )
    assert engine.add(next_day).duplicate_of is None


def test_one_headline_in_two_outlets_is_a_copy_but_one_feeds_daily_list_is_not() -> None:
    engine = StoryEngine()
    wire = "Harrison Ford again under FAA investigation after new aircraft incident"
    engine.add(
        doc(
            "h1",
            wire,
            "Ford crossed an active runway at Hawthorne Airport on Friday, the FAA said.",
            source="a.example",
        )
    )
    reworded = doc(
        "h2",
        wire,
        summary="The actor is under investigation again after an incident at an airport in Los Angeles County.",
        hours=9,
        source="b.example",
    )
    assert engine.add(reworded).duplicate_of == "h1"

    engine = StoryEngine()
    listing = "Here is the latest list of county communities with coronavirus cases"
    engine.add(
        doc(
            "l1",
            listing,
            "Infections rose to 1,845 on Friday with the largest increase in the north of the county.",
            source="t.example",
        )
    )
    next_list = doc(
        "l2",
        listing,
        "Hospitals reported 175 patients, seventy of them in intensive care, as testing widened.",
        hours=20,
        source="t.example",
    )
    assert engine.add(next_list).duplicate_of is None


def test_two_editions_of_a_dated_series_are_not_copies_even_when_the_date_is_boilerplate() -> None:
    engine = StoryEngine()
    docs = [
        ArticleDoc(
            id=f"e{day}-{region}",
            title=f"TV Patrol {region} - April {day}, 2020",
            summary="",
            text="",
            published=T0 + timedelta(hours=24 * (day - 27) + i),
            source="tv.example",
            feed="tv.xml",
        )
        for day in (27, 28)
        for i, region in enumerate(
            ("Central Visayas", "Bicol", "Panay", "Southern Tagalog", "Northern Mindanao")
        )
    ]
    for d in docs:
        engine.observe(d)
    found = {d.id: engine.add(d).duplicate_of for d in docs}
    assert all(original is None for original in found.values()), found


def test_a_round_up_posted_twice_is_one_item_but_a_renamed_live_blog_is_not_a_copy_of_news() -> None:
    engine = StoryEngine()
    roundup = "What you need to know about coronavirus today"
    first = engine.add(doc("u1", roundup, "Expect a barrage of reopening announcements in the coming days."))
    again = engine.add(
        doc("u2", roundup, "Expect a barrage of reopening announcements in the coming days.", hours=15)
    )
    assert again.duplicate_of == "u1" and again.story_id == first.story_id
    text = " ".join(
        f"Officials in the state reported case number {n} at the daily briefing." for n in range(6)
    )
    engine.add(doc("v1", "Coronavirus live updates: one new case in the state", text, hours=20))
    renamed = engine.add(doc("v2", "As the day unfolded: the tracing app goes live", text, hours=22))
    assert renamed.duplicate_of is None


def test_a_long_running_story_keeps_bounded_centroids_weighted_to_recent_coverage() -> None:
    story = StoryState(id=1)
    engine = StoryEngine()
    for i in range(3 * CENTROID_MEMORY):
        topic = "harbour strike" if i < CENTROID_MEMORY else "ferry fares"
        d = doc(f"s{i}", f"{topic} update number {i} for the coast", hours=i)
        engine.observe(d)
        rep = engine._represent(d)
        story.absorb(rep, engine._vectors(rep))
    assert len(story.all) <= ALL_TERMS
    assert story.all.get("fare", 0) > 3 * story.all.get("harbour", 0)


def test_an_article_is_compared_with_a_bounded_number_of_stories() -> None:
    engine = StoryEngine()
    for i in range(200):
        engine.add(
            doc(
                f"n{i}",
                f"Chile quake report {i} from the Iquique coast",
                hours=i / 10,
                source=f"s{i}.example",
            )
        )
    probe = doc("p", "Chile quake near Iquique", hours=21)
    engine.observe(probe)
    rep = engine._represent(probe)
    assert len(engine.candidate_features(rep, engine._vectors(rep))) <= MAX_CANDIDATES


def test_the_vectorised_tree_walk_gives_the_reference_walks_probabilities() -> None:
    model = default_model()
    engine = StoryEngine()
    docs = event_stream()
    for d in docs[:5]:
        engine.add(d)
    probe = doc("p", "Chile lifts tsunami warning after 6.8 quake near Iquique", QUAKE_2026_B, hours=3)
    engine.observe(probe)
    rep = engine._represent(probe)
    rows = [f for _, f in engine.candidate_features(rep, engine._vectors(rep))]
    assert rows
    assert model.probabilities(rows) == [pytest.approx(model.probability(r), abs=1e-12) for r in rows]


# Our own short Chinese headlines of six different events (written for this test).
CHINESE = [
    "上海地铁新线路今天开通运营",
    "北京发布暴雨红色预警学校停课",
    "广州车展开幕多款新能源汽车亮相",
    "深圳一栋居民楼发生火灾无人伤亡",
    "成都大熊猫基地迎来双胞胎幼崽",
    "杭州亚运会志愿者招募工作启动",
]


def test_chinese_headlines_of_different_events_stay_apart() -> None:
    docs = [
        ArticleDoc(
            id=f"zh{i}", title=t, published=T0 + timedelta(hours=i), source=f"s{i % 2}", feed=f"f{i % 2}"
        )
        for i, t in enumerate(CHINESE)
    ]
    stories = run(docs)
    assert len(set(stories.values())) == len(docs)


# A long summary, reworded at its end (as an outlet's second feed edits it), over two unrelated headlines.
ENVOY = (
    "The United Nations' outgoing human rights envoy to Myanmar said on Wednesday that the country's civilian "
    "leader had failed to protect the Rohingya minority, and urged the Security Council to refer the "
    "military to the International Criminal Court for the killings in Rakhine state in 2017. She spoke at "
    "the end of a six-year mandate during which the government refused her entry to the country"
)


def test_a_long_text_under_a_new_headline_is_a_copy_but_one_sharing_only_its_ending_is_not() -> None:
    engine = StoryEngine()
    engine.add(doc("u1", "UN envoy: Myanmar's leader failed as a humanitarian", summary=ENVOY))
    retitled = doc(
        "u2",
        "Outgoing rights envoy slams Suu Kyi over Rohingya",
        summary=ENVOY.replace("six-year mandate", "six year term")
        .replace("for the killings in", "over the killings in")
        .replace("urged the Security Council", "called on the Security Council")
        + ", her office said.",
        hours=2,
    )
    assert engine.add(retitled).duplicate_of == "u1"
    # Most of the text again after another lead (a channel's description the hygiene has not learned yet,
    # under each video's own first sentence): texts 0.69 alike, but they do not start the same way.
    other = doc(
        "u3",
        "Governor announces reopening of state parks",
        summary="The governor said state parks reopen Friday with limits on parking, "
        + " ".join(ENVOY.split()[12:]),
        hours=3,
    )
    assert engine.add(other).duplicate_of is None


def test_a_variant_of_a_copy_finds_the_same_original() -> None:
    engine = StoryEngine()
    engine.add(doc("d1", "Deaths climb in country that didn't lock down. Officials identify why it happened"))
    assert (
        engine.add(
            doc(
                "d2",
                "Deaths soar in country that didn't lock down. Officials identify why it happened",
                hours=1,
            )
        ).duplicate_of
        == "d1"
    )
    # Closer to the copy than to the original: found through the copy, reported under the original.
    variant = doc(
        "d3", "Deaths soar in a country that didn't lock down. Officials identify why it happened", hours=2
    )
    assert engine.add(variant).duplicate_of == "d1"
