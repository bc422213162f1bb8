"""The full cycle: the stages in order, each recorded, one failing stage never stopping the rest.

Data flow of one cycle (:func:`run_cycle`)::

    feeds due  -> fetch_feeds   -> articles (new/edited: clustered_at NULL, extract_status NULL)
    articles   -> run_extract   -> extracted_text for summary-only entries
    articles   -> cluster       -> stories, near-duplicates, related stories, topics
    database   -> render_site   -> static site (atomic swap, unchanged pages untouched)
    ledger     -> newsletter    -> digest email, when the schedule says it is due

Every stage commits its own work as it goes, so a cycle killed at any moment loses nothing already stored
and the next cycle resumes where it stopped. The caller holds the run lock (:mod:`aggregator.run.locking`).

:func:`run_step` is the one way a step runs: the cycle, the daemon and each step's own command
(`aggregator fetch --all`, `extract --limit N`, `cluster --batch-size N`, `render --out DIR`, `newsletter
--to-dir DIR`) all go through it, with the command's options passed to the step, so every run of a step is
recorded in `runs` and reported by the same one-line result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..db import Database, RunOutcome, SendState
from ..errors import AggregatorError, LockedError
from .records import record_step

if TYPE_CHECKING:
    from ..ingest.fetch import Progress
    from ..publish.mailer import Transport
    from ..publish.newsletter import NewsletterResult

log = logging.getLogger(__name__)

STEPS = ("fetch", "extract", "cluster", "render", "newsletter")
ERRORS_SHOWN = 20  # failed pages listed under the extract step's line


@dataclass
class StepResult:
    step: str
    outcome: RunOutcome
    line: str  # the one-line result: logged by `run` and the daemon, printed by the step's own command
    counts: dict[str, Any] = field(default_factory=dict)
    details: tuple[str, ...] = ()  # lines a step's command prints under it (failed pages, digests sent)


@dataclass
class CycleResult:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.outcome == RunOutcome.ERROR]

    def line(self) -> str:
        return "; ".join(f"{s.step}: {s.outcome}" for s in self.steps)


# A step: (db, config, now, **options) -> StepResult. The options are the step's own command-line options;
# the full cycle runs every step with none.
StepFn = Callable[..., StepResult]


def _fetch(
    db: Database,
    config: Config,
    now: datetime,
    *,
    all: bool = False,
    feed_url: str | None = None,
    progress: Progress | None = None,
) -> StepResult:
    from ..ingest.fetch import fetch_feeds

    s = fetch_feeds(db, config, now, all=all, feed_url=feed_url, progress=progress)
    return StepResult("fetch", RunOutcome.PARTIAL if s.failed else RunOutcome.OK, s.line(), s.counts())


def _extract(
    db: Database, config: Config, now: datetime, *, limit: int | None = None, article_id: int | None = None
) -> StepResult:
    from ..fulltext.extract import run_extract

    s = run_extract(db, config, now, limit=limit, article_id=article_id)
    outcome = RunOutcome.PARTIAL if s.failed or s.retry else RunOutcome.OK
    details = tuple(f"  article {article}: {reason}" for article, reason in s.errors[:ERRORS_SHOWN])
    return StepResult("extract", outcome, s.line(), s.counts(), details)


def _cluster(db: Database, config: Config, now: datetime, *, batch_size: int = 500) -> StepResult:
    from ..stories.cluster import cluster_pending

    s = cluster_pending(db, config, now, batch_size=batch_size)
    return StepResult("cluster", RunOutcome.OK, s.line(), s.counts())


def _render(db: Database, config: Config, now: datetime, *, out_dir: Path | None = None) -> StepResult:
    from ..publish.render import render_site

    s = render_site(db, config, now, out_dir)
    state = "published" if s.swapped else "unchanged"
    counts = {
        "files": s.pages,
        "written": s.written,
        "unchanged": s.unchanged,
        "removed": s.removed,
        "stories": s.stories,
    }
    return StepResult(
        "render", RunOutcome.OK, f"render: site {state} at {s.out_dir} ({s.written} files written)", counts
    )


def _newsletter(
    db: Database, config: Config, now: datetime, *, force: bool = False, transport: Transport | None = None
) -> StepResult:
    """The cycle's newsletter: only when due (never when disabled). ``force``: now, whatever the schedule
    (`aggregator newsletter`); ``transport`` replaces the configured delivery."""
    from ..publish.newsletter import newsletter_step, run_newsletter, transport_for

    try:
        if force:
            result: NewsletterResult | None = run_newsletter(
                db, config, now, transport or transport_for(config)
            )
        else:
            result = newsletter_step(db, config, now, transport)
    except LockedError as e:
        if force:  # asked for by `aggregator newsletter`: not done, say so
            raise
        # The cycle's own, while another process delivers: that one is doing the work.
        return StepResult("newsletter", RunOutcome.SKIPPED, f"newsletter: skipped: {e}")
    if result is None:
        return StepResult("newsletter", RunOutcome.SKIPPED, "newsletter: not due")
    sent, failed = len(result.sent), len(result.failed)
    line = f"newsletter: {sent} digest(s) delivered, {failed} failed"
    outcome = RunOutcome.PARTIAL if failed else RunOutcome.OK
    return StepResult("newsletter", outcome, line, {"sent": sent, "failed": failed}, _digest_lines(result))


def _digest_lines(result: NewsletterResult) -> tuple[str, ...]:
    if not result.outcomes:
        return ("Nothing new: the last digest ended just now.",)
    lines = []
    for o in result.outcomes:
        span = f"{o.period.start:%Y-%m-%d %H:%M} .. {o.period.end:%Y-%m-%d %H:%M} UTC"
        head = f"Digest {o.send_id}{' (retry)' if o.retried else ''}: {o.story_count} stories, {span}"
        if o.state == SendState.EMPTY:
            lines.append(f"Nothing new since {o.period.start:%Y-%m-%d %H:%M} UTC: no email.")
        elif o.state == SendState.SENT:
            lines.append(f"{head}, delivered to {o.delivered_to}.")
        elif o.state == SendState.UNCONFIRMED:
            lines.append(f"{head}, outcome unknown (delivered once more next run): {o.error}")
        else:
            lines.append(f"{head}, NOT delivered: {o.error}")
    return tuple(lines)


STEP_FUNCTIONS: dict[str, StepFn] = {
    "fetch": _fetch,
    "extract": _extract,
    "cluster": _cluster,
    "render": _render,
    "newsletter": _newsletter,
}


def run_step(
    db: Database,
    config: Config,
    clock: Callable[[], datetime],
    step: str,
    *,
    announce: Callable[[str], None] | None = None,
    **options: Any,
) -> StepResult:
    """Run one stage with its ``options``, recorded in the `runs` table; a failure is returned, not raised.

    The result's line (and details) go to ``announce`` when given (a step's own command prints them),
    else to the log (the full cycle, the daemon).
    """
    try:
        with record_step(db, step, clock) as record:
            result = STEP_FUNCTIONS[step](db, config, clock(), **options)
            record.counts, record.outcome = result.counts, result.outcome
            record.detail = result.line if result.outcome != RunOutcome.OK else None
    except (AggregatorError, OSError) as e:
        # A user's error (no such feed, no recipients) or the machine's (a full disk, no permission): one
        # line, no traceback.
        message = e if isinstance(e, AggregatorError) else f"{e.filename or 'file'}: {e.strerror or e}"
        if announce is None:
            log.error("%s failed: %s", step, message)
        return StepResult(step, RunOutcome.ERROR, f"{step}: failed: {message}")
    except Exception as e:  # the one place that catches broadly: a failed stage must not stop the others
        log.exception("%s failed", step)
        return StepResult(step, RunOutcome.ERROR, f"{step}: failed: {type(e).__name__}: {e}")
    if announce is None:
        log.info("%s", result.line)
    else:
        for line in (result.line, *result.details):
            announce(line)
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
