"""Word terms and name phrases."""

from __future__ import annotations

from aggregator.stories.terms import article_terms, content_terms, name_phrases, stem


def test_name_phrases_find_people_places_and_organisations() -> None:
    text = "The European Union and the U.S. warned Islamic State. Maria Lopez's team met the Bank of England."
    names = name_phrases(text)
    assert names == ["european union", "u.s", "islamic state", "maria lopez", "bank of england"]


def test_a_lone_capitalised_word_opening_a_sentence_is_not_a_name_unless_an_acronym() -> None:
    assert name_phrases("Storms hit the coast. Officials said NHS staff helped.") == ["nhs"]
    assert name_phrases("Rain fell. Later Oslo flooded.") == ["later oslo"]  # known limit: kept as one phrase


def test_content_terms_fold_plurals_and_drop_stop_words() -> None:
    assert content_terms("The floods and the flooding of rivers") == ["flood", "flood", "river"]
    assert stem("stopped") == "stop" and stem("news") == "news"


def test_article_terms_weigh_the_title_most() -> None:
    terms = article_terms("Harbour bridge reopens", "The bridge", "bridge bridge harbour")
    assert terms[stem("harbour")] == 3.0 + 1.0
    assert terms[stem("bridge")] == 3.0 + 2.0 + 2.0
    assert "@harbour" not in terms  # "Harbour" opens the title: not a name on its own
