"""robots.txt for article pages: fetched once per host per run through our own client, then cached.

The decision is pure (:func:`rules_from_response` turns a status and body into :class:`RobotsRules`,
parsed by :mod:`urllib.robotparser`); :class:`RobotsCache` only does the fetching. Status handling follows
RFC 9309: a 2xx body is parsed; a 4xx means there are no rules (everything allowed); a 5xx or no answer
at all means the site is unreachable, and everything on it is treated as disallowed for this run.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.robotparser import RobotFileParser

from ..errors import FetchError
from .guard import URLRefusedError, connect_target
from .http import Fetcher

log = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
ROBOTS_ACCEPT = "text/plain, */*;q=0.5"


@dataclass(frozen=True)
class RobotsRules:
    """What one host's robots.txt says; ``allow_all`` / ``disallow_all`` when there was no usable file."""

    parser: RobotFileParser | None = field(default=None, compare=False)
    allow_all: bool = False
    disallow_all: bool = False
    reason: str = ""  # why there are no rules (for the error stored on a skipped article)

    def allows(self, url: str, user_agent: str) -> bool:
        if self.disallow_all:
            return False
        if self.allow_all or self.parser is None:
            return True
        return self.parser.can_fetch(user_agent, url)

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def robots_url(page_url: str) -> str:
    """/robots.txt on the server the page URL connects to (its host as the HTTP client sees it)."""
    try:
        url = connect_target(page_url).url
    except URLRefusedError:
        return page_url  # never fetched: the client refuses it, with the reason
    return str(url.with_path("/robots.txt").with_query(None).with_fragment(None))


def host_key(page_url: str) -> str:
    """scheme://host[:port] as the HTTP client connects: one key per server, however the URL spells it
    (１２７．０．０．１ and 127.0.0.1 share their robots.txt and their pacing)."""
    try:
        return connect_target(page_url).origin
    except URLRefusedError:
        return page_url  # never fetched: the client refuses it, with the reason


def parse_robots(body: bytes) -> RobotsRules:
    parser = RobotFileParser()
    text = body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace").lstrip("\ufeff")
    parser.parse(_sane_numbers(text.splitlines()))
    return RobotsRules(parser=parser)


_NUMBER_LINE = re.compile(r"\s*(crawl-delay|request-rate)\s*:(.*)", re.IGNORECASE)
_ROBOTS_NUMBER = re.compile(r"[0-9]+")
_MAX_ROBOTS_NUMBER = 10**9


def _sane_numbers(lines: list[str]) -> list[str]:
    """Crawl-delay and Request-rate lines whose numbers urllib.robotparser can read, or none.

    robotparser checks ``str.isdigit()`` and then calls ``int()``: "Crawl-delay: ①" passes the first and
    fails the second (ValueError), 5000 digits exceed what ``int()`` reads, and 400 digits overflow
    ``float()`` later. ASCII numbers are kept, capped at 10**9; any other value drops the line.
    """
    out = []
    for line in lines:
        found = _NUMBER_LINE.match(line.split("#", 1)[0])
        if found is None:
            out.append(line)
            continue
        parts = [p.strip() for p in found[2].split("/")]
        if len(parts) > 2 or not all(_ROBOTS_NUMBER.fullmatch(p) for p in parts):
            continue
        capped = [
            str(min(int(p), _MAX_ROBOTS_NUMBER)) if len(p) <= 10 else str(_MAX_ROBOTS_NUMBER) for p in parts
        ]
        out.append(f"{found[1]}: {'/'.join(capped)}")
    return out


def rules_from_response(status: int | None, body: bytes, error: str = "") -> RobotsRules:
    """RFC 9309: 2xx parsed, 4xx "unavailable" (allow all), 5xx or ``None`` (no answer) "unreachable"."""
    if status is None:
        return RobotsRules(
            disallow_all=True,
            reason=f"robots.txt could not be fetched ({error or 'no answer'})",
        )
    if 200 <= status < 300:
        return parse_robots(body)
    if 400 <= status < 500:
        return RobotsRules(allow_all=True, reason=f"robots.txt answered {status}")
    return RobotsRules(disallow_all=True, reason=f"robots.txt answered {status} (site unreachable)")


class RobotsCache:
    """Per-run cache: the first page on a host fetches its robots.txt, the others wait for that answer.

    ``before_request`` is awaited before each robots.txt request with the host key (the pipeline's
    per-host pacing), so robots.txt counts as a request to the host like any page.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        user_agent: str,
        *,
        before_request: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self.before_request = before_request
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def rules_for(self, page_url: str) -> RobotsRules:
        key = host_key(page_url)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._rules:
                self._rules[key] = await self._fetch(page_url, key)
            return self._rules[key]

    async def allows(self, page_url: str) -> bool:
        return (await self.rules_for(page_url)).allows(page_url, self.user_agent)

    async def _fetch(self, page_url: str, key: str) -> RobotsRules:
        url = robots_url(page_url)
        if self.before_request is not None:
            await self.before_request(key)
        try:
            response = await self.fetcher.get(url, accept=ROBOTS_ACCEPT)
        except FetchError as e:
            log.info(
                "robots.txt of %s not fetched (%s): the host's pages are skipped this run", key, e.reason
            )
            return rules_from_response(None, b"", e.reason)
        return rules_from_response(response.status, response.body)
