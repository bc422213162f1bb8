"""A real HTTP server on 127.0.0.1 (port 0) for tests, benchmarks and the offline demo.

Routes are set per path and may be replaced between requests::

    server.route("/feed.xml", body, content_type="application/rss+xml", etag='"v1"')
    server.redirect("/old", "/feed.xml", status=301)
    server.files("/feeds/", some_dir)           # every file below, with ETag and Last-Modified
    server.trickle("/slow", b"x" * 100, delay=0.2)
    server.gzip_bomb("/bomb", decoded_size=64 << 20)
    server.requests                               # log: method, path, headers of every request

Conditional GET is honoured: a matching If-None-Match or an equal If-Modified-Since gets 304.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import mimetypes
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path

CONTENT_TYPES = {".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml"}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    trickle_delay: float | None = None  # seconds between single bytes
    raw_body: bytes | None = None  # sent as is (e.g. pre-compressed), Content-Length from it
    handler: Callable[[LoggedRequest], Route] | None = None


@lru_cache(maxsize=4)
def gzip_of_zeros(decoded_size: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    out = []
    remaining = decoded_size
    while remaining > 0:
        out.append(comp.compress(block[: min(remaining, len(block))]))
        remaining -= len(block)
    out.append(comp.flush())
    return b"".join(out)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # no 40 ms stall between the header and body writes
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_header(self, keyword: str, value: str) -> None:
        """As the base class, but a value outside ASCII is sent as UTF-8, as real servers send a Location
        with a Unicode host or a Retry-After of "①" (the base class would send Latin-1, or raise)."""
        line = f"{keyword}: {value}\r\n"
        if not line.isascii():
            buffer: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]  # set by send_response
            buffer.append(line.encode("utf-8"))
            return
        super().send_header(keyword, value)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        request = LoggedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
        with owner.lock:
            owner.requests.append(request)
            route = owner.find(path)
        if route is None:
            self._send(Route(status=404, body=b"not found", headers={"Content-Type": "text/plain"}), request)
            return
        if route.handler is not None:
            route = route.handler(request)
        self._send(route, request)

    def _send(self, route: Route, request: LoggedRequest) -> None:
        not_modified = route.status == 200 and (
            (route.etag is not None and request.header("if-none-match") == route.etag)
            or (
                route.last_modified is not None
                and request.header("if-none-match") is None
                and request.header("if-modified-since") == route.last_modified
            )
        )
        status = 304 if not_modified else route.status
        body = b"" if not_modified else route.raw_body if route.raw_body is not None else route.body
        self.send_response(status)
        for name, value in route.headers.items():
            if not (not_modified and name.lower() in ("content-type", "content-encoding")):
                self.send_header(name, value)
        if route.etag is not None:
            self.send_header("ETag", route.etag)
        if route.last_modified is not None:
            self.send_header("Last-Modified", route.last_modified)
        if not any(name.lower() == "content-length" for name in route.headers):  # else the route's own
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD" or not body:
            return
        try:
            if route.trickle_delay is None:
                self.wfile.write(body)
                return
            for i in range(len(body)):
                if self.server.owner.stopping.is_set():
                    return
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(route.trickle_delay)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once in benchmarks; the default backlog is 5
    owner: FeedServer


class FeedServer:
    """A threaded HTTP server on 127.0.0.1 with configurable routes and a request log."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.routes: dict[str, Route] = {}
        self.prefixes: dict[str, Path] = {}
        self.requests: list[LoggedRequest] = []
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="feed-server", daemon=True
        )

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def find(self, path: str) -> Route | None:
        if path in self.routes:
            return self.routes[path]
        for prefix, folder in self.prefixes.items():
            if path.startswith(prefix):
                return _file_route(folder, path[len(prefix) :])
        return None

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        with self.lock:
            return [r.path for r in self.requests]

    def clear_log(self) -> None:
        with self.lock:
            self.requests.clear()

    # Route builders -----------------------------------------------------------------------------------------

    def route(
        self,
        path: str,
        body: bytes = b"",
        *,
        status: int = 200,
        content_type: str | None = "application/rss+xml",
        headers: Mapping[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> str:
        """Serve ``body`` at ``path`` (replacing what was there); returns the absolute URL."""
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers or {})
        with self.lock:
            self.routes[path] = Route(status, body, all_headers, etag, last_modified)
        return self.url(path)

    def handler(self, path: str, fn: Callable[[LoggedRequest], Route]) -> str:
        """A route computed per request (e.g. a status that changes with the request count)."""
        with self.lock:
            self.routes[path] = Route(handler=fn)
        return self.url(path)

    def redirect(self, path: str, location: str, *, status: int = 301) -> str:
        with self.lock:
            self.routes[path] = Route(status, b"", {"Location": location})
        return self.url(path)

    def files(self, prefix: str, folder: Path) -> str:
        """Serve every file below ``folder`` under ``prefix`` with ETag and Last-Modified from its content."""
        with self.lock:
            self.prefixes[prefix] = folder
        return self.url(prefix)

    def trickle(self, path: str, body: bytes, *, delay: float) -> str:
        """Send ``body`` one byte per ``delay`` seconds: a stalled, slowly trickling server."""
        with self.lock:
            self.routes[path] = Route(200, body, {"Content-Type": "application/rss+xml"}, trickle_delay=delay)
        return self.url(path)

    def gzip_bomb(self, path: str, *, decoded_size: int) -> str:
        """A small gzip body (Content-Encoding: gzip) that decodes to ``decoded_size`` zero bytes."""
        headers = {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
        with self.lock:
            self.routes[path] = Route(200, b"", headers, raw_body=gzip_of_zeros(decoded_size))
        return self.url(path)

    def oversized(self, path: str, *, size: int) -> str:
        body = b"<rss>" + b" " * max(size - 5, 0)
        return self.route(path, body)


@lru_cache(maxsize=4096)
def _file_bytes(path: Path, mtime_ns: int) -> tuple[bytes, str, str]:
    data = path.read_bytes()
    etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
    return data, etag, formatdate(mtime_ns / 1e9, usegmt=True)


def _file_route(folder: Path, relative: str) -> Route | None:
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder.resolve()) or not target.is_file():
        return None
    data, etag, modified = _file_bytes(target, target.stat().st_mtime_ns)
    ctype = (
        CONTENT_TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    )
    return Route(200, data, {"Content-Type": ctype}, etag=etag, last_modified=modified)


def main() -> None:
    """``python -m tests.httpserver DIR``: serve every file below DIR at /feeds/ on 127.0.0.1 until Ctrl-C."""
    import sys

    folder = Path(sys.argv[1]).resolve()
    with FeedServer() as server:
        base = server.files("/feeds/", folder)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            print(base + path.relative_to(folder).as_posix(), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
