"""Records of pipeline step runs (the `runs` table), shown by `aggregator status`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import Database, Run, RunOutcome

log = logging.getLogger(__name__)


class StepRecord:
    """Handed to the block of :func:`record_step`: set ``counts``, ``detail`` and ``outcome`` as the step goes."""

    def __init__(self) -> None:
        self.counts: dict[str, Any] = {}
        self.detail: str | None = None
        self.outcome = RunOutcome.OK


@contextmanager
def record_step(db: Database, step: str, clock: Callable[[], datetime]) -> Iterator[StepRecord]:
    """Write a `runs` row before the step and complete it after; an exception marks it an error and propagates."""
    with db.session() as s:
        run = Run(step=step, started_at=clock(), outcome=RunOutcome.RUNNING)
        s.add(run)
        s.flush()
        run_id = run.id
    record = StepRecord()
    try:
        yield record
    except BaseException as e:
        record.outcome, record.detail = RunOutcome.ERROR, f"{type(e).__name__}: {e}"
        raise
    finally:
        with db.session() as s:
            row = s.get(Run, run_id)
            if row is not None:
                row.finished_at = clock()
                row.outcome = record.outcome
                row.detail = record.detail
                row.counts = record.counts


def last_runs(session: Session) -> list[dict[str, Any]]:
    """The most recent run of each step."""
    latest = select(Run.step, func.max(Run.id).label("id")).group_by(Run.step).subquery()
    rows = session.scalars(select(Run).join(latest, Run.id == latest.c.id).order_by(Run.step))
    out = []
    for r in rows:
        duration = (r.finished_at - r.started_at).total_seconds() if r.finished_at else None
        out.append(
            {
                "step": r.step,
                "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                "duration_s": None if duration is None else round(duration, 3),
                "outcome": r.outcome,
                "detail": r.detail,
                "counts": r.counts or {},
            }
        )
    return out
