"""The "More on this story" storyline lists: evidence, the model, the cut and the timeline (pure code)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.stories.doc import ArticleDoc
from aggregator.stories.hygiene import FeedHygiene
from aggregator.stories.linking import StoryLinker, build_links
from aggregator.stories.storylines import (
    FEATURES,
    StoryEvidence,
    StorylineModel,
    Tree,
    default_model,
    own_title,
    story_evidence,
)
from aggregator.stories.terms import stem

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def doc(i: str, title: str, summary: str = "", days: float = 0, feed: str = "Valley Times") -> ArticleDoc:
    return ArticleDoc(id=i, title=title, summary=summary, published=T0 + timedelta(days=days), feed=feed)


def rule(feature: str, above: float) -> StorylineModel:
    """A one-split model: same storyline when ``feature`` exceeds ``above``."""
    tree = Tree(
        (FEATURES.index(feature), -1, -1), (above, 0.0, 0.0), (1, -1, -1), (2, -1, -1), (0.0, -9.0, 9.0)
    )
    return StorylineModel(0.0, 1.0, (tree,), 0.5, 30)


def background() -> dict[str, list[ArticleDoc]]:
    subjects = [
        "harbour",
        "library",
        "tram",
        "museum",
        "stadium",
        "school",
        "bridge",
        "market",
        "park",
        "zoo",
    ]
    return {
        f"bg{i}": [
            doc(f"bg{i}", f"{s.title()} budget approved by council", f"The {s} budget passed.", days=i)
        ]
        for i, s in enumerate(subjects)
    }


def test_evidence_keeps_names_numbers_phrases_and_series_segments() -> None:
    ev = story_evidence(
        [
            doc(
                "a",
                "The Sacrifice of Cassini | Cosmos: Possible Worlds",
                "NZ moves to Alert Level 3 on 28 April.",
            )
        ]
    )
    assert "cosmos possible worlds" in ev.segments
    assert "alert level" in ev.names and "28" in ev.numbers
    assert {
        stem("sacrifice") + " cassini",
        stem("possible") + " " + stem("worlds"),
    } <= ev.phrases  # stemmed as terms are
    assert StoryEvidence.from_json(ev.to_json()) == ev


def test_a_rare_shared_name_lists_a_story_and_one_common_word_does_not() -> None:
    members = background() | {
        "dam1": [doc("dam1", "Kessler Dam gives way after storm", "The Kessler Dam collapsed.", days=1)],
        "dam2": [doc("dam2", "Inquiry into Kessler Dam opens", "Engineers questioned.", days=20)],
        "dam0": [doc("dam0", "Kessler Dam inspected", "Inspectors visited the Kessler Dam.", days=-30)],
    }
    linker = StoryLinker(build_links(members), timedelta(days=60), 10, rule("rare_names", 0.5))
    listed = [r.key for r in linker.lists("dam1")]
    # The timeline: earlier and later reports of the storyline, by date; no budget story.
    assert listed == ["dam0", "dam2"]
    # The budget stories share "budget" and "council" with each other, and nothing rare: empty lists.
    assert linker.lists("bg3") == []


def test_two_editions_of_one_template_are_not_one_storyline() -> None:
    members = background() | {
        "q1": [doc("q1", "Earthquake: Magnitude 3.7 quake hits near Reedley", "A quake shook Reedley.")],
        "q2": [doc("q2", "Earthquake: Magnitude 4.0 quake reported near Reedley", "Reedley shook.", days=2)],
        "q3": [doc("q3", "Magnitude 3.7 Reedley quake: aftershocks felt", "Aftershocks at Reedley.", days=1)],
        "q4": [doc("q4", "Reedley quake damage assessed", "Reedley counts the damage.", days=3)],
    }
    linker = StoryLinker(build_links(members), timedelta(days=60), 10, rule("rare_names", 0.5))
    # The same quake (its magnitude repeated) is listed; the other quake, as alike in its words, is not.
    assert [r.key for r in linker.lists("q1")] == ["q3"]
    assert "q1" not in [r.key for r in linker.lists("q2")]
    # "COVID-19" is part of a word, not a title's number; a date with slashes is one number, so two daily
    # editions ("| 4/27/2020", "| 4/29/2020") share none.
    assert story_evidence([doc("c", "COVID-19 bulletin: cases climb to 26")]).title_numbers == {"26"}
    daily = "Governor Ruiz gives an update on state coronavirus numbers | "
    members = background() | {
        f"d{day}": [doc(f"d{day}", f"{daily}4/{day}/2026", "Governor Ruiz on the numbers.", days=day - 27)]
        for day in (27, 29)
    }
    linker = StoryLinker(build_links(members), timedelta(days=60), 10, rule("rare_names", 0.5))
    assert linker.lists("d29") == []


def test_a_storyline_hub_lists_the_reports_around_it() -> None:
    members = background() | {
        "dam": [doc("dam", "Kessler Dam gives way after storm", "The Kessler Dam collapsed.")],
        "inquiry": [
            doc(
                "inquiry", "Kessler Dam inquiry hears Mayor Ortiz", "Mayor Ortiz and the Kessler Dam.", days=5
            )
        ],
        "resign": [doc("resign", "Mayor Ortiz resigns", "Mayor Ortiz stepped down.", days=9)],
    }
    linker = StoryLinker(build_links(members), timedelta(days=60), 10, rule("rare_names", 0.3))
    assert [r.key for r in linker.lists("inquiry")] == ["dam", "resign"]  # both linked directly
    # The dam and the resignation share no name: the resignation is listed through the inquiry, less sure.
    listed = linker.lists("dam")
    assert [r.key for r in listed] == ["inquiry", "resign"]
    assert listed[1].score < listed[0].score
    # Through links only just above the threshold (0.7 each, 0.49 together) the hub lists nothing more.
    unsure = StorylineModel(
        0.0, 1.0, (replace(rule("rare_names", 0.3).trees[0], value=(0.0, -9.0, 0.847)),), 0.5, 30
    )
    weak = StoryLinker(build_links(members), timedelta(days=60), 10, unsure)
    assert [r.key for r in weak.lists("dam")] == ["inquiry"]


def test_a_channels_description_links_nothing() -> None:
    channel = (
        "Subscribe to Harbour Vision: Watch more Harbour Vision videos with Gordon Pellworth and Marisa Quenby, "
        "the Harbour Vision Channel's award-winning team"
    )
    tv = "Harbour Vision"
    members = background() | {
        "dam": [
            doc("dam", "Kessler Dam gives way after storm", "The Kessler Dam collapsed."),
            doc("dam-tv", "Kessler Dam collapse caught on camera", f"Footage of the dam. {channel}", feed=tv),
        ],
        "tv1": [doc("tv1", "Orchard festival returns", f"Crowds came back. {channel}", days=1, feed=tv)],
        "tv2": [doc("tv2", "New ferry named", f"The ferry was named. {channel}", days=2, feed=tv)],
        "tv3": [doc("tv3", "Chess club wins title", f"A club won. {channel}", days=3, feed=tv)],
    }
    model = rule("names", 0.5)
    # Learned from the feeds' items (as the links stage does), the description is boilerplate: no shared name.
    assert StoryLinker(build_links(members), timedelta(days=60), 10, model).lists("dam") == []
    # Read as it is, the channel's names tie every video to the dam story.
    raw = build_links(members, hygiene=FeedHygiene())
    assert {r.key for r in StoryLinker(raw, timedelta(days=60), 10, model).lists("dam")} >= {"tv1"}


def test_items_that_are_not_news_are_never_listed() -> None:
    members = {
        "dam1": [doc("dam1", "Kessler Dam gives way after storm", "The Kessler Dam collapsed.")],
        "live": [doc("live", "Live: Kessler Dam collapse updates", "Follow the Kessler Dam news.", days=1)],
    } | background()
    model = rule("rare_names", 0.5)
    # By default the item-kind detector (aggregator.stories.kinds) tells what may be listed: a live blog may not.
    links = build_links(members)
    assert links["live"].evidence.listable is False and links["dam1"].evidence.listable is True
    assert StoryLinker(links, timedelta(days=60), 10, model).lists("dam1") == []
    everything = build_links(members, listable=lambda d: True)
    assert [r.key for r in StoryLinker(everything, timedelta(days=60), 10, model).lists("dam1")] == ["live"]


def test_the_model_round_trips_and_the_shipped_one_loads() -> None:
    model = rule("names", 0.1)
    assert StorylineModel.from_json(model.to_json()) == model
    shipped = default_model()
    assert shipped.trees and 0.0 < shipped.threshold < 1.0
    with pytest.raises(ValueError, match="retrain"):
        StorylineModel.from_json({**model.to_json(), "features": ["similarity"]})


def test_stories_a_day_or_more_apart_need_the_far_bar() -> None:
    members = background() | {
        "dam1": [doc("dam1", "Kessler Dam gives way after storm", "The Kessler Dam collapsed.", days=1)],
        "dam2": [
            doc("dam2", "Kessler Dam evacuees return home", "Kessler Dam residents returned.", days=1.2)
        ],
        "dam3": [doc("dam3", "Inquiry into Kessler Dam opens", "Engineers at the Kessler Dam.", days=4)],
    }
    sure = rule("rare_names", 0.5)
    likely = replace(sure, trees=(replace(sure.trees[0], value=(0.0, -9.0, 2.0)),))  # p = 0.88 when linked
    links = build_links(members)
    assert [r.key for r in StoryLinker(links, timedelta(days=60), 10, likely).lists("dam1")] == [
        "dam2",
        "dam3",
    ]
    strict = replace(likely, far_threshold=0.95)
    assert strict.bar(apart=False) == 0.5 and strict.bar(apart=True) == 0.95
    # Within the day the pair is listed at 0.88; four days apart it needs 0.95.
    assert [r.key for r in StoryLinker(links, timedelta(days=60), 10, strict).lists("dam1")] == ["dam2"]
    assert StorylineModel.from_json(strict.to_json()) == strict


def test_an_outlets_own_label_in_titles_links_nothing() -> None:
    assert own_title("GMA News COVID-19 Bulletin: IATF to meet again", "gmanews") == "IATF to meet again"
    assert own_title("Kudlow warns of contraction | Fox News", "foxnews") == "Kudlow warns of contraction"
    assert own_title("A Tale of Two Atoms | Cosmos: Possible Worlds", "natgeo") == (
        "A Tale of Two Atoms | Cosmos: Possible Worlds"
    )  # a series' segment stays: the labels make a show's episodes one storyline
    assert own_title("Mail-in voting: Trump claims fraud", "mail") == "Mail-in voting: Trump claims fraud"

    def bulletin(i: str, rest: str, days: float) -> ArticleDoc:
        return replace(doc(i, f"GMA News COVID-19 Bulletin: {rest}", days=days), source="gmanews")

    members = background() | {
        "b1": [bulletin("b1", "Lipa City cases climb to 26", 1)],
        "b2": [bulletin("b2", "IATF to meet again on quarantine rules", 2)],
    }
    linker = StoryLinker(build_links(members), timedelta(days=60), 10, rule("segment", 0.1))
    assert linker.lists("b1") == [] and linker.lists("b2") == []
