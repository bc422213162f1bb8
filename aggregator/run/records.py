"""Records of pipeline step runs (the `runs` table), shown by `aggregator status`.

Each record carries its owner (``host:pid``). A record still ``running`` whose owner is dead (killed, or its
final write failed and the process went on) is marked ``interrupted`` when the next step starts.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import Database, Run, RunOutcome
from ..errors import DatabaseError

log = logging.getLogger(__name__)

_HOST = socket.gethostname()
_active: set[int] = set()  # records this process is running now


def _owner() -> str:
    return f"{_HOST}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _owner_gone(owner: str | None) -> bool:
    """Whether the process that wrote a ``running`` record is gone. A record from another host is left alone
    (it cannot be checked from here); one without an owner predates owners and is stale."""
    if owner is None:
        return True
    host, _, pid = owner.rpartition(":")
    if host != _HOST or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True  # not in ``_active`` (checked by the caller): its end was never recorded
    return not _alive(int(pid))


def mark_interrupted(session: Session, now: datetime) -> list[int]:
    """Mark the ``running`` records of dead processes ``interrupted``; returns their ids."""
    stale = [
        run
        for run in session.scalars(select(Run).where(Run.outcome == RunOutcome.RUNNING))
        if run.id not in _active and _owner_gone(run.owner)
    ]
    for run in stale:
        run.outcome = RunOutcome.INTERRUPTED
        run.detail = (
            f"interrupted: process {run.owner or 'unknown'} ended before recording how the step ended"
        )
        log.warning("run %d (%s, started %s) was interrupted", run.id, run.step, run.started_at)
    return [run.id for run in stale]


class StepRecord:
    """Handed to the block of :func:`record_step`: set ``counts``, ``detail`` and ``outcome`` as the step goes."""

    def __init__(self) -> None:
        self.counts: dict[str, Any] = {}
        self.detail: str | None = None
        self.outcome = RunOutcome.OK


@contextmanager
def record_step(db: Database, step: str, clock: Callable[[], datetime]) -> Iterator[StepRecord]:
    """Write a `runs` row before the step and complete it after; an exception marks it an error and propagates.

    Records left ``running`` by dead processes are marked interrupted first. If the final write fails (the
    database stayed locked), the error propagates and the record is marked interrupted at the next start.
    """
    with db.session() as s:
        mark_interrupted(s, clock())
        run = Run(step=step, started_at=clock(), outcome=RunOutcome.RUNNING, owner=_owner())
        s.add(run)
        s.flush()
        run_id = run.id
    _active.add(run_id)
    record = StepRecord()
    failed: BaseException | None = None
    try:
        yield record
    except BaseException as e:
        record.outcome, record.detail = RunOutcome.ERROR, f"{type(e).__name__}: {e}"
        failed = e
        raise
    finally:
        _active.discard(run_id)
        try:
            with db.session() as s:
                row = s.get(Run, run_id)
                if row is not None:
                    row.finished_at = clock()
                    row.outcome = record.outcome
                    row.detail = record.detail
                    row.counts = record.counts
        except DatabaseError as e:
            if failed is None:
                raise
            # The step's own error is reported once by the caller; this one only says the record is late.
            log.warning("cannot record the end of run %d (%s): %s", run_id, step, e)


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
