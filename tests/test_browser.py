"""A real browser: headless Chromium loads the site from a loopback HTTP server and finds what a reader needs.

Screenshots are saved under ``artifacts/browser/`` in the repository (gitignored) and their paths printed.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aggregator.config import Config
from aggregator.db import Database, upgrade
from aggregator.publish.render import render_site
from tests.cdp import find_chromium, launch
from tests.conftest import NOW, REPO_ROOT
from tests.factories import sample_news
from tests.hostile import hostile_world

pytestmark = pytest.mark.browser
ARTIFACTS = REPO_ROOT / "artifacts" / "browser"

# Runs in the page: anything that could execute or restyle, left by feed content.
ACTIVE_IN_DOM = """(() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) found.push(el.tagName + ' ' + a.name);
      if (a.name === 'style') found.push(el.tagName + ' style');
      if (['href', 'src', 'action', 'formaction'].includes(a.name) && /^\\s*(javascript|data|vbscript):/i.test(a.value))
        found.push(el.tagName + ' ' + a.name + '=' + a.value.slice(0, 40));
    }
  }
  const bad = 'iframe, object, embed, form, style, svg, math, base, frame, textarea, button, template, noscript';
  for (const el of document.querySelectorAll(bad)) found.push(el.tagName);
  for (const el of document.querySelectorAll('script')) if (!el.src.endsWith('/assets/search.js')) found.push('SCRIPT');
  return found;
})()"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_front_page_story_page_and_search_in_chromium(
    server: tuple[str, Path], db: Database, config: Config, tmp_path: Path
) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (install Debian's `chromium` and `chromium-driver` packages)")
    base, root = server
    with db.session() as s:
        flood = sample_news(s, NOW)["stories"]["flood"].id  # type: ignore[index]
    render_site(db, config, NOW, root / "site")
    hostile_db = Database(f"sqlite:///{tmp_path / 'hostile.db'}")
    upgrade(hostile_db)
    with hostile_db.session() as s:
        evil = hostile_world(s, NOW)["first"]
    render_site(hostile_db, config, NOW, root / "hostile")
    hostile_db.dispose()

    shots: list[Path] = []
    results: dict[str, Any] = {}

    async def run() -> list[str]:
        async with launch(chromium) as browser:
            await browser.open_page(width=1280, height=900)
            await browser.goto(f"{base}/site/index.html")
            results["front"] = await browser.evaluate(
                """({
                  h1: document.querySelector('main h1').textContent.trim(),
                  cards: [...document.querySelectorAll('.top-stories > li h2')].map(e => e.textContent.trim()),
                  badge: document.querySelector('.story-card .badge').textContent.trim(),
                  nav: document.querySelectorAll('header nav a').length,
                  styled: getComputedStyle(document.querySelector('.story-card')).borderRadius,
                  landmarks: ['header', 'nav', 'main', 'footer'].every(t => document.querySelector(t)),
                })"""
            )
            shots.append(await browser.screenshot(ARTIFACTS / "front.png"))

            await browser.goto(f"{base}/site/stories/{flood}.html")
            results["story"] = await browser.evaluate(
                """({
                  h1: document.querySelector('h1').textContent.trim(),
                  outlets: [...document.querySelectorAll('#coverage .outlet h3')].map(e => e.textContent.trim()),
                  also: document.querySelector('#coverage .also').textContent.replace(/\\s+/g, ' ').trim(),
                  related: [...document.querySelectorAll('#related a')].map(e => e.textContent.trim()),
                  topics: [...document.querySelectorAll('#topics a')].map(e => e.textContent.trim()),
                  twoColumns: getComputedStyle(document.querySelector('.story-layout')).gridTemplateColumns.split(' ').length,
                })"""
            )
            shots.append(await browser.screenshot(ARTIFACTS / "story.png"))

            await browser.open_page(width=390, height=844, dark=True)
            await browser.goto(f"{base}/site/index.html")
            results["mobile"] = await browser.evaluate(
                """({
                  overflow: document.documentElement.scrollWidth > window.innerWidth,
                  dark: getComputedStyle(document.body).backgroundColor,
                })"""
            )
            shots.append(await browser.screenshot(ARTIFACTS / "front-mobile-dark.png"))
            await browser.goto(f"{base}/site/stories/{flood}.html")
            shots.append(await browser.screenshot(ARTIFACTS / "story-mobile-dark.png"))

            await browser.open_page(width=1280, height=900)
            await browser.goto(f"{base}/site/search.html?q=riverton")
            results["search"] = await browser.evaluate(
                "[...document.querySelectorAll('#results a')].map(e => e.textContent.trim()).sort()"
            )

            await browser.goto(f"{base}/hostile/stories/{evil}.html")
            results["hostile_story"] = await browser.evaluate(ACTIVE_IN_DOM)
            await browser.goto(f"{base}/hostile/index.html")
            results["hostile_front"] = await browser.evaluate(ACTIVE_IN_DOM)
            await browser.goto(f"{base}/hostile/sources.html")
            results["hostile_sources"] = await browser.evaluate(ACTIVE_IN_DOM)
            return browser.errors()

    errors = asyncio.run(run())
    for shot in shots:
        print(f"screenshot: {shot}")
    assert errors == []

    front = results["front"]
    assert front["h1"] == "Top stories"
    assert front["cards"] == ["Flood waters rise in Riverton", "Orchestra wins national prize"]
    assert front["badge"] == "2 outlets"
    assert front["nav"] == 5 and front["landmarks"]
    assert front["styled"] == "12px"  # the stylesheet loaded (no CSP block)

    story = results["story"]
    assert story["h1"] == "Flood waters rise in Riverton"
    assert story["outlets"] == ["BBC News", "NPR"]
    assert story["also"] == "Also published by Wire Daily"
    assert story["related"] == ["Riverton flood inquiry opens"]
    assert story["topics"] == ["Floods", "Riverton"]
    assert story["twoColumns"] == 2

    assert results["mobile"]["overflow"] is False
    assert results["mobile"]["dark"] == "rgb(18, 18, 18)"
    assert results["search"] == ["Flood waters rise in Riverton", "Riverton flood inquiry opens"]
    assert results["hostile_story"] == []
    assert results["hostile_front"] == []
    assert results["hostile_sources"] == []
    for shot in shots:
        assert shot.stat().st_size > 10_000
