"""Checks on a rendered site: parse pages and feeds, find active content, resolve internal links."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

ATOM = "{http://www.w3.org/2005/Atom}"
OUR_SCRIPT = "assets/search.js"
# Elements that run code, load other documents, submit data or restyle the page: none may come from a feed.
FORBIDDEN_TAGS = {
    "iframe", "frame", "frameset", "object", "embed", "applet", "form", "base", "style", "svg", "math",
    "button", "textarea", "select", "video", "audio", "source", "portal", "template", "noscript", "dialog",
}  # fmt: skip
URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "srcset",
    "data",
    "poster",
    "background",
    "ping",
    "xlink:href",
}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def parse_html(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(path.read_bytes())


def url_scheme(value: str) -> str:
    """The scheme a browser would see: it ignores ASCII whitespace and control characters inside it."""
    m = _SCHEME.match(_INVISIBLE.sub("", value).lower())
    return m.group(1) if m else ""


def active_content(root: lxml.html.HtmlElement, *, ours: bool) -> list[str]:
    """Everything in ``root`` that could run code or take over the page.

    ``ours``: a whole page of the site, where our own stylesheet link, search script, search input and
    redirect meta are expected; False for a feed's HTML content, where none of that may appear."""
    problems = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        attrs = {k.lower(): v for k, v in el.attrib.items()}
        if tag == "script":
            src = attrs.get("src", "")
            if not (ours and src.endswith(OUR_SCRIPT) and not (el.text or "").strip()):
                problems.append(f"script element src={src!r} text={(el.text or '')[:60]!r}")
        elif tag in FORBIDDEN_TAGS:
            problems.append(f"<{tag}> element")
        elif tag == "input" and not (ours and attrs.get("id") == "q"):
            problems.append("<input> element")
        elif tag == "link" and not ours:
            problems.append("<link> element")
        elif tag == "meta" and "http-equiv" in attrs:
            kind = attrs["http-equiv"].lower()
            content = attrs.get("content", "")
            target = content.split("url=", 1)[1] if "url=" in content else ""
            if not ours or kind not in ("content-security-policy", "refresh") or url_scheme(target):
                problems.append(f"<meta http-equiv={kind!r} content={content!r}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag} {name}=...> event handler")
            elif name == "style":
                problems.append(f"<{tag} style={value[:60]!r}>")
            elif name in URL_ATTRS and url_scheme(value) not in ("", "http", "https", "mailto"):
                problems.append(f"<{tag} {name}={value[:60]!r}> with a {url_scheme(value)!r} URL")
    return problems


def page_problems(site: Path) -> dict[str, list[str]]:
    found = {}
    for path in html_files(site):
        problems = active_content(parse_html(path), ours=True)
        if problems:
            found[str(path.relative_to(site))] = problems
    return found


def fragment_problems(html: str) -> list[str]:
    if not html.strip():
        return []
    return active_content(lxml.html.fragment_fromstring(html, create_parent="div"), ours=False)


def feed_problems(site: Path) -> dict[str, list[str]]:
    """Atom feeds must be well-formed XML; their HTML content and the JSON Feed's content_html are checked."""
    found: dict[str, list[str]] = {}
    for path in sorted(site.rglob("*.atom")):
        tree = lxml.etree.fromstring(path.read_bytes())  # raises on malformed XML
        problems = []
        for content in tree.iter(f"{ATOM}content", f"{ATOM}summary", f"{ATOM}title"):
            if content.get("type") == "html":
                problems += fragment_problems(content.text or "")
            elif len(content):
                problems.append(f"markup inside a text element: {lxml.etree.tostring(content)[:80]!r}")
        if problems:
            found[str(path.relative_to(site))] = problems
    for path in sorted(site.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "items" in data:
            problems = [p for item in data["items"] for p in fragment_problems(item.get("content_html", ""))]
            if problems:
                found[str(path.relative_to(site))] = problems
    return found


def internal_links(site: Path, page: Path) -> list[str]:
    """Site paths (relative to the root) that ``page`` links to or loads."""
    doc = parse_html(page)
    rel_page = page.relative_to(site).as_posix()
    targets = []
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("href", "src"):
            value = el.get(attr)
            if value is None or value.startswith("#"):
                continue
            parts = urlsplit(value)
            if parts.scheme or parts.netloc:
                continue
            targets.append(posixpath.normpath(posixpath.join(posixpath.dirname(rel_page), parts.path)))
        if el.tag == "div" and el.get("data-index"):
            targets.append(
                posixpath.normpath(posixpath.join(posixpath.dirname(rel_page), el.get("data-index")))
            )
        if el.tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            target = (el.get("content") or "").split("url=", 1)[-1]
            targets.append(posixpath.normpath(posixpath.join(posixpath.dirname(rel_page), target)))
    return targets


def broken_links(site: Path) -> dict[str, list[str]]:
    broken = {}
    for page in html_files(site):
        missing = [t for t in internal_links(site, page) if t.startswith("..") or not (site / t).is_file()]
        if missing:
            broken[page.relative_to(site).as_posix()] = missing
    return broken
