import dataclasses
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.cluster import StoryEngine, StoryState
from aggregator.config import StoriesConfig
from aggregator.docs import ArticleDoc

from .story_fixtures import BUDGET, QUAKE_2026, QUAKE_2026_B, T0, doc, event_stream


def run(docs: list[ArticleDoc], config: StoriesConfig | None = None) -> dict[str, int]:
    engine = StoryEngine(config)
    assigned = {d.id: engine.add(d).story_id for d in docs}
    return {k: engine.resolve(v) for k, v in assigned.items()}


def test_reports_of_one_event_share_a_story_and_other_events_do_not() -> None:
    stories = run(event_stream())
    assert stories["q1"] == stories["q2"] == stories["q3"] == stories["q1-copy"]
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


def test_time_penalty_keeps_a_similar_event_weeks_later_apart_but_not_same_day_reports() -> None:
    first = doc("a", "Magnitude 6.8 earthquake strikes northern Chile near Iquique", QUAKE_2026)
    same_day = doc("b", "Chile lifts tsunami warning after 6.8 quake near Iquique", QUAKE_2026_B, hours=3)
    weeks_later = dataclasses.replace(same_day, id="c", published=T0 + timedelta(days=50))
    engine = StoryEngine()
    engine.add(first)
    bar_now = engine._time_penalty(engine._gap(engine.stories[1], same_day.published))
    bar_later = engine._time_penalty(engine._gap(engine.stories[1], weeks_later.published))
    assert bar_now == 0 < bar_later
    assert run([first, same_day])["b"] == 1
    strict = StoriesConfig(gap_penalty=1.0)
    assert run([first, weeks_later], strict)["c"] != 1


def test_undated_articles_are_clustered_by_text_alone() -> None:
    docs = [dataclasses.replace(d, published=None) for d in event_stream()[:5]]
    stories = run(docs)
    assert stories["q1"] == stories["q2"] and stories["b1"] == stories["b2"] != stories["q1"]


def test_same_input_order_gives_the_same_stories() -> None:
    first = StoryEngine()
    second = StoryEngine()
    a = [first.add(d) for d in event_stream()]
    b = [second.add(d) for d in event_stream()]
    assert a == b


def test_converging_stories_merge_and_the_absorbed_id_points_to_the_survivor() -> None:
    # A bar no second report can pass, and an easy merge: the second report starts a story that merges.
    config = StoriesConfig(join_threshold=0.99, headline_threshold=0.99, merge_threshold=0.3)
    engine = StoryEngine(config)
    engine.add(doc("q1", "Magnitude 6.8 earthquake strikes northern Chile near Iquique", QUAKE_2026))
    second = engine.add(doc("q2", "Chile lifts tsunami warning after 6.8 quake", QUAKE_2026_B, hours=2))
    assert second.merges == ((2, 1),)
    assert second.story_id == 1
    assert engine.resolve(2) == 1
    assert 2 not in engine.stories


def test_story_state_round_trips_through_json() -> None:
    engine = StoryEngine()
    for d in event_stream()[:6]:
        engine.add(d)
    story = engine.stories[1]
    again = StoryState.from_json(1, story.to_json(), story.first, story.last)
    assert again is not None
    assert again.size == story.size
    assert set(again.centroid) == set(story.centroid)
    assert StoryState.from_json(1, {"v": 0}, None, None) is None


def test_restored_engine_decides_like_the_one_that_ran() -> None:
    docs = event_stream()[:5]
    live = StoryEngine()
    for d in docs[:3]:
        live.add(d)
    restored = StoryEngine(next_story_id=1)
    for d in docs[:3]:
        restored.learn_terms(d)
    for story in live.stories.values():
        back = StoryState.from_json(story.id, story.to_json(), story.first, story.last)
        assert back is not None
        restored.restore_story(back)
    for d in docs[:3]:
        restored.restore_article(d.id, live.duplicates._entries[d.id].fingerprint, d.source, d.published,
                                 live.article_story[d.id])  # fmt: skip
    for d in docs[3:]:
        assert restored.add(d).story_id == live.add(d).story_id


def test_expired_stories_leave_the_candidate_index() -> None:
    engine = StoryEngine(StoriesConfig(max_gap_days=2))
    engine.add(doc("b1", "Estonia's parliament approves 2027 budget", BUDGET))
    assert 1 in engine.stories
    engine.add(doc("x", "Orchestra wins a national prize for its new recording", hours=24 * 3))
    assert 1 not in engine.stories
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
    engine = StoryEngine(StoriesConfig(max_gap_days=1000, merge_threshold=0.5))
    docs = [
        ArticleDoc(
            id=str(i),
            title=" ".join(words),
            published=None if undated else T0 + timedelta(hours=hours),
            source=f"s{i % 3}",
        )
        for i, (words, hours, undated) in enumerate(items)
    ]
    members: dict[int, list[str]] = {}
    for d in docs:
        result = engine.add(d)
        assert result.story_id in engine.stories
        members.setdefault(result.story_id, []).append(d.id)
    final: dict[str, int] = {}
    for story_id, ids in members.items():
        for article_id in ids:
            assert article_id not in final
            final[article_id] = engine.resolve(story_id)
    assert set(final) == {d.id for d in docs}
    assert set(final.values()) <= set(engine.stories)


def test_beyond_the_cap_the_least_recently_updated_story_leaves_the_index() -> None:
    engine = StoryEngine(StoriesConfig(max_open_stories=2))
    first, budget, *_ = event_stream()
    engine.add(first)  # story 1
    engine.add(budget)  # story 2
    engine.add(doc("q2", "Chile lifts tsunami warning after 6.8 quake near Iquique", QUAKE_2026_B, hours=2))
    engine.add(doc("x", "Orchestra wins a national prize for its new recording", hours=3))  # story 3
    assert set(engine.stories) == {1, 3}  # the budget story was updated least recently
    assert all(2 not in ids for ids in engine._postings.values())
