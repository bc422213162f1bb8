"""OPML 1.0/2.0 subscription lists: reading (nested outlines, odd attributes) and writing OPML 2.0."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from ..errors import OPMLError

MAX_OPML_BYTES = 20 * 1024 * 1024
MAX_FOLDER_DEPTH = 20  # folders nested deeper still count, under their 20th ancestor's name


@dataclass(frozen=True)
class OPMLFeed:
    url: str
    title: str
    categories: tuple[str, ...]
    site_url: str | None = None


def _attr(element: ET.Element, *names: str) -> str:
    """An attribute by any of ``names``, case-insensitively (exports write xmlUrl, xmlurl, XMLURL...)."""
    lowered = {k.lower(): v for k, v in element.attrib.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value and value.strip():
            return value.strip()
    return ""


def parse_opml(data: bytes, source: str = "OPML") -> list[OPMLFeed]:
    """Every feed outline in document order, with its folder path; duplicates are kept (the caller reports them)."""
    if len(data) > MAX_OPML_BYTES:
        raise OPMLError(f"{source}: file is larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
    if b"<!ENTITY" in data:
        raise OPMLError(f"{source}: entity declarations are not allowed in OPML")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise OPMLError(f"{source}: not well-formed XML: {e}") from e
    if root.tag.lower() != "opml":
        raise OPMLError(f"{source}: the root element is <{root.tag}>, expected <opml>")
    body = next((child for child in root if child.tag.lower() == "body"), None)
    if body is None:
        raise OPMLError(f"{source}: no <body> element")
    feeds: list[OPMLFeed] = []
    # Depth-first in document order, with a stack rather than recursion: nesting is the file's to choose
    # (10 000 levels of folders are well-formed XML) and must not exhaust Python's stack.
    stack: list[tuple[Iterator[ET.Element], tuple[str, ...]]] = [(iter(body), ())]
    while stack:
        children, path = stack[-1]
        outline = next(children, None)
        if outline is None:
            stack.pop()
            continue
        if not isinstance(outline.tag, str) or outline.tag.lower() != "outline":
            continue
        url = _attr(outline, "xmlUrl", "xmlURL", "url") if _attr(outline, "type") != "link" else ""
        title = _attr(outline, "title", "text")
        if url:
            feeds.append(OPMLFeed(url, title, path, _attr(outline, "htmlUrl") or None))
        # A feed outline may itself contain outlines (some exporters nest); a folder always does.
        folder = not url and title and len(path) < MAX_FOLDER_DEPTH
        stack.append((iter(outline), (*path, title) if folder else path))
    return feeds


def export_opml(feeds: list[tuple[str, str, str | None]], *, title: str, now: datetime) -> bytes:
    """OPML 2.0 for (url, title, site url) triples."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    for url, feed_title, site_url in feeds:
        attrs = {"type": "rss", "text": feed_title or url, "title": feed_title or url, "xmlUrl": url}
        if site_url:
            attrs["htmlUrl"] = site_url
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
