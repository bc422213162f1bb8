"""Quality gate for "More on this story" and topics: dev-set figures must not fall under quality/floors.json.

Floors are raised as the engine improves and lowered only deliberately, with the reason in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aggregator.evaluation.related import evaluate_related
from aggregator.evaluation.topics import evaluate_topics
from tests.conftest import REPO_ROOT

FLOORS = REPO_ROOT / "quality" / "floors.json"


def floors(name: str) -> dict[str, float]:
    data: dict[str, Any] = json.loads(FLOORS.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data[name].items() if not k.startswith("_")}


def below(scores: dict[str, Any], wanted: dict[str, float]) -> list[str]:
    return [f"{k}: {scores[k]:.4f} < floor {v:.4f}" for k, v in wanted.items() if scores[k] < v]


@pytest.fixture
def related_dir(shared_data: Path) -> Path:
    folder = shared_data / "eval" / "related"
    if not (folder / "guardian-articles.jsonl.gz").is_file():
        pytest.skip(f"Guardian dev set not found in {folder}")
    return folder


@pytest.mark.slow
def test_related_stays_above_its_floors(related_dir: Path) -> None:
    result = evaluate_related(
        related_dir / "guardian-articles.jsonl.gz", related_dir / "guardian-packages-dev.jsonl"
    )
    assert result.anchors > 100
    assert below(result.scores, floors("related")) == []


@pytest.mark.slow
def test_topics_stay_above_their_floors(related_dir: Path) -> None:
    result = evaluate_topics(related_dir / "guardian-articles.jsonl.gz")
    assert result.without_sections["articles"] > 1000
    assert below(result.without_sections, floors("topics")) == []
