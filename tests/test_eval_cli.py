"""`aggregator eval related` and `aggregator eval topics` on small files of our own."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from aggregator.evaluation.ranking import ndcg_at, precision_at, recall_at, reciprocal_rank
from aggregator.evaluation.topics import is_section_tag, is_training
from tests.factories import BACKGROUND_SUBJECTS as SUBJECTS


def article(i: str, title: str, summary: str, day: int, tags: list[tuple[str, str]]) -> dict[str, object]:
    return {
        "id": i, "title": title, "summary": summary, "text": "", "published": f"2026-03-{day:02d}T09:00:00Z",
        "source": "Valley Times", "url": None, "section": "News",
        "tags": [{"id": tid, "title": title} for tid, title in tags],
    }  # fmt: skip


def write_files(tmp_path: Path) -> tuple[Path, Path]:
    rows = [
        article(f"news/bg{i}", f"{s.title()} budget approved", f"The {s} budget passed on Tuesday.", 1 + i,
                [("news/news", "News"), ("news/budgets", "Budgets")])
        for i, s in enumerate(SUBJECTS)
    ]  # fmt: skip
    dam = [("news/news", "News"), ("news/kessler-dam", "Kessler Dam"), ("news/floods", "Floods")]
    rows += [
        article(
            "news/dam-1", "Kessler Dam collapse floods valley", "The Kessler Dam gave way after rain.", 2, dam
        ),
        article(
            "news/dam-2",
            "Kessler Dam inquiry opens",
            "An inquiry into the Kessler Dam collapse opened.",
            20,
            dam,
        ),
        article(
            "news/dam-3",
            "Kessler Dam engineers questioned",
            "Kessler Dam engineers faced questions.",
            21,
            dam,
        ),
        article("news/dam-4", "Kessler Dam rebuilt", "Work to rebuild the Kessler Dam begins.", 28, dam),
    ]
    articles = tmp_path / "articles.jsonl"
    articles.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    packages = tmp_path / "packages.jsonl"
    packages.write_text(
        json.dumps({"anchor": "news/dam-2", "related": ["news/dam-1", "news/dam-3"]}) + "\n"
        + json.dumps({"anchor": "news/bg3", "related": ["news/bg4"]}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return articles, packages


def test_eval_related_prints_the_metrics(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    articles, packages = write_files(tmp_path)
    result = run_cli(None, "eval", "related", str(articles), str(packages), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"recall_at_10", "ndcg_at_10", "mrr", "precision_at_10"}
    assert data["queries"] == 2
    # The dam anchor finds both of its related reports first; the budget anchor's list is a coin toss.
    assert data["recall_at_10"] >= 0.5 and data["mrr"] >= 0.5
    text = run_cli(None, "eval", "related", str(articles), str(packages), "--use-categories")
    assert "recall@10" in text.output and "with gold tags" in text.output


def test_eval_topics_prints_both_scores(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    articles, _ = write_files(tmp_path)
    result = run_cli(None, "eval", "topics", str(articles), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"micro_p", "micro_r", "micro_f1", "precision_at_5", "with_sections"}
    assert 0.0 <= data["precision_at_5"] <= 1.0
    assert "precision@5" in run_cli(None, "eval", "topics", str(articles)).output


def test_metric_helpers() -> None:
    ranked = ["a", "x", "b", "y"]
    assert recall_at(ranked, {"a", "b", "c"}, 2) == 1 / 3
    assert precision_at(ranked, {"a", "b"}, 2) == 0.5
    assert reciprocal_rank(["x", "a"], {"a"}) == 0.5 and reciprocal_rank(["x"], {"a"}) == 0.0
    assert ndcg_at(["a", "b"], {"a", "b"}, 10) == 1.0
    assert 0 < ndcg_at(["x", "a"], {"a"}, 10) < 1


def test_split_and_section_tags_are_deterministic() -> None:
    assert is_section_tag("world/world") and is_section_tag("us-news/us-news")
    assert not is_section_tag("world/syria") and not is_section_tag("weather/index/europe")
    assert is_training("a") == is_training("a")
    assert {is_training(f"id{i}") for i in range(50)} == {True, False}
