"""Our HTTP client (aiohttp): timeouts, an overall deadline, a decoded size cap, manual redirects and an
address guard on every hop.

Used for feeds now and for article pages later (``Fetcher.get(url, accept=...)``); feedparser and
trafilatura never fetch anything themselves. Status codes are not judged here: a 404 or a 304 comes back
as a :class:`Response` and the caller decides. :class:`FetchError` means no usable response at all.

The guard works in two places: :func:`.guard.connect_target` before every request and redirect hop
(the host as aiohttp will connect to it; IP addresses are judged there, since aiohttp connects to them
without resolving), and a resolver that drops refused addresses from DNS answers of names (so a request
is never sent to them).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from ..config import FetchConfig
from ..errors import FetchError
from .guard import AddressPolicy, ConnectTarget, URLRefusedError, connect_target

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
CHUNK = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class BlockedAddressError(OSError):
    """Raised inside the resolver; aiohttp wraps it, :meth:`Fetcher.get` turns it into a FetchError."""


class GuardedResolver(AbstractResolver):
    """Resolves with aiohttp's default resolver and drops every address the policy refuses."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        allowed = [r for r in results if self.policy.refusal(r["host"]) is None]
        if not allowed:
            refused = ", ".join(f"{r['host']} ({self.policy.refusal(r['host'])})" for r in results)
            raise BlockedAddressError(f"{host} resolves only to refused addresses: {refused}")
        return allowed

    async def close(self) -> None:
        await self.inner.close()


@dataclass(frozen=True)
class FetchOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_body_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = 16
    per_host_concurrency: int = 2
    user_agent: str = "aggregator"
    policy: AddressPolicy = field(default_factory=AddressPolicy)

    @classmethod
    def from_config(cls, config: FetchConfig, *, allowed: tuple[str, ...] = ()) -> FetchOptions:
        """Options from [fetch]; ``allowed`` adds networks to the config's ``allowed_networks``."""
        policy = AddressPolicy.from_settings(
            config.allow_private_networks, (*config.allowed_networks, *allowed)
        )
        return cls(
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            deadline=config.deadline,
            max_body_bytes=config.max_body_bytes,
            max_redirects=config.max_redirects,
            concurrency=config.concurrency,
            per_host_concurrency=config.per_host_concurrency,
            user_agent=config.user_agent,
            policy=policy,
        )


@dataclass(frozen=True)
class Redirect:
    status: int
    url: str  # the URL that answered with the redirect
    location: str  # absolute target


@dataclass(frozen=True)
class Response:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes  # decoded (Content-Encoding removed), at most max_body_bytes
    history: tuple[Redirect, ...] = ()

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _Decoder:
    """Content-Encoding removal with a hard cap on the output, so a gzip bomb stops at the cap."""

    def __init__(self, encoding: str, cap: int, url: str) -> None:
        self.encoding = encoding
        self.cap = cap
        self.url = url
        self.size = 0
        self.parts: list[bytes] = []
        self._raw_deflate = False
        self._obj: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(47)  # gzip or zlib header, detected
        elif encoding == "deflate":
            self._obj = zlib.decompressobj(15)
        elif encoding not in ("", "identity"):
            raise FetchError(url, f"unsupported Content-Encoding {encoding!r}")

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise FetchError(
                self.url, f"body larger than the cap of {self.cap} bytes (decoded)", permanent=True
            )
        self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._obj is None:
            self._add(chunk)
            return
        try:
            data = chunk
            while data:
                out = self._obj.decompress(data, self.cap - self.size + 1)
                self._add(out)
                data = self._obj.unconsumed_tail
                if not data and self._obj.eof and self._obj.unused_data:  # another gzip member follows
                    data = self._obj.unused_data
                    self._obj = zlib.decompressobj(47)
        except zlib.error as e:
            if self.encoding == "deflate" and not self._raw_deflate and self.size == 0:
                # Some servers send raw deflate without the zlib header.
                self._raw_deflate = True
                self._obj = zlib.decompressobj(-15)
                self.feed(chunk)
                return
            raise FetchError(self.url, f"cannot decode the {self.encoding} body: {e}") from e

    def result(self) -> bytes:
        if self._obj is not None:
            self._add(self._obj.flush())
        return b"".join(self.parts)


class _Slots:
    """Connection slots: ``concurrency`` requests at a time, ``per_host`` to one server (scheme, host as
    connected to, port). Held here rather than in aiohttp's connector, so that the wait for a slot
    happens outside the request's deadline."""

    def __init__(self, concurrency: int, per_host: int) -> None:
        self._all = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def hold(self, origin: str) -> AsyncIterator[None]:
        # The host's slot first: a request queued behind its own host does not take a slot from others.
        async with self._hosts.setdefault(origin, asyncio.Semaphore(self._per_host)), self._all:
            yield


class Fetcher:
    """``async with Fetcher(options) as f: response = await f.get(url, headers=...)``."""

    def __init__(self, options: FetchOptions) -> None:
        self.options = options
        self._session: aiohttp.ClientSession | None = None
        self._slots = _Slots(options.concurrency, options.per_host_concurrency)

    async def __aenter__(self) -> Fetcher:
        o = self.options
        self._slots = _Slots(o.concurrency, o.per_host_concurrency)  # this event loop's
        connector = aiohttp.TCPConnector(
            limit=0,  # no limits of its own: _Slots holds the same ones, outside the deadline
            limit_per_host=0,
            resolver=GuardedResolver(o.policy),
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=o.connect_timeout, sock_read=o.read_timeout
            ),
            auto_decompress=False,  # we decode ourselves, under the size cap
            trust_env=False,  # no proxies from the environment: the guard must see the real peer
            headers={"User-Agent": o.user_agent},
            skip_auto_headers=("Accept-Encoding",),
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def check_url(self, url: str, original: str | None = None) -> ConnectTarget:
        """Where ``url`` connects to, or FetchError (on behalf of ``original``) when the guard refuses it."""
        try:
            return connect_target(url, self.options.policy)
        except URLRefusedError as e:
            hint = " (see fetch.allow_private_networks)" if e.by_policy else ""
            raise FetchError(original or url, f"refusing {url}: {e.reason}{hint}", permanent=True) from None

    async def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, accept: str = FEED_ACCEPT
    ) -> Response:
        """GET ``url`` following redirects; raises FetchError on network, guard, size or time failures.

        ``options.deadline`` bounds the time spent in requests, redirects included; time spent waiting for
        a connection slot (``concurrency``, ``per_host_concurrency``) is not counted.
        """
        if self._session is None:
            raise RuntimeError("use `async with Fetcher(...)`")
        try:
            return await self._get(url, headers or {}, accept)
        except FetchError:
            raise
        except aiohttp.ConnectionTimeoutError as e:
            raise FetchError(url, f"connect timeout after {self.options.connect_timeout}s") from e
        except aiohttp.SocketTimeoutError as e:
            raise FetchError(url, f"read timeout: no data for {self.options.read_timeout}s") from e
        except TimeoutError as e:
            raise FetchError(url, f"deadline of {self.options.deadline}s exceeded") from e
        except aiohttp.ClientConnectorError as e:
            cause = e.os_error
            if isinstance(cause, BlockedAddressError):
                raise FetchError(
                    url,
                    f"refused by the address guard: {cause} (see fetch.allow_private_networks)",
                    permanent=True,
                ) from None
            raise FetchError(url, f"cannot connect: {cause.strerror or cause}") from e
        except (aiohttp.ClientError, OSError, ValueError) as e:
            raise FetchError(url, f"{type(e).__name__}: {e}") from e

    async def _get(self, url: str, headers: Mapping[str, str], accept: str) -> Response:
        request_headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate", **headers}
        history: list[Redirect] = []
        seen = {url}
        current = url
        loop = asyncio.get_running_loop()
        left = self.options.deadline  # spent only while a hop holds its connection slot
        while True:
            target = self.check_url(current, url)
            async with self._slots.hold(target.origin):
                started = loop.time()
                try:
                    async with asyncio.timeout(left):
                        hop = await self._hop(target.url, current, url, request_headers)
                finally:
                    left -= loop.time() - started
            if isinstance(hop, Response):
                return replace(hop, history=tuple(history))
            status, location = hop
            try:
                next_url = urljoin(current, location.strip())
                scheme = urlsplit(next_url).scheme
            except ValueError as e:
                raise FetchError(url, f"bad redirect Location {location!r}: {e}") from None
            history.append(Redirect(status, current, next_url))
            if next_url in seen:
                raise FetchError(url, f"redirect loop: {current} -> {next_url}", permanent=True)
            if len(history) > self.options.max_redirects:
                raise FetchError(url, f"more than {self.options.max_redirects} redirects", permanent=True)
            if scheme not in ("http", "https"):
                raise FetchError(url, f"redirect to a non-http URL {next_url!r}", permanent=True)
            seen.add(next_url)
            current = next_url

    async def _hop(
        self, checked: URL, current: str, url: str, headers: Mapping[str, str]
    ) -> Response | tuple[int, str]:
        """One request: the response, or (status, Location) of a redirect to follow.

        ``checked`` is the URL object the guard judged: aiohttp requests it without parsing it again.
        """
        assert self._session is not None
        async with self._session.get(checked, headers=headers, allow_redirects=False) as resp:
            location = resp.headers.get("Location")
            if resp.status in REDIRECT_CODES and location:
                return resp.status, location
            body = await self._read(resp, url)
            return Response(
                url=url,
                final_url=current,
                status=resp.status,
                headers={k.lower(): v for k, v in resp.headers.items()},
                body=body,
            )

    async def _read(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        cap = self.options.max_body_bytes
        length = resp.content_length
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if length is not None and length > cap:
            raise FetchError(
                url, f"body larger than the cap of {cap} bytes (Content-Length {length})", permanent=True
            )
        decoder = _Decoder(encoding, cap, url)
        async for chunk in resp.content.iter_chunked(CHUNK):
            decoder.feed(chunk)
        body = decoder.result()
        if encoding in ("", "identity") and body[:2] == GZIP_MAGIC:
            # Some servers send a .gz file as the body without Content-Encoding; decode it, under the cap.
            gunzip = _Decoder("gzip", cap, url)
            gunzip.feed(body)
            body = gunzip.result()
        return body
