"""Article HTML -> main text and metadata, with trafilatura (the only module that imports it).

trafilatura is CPU-bound pure Python on top of lxml, and some pages make it run for a very long time.
Why a worker process and not ``signal.setitimer``: a timer signal is only delivered in the main thread
and only between Python bytecodes, so it cannot interrupt a long lxml call, it cannot be used from the
threads the asyncio pipeline hands CPU work to, and after an interrupted run trafilatura's module-level
state may be left half updated. A separate process can always be killed: each page gets ``timeout``
seconds, and a worker that overruns is killed and replaced before the next page. The worker is
long-lived (importing trafilatura costs about a second), started as a fresh interpreter (forking a process
that runs threads is unsafe) and only ever receives HTML: trafilatura never fetches anything.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

from ..errors import ExtractError, ExtractTimeoutError
from ..sanitize import safe_url

log = logging.getLogger(__name__)

STARTUP_TIMEOUT = 120.0  # importing trafilatura in a fresh process; not counted in the per-page limit
_LANG_ATTR = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)", re.I)
_LANG_META = re.compile(
    rb"<meta\b[^>]*?http-equiv\s*=\s*[\"']?content-language[\"']?[^>]*?content\s*=\s*[\"']?\s*"
    rb"([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)",
    re.I,
)
_OG_LOCALE = re.compile(
    rb"<meta\b[^>]*?property\s*=\s*[\"']?og:locale[\"']?[^>]*?content\s*=\s*[\"']?\s*"
    rb"([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)",
    re.I,
)
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
HEAD_BYTES = 64 * 1024  # the language is declared in the head


@dataclass(frozen=True)
class Extracted:
    """What a page gave: the main text and whatever metadata trafilatura (or the page's head) declares."""

    text: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None  # aware UTC (midnight when the page gives only a day)
    language: str | None = None  # lower-case BCP 47 tag such as "en" or "pt-br"
    image: str | None = None  # absolute http(s) URL

    def word_count(self) -> int:
        return len(self.text.split())


def normalise_language(tag: str | None) -> str | None:
    """ "en_US" -> "en-us"; None for anything that is not a language tag."""
    if not tag:
        return None
    tag = tag.strip()
    if not _LANG_TAG.match(tag):
        return None
    return tag.replace("_", "-").lower()[:16]


def page_language(html: bytes | str, content_language: str | None = None) -> str | None:
    """The language the page declares: <html lang>, a content-language meta, og:locale, else the header."""
    head = html[:HEAD_BYTES]
    data = head.encode("utf-8", "replace") if isinstance(head, str) else head
    for pattern in (_LANG_ATTR, _LANG_META, _OG_LOCALE):
        match = pattern.search(data)
        if match:
            found = normalise_language(match.group(1).decode("ascii"))
            if found:
                return found
    if content_language:
        return normalise_language(content_language.split(",")[0])
    return None


def parse_page_date(value: str | None) -> datetime | None:
    """trafilatura's "YYYY-MM-DD" as midnight UTC; None when absent or not a real date."""
    match = _DATE.match(value or "")
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
    except ValueError:
        return None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def run_trafilatura(html: bytes | str, url: str | None) -> Extracted | None:
    """Extract in this process (no time limit): the worker's job, and the benchmark's reference point.

    ``deduplicate=False``: trafilatura's duplicate cache is process-wide and would blank repeated
    paragraphs of later pages. Comments are not part of the article. ``None`` when trafilatura finds
    no main text.
    """
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, deduplicate=False
    )
    if doc is None:
        return None
    text = _clean(getattr(doc, "text", None))
    if text is None:
        return None
    image = _clean(getattr(doc, "image", None))
    if image and url:
        try:
            image = urljoin(url, image)
        except ValueError:  # e.g. an og:image of http://[::1/x: no image, the text is kept
            image = None
    return Extracted(
        text=text,
        title=_clean(getattr(doc, "title", None)),
        author=_clean(getattr(doc, "author", None)),
        published=parse_page_date(_clean(getattr(doc, "date", None))),
        language=normalise_language(_clean(getattr(doc, "language", None))) or page_language(html),
        image=safe_url(image),
    )


def _worker_main(inbox: Connection, conn: Connection) -> None:
    """The worker process: import once, then answer one request at a time until its input closes."""
    import trafilatura  # noqa: F401 - imported before "ready" so its cost is not a page's

    conn.send(("ready", None))
    while True:
        try:
            request = inbox.recv()
        except (EOFError, OSError):
            return
        html, url = request
        try:
            result = run_trafilatura(html, url)
        except Exception as e:  # trafilatura and lxml raise many types on malformed input
            conn.send(("error", f"{type(e).__name__}: {e}"))
            continue
        conn.send(("ok", None if result is None else asdict(result)))


class ExtractWorker:
    """One worker process; :meth:`extract` is blocking and serves one page at a time (thread-safe)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None  # to the worker
        self._conn: Connection | None = None  # from the worker
        self.kills = 0  # workers killed for overrunning: for logs and tests

    def _start(self) -> Connection:
        # A fresh interpreter running this module, talking over two pipes. Not multiprocessing's
        # "spawn", which re-runs the parent's __main__ script in the child (a script without a
        # __main__ guard, or code read from stdin, would break or run twice).
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "aggregator.fulltext.worker", str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w),
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError as e:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            raise ExtractError(f"cannot start the extraction worker: {e}") from e
        os.close(to_child_r)
        os.close(from_child_w)
        self._process = process
        self._send = Connection(to_child_w, readable=False)
        self._conn = Connection(from_child_r, writable=False)
        if not self._conn.poll(STARTUP_TIMEOUT):
            self._stop(kill=True)
            raise ExtractError(f"the extraction worker did not start within {STARTUP_TIMEOUT:.0f}s")
        try:
            self._conn.recv()
        except (EOFError, OSError) as e:
            self._stop(kill=True)
            raise ExtractError(f"the extraction worker failed to start (exit status {process.poll()})") from e
        return self._conn

    def _stop(self, *, kill: bool) -> None:
        conns, process = (self._send, self._conn), self._process
        self._send = self._conn = None
        self._process = None
        for conn in conns:
            if conn is not None:
                conn.close()  # closing its input ends an idle worker's loop
        if process is None:
            return
        if kill:
            process.kill()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def extract(self, html: bytes | str, url: str | None) -> Extracted:
        """Extract one page within ``timeout`` seconds, or raise :class:`ExtractError`."""
        with self._lock:
            conn = self._conn if self._conn is not None else self._start()
            assert self._send is not None
            try:
                self._send.send((html, url))
                ready = conn.poll(self.timeout)
            except (OSError, ValueError) as e:
                self._stop(kill=True)
                raise ExtractError(f"{url}: the extraction worker failed: {e}") from e
            if not ready:
                self.kills += 1
                self._stop(kill=True)  # the only way to stop CPU-bound work: the next page gets a new worker
                raise ExtractTimeoutError(f"{url}: extraction took longer than {self.timeout:g}s")
            try:
                kind, payload = conn.recv()
            except (EOFError, OSError) as e:  # the worker died (out of memory, a crash in lxml)
                self._stop(kill=True)
                raise ExtractError(f"{url}: the extraction worker died: {e}") from e
        if kind == "error":
            raise ExtractError(f"{url}: trafilatura failed: {payload}")
        if payload is None:
            raise ExtractError(f"{url}: no main text found on the page")
        return Extracted(**payload)

    def close(self) -> None:
        with self._lock:
            self._stop(kill=False)

    def __enter__(self) -> ExtractWorker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class ExtractPool:
    """``size`` workers; :meth:`extract` blocks until one is free (call it from a thread in async code)."""

    def __init__(self, size: int, timeout: float) -> None:
        self.workers = [ExtractWorker(timeout) for _ in range(max(1, size))]
        self._free: queue.SimpleQueue[ExtractWorker] = queue.SimpleQueue()
        for worker in self.workers:
            self._free.put(worker)

    def extract(self, html: bytes | str, url: str | None) -> Extracted:
        worker = self._free.get()
        try:
            return worker.extract(html, url)
        finally:
            self._free.put(worker)

    @property
    def kills(self) -> int:
        return sum(w.kills for w in self.workers)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()

    def __enter__(self) -> ExtractPool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def extract_article(
    html: bytes | str, url: str | None, *, timeout: float, worker: ExtractWorker | ExtractPool | None = None
) -> Extracted:
    """Main text and metadata of one page, within ``timeout`` seconds; raises :class:`ExtractError`.

    Pass a long-lived ``worker`` (or pool) when extracting many pages; without one a worker process is
    started for this page and stopped after it.
    """
    if worker is not None:
        return worker.extract(html, url)
    with ExtractWorker(timeout) as own:
        return own.extract(html, url)


if __name__ == "__main__":  # the worker: python -m aggregator.fulltext.worker IN_FD OUT_FD
    _worker_main(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
