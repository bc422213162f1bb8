"""Item kinds from titles and URLs: live blogs, round-ups, explainers, podcasts, promos are told from news."""

from __future__ import annotations

import pytest

from aggregator.stories.kinds import ItemKind, is_news, item_kind

CASES = [
    ("Live: Trump, Pence speak to press in the Rose Garden", None, ItemKind.LIVE),
    ("Coronavirus LIVE updates: Australia embraces COVIDSafe app", None, ItemKind.LIVE),
    ("Unemployment Claims Top 30 Million in U.S.: Live Updates", None, ItemKind.LIVE),
    ("As it happened: National death toll hits 90; childcare centre closes", None, ItemKind.LIVE),
    ("Covid-19 updates for 16 September - as it happened", None, ItemKind.LIVE),
    ("Covid-19 has killed at least 206,000 worldwide", "https://www.cnn.com/world/live-news/x-04-27-20/index.html",
     ItemKind.LIVE),
    ("Coronavirus, Lockdown, Kim Jong-un: Your Monday Briefing", None, ItemKind.ROUNDUP),
    ("Morning Briefing: Top stories from The Straits Times on May 2", None, ItemKind.ROUNDUP),
    ("What you need to know about coronavirus today", None, ItemKind.ROUNDUP),
    ("Coronavirus: Evening update as official UK death toll passes 26,000", None, ItemKind.ROUNDUP),
    ("24 Oras Express: April 27, 2020 [HD]", None, ItemKind.ROUNDUP),
    ("TV Patrol Weekend livestream | September 19, 2021 Full Episode", None, ItemKind.ROUNDUP),
    ("What is the coronavirus?", None, ItemKind.EXPLAINER),
    ("Coronavirus: How to wash your hands - in 20 seconds", None, ItemKind.EXPLAINER),
    ("Long Covid: What is it and what are the symptoms?", None, ItemKind.EXPLAINER),
    ("Podcast: Will coronavirus alter California's plan for denser cities?", None, ItemKind.PODCAST),
    ("Portraits of Afghanistan | Podcast | Overheard at National Geographic", None, ItemKind.PODCAST),
    ("Becoming Cousteau | Official Trailer | National Geographic Documentary Films", None, ItemKind.PROMO),
    ("Jane Goodall: The Hope – Trailer", None, ItemKind.PROMO),
    ("Herald morning quiz: April 30", None, ItemKind.QUIZ),
    ("Week in pictures: 25 April - 1 May 2020", None, ItemKind.GALLERY),
]  # fmt: skip

NEWS = [
    # Live-blog posts with their own anchor are news; so are items that merely mention a briefing or "live".
    ("Spaniards emerge after 7 weeks in lockdown",
     "https://edition.cnn.com/world/live-news/coronavirus-pandemic-05-02-20-intl/h_303ec9d5dc5d884eb3bcb87ff62a6c18"),
    ("Supreme Court asks for additional briefings in Trump finances cases", None),
    ("Kayleigh McEnany holds first briefing as WH press secretary", None),
    ("Woman, 23, has a live six-inch worm removed from her brain", None),
    ("Spotify hits 130 million subscribers amid Covid-19", None),
    ("COVIDSafe app goes live as cases near 3 million", None),
    ("What are the new coronavirus rules for Victoria?", None),
    ("2021 Emmys: How to watch, what's nominated", None),
    ("In pictures: Iranian embassy siege in London", None),
    ("Pregnant Sheridan Smith weeps in emotional new trailer for drama Isolation Stories", None),
    ("LIVESTREAM: President Duterte addresses the Nation", None),
    ("Watch Boris Johnson's first speech after Covid-19 battle", None),
    # Other languages carry none of the English markers.
    ("24 Oras: Dating Tourism Sec. Ramon 'Mon' Jimenez JR, pumanaw na", None),
    ("Mga nurse at doktor, ikinuwento ang hirap sa paggamit ng PPE | NXT", None),
    ("Le gouvernement prépare le déconfinement en direct de l'Élysée", None),
    ("Livestock prices climb as drought deepens", None),
    ("Coronavirus: la guía de lo que hay que saber", None),
]  # fmt: skip


@pytest.mark.parametrize(("title", "url", "kind"), CASES)
def test_non_news_titles_are_recognised(title: str, url: str | None, kind: ItemKind) -> None:
    assert item_kind(title, "", url) is kind
    assert not is_news(item_kind(title, "", url))


@pytest.mark.parametrize(("title", "url"), NEWS)
def test_news_titles_stay_news(title: str, url: str | None) -> None:
    assert item_kind(title, "", url) is ItemKind.NEWS
    assert is_news(item_kind(title, "", url))


def test_channel_boilerplate_in_the_summary_does_not_make_news_a_promo() -> None:
    summary = (
        "Police filed charges. Subscribe to the ABS-CBN News channel! Watch the full episodes of TV Patrol."
    )
    assert (
        item_kind("Makati cops file charges vs foreigner", summary, "https://www.youtube.com/watch?v=x")
        is ItemKind.NEWS
    )


def test_roundup_urls_are_recognised() -> None:
    assert item_kind("Coronavirus, Remdesivir", "", "https://www.nytimes.com/2020/04/29/briefing/x.html") is (
        ItemKind.ROUNDUP
    )


def test_unknown_kinds_count_as_news() -> None:
    assert is_news(None) and is_news("news") and is_news("something-new")
    assert not is_news("live")
