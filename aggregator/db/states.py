"""The states stored in the database, as enums. Each is stored as its plain string value."""

from __future__ import annotations

from enum import StrEnum


class FeedStatus(StrEnum):
    """Whether a feed is polled."""

    ACTIVE = "active"  # polled on its schedule
    GONE = "gone"  # answered 410: kept with its articles, not polled
    REMOVED = "removed"  # dropped from config.toml: kept with its articles, not polled


class ExtractStatus(StrEnum):
    """Where an article is in full-text extraction (None on the row: not decided yet)."""

    PENDING = "pending"  # its page is to be fetched (again, after ``extract_after``)
    DONE = "done"  # ``extracted_text`` holds the page's main text
    FAILED = "failed"  # given up; ``extract_error`` says why
    SKIPPED = "skipped"  # no page wanted (feed mode, enough text, a copy, robots.txt); the reason is stored


class SendState(StrEnum):
    """A digest period in the newsletter's send ledger."""

    BUILT = "built"  # message stored, not delivered yet
    SENDING = "sending"  # claimed by a process delivering it; left so by a process killed mid-delivery
    UNCONFIRMED = "unconfirmed"  # the server may have taken it (no answer to DATA): delivered once more
    SENT = "sent"  # the transport accepted it
    FAILED = "failed"  # the last delivery failed; retried on the next run
    EMPTY = "empty"  # nothing new in the period: no message


class RunOutcome(StrEnum):
    """How a run of one pipeline step ended."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # it completed, but some feeds, pages or digests failed
    SKIPPED = "skipped"  # not due (the newsletter)
    ERROR = "error"  # it stopped with an error
    INTERRUPTED = "interrupted"  # its process died (killed, crashed) before recording the end
