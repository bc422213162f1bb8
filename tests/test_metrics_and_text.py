import math

import pytest

from aggregator.evaluation.metrics import bcubed, pairwise
from aggregator.stories.text import (
    DocumentFrequencies,
    cosine,
    detect_language,
    key_phrases,
    normalize,
    tokenize,
    top_terms,
)


def test_bcubed_and_pairwise_on_a_worked_example() -> None:
    gold = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    predicted = {"a": "x", "b": "x", "c": "y", "d": "y", "e": "y"}
    b = bcubed(predicted, gold)
    # precision: a,b 2/2; c,d,e: 1/3, 2/3, 2/3 -> (1 + 1 + 1/3 + 2/3 + 2/3) / 5
    assert b.precision == pytest.approx((2 + 5 / 3) / 5)
    # recall: a,b 2/3; c 1/3; d,e 2/2
    assert b.recall == pytest.approx((4 / 3 + 1 / 3 + 2) / 5)
    p = pairwise(predicted, gold)
    # predicted pairs: ab, cd, ce, de (4); gold pairs: ab, ac, bc, de (4); shared: ab, de
    assert (p.precision, p.recall) == (0.5, 0.5)
    perfect = bcubed(gold, gold)
    assert perfect.f1 == 1.0


def test_tokenize_drops_stopwords_and_folds_plurals_and_possessives() -> None:
    assert tokenize("The Fed's officials said quakes hit cities") == ["fed", "offici", "quak", "hit", "citi"]
    assert tokenize("flooding floods") == ["flood", "flood"]
    assert tokenize("U.S. GDP grew 2.5% in the US") == ["usa", "gdp", "grew", "2.5", "usa"]


def test_normalize_folds_case_accents_and_punctuation() -> None:
    assert normalize("Café  Über-Test: It’s") == normalize("cafe uber test its")


def test_key_phrases_find_names_and_numbers_but_not_title_case_headlines() -> None:
    found = key_phrases(
        "Lindsay Lohan checked into the Betty Ford Center on Friday in 2013. The Bank of England said."
    )
    assert (
        "lindsay lohan" in found and "betti ford center" in found and "2013" in found
    )  # stemmed as words are
    assert "bank of england" in found
    assert key_phrases("Fed's Plosser: Nasty Weather Has Curbed Job Growth") == []


def test_document_frequencies_make_common_words_light() -> None:
    df = DocumentFrequencies(prior_docs=0)
    for terms in (["quake", "chile"], ["quake", "peru"], ["quake", "chile"], ["budget"]):
        df.add(terms)
    assert df.idf("quake") < df.idf("chile") < df.idf("peru") < df.idf("unseen")
    vector = df.weigh({"quake": 1.0, "peru": 1.0})
    assert math.isclose(sum(w * w for w in vector.values()), 1.0)
    assert vector["peru"] > vector["quake"]
    assert cosine(vector, vector) == pytest.approx(1.0)
    assert top_terms(vector, 1) == ["peru"]


def test_each_language_uses_its_own_stop_words_and_stemmer() -> None:
    assert detect_language("Nagsampa ng kaso ang mga pulis laban sa dayuhang lumabag sa quarantine") == "tl"
    assert detect_language("Le gouvernement annonce un plan de relance pour les entreprises") == "fr"
    assert detect_language("Police charge a foreigner who broke quarantine rules") == "en"
    # Tagalog function words are not content: a Tagalog and an English item share no "ang" or "sa".
    assert tokenize("Ang mga pulis sa Maynila", "tl") == ["pulis", "maynila"]
    assert tokenize("Les élections régionales", "fr") == tokenize("élection régionale", "fr")
    # English stop words apply to every language (English is mixed into most news text).
    assert "the" not in tokenize("the Senado", "es")


def test_text_without_spaces_becomes_character_pairs() -> None:
    assert detect_language("新冠病毒疫情最新消息") == "zh"
    assert tokenize("新冠病毒", "zh") == ["新冠", "冠病", "病毒"]
    assert set(tokenize("疫情 COVID-19 病毒", "zh")) >= {"疫情", "病毒", "covid"}


def test_urls_are_not_words() -> None:
    assert tokenize("Watch https://www.youtube.com/playlist?list=PLgy now at bit.ly/TVP-x") == ["watch"]
