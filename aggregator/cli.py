"""Command-line entry points: a thin shell over the library functions."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from . import __version__
from .config import Config, find_config_path, load_config
from .db import Database, check_schema, upgrade
from .errors import AggregatorError
from .evaluation.related import evaluate_related
from .evaluation.topics import evaluate_topics
from .feeds import add_feed, import_feeds, list_feeds, remove_feed, sync_config_feeds
from .opml import export_opml, parse_opml
from .status import gather_status

log = logging.getLogger("aggregator")


def utcnow() -> datetime:
    return datetime.now(UTC)


class App:
    """What every command needs: the configuration, the clock, and the database once asked for."""

    def __init__(self, config: Config, now: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.now = now
        self._db: Database | None = None

    def database(self, *, check: bool = True) -> Database:
        if self._db is None:
            self._db = Database(self.config.database_url)
            if check:
                check_schema(self._db)
        return self._db

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.database().session() as s:
            yield s

    def sync_feeds(self) -> None:
        with self.session() as s:
            result = sync_config_feeds(s, self.config.feeds, now=self.now())
        for url in result.added:
            log.info("feed added from config: %s", url)
        for url in result.removed:
            log.info("feed no longer in config, kept but not polled: %s", url)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


class AggregatorGroup(click.Group):
    """Turns our own errors into a one-line message and exit status 1, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AggregatorError as e:
            raise click.ClickException(str(e)) from e


pass_app = click.make_pass_decorator(App)


def setup_logging(verbose: int, quiet: bool) -> None:
    """Our own INFO lines (one-line run summaries for cron) by default; libraries only from -v on."""
    root_level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=root_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose >= 2 else logging.INFO)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(cls=AggregatorGroup)
@click.version_option(__version__, prog_name="aggregator")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file (default: $AGGREGATOR_CONFIG, else ./config.toml, else built-in defaults).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors in the log.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int, quiet: bool) -> None:
    """aggregator: related-story news aggregation from the feeds you choose."""
    setup_logging(verbose, quiet)
    try:
        config = load_config(find_config_path(config_path))
    except AggregatorError as e:
        raise click.ClickException(str(e)) from e
    app = App(config)
    ctx.obj = app
    ctx.call_on_close(app.close)


@cli.command()
@pass_app
def init(app: App) -> None:
    """Create the database, or upgrade it to this version, and sync the feeds from the config."""
    db = app.database(check=False)
    before, after = upgrade(db)
    if before is None:
        click.echo(f"Created database {db.describe()} (schema {after}).")
    elif before != after:
        click.echo(f"Upgraded database {db.describe()} from schema {before} to {after}.")
    else:
        click.echo(f"Database {db.describe()} is up to date (schema {after}).")
    with app.session() as s:
        result = sync_config_feeds(s, app.config.feeds, now=app.now())
        total = len(list_feeds(s))
    click.echo(
        f"Feeds: {total} stored; from config: {len(result.added)} added, {len(result.reactivated)} re-enabled, "
        f"{len(result.removed)} no longer listed (kept, not polled)."
    )


@cli.group()
def feeds() -> None:
    """Add, remove, list, import and export feeds."""


@feeds.command("add")
@click.argument("url")
@click.option("--title", default="", help="Display name (default: the feed's own title).")
@click.option(
    "--fulltext/--no-fulltext",
    default=None,
    help="Always / never fetch the full article page (default: the config's fulltext.default).",
)
@pass_app
def feeds_add(app: App, url: str, title: str, fulltext: bool | None) -> None:
    """Add the feed at URL."""
    mode = None if fulltext is None else ("always" if fulltext else "never")
    with app.session() as s:
        feed = add_feed(s, url, now=app.now(), title=title, fulltext=mode)
        click.echo(f"Added {feed.url}")


@feeds.command("remove")
@click.argument("url")
@pass_app
def feeds_remove(app: App, url: str) -> None:
    """Remove the feed at URL and its articles."""
    with app.session() as s:
        count = remove_feed(s, url)
    click.echo(f"Removed {url} and its {count} articles.")
    if any(f.url == url for f in app.config.feeds):
        click.echo("Note: it is listed in the config file and comes back on the next run unless removed there.")


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def feeds_list(app: App, as_json: bool) -> None:
    """List stored feeds."""
    with app.session() as s:
        rows = [
            {"url": f.url, "title": f.title, "origin": f.origin, "status": f.status, "fulltext": f.fulltext}
            for f in list_feeds(s)
        ]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['status']:8} {r['origin']:6} {r['url']}  {r['title']}")
    click.echo(f"{len(rows)} feeds")


@feeds.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def feeds_import(app: App, file: Path) -> None:
    """Add the feeds of an OPML file (duplicates are skipped and reported)."""
    entries = parse_opml(file.read_bytes(), str(file))
    with app.session() as s:
        result = import_feeds(s, [(e.url, e.title) for e in entries], now=app.now())
    click.echo(f"Imported {len(result.added)} feeds from {file}.")
    for url in result.already_stored:
        click.echo(f"  skipped (already stored): {url}")
    for url in result.repeated_in_file:
        click.echo(f"  skipped (repeated in the file): {url}")
    for url, reason in result.invalid:
        click.echo(f"  skipped (invalid): {url}: {reason}")


@feeds.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
@pass_app
def feeds_export(app: App, output: Path | None) -> None:
    """Write all feeds as OPML 2.0."""
    with app.session() as s:
        triples = [(f.url, f.title, f.site_url) for f in list_feeds(s) if f.status != "removed"]
    data = export_opml(triples, title="aggregator feeds", now=app.now())
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"Wrote {len(triples)} feeds to {output}", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and monitoring.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Counts and the health of every feed."""
    with app.session() as s:
        data = gather_status(s, app.now())
    if as_json:
        echo_json(data)
        return
    console = Console(soft_wrap=True)
    console.print(f"Database: {app.database().describe()}")
    console.print("  ".join(f"{k}: {v}" for k, v in data["counts"].items()))
    table = Table("state", "feed", "articles", "errors", "last success", "next fetch", "last error")
    for f in data["feeds"]:
        table.add_row(
            f["state"],
            f["title"] or f["url"],
            str(f["articles"]),
            str(f["consecutive_errors"]),
            (f["last_success_at"] or "never")[:16],
            (f["next_fetch_at"] or "due")[:16],
            (f["last_error"] or "")[:80],
        )
    console.print(table)


@cli.group("eval")
def eval_group() -> None:
    """Measure the story engine on labelled evaluation sets (formats: ../shared/data/README.md)."""


@eval_group.command("related")
@click.argument("articles", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("packages", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--use-categories", is_flag=True, help="Give the engine the gold tags as feed categories.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_related(articles: Path, packages: Path, use_categories: bool, as_json: bool) -> None:
    """Related-story lists against editors' lists: recall@10, nDCG@10, MRR, precision@10."""
    result = evaluate_related(articles, packages, use_categories=use_categories)
    s = result.scores
    if as_json:
        extra = {
            "articles": result.articles,
            "use_categories": use_categories,
            "seconds": round(result.seconds, 1),
        }
        echo_json({**s, **extra})
        return
    mode = "with gold tags as feed categories" if use_categories else "without categories"
    click.echo(f"related ({mode}): {result.anchors} anchors of {result.articles}, {result.seconds:.0f} s")
    click.echo(
        f"recall@10 {s['recall_at_10']:.4f}  nDCG@10 {s['ndcg_at_10']:.4f}  MRR {s['mrr']:.4f}  "
        f"precision@10 {s['precision_at_10']:.4f}"
    )


@eval_group.command("topics")
@click.argument("articles", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (top level: without section-level tags).")
def eval_topics(articles: Path, as_json: bool) -> None:
    """Inferred topics against editors' tags: micro precision/recall/F1 and precision@5."""
    result = evaluate_topics(articles)
    if as_json:
        extra = {"training_articles": result.training, "seconds": round(result.seconds, 1)}
        echo_json({**result.without_sections, "with_sections": result.with_sections, **extra})
        return
    click.echo(f"topics: learnt from {result.training} categorised articles, {result.seconds:.1f} s")
    rows = (("without section tags", result.without_sections), ("with section tags", result.with_sections))
    for name, s in rows:
        click.echo(
            f"{name:21} micro P {s['micro_p']:.4f}  R {s['micro_r']:.4f}  F1 {s['micro_f1']:.4f}  "
            f"precision@5 {s['precision_at_5']:.4f}  ({s['articles']} articles)"
        )


def main() -> None:
    cli(prog_name="aggregator")
