import dataclasses
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.config import StoriesConfig
from aggregator.stories.doc import ArticleDoc
from aggregator.stories.engine import NAME_IDF, StoryEngine, StoryState, features, lead_names

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


# -- the demo's false merges, in small (texts written for these tests) --------------------------------

COLLAPSE = [
    (
        "c1",
        0.0,
        "Bridge span collapses into the river in Port Almsey, three dead",
        "The central span of the Tollgate bridge fell into the Amsel during the evening rush hour; three "
        "drivers died and fourteen people were injured, the fire service said.",
    ),
    (
        "c2",
        1.0,
        "Three killed as Port Almsey bridge span falls during rush hour",
        "Cars plunged into the river Amsel when the Tollgate bridge's central span gave way; divers "
        "recovered three bodies and fourteen people are in hospital.",
    ),
    (
        "c3",
        3.0,
        "Rescuers search river after Port Almsey bridge collapse kills three",
        "Divers and lifeboat crews searched the Amsel through the night after the Tollgate bridge span "
        "collapsed under evening traffic, killing three drivers.",
    ),
    (
        "c4",
        8.0,
        "Port Almsey bridge collapse: drivers describe the moment the span fell",
        "Survivors of the Tollgate bridge collapse told of cars sliding into the river as the central span "
        "dropped; three died and fourteen were hurt.",
    ),
]


# Earlier, unrelated news: as in a real store, the engine has seen everyday words before the collapse.
BACKGROUND = [
    "Health board votes to publish hospital waiting lists",
    "Retired teacher chairs the village fete committee for a tenth year",
    "Public library extends its opening hours",
    "Judge jails fraudster who ran a fake charity",
    "Councillors approve new cycle lanes",
    "Inquiry hears evidence on school funding",
]


def _collapse_docs() -> list[ArticleDoc]:
    sources = ["w.example", "h.example", "n.example", "m.example"]
    earlier = [doc(f"bg{n}", title, hours=-300 + n) for n, title in enumerate(BACKGROUND)]
    return earlier + [
        doc(i, title, summary=summary, hours=h, source=src)
        for (i, h, title, summary), src in zip(COLLAPSE, sources, strict=True)
    ]


def test_a_follow_up_days_after_a_burst_starts_its_own_story() -> None:
    follow_up = doc(
        "f1",
        "Councillors vote for public inquiry over Tollgate bridge",
        summary="Port Almsey councillors voted 31-4 for an inquiry into the bridge disaster, chaired by "
        "retired judge Helen Marchetti.",
        hours=60,
        source="w.example",
    )
    same_day = doc(
        "s1",
        "Tollgate bridge collapse: three dead, fourteen hurt",
        summary="Three drivers died when the central span of the Tollgate bridge fell into the Amsel.",
        hours=12,
    )
    stories = run([*_collapse_docs(), same_day, follow_up])
    assert stories["s1"] == stories["c1"]
    assert stories["f1"] != stories["c1"]
    # Without the silence penalty the follow-up would have joined: the penalty is what decides.
    lenient = run([*_collapse_docs(), same_day, follow_up], StoriesConfig(late_penalty=0.0))
    assert lenient["f1"] == lenient["c1"]


def test_the_silence_penalty_grows_after_a_burst_but_not_in_a_running_story() -> None:
    engine = StoryEngine()
    placed = {d.id: engine.add(d).story_id for d in _collapse_docs()}
    assert len({placed[f"c{n}"] for n in range(1, 5)}) == 1
    story = engine.stories[engine.resolve(placed["c1"])]
    assert story.size == 4
    day = timedelta(hours=24)
    assert engine._time_penalty(day / 2, story) == 0
    assert engine._time_penalty(2 * day, story) == StoriesConfig().late_penalty
    running = StoryState(id=99, size=10, first=T0, last=T0 + timedelta(days=14))
    assert engine._time_penalty(3 * day, running) == 0  # a gap of days in a story covered for weeks


def test_a_teaser_sharing_only_a_place_name_stays_out() -> None:
    teaser = doc(
        "t1",
        "City library reopens its map room",
        summary="The map room of Port Almsey central library reopens after a roof leak; 340 charts repaired.",
        hours=5,
        source="h.example",
    )
    stories = run([*_collapse_docs(), teaser])
    assert stories["t1"] != stories["c1"]


def test_the_outlets_own_name_weighs_less_in_its_articles() -> None:
    from aggregator.stories.engine import OUTLET_NAME_WEIGHT, features

    plain = doc("p", "Northgate pupils win national robotics contest")
    local = dataclasses.replace(plain, feed="Northgate Post")
    assert features(local)["northgate"] == OUTLET_NAME_WEIGHT * features(plain)["northgate"]
    assert features(local)["robotic"] == features(plain)["robotic"]


# Two title fights of one (invented) boxer, undated: the topical words are the same, the names are not.
FIGHT_A = (
    "Marek Halvorsen defended his heavyweight title by stopping Diego Pereira in the seventh round at the "
    "Hansa Arena in Hamburg. Pereira, 34, was down twice before referee Lars Ekdahl waved it off. "
    "Halvorsen improved to 41-2 with 35 knockouts."
)
FIGHT_B = (
    "Kwame Asante lasted five rounds against Marek Halvorsen in Cardiff before Tom Bradley ended a "
    "one-sided heavyweight bout at the Millennium Stadium. The Ghanaian challenger, 38, took a heavy right "
    "hand late in the fourth. Halvorsen, now 44-2, has won 38 fights inside the distance."
)


def fight_reports() -> list[ArticleDoc]:
    a_titles = (
        "Halvorsen stops Pereira in Hamburg to keep heavyweight title",
        "Halvorsen beats Pereira in seven rounds",
        "Pereira no match for Halvorsen at the Hansa Arena",
    )
    b_titles = (
        "Halvorsen stops Asante in Cardiff to keep heavyweight title",
        "Halvorsen beats Asante in five rounds",
        "Asante no match for Halvorsen at the Millennium Stadium",
    )
    docs = []
    for i, (ta, tb) in enumerate(zip(a_titles, b_titles, strict=True)):
        docs.append(ArticleDoc(id=f"a{i}", title=ta, text=FIGHT_A, source=f"Outlet {i}"))
        docs.append(ArticleDoc(id=f"b{i}", title=tb, text=FIGHT_B, source=f"Outlet {i + 3}"))
    return docs


def test_names_move_the_bar_for_undated_reports_of_one_kind_of_incident() -> None:
    background = [dataclasses.replace(d, id=f"bg-{d.id}", published=None) for d in event_stream()]
    fights = {d.id: d for d in fight_reports()}
    engine = StoryEngine()
    for d in [*background, fights["a0"], fights["a1"]]:
        engine.add(d)
    story = engine.stories[engine.resolve(engine.article_story["a1"])]
    assert {"pereira", "hamburg"} <= story.names.keys()

    def penalty(d: ArticleDoc) -> float:
        names = {t for t in lead_names(d) if engine.df.idf(t) >= NAME_IDF}
        return engine._name_penalty(names, features(d), story)

    # A third report of the Hamburg fight is welcomed, a report of the Cardiff fight asked for more.
    assert penalty(fights["a2"]) < 0 < penalty(fights["b0"])


def test_story_names_survive_the_json_state_and_an_older_state_still_loads() -> None:
    engine = StoryEngine()
    for d in fight_reports():
        engine.add(d)
    story = next(iter(engine.stories.values()))
    assert story.names
    again = StoryState.from_json(story.id, story.to_json(), None, None)
    assert again is not None and again.names == story.names
    old = StoryState.from_json(story.id, {"v": 1, "centroid": {"title": 1.0}, "size": 2}, None, None)
    assert old is not None and old.names == {} and old.size == 2


def test_dated_headlines_weigh_words_by_how_many_stories_use_them() -> None:
    headlines = [
        doc("q1", "Magnitude 6.8 earthquake strikes northern Chile near Iquique"),
        doc("q2", "Chile earthquake: tsunami warning lifted near Iquique", hours=1),
        doc("q3", "Iquique earthquake damages port, Chile says", hours=2),
        doc("b1", "Parliament passes budget with tax cuts for families", hours=3),
    ]
    engine = StoryEngine()
    stories = {d.id: engine.add(d).story_id for d in headlines}
    assert stories["q1"] == stories["q2"] == stories["q3"] != stories["b1"]
    # Three headlines of one story use "iquique": three articles, but one story.
    assert engine.df.counts["iquique"] == 3
    assert engine.story_df.counts["iquique"] == 1
    assert engine.story_df.docs == 2
    # A restarted engine rebuilds the per-story counts from the stories it restores.
    restored = StoryEngine()
    for story in engine.stories.values():
        back = StoryState.from_json(story.id, story.to_json(), story.first, story.last)
        assert back is not None
        restored.restore_story(back)
    assert restored.story_df.counts["iquique"] == 1 and restored.story_df.docs == 2
