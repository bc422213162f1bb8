"""Feed categories cleaned before they become topics; private vocabulary kept to its outlet; shown topics need
evidence."""

from __future__ import annotations

import pytest

from aggregator.stories.categories import FeedVocabulary, blanket_categories, clean_category, is_junk_label
from aggregator.stories.doc import ArticleDoc
from aggregator.stories.topics import (
    TopicModel,
    TopicScore,
    article_profile,
    article_topics,
    shown_story_topics,
)

FOX = ("FOX News",)
FOX_BRANDS = ("FOX News", "foxnews")


@pytest.mark.parametrize(
    "raw",
    [
        "8806b50a-77d2-59c2-99ad-b52ad3f85705", "123456", "a1b2c3d4e5f60718", "fnc", "article", "PAID",
        "Premium", "video", "News", "Top Stories", "fnc/sports", "fox-news/politics", "fox-news/media/fox-news-flash",
        "Fox News", "your-feed-science", "/news/world/123456", "Associated Press", "", "  ", "!!!",
    ],
)  # fmt: skip
def test_junk_categories_are_dropped(raw: str) -> None:
    assert clean_category(raw, FOX, brands=FOX_BRANDS) is None


@pytest.mark.parametrize(
    ("raw", "topic"),
    [
        ("fox-news/person/joe-biden", "Joe Biden"),
        ("fox-news/world/conflicts/iran", "Iran"),
        ("fox-news/politics/2020-presidential-election", "2020 Presidential Election"),
        ("Coronavirus (2019-nCoV)", "Coronavirus (2019-nCoV)"),
        ("United States Politics and Government", "United States Politics and Government"),
        ("Médecins Sans Frontières", "Médecins Sans Frontières"),
        ("習近平", "習近平"),
        ("climate-change", "Climate Change"),
    ],
)
def test_real_subjects_are_kept(raw: str, topic: str) -> None:
    assert clean_category(raw, FOX, brands=FOX_BRANDS) == topic


def test_the_author_and_a_feed_title_that_is_a_subject() -> None:
    assert clean_category("Bradford Betz", author="Bradford Betz") is None
    assert clean_category("Bradford Betz", author="Someone Else") == "Bradford Betz"
    # A feed titled "California" does not make every California story's topic junk, only the exact name.
    assert clean_category("California", ("California",)) is None
    assert clean_category("California wildfires", ("California",)) == "California wildfires"


def test_categories_on_most_of_a_feeds_items_are_not_topics() -> None:
    items = [["fnc", "Fox News", f"Topic {i}"] for i in range(6)] + [[f"Topic {i}"] for i in range(6, 10)]
    assert blanket_categories(items) == {"fnc", "fox news"}
    assert blanket_categories(items[:9]) == frozenset()  # too few items to tell
    vocabulary = FeedVocabulary.build(["Some Feed"], recent=[["Budgets", "Council"]] * 5 + [["Council"]] * 7)
    assert vocabulary.clean(["Budgets", "Council", "Harbour"]) == ("Budgets", "Harbour")


def test_ignore_categories_is_case_insensitive() -> None:
    vocabulary = FeedVocabulary.build(["Valley Times"], ignore=["local NEWS", "Weekend"])
    assert vocabulary.clean(["Local news", "weekend", "Kessler Dam"]) == ("Kessler Dam",)


def test_junk_labels() -> None:
    assert is_junk_label("fnc") and is_junk_label("PAID") and is_junk_label("fnc/sports")
    assert is_junk_label("Coronavirus", rejected=["Coronavirus (2019-nCoV)"])
    assert not is_junk_label("Joe Biden", rejected=["fnc"])


def _doc(i: str, title: str, source: str, categories: tuple[str, ...] = (), summary: str = "") -> ArticleDoc:
    return ArticleDoc(i, title, summary=summary, source=source, feed=source.title(), categories=categories)


VOLCANO = "Volcano erupts on island, ash cloud grounds flights"


def _model(outlets_of_sports: list[str]) -> TopicModel:
    model = TopicModel()
    for n in range(6):
        doc = _doc(f"t{n}", f"{VOLCANO} again day {n}", "tagger", ("Volcano Desk",))
        model.learn(article_profile(doc), doc.categories, ["tagger"])
    for outlet in outlets_of_sports:
        doc = _doc(f"s-{outlet}", f"{VOLCANO} in the south", outlet, ("Eruptions",))
        model.learn(article_profile(doc), doc.categories, [outlet])
    return model


def test_a_feeds_private_vocabulary_is_not_lent_to_other_outlets() -> None:
    model = _model(["tagger", "second"])
    other = _doc("q", VOLCANO, "plain")
    keys = [t.key for t in article_topics(model, other, article_profile(other), 5)]
    assert "volcano desk" not in keys  # only the tagging outlet uses it
    assert "eruptions" in keys  # two outlets use it
    own = _doc("q2", VOLCANO, "tagger")
    assert "volcano desk" in [t.key for t in article_topics(model, own, article_profile(own), 5)]


def test_shown_topics_need_evidence_and_names_need_two_outlets() -> None:
    docs = [
        _doc("1", "Kessler Dam gives way after rain", "valley", ("Floods", "Council Watch"),
             summary="Mayor Jane Doe said Kessler Dam had been inspected."),
        _doc("2", "Valley flooded as dam fails", "plain", summary="Mayor Jane Doe ordered evacuations."),
        _doc("3", "Flood: the Kessler Dam breach", "third", summary="Subscribe to Plain Channel on Video Hub."),
        _doc("4", "Dam breach", "third", summary="Subscribe to Plain Channel on Video Hub."),
    ]  # fmt: skip
    per_article = [
        [TopicScore("floods", "Floods", 1.0), TopicScore("council watch", "Council Watch", 0.99)],
        [TopicScore("weather", "Weather", 0.9)],  # lent by neighbours; nothing in the text
        [TopicScore("floods", "Floods", 0.5)],
        [],
    ]
    shown = {t.label for t in shown_story_topics(per_article, docs, 10)}
    assert "Floods" in shown  # "Flood" in a title
    assert "Weather" not in shown and "Council Watch" not in shown  # no evidence beyond one outlet
    assert {"Mayor Jane Doe", "Kessler Dam"} <= shown  # named by two outlets
    assert "Plain Channel" not in shown and "Video Hub" not in shown  # one outlet's boilerplate


def test_an_outlets_own_name_is_never_shown() -> None:
    docs = [
        _doc("1", "Fox News poll shows lead", "foxnews", summary="A Fox News poll."),
        _doc("2", "Poll by Fox News", "cnn", summary="The Fox News poll."),
    ]
    assert "Fox News" not in {t.label for t in shown_story_topics([[], []], docs, 10)}
