"""The stylesheet and pages: readable contrast in both colour schemes, nothing loaded from other sites."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from aggregator.config import Config
from aggregator.db import Database
from aggregator.publish.render import render_site
from tests.conftest import NOW
from tests.factories import sample_news
from tests.sitecheck import html_files, parse_html

CSS = resources.files("aggregator.templates").joinpath("style.css").read_text(encoding="utf-8")


def palette(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z]+):\s*(#[0-9a-f]{6})", block))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


LIGHT = palette(CSS.split("@media (prefers-color-scheme: dark)")[0])
DARK = {**LIGHT, **palette(CSS.split("@media (prefers-color-scheme: dark)")[1].split("}\n}")[0])}


@pytest.mark.parametrize("scheme", [LIGHT, DARK], ids=["light", "dark"])
def test_text_colours_meet_wcag_aa_on_every_background(scheme: dict[str, str]) -> None:
    assert {"bg", "surface", "text", "muted", "link", "accent", "chip"} <= scheme.keys()
    for fg in ("text", "muted", "link", "accent", "ok", "warn", "bad"):
        for bg in ("bg", "surface"):
            ratio = contrast(scheme[fg], scheme[bg])
            assert ratio >= 4.5, f"--{fg} on --{bg}: {ratio:.2f}"
    assert contrast(scheme["text"], scheme["chip"]) >= 4.5
    assert DARK["bg"] != LIGHT["bg"]


def test_stylesheet_and_script_load_nothing_from_elsewhere() -> None:
    script = resources.files("aggregator.templates").joinpath("search.js").read_text(encoding="utf-8")
    assert "@import" not in CSS and "url(" not in CSS and "@font-face" not in CSS
    assert "http" not in script and "eval(" not in script and "innerHTML" not in script


def test_pages_load_only_their_own_files(db: Database, config: Config, tmp_path: Path) -> None:
    with db.session() as s:
        sample_news(s, NOW)
    render_site(db, config, NOW, tmp_path / "site")
    for page in html_files(tmp_path / "site"):
        doc = parse_html(page)
        loaded = doc.xpath("//script/@src | //img/@src | //link[@rel='stylesheet' or @rel='icon']/@href")
        assert loaded, page
        assert all(not re.match(r"^[a-z]+:|^//", src) for src in loaded), (page, loaded)


def test_every_page_but_search_works_without_javascript(db: Database, config: Config, tmp_path: Path) -> None:
    with db.session() as s:
        sample_news(s, NOW)
    render_site(db, config, NOW, tmp_path / "site")
    with_scripts = {p.name for p in html_files(tmp_path / "site") if parse_html(p).xpath("//script")}
    assert with_scripts == {"search.html"}
    search = parse_html(tmp_path / "site/search.html")
    # without JavaScript the search page says so and links to the archive; the search box stays hidden
    assert search.xpath("//p[@class='nojs']//a/@href") == ["archive/index.html", "topics/index.html"]
    assert search.xpath("//div[@id='search']/@hidden") == [""]
