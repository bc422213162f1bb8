"""Polling benchmark: aggregator against lemon24/reader on the same local server of real feeds.

Serves N real feed files from ../shared/data/feeds/news_snapshots on 127.0.0.1 (each with an ETag and
Last-Modified, as real servers send them) and measures, for both:

- cold: every feed new, every entry stored;
- warm: every feed answered 304 Not Modified (conditional GET);
- warm, no validators (aggregator only): the server's full 200 body, unchanged, recognised by its hash.

Figures: wall seconds, feeds/s, entries/s, CPU ms per feed (this process and its parser processes).
Only 127.0.0.1 is ever contacted (aggregator's address guard allows 127.0.0.1/32 and nothing else).

    .venv/bin/python benchmarks/bench_fetch.py [--feeds 200] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from multiprocessing.connection import Connection
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import update  # noqa: E402

from aggregator.config import config_from_dict  # noqa: E402
from aggregator.db import Database, upgrade  # noqa: E402
from aggregator.db.models import Feed  # noqa: E402
from aggregator.ingest.feeds import add_feed  # noqa: E402
from aggregator.ingest.fetch import fetch_feeds  # noqa: E402
from tests.httpserver import FeedServer  # noqa: E402

SNAPSHOTS = REPO.parent / "shared" / "data" / "feeds" / "news_snapshots"


@dataclass
class Figures:
    label: str
    feeds: int
    entries: int
    wall: float
    cpu: float

    children: float = 0.0

    def show(self) -> str:
        return (
            f"{self.label:34} {self.wall:7.2f} s  {self.feeds / self.wall:8.1f} feeds/s  "
            f"{self.entries / self.wall:9.0f} entries/s  {1000 * self.cpu / self.feeds:7.2f} CPU ms/feed"
            f"  (parser processes: {1000 * self.children / self.feeds:.2f})"
        )


def cpu_seconds() -> tuple[float, float]:
    """(this process, its joined children): parser processes count once joined; the server only at the end."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


@dataclass
class Tally:
    entries: int = 0
    worker_cpu: float = 0.0  # CPU reported by parser processes that are not our children


@contextmanager
def measure(label: str, feeds: int, result: list[Figures]) -> Iterator[Tally]:
    tally = Tally()
    start_wall, (start_me, start_kids) = time.perf_counter(), cpu_seconds()
    yield tally
    wall = time.perf_counter() - start_wall
    me, kids = cpu_seconds()
    workers = kids - start_kids + tally.worker_cpu
    result.append(Figures(label, feeds, tally.entries, wall, me - start_me + workers, workers))


def choose_files(count: int) -> list[Path]:
    files = sorted(SNAPSHOTS.rglob("*.xml"))
    if not files:
        sys.exit(f"no feed files under {SNAPSHOTS}")
    random.Random(7).shuffle(files)
    return files[:count]


def _serve(files: list[Path], conn: Connection) -> None:
    """The server process: serves ``files`` until told to stop, then reports the Host headers it saw."""
    stamp = formatdate(datetime(2026, 11, 26, tzinfo=UTC).timestamp(), usegmt=True)
    with FeedServer() as server:
        urls = []
        for i, path in enumerate(files):
            body = path.read_bytes()
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            urls.append(
                server.route(
                    f"/feeds/{i}/{path.name}",
                    body,
                    content_type="application/xml",
                    etag=etag,
                    last_modified=stamp,
                )
            )
        conn.send(urls)
        conn.recv()  # stop
        conn.send(sorted({r.header("host") or "?" for r in server.requests}))


@contextmanager
def served(files: list[Path]) -> Iterator[tuple[list[str], list[str]]]:
    """Run the server in its own process, so its CPU time never counts as the client's."""
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(files, there), daemon=True)
    process.start()
    hosts: list[str] = []
    try:
        yield here.recv(), hosts
    finally:
        here.send("stop")
        hosts += here.recv()
        process.join()


def run_aggregator(urls: list[str], work: Path, concurrency: int, figures: list[Figures]) -> None:
    config = config_from_dict(
        {
            "storage": {"data_dir": str(work / "agg")},
            "fetch": {
                "allowed_networks": ["127.0.0.1/32"],
                "concurrency": concurrency,
                "per_host_concurrency": concurrency,
            },
        },
        "bench",
        work,
    )
    db = Database(config.database_url)
    upgrade(db)
    now = datetime.now(UTC)
    with db.session() as s:
        for url in urls:
            add_feed(s, url, now=now)
    n = len(urls)
    with measure("aggregator cold (all new)", n, figures) as tally:
        summary = fetch_feeds(db, config, now, all=True)
        tally.entries, tally.worker_cpu = summary.entries, summary.pool_cpu_seconds
    print(f"  aggregator cold: {summary.line()[:300]}")
    with measure("aggregator warm (304)", n, figures) as tally:
        summary = fetch_feeds(db, config, now + timedelta(hours=1), all=True)
        tally.entries, tally.worker_cpu = summary.entries, summary.pool_cpu_seconds
    print(f"  aggregator warm: {summary.line()[:300]}")
    with db.session() as s:  # forget the validators: the server now sends every body in full
        s.execute(update(Feed).values(etag=None, last_modified=None))
    with measure("aggregator warm (200, same body)", n, figures) as tally:
        summary = fetch_feeds(db, config, now + timedelta(hours=2), all=True)
        tally.entries, tally.worker_cpu = summary.entries, summary.pool_cpu_seconds
    print(f"  aggregator warm, no validators: {summary.line()[:300]}")
    db.dispose()


def run_reader(urls: list[str], work: Path, workers: int, figures: list[Figures]) -> None:
    # reader's vendored feedparser imports `sgmllib` (the unmaintained sgmllib3k); feedparser 6 ships the
    # same Python 2.7 module as feedparser_sgmllib, so point the name at it rather than add a dependency.
    import feedparser_sgmllib

    sys.modules.setdefault("sgmllib", feedparser_sgmllib)
    from reader import make_reader

    reader = make_reader(str(work / "reader.sqlite"))
    for url in urls:
        reader.add_feed(url)
    n = len(urls)
    with measure("reader cold (all new)", n, figures) as tally:
        reader.update_feeds(workers=workers)
    tally.entries = reader.get_entry_counts().total
    figures[-1].entries = tally.entries
    with measure("reader warm (304)", n, figures):
        reader.update_feeds(workers=workers, scheduled=False)
    reader.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        os.environ.pop(name, None)  # reader uses requests: make sure nothing routes 127.0.0.1 elsewhere
    os.environ["NO_PROXY"] = "127.0.0.1"
    files = choose_files(args.feeds)
    total_bytes = sum(p.stat().st_size for p in files)
    print(
        f"{len(files)} real feed files ({total_bytes / 1e6:.1f} MB) from {SNAPSHOTS}, {os.cpu_count()} CPUs"
    )
    figures: list[Figures] = []
    with served(files) as (urls, hosts), tempfile.TemporaryDirectory() as tmp:
        run_aggregator(urls, Path(tmp), args.concurrency, figures)
        run_reader(urls, Path(tmp), args.concurrency, figures)
    print()
    for f in figures:
        print(f.show())
    by = {f.label.split(" (")[0] + " " + f.label.split("(")[1].split(")")[0]: f for f in figures}
    cold_a, cold_r = by["aggregator cold all new"], by["reader cold all new"]
    warm_a, warm_r = by["aggregator warm 304"], by["reader warm 304"]
    print()
    print(f"cold wall time: reader / aggregator = {cold_r.wall / cold_a.wall:.2f}x (target >= 3x)")
    print(f"cold CPU:       reader / aggregator = {cold_r.cpu / cold_a.cpu:.2f}x")
    print(
        f"warm CPU per unchanged feed: aggregator {1000 * warm_a.cpu / warm_a.feeds:.2f} ms "
        f"(target <= 1 ms), reader {1000 * warm_r.cpu / warm_r.feeds:.2f} ms, ratio {warm_r.cpu / warm_a.cpu:.2f}x"
    )
    print(f"hosts contacted: {hosts}")


if __name__ == "__main__":
    main()
