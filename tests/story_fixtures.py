"""Small news reports written for the story-engine tests (our own text: nothing copied from publishers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.stories.doc import ArticleDoc

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

QUAKE_2026 = (
    "A magnitude 6.8 earthquake struck northern Chile near the port city of Iquique on Monday, the "
    "national seismology office said. Buildings swayed in Iquique and Arica, power was cut in several "
    "districts and the navy briefly issued a tsunami warning for the coast of Tarapaca. Interior minister "
    "Carolina Vidal said two people were injured by falling masonry in Alto Hospicio and that hospitals "
    "were operating normally. The quake was centred 40 kilometres south-west of Iquique at a depth of 25 "
    "kilometres. Miners at the Collahuasi copper mine were evacuated as a precaution."
)
QUAKE_2026_B = (
    "Chile lifted a tsunami warning after a strong 6.8 magnitude earthquake shook the northern region of "
    "Tarapaca near Iquique, officials said. The navy said waves were small. Carolina Vidal, the interior "
    "minister, reported two injuries in Alto Hospicio. Copper production at Collahuasi was paused while "
    "engineers inspected the mine, the company said. Residents of Iquique spent hours on higher ground."
)
QUAKE_2026_C = (
    "Rescue teams in northern Chile checked buildings in Iquique and Alto Hospicio on Tuesday after the "
    "magnitude 6.8 earthquake. The Collahuasi copper mine resumed work. Interior minister Carolina Vidal "
    "said the tsunami warning in Tarapaca had been a precaution and that damage was limited."
)
QUAKE_2027 = (
    "A magnitude 6.1 earthquake struck central Chile near Valparaiso on Thursday, the seismology office "
    "said. Buildings swayed in Santiago and Vina del Mar and the navy ruled out a tsunami. Interior "
    "minister Jorge Salas said there were no injuries and that ports in Valparaiso and San Antonio were "
    "inspected. The quake was centred 30 kilometres west of Valparaiso at a depth of 33 kilometres."
)
BUDGET = (
    "The parliament of Estonia approved the 2027 state budget on Wednesday after a late-night debate. "
    "Finance minister Kristi Raud said the budget raises defence spending to 3.4 percent of output and "
    "cuts the deficit. Opposition parties said pensions were frozen. The Riigikogu voted 55 to 40."
)
BUDGET_B = (
    "Estonia's Riigikogu passed the 2027 budget by 55 votes to 40. Finance minister Kristi Raud defended "
    "higher defence spending of 3.4 percent of output and a smaller deficit, while the opposition "
    "criticised the pension freeze in the late-night debate in Tallinn."
)


def doc(
    id: str, title: str, text: str = "", *, hours: float = 0, source: str = "a.example", summary: str = ""
) -> ArticleDoc:
    return ArticleDoc(
        id=id, title=title, summary=summary, text=text, published=T0 + timedelta(hours=hours), source=source
    )


def copy_of(original: ArticleDoc, id: str, *, hours: float, source: str) -> ArticleDoc:
    """A syndicated copy: the same wire text with a credit line added, as a partner site runs it."""
    return ArticleDoc(
        id=id,
        title=original.title,
        text=original.text + " (Reporting by the wire desk.)",
        published=(original.published or T0) + timedelta(hours=hours),
        source=source,
    )


def event_stream() -> list[ArticleDoc]:
    """Three events: a quake (four reports and a wire copy), a budget vote, and a similar quake a year later."""
    first = doc("q1", "Magnitude 6.8 earthquake strikes northern Chile near Iquique", QUAKE_2026)
    return [
        first,
        doc(
            "b1",
            "Estonia's parliament approves 2027 budget with higher defence spending",
            BUDGET,
            hours=1,
            source="b.example",
        ),
        doc(
            "q2",
            "Chile lifts tsunami warning after 6.8 quake near Iquique",
            QUAKE_2026_B,
            hours=2,
            source="b.example",
        ),
        copy_of(first, "q1-copy", hours=3, source="c.example"),
        doc(
            "b2",
            "Riigikogu passes Estonia's 2027 budget, 55 votes to 40",
            BUDGET_B,
            hours=5,
            source="c.example",
        ),
        doc(
            "q3",
            "Chile inspects Iquique buildings after magnitude 6.8 earthquake",
            QUAKE_2026_C,
            hours=26,
            source="c.example",
        ),
        doc(
            "q4",
            "Magnitude 6.1 earthquake strikes central Chile near Valparaiso",
            QUAKE_2027,
            hours=24 * 380,
            source="a.example",
        ),
    ]
