"""`aggregator demo`: the whole product offline, on the corpus shipped in this package.

The corpus's feeds are served on 127.0.0.1 (a free port) with their dates moved to end now; a configuration
made for the demo points at them; one full cycle (fetch, cluster, render, newsletter as an .eml file) runs into
the output directory. Nothing leaves this machine: full-text fetching is off (the articles' links are on the
never-resolving .example domain) and only the loopback server is contacted.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..config import Config, config_from_dict
from ..db import Database, upgrade
from ..ingest.feeds import sync_config_feeds
from ..run.locking import run_lock
from ..run.pipeline import CycleResult, run_cycle
from .corpus import Manifest, load_manifest, shifted_body

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoResult:
    out_dir: Path
    site_index: Path
    emails: list[Path]
    cycle: CycleResult
    config: Config


@contextmanager
def serve_corpus(manifest: Manifest, now: datetime) -> Iterator[str]:
    """Serve every corpus feed at /feeds/<file> on 127.0.0.1; yields the base URL."""
    bodies = {f"/feeds/{f.file}": (shifted_body(f, manifest, now), f.content_type) for f in manifest.feeds}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = bodies.get(self.path)
            if found is None:
                self.send_error(404)
                return
            body, content_type = found  # the broken outlet's "feed" is an HTML error page, served as is
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("demo server: " + format, *args)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="demo-feeds", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def demo_settings(out_dir: Path, base_url: str, manifest: Manifest) -> dict[str, Any]:
    return {
        "storage": {"data_dir": str(out_dir / "data")},
        # The demo server is on loopback, which the address guard refuses unless allowed.
        "fetch": {"allow_private_networks": True, "jitter_seconds": 0},
        "fulltext": {"default": False},
        "site": {"output_dir": str(out_dir / "site"), "title": "Aggregator demo", "top_hours": 14 * 24},
        "newsletter": {
            "enabled": True,
            "delivery": "dir",
            "out_dir": str(out_dir / "newsletter"),
            "recipients": ["reader@example.org"],
            "lookback_hours": 14 * 24,
            "list_unsubscribe": "mailto:unsubscribe@example.org",
        },
        "feeds": [{"url": f"{base_url}/feeds/{f.file}", "title": f.title} for f in manifest.feeds],
    }


def demo_config(out_dir: Path, base_url: str, manifest: Manifest) -> Config:
    return config_from_dict(
        demo_settings(out_dir, base_url, manifest), "(demo configuration)", out_dir, environ={}
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def write_config(path: Path, settings: dict[str, Any]) -> None:
    """The demo's configuration as TOML, so `aggregator --config PATH status` (or `render`) works afterwards."""
    lines = [
        "# Written by `aggregator demo`; the feed server it points at is gone once the demo has finished."
    ]
    for section, values in settings.items():
        if section == "feeds":
            for feed in values:
                lines += ["", "[[feeds]]", *(f"{k} = {_toml_value(v)}" for k, v in feed.items())]
        else:
            lines += ["", f"[{section}]", *(f"{k} = {_toml_value(v)}" for k, v in values.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_demo(out_dir: Path, clock: Callable[[], datetime]) -> DemoResult:
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = load_manifest()
    now = clock()
    with serve_corpus(manifest, now) as base_url:
        settings = demo_settings(out_dir, base_url, manifest)
        config = config_from_dict(settings, "(demo configuration)", out_dir, environ={})
        write_config(out_dir / "config.toml", settings)
        db = Database(config.database_url)
        try:
            upgrade(db)
            with run_lock(db, config.data_dir):
                with db.session() as s:
                    sync_config_feeds(s, config.feeds, now=now)
                cycle = run_cycle(db, config, clock)
        finally:
            db.dispose()
    emails = sorted(config.newsletter_dir.glob("*.eml")) if config.newsletter_dir.is_dir() else []
    return DemoResult(out_dir, config.site_dir / "index.html", emails, cycle, config)
