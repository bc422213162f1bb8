"""The full cycle: the stages in order, each recorded, one failing stage never stopping the rest.

Data flow of one cycle (:func:`run_cycle`)::

    feeds due  -> fetch_feeds   -> articles (new/edited: clustered_at NULL, extract_status NULL)
    articles   -> run_extract   -> extracted_text for summary-only entries
    articles   -> cluster       -> stories, near-duplicates, related stories, topics
    database   -> render_site   -> static site (atomic swap, unchanged pages untouched)
    ledger     -> newsletter    -> digest email, when the schedule says it is due

Every stage commits its own work as it goes, so a cycle killed at any moment loses nothing already stored
and the next cycle resumes where it stopped. The caller holds the run lock (:mod:`aggregator.run.locking`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config import Config
from ..db import Database, RunOutcome
from .records import record_step

log = logging.getLogger(__name__)

STEPS = ("fetch", "extract", "cluster", "render", "newsletter")


@dataclass
class StepResult:
    step: str
    outcome: RunOutcome
    line: str
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass
class CycleResult:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.outcome == RunOutcome.ERROR]

    def line(self) -> str:
        return "; ".join(f"{s.step}: {s.outcome}" for s in self.steps)


StepFn = Callable[[Database, Config, datetime], StepResult]


def _fetch(db: Database, config: Config, now: datetime) -> StepResult:
    from ..ingest.fetch import fetch_feeds

    s = fetch_feeds(db, config, now)
    return StepResult("fetch", RunOutcome.PARTIAL if s.failed else RunOutcome.OK, s.line(), s.counts())


def _extract(db: Database, config: Config, now: datetime) -> StepResult:
    from ..fulltext.extract import run_extract

    s = run_extract(db, config, now)
    outcome = RunOutcome.PARTIAL if s.failed or s.retry else RunOutcome.OK
    return StepResult("extract", outcome, s.line(), s.counts())


def _cluster(db: Database, config: Config, now: datetime) -> StepResult:
    from ..stories.cluster import cluster_pending

    s = cluster_pending(db, config, now)
    return StepResult("cluster", RunOutcome.OK, s.line(), s.counts())


def _render(db: Database, config: Config, now: datetime) -> StepResult:
    from ..publish.render import render_site

    s = render_site(db, config, now)
    state = "published" if s.swapped else "unchanged"
    counts = {"files": s.pages, "written": s.written, "removed": s.removed, "stories": s.stories}
    return StepResult(
        "render", RunOutcome.OK, f"render: site {state} at {s.out_dir} ({s.written} files written)", counts
    )


def _newsletter(db: Database, config: Config, now: datetime) -> StepResult:
    from ..publish.newsletter import newsletter_step

    result = newsletter_step(db, config, now)
    if result is None:
        return StepResult("newsletter", RunOutcome.SKIPPED, "newsletter: not due")
    sent, failed = len(result.sent), len(result.failed)
    line = f"newsletter: {sent} digest(s) delivered, {failed} failed"
    outcome = RunOutcome.PARTIAL if failed else RunOutcome.OK
    return StepResult("newsletter", outcome, line, {"sent": sent, "failed": failed})


STEP_FUNCTIONS: dict[str, StepFn] = {
    "fetch": _fetch,
    "extract": _extract,
    "cluster": _cluster,
    "render": _render,
    "newsletter": _newsletter,
}


def run_step(db: Database, config: Config, clock: Callable[[], datetime], step: str) -> StepResult:
    """Run one stage, recorded in the `runs` table; its failure is logged and returned, not raised."""
    try:
        with record_step(db, step, clock) as record:
            result = STEP_FUNCTIONS[step](db, config, clock())
            record.counts, record.outcome = result.counts, result.outcome
            record.detail = result.line if result.outcome != RunOutcome.OK else None
    except Exception as e:  # the one place that catches broadly: a failed stage must not stop the others
        log.exception("%s failed", step)
        return StepResult(step, RunOutcome.ERROR, f"{step}: failed: {type(e).__name__}: {e}")
    log.info("%s", result.line)
    return result


def run_cycle(
    db: Database, config: Config, clock: Callable[[], datetime], steps: Sequence[str] = STEPS
) -> CycleResult:
    """Run the given stages in pipeline order."""
    cycle = CycleResult()
    for step in STEPS:
        if step in steps and step in STEP_FUNCTIONS:
            cycle.steps.append(run_step(db, config, clock, step))
    return cycle
