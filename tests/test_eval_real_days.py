"""`aggregator eval stories` on files carrying `storyline` and `copy_of` (the real feed days' format), on small
files of our own: copy precision/recall and the "More on this story" figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from aggregator.evaluation.data import EvalArticle, load_articles
from aggregator.evaluation.stories import copy_scores, related_scores
from aggregator.stories.doc import ArticleDoc


def line(i: str, title: str, summary: str, hour: int, label: str, storyline: str, copy_of: str | None) -> str:
    return json.dumps({
        "id": i, "title": title, "summary": summary, "text": "", "published": f"2026-03-02T{hour:02d}:00:00Z",
        "dated": True, "source": f"Outlet {i.split('/')[0]}", "feed": f"{i.split('/')[0]}.xml", "url": None,
        "label": label, "storyline": storyline, "copy_of": copy_of,
    })  # fmt: skip


def day_file(tmp_path: Path) -> Path:
    rows = [
        line("a/1", "Kessler Dam gives way after storm", "The Kessler Dam collapsed in Brannock county.", 1,
             "dam-collapse", "kessler-dam", None),
        line("b/1", "Kessler Dam gives way after storm", "The Kessler Dam collapsed in Brannock county.", 2,
             "dam-collapse", "kessler-dam", "a/1"),
        line("c/1", "Brannock evacuates towns below Kessler Dam", "Brannock county evacuated three towns.", 3,
             "dam-evacuation", "kessler-dam", None),
        line("d/1", "Orchestra opens season with Mahler", "The Vellmar orchestra played Mahler's fifth.", 4,
             "orchestra", "orchestra", None),
        line("e/1", "Tram fares rise in Oskarsby", "Oskarsby trams cost more from April.", 5,
             "tram-fares", "tram-fares", None),
    ]  # fmt: skip
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_real_days_fields_are_loaded(tmp_path: Path) -> None:
    articles = {a.doc.id: a for a in load_articles(day_file(tmp_path))}
    assert articles["b/1"].copy_of == "a/1" and articles["a/1"].copy_of is None
    assert articles["c/1"].storyline == "kessler-dam" and articles["c/1"].label == "dam-evacuation"
    assert articles["a/1"].gold_fields == {"label", "storyline", "copy_of"}


def test_eval_stories_reports_copies_and_related(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    path = day_file(tmp_path)
    data = json.loads(run_cli(None, "eval", "stories", str(path), "--json").output)
    # The identical wire copy is found and is right.
    assert data["copies_p"] == 1.0 and data["copies_r"] == 1.0
    for prefix in ("", "gold_"):
        assert 0.0 <= data[f"{prefix}related_precision"] <= 1.0
        assert 0.0 <= data[f"{prefix}related_recall"] <= 1.0
        assert data[f"{prefix}related_shown"] >= 0.0
    text = run_cli(None, "eval", "stories", str(path)).output
    assert "copies    P 1.0000  R 1.0000" in text
    assert "(gold stories, against storyline)" in text and "(engine's stories, against storyline)" in text


def test_sets_without_those_fields_report_none(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    path = tmp_path / "plain.jsonl"
    rows = [json.loads(r) for r in day_file(tmp_path).read_text(encoding="utf-8").splitlines()]
    for row in rows:
        del row["storyline"], row["copy_of"]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    data = json.loads(run_cli(None, "eval", "stories", str(path), "--json").output)
    assert data["copies_p"] is None and data["related_precision"] is None
    assert "copies" not in run_cli(None, "eval", "stories", str(path)).output.split("; copies")[-1]


def gold(i: str, copy_of: str | None = None) -> EvalArticle:
    return EvalArticle(doc=ArticleDoc(id=i, title=i), label="x", copy_of=copy_of)


def test_copy_scores_accept_either_direction_and_shared_originals() -> None:
    articles = [gold("o"), gold("c1", "o"), gold("c2", "o"), gold("x"), gold("y")]
    # c1 -> o is right; c2 -> c1 is right (both copy o); x -> y is wrong.
    p, r = copy_scores(articles, {"c1": "o", "c2": "c1", "x": "y"})
    assert (p, r) == (2 / 3, 1.0)
    # The original taken for the copy of its copy still counts, for precision and recall.
    p, r = copy_scores(articles, {"o": "c1"})
    assert (p, r) == (1.0, 0.5)
    assert copy_scores(articles, {}) == (1.0, 0.0)


def test_related_scores_count_items_and_pairs() -> None:
    storyline = {1: "dam", 2: "dam", 3: "dam", 4: "tram"}
    # Pairs of the dam storyline: (1,2), (1,3), (2,3); 1 lists 2 (right) and 4 (wrong), 3 lists 1 (right).
    lists: dict[int, list[int]] = {1: [2, 4], 2: [], 3: [1], 4: []}
    precision, recall, shown = related_scores(lists, storyline)
    assert precision == 2 / 3 and recall == 2 / 3 and shown == 3 / 4
    assert related_scores({1: [], 2: []}, {1: "a", 2: "b"}) == (1.0, 1.0, 0.0)
