"""The quality gate: evaluation figures on the development sets may not fall below quality/floors.json.

Floors are pinned at the measured value minus 0.01, so a change that costs quality fails here; they are
raised on purpose as the engine improves, and lowered only deliberately, with the reason in the commit.
"""

from __future__ import annotations

import json

import pytest

from aggregator.config import StoriesConfig
from aggregator.evaluation.stories import evaluate_stories

from .conftest import REPO_ROOT, SHARED_DATA

FLOORS = json.loads((REPO_ROOT / "quality" / "floors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(k for k in FLOORS["stories"] if not k.startswith("_")))
def test_story_clustering_meets_its_floors(name: str) -> None:
    path = SHARED_DATA / "eval" / "stories" / f"{name}.jsonl"
    if not path.is_file():
        pytest.skip(f"evaluation set not found at {path}: the quality gate needs ../shared/data")
    report = evaluate_stories(path, StoriesConfig()).as_dict()
    below = {
        metric: (report[metric], floor)
        for metric, floor in FLOORS["stories"][name].items()
        if report[metric] < floor
    }
    assert not below, f"{name}: below the floor (measured, floor): {below}"


@pytest.mark.parametrize("name", sorted(k for k in FLOORS["real"] if not k.startswith("_")))
def test_real_feed_days_meet_their_floors(name: str) -> None:
    """The hand-labelled real feed days (development days only): stories, copies and "More on this story"."""
    path = SHARED_DATA / "eval" / "real" / f"{name}.jsonl"
    if not path.is_file():
        pytest.skip(f"real feed day not found at {path}: the quality gate needs ../shared/data")
    report = evaluate_stories(path, StoriesConfig()).as_dict()
    below = {
        metric: (report[metric], floor)
        for metric, floor in FLOORS["real"][name].items()
        if report[metric] is None or report[metric] < floor
    }
    assert not below, f"{name}: below the floor (measured, floor): {below}"


KNOWN_METRICS = {"bcubed_p", "bcubed_r", "bcubed_f1", "pairwise_p", "pairwise_r", "pairwise_f1"}
REAL_METRICS = KNOWN_METRICS | {
    "copies_p",
    "copies_r",
    "related_precision",
    "related_recall",
    "gold_related_precision",
    "gold_related_recall",
}


@pytest.mark.parametrize(("group", "known"), [("stories", KNOWN_METRICS), ("real", REAL_METRICS)])
def test_floors_name_known_metrics(group: str, known: set[str]) -> None:
    for name, floors in FLOORS[group].items():
        if name.startswith("_"):
            continue  # notes such as "_measured"
        assert set(floors) <= known, f"{name}: unknown metric in quality/floors.json"
        assert all(0 <= v <= 1 for v in floors.values())


def test_only_the_development_days_are_in_the_gate() -> None:
    """Days kept for judging the engine are never measured here: the gate holds exactly the seven days
    of ../shared/data/eval/real (the development days)."""
    development = {
        f"real-{d}"
        for d in ("20200428", "20200430", "20200501", "20200503", "20200504", "20210917", "20210920")
    }
    assert {k for k in FLOORS["real"] if not k.startswith("_")} == development
