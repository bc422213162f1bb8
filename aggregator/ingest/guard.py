"""The address guard: which addresses may be contacted, and which host a URL really connects to.

aiohttp hands a URL to yarl, which maps the host through IDNA/UTS 46 (fullwidth digits and dots, the
ideographic full stops 。 and ｡, circled and mathematical digits all become ASCII) and lowercases it;
aiohttp then connects to a host that looks like an IP address *without* asking the resolver. A check
of the host as written sees a name, "１２７．０．０．１", where the connector sees 127.0.0.1. So every check
goes through :func:`connect_target`, which parses the URL with yarl exactly as aiohttp does and returns
the host as the connector will see it, or refuses the URL with the reason::

    URL -> yarl.URL (IDNA/UTS 46 mapping, lowercase) -> host as connected to
        looks like an IP address (aiohttp's own test) -> must parse as one; the policy judges it here,
                                                         since aiohttp connects to it without resolving
        IPv4 in a legacy numeric form (127.1, 0x7f.1, 2130706433, 0177.0.0.1) -> refused
        a name -> must be a plain host name (no "%", spaces...); localhost and *.localhost count as
                  loopback; any other name's addresses are judged by the resolver (http.GuardedResolver)

It runs before every request and redirect hop (feeds, article pages, robots.txt) and in URL validation
(config, `feeds add`, OPML import), so a URL is judged by where it goes, however it is written.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp.helpers import is_ip_address
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
CGNAT = ipaddress.ip_network("100.64.0.0/10")
LOOPBACK = ipaddress.ip_address("127.0.0.1")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
SCHEMES = ("http", "https")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMERIC = re.compile(r"[0-9a-fx.]+")


@dataclass(frozen=True)
class AddressPolicy:
    """Which connected addresses are allowed.

    By default only global unicast addresses. ``allow_private`` admits private, loopback, link-local and
    CGNAT ranges (intranet feeds); ``allowed`` admits the listed networks only (tests allow 127.0.0.1/32).
    Multicast, unspecified and reserved addresses are always refused unless listed in ``allowed``.
    """

    allow_private: bool = False
    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, allow_private: bool, allowed: Iterable[str]) -> AddressPolicy:
        """From fetch.allow_private_networks and fetch.allowed_networks."""
        return cls(allow_private=allow_private, allowed=tuple(ipaddress.ip_network(n) for n in allowed))

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why ``address`` is refused, or None when it may be contacted."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return f"{address!r} is not an IP address"
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip.version == net.version and ip in net for net in self.allowed):
            return None
        embedded = _embedded_ipv4(ip)
        if embedded is not None and (reason := self.refusal(embedded)) is not None:
            return f"an IPv6 address embedding {embedded}, {reason}"
        if ip.is_multicast:
            return "a multicast address"
        if ip.is_unspecified:
            return "an unspecified address"
        kind = _private_kind(ip)
        if kind is None and ip.is_reserved:
            return "a reserved address"
        if kind is None and ip.is_private:
            kind = "a private address"
        if kind is not None:
            return None if self.allow_private else kind
        return None if ip.is_global else "a reserved address"


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and may be routed to: 6to4 (2002::/16), NAT64
    (64:ff9b::/96) and IPv4-compatible (::a.b.c.d) addresses."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _private_kind(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "a shared (CGNAT) address"
    return None


class URLRefusedError(ValueError):
    """The guard will not let this URL through; ``reason`` says why, ``by_policy`` when the address
    policy refused it (rather than the URL being unusable as written)."""

    def __init__(self, url: str, reason: str, *, by_policy: bool = False) -> None:
        self.url = url
        self.reason = reason
        self.by_policy = by_policy
        super().__init__(reason)


@dataclass(frozen=True)
class ConnectTarget:
    """Where a URL connects to, as aiohttp will see it."""

    url: URL  # the parsed URL: hand this object to aiohttp, so it is not parsed a second time
    host: str  # ASCII, lowercase, IDNA-encoded; an IPv6 address without brackets
    port: int
    ip: IPAddress | None  # the address, when the connector uses the host without resolving it

    @property
    def origin(self) -> str:
        """scheme://host[:port]: one key per server, however its URLs spell the host."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.url.scheme]
        return f"{self.url.scheme}://{host}" + (f":{self.port}" if self.port != default else "")


def connect_target(url: str | URL, policy: AddressPolicy | None = None) -> ConnectTarget:
    """The host ``url`` connects to, or :class:`URLRefusedError` saying why it is not fetched.

    With ``policy``, an IP address host the policy refuses is refused here (aiohttp will not resolve it,
    so nothing else would check it), and so is localhost when loopback is refused. Names are left to the
    resolver, which sees their addresses.
    """
    text = str(url)
    try:
        parsed = url if isinstance(url, URL) else URL(url)
        raw_host = parsed.raw_host
        port = parsed.port
    except (ValueError, TypeError) as e:  # UnicodeError is a ValueError
        raise URLRefusedError(text, f"the URL cannot be parsed ({e})") from e
    if parsed.scheme not in SCHEMES:
        raise URLRefusedError(text, "only http and https URLs are fetched")
    if not raw_host or port is None:
        raise URLRefusedError(text, "the URL has no host")
    if not _round_trips(parsed, raw_host, port):
        # e.g. [::ffff:１２７.0.0.1]: yarl maps it to ::ffff:127.0.0.1 but loses the brackets, so the
        # connection goes to the address while the URL's own text no longer parses.
        raise URLRefusedError(text, f"its host {raw_host} cannot be normalised into a valid URL")
    host = raw_host.rstrip(".") + "." if raw_host.endswith("..") else raw_host  # as aiohttp's connector
    ip = _address(text, host)
    target = ConnectTarget(parsed, host, port, ip)
    if policy is not None:
        checked = ip if ip is not None else LOOPBACK if is_localhost(host) else None
        reason = policy.refusal(checked) if checked is not None else None
        if reason is not None:
            where = f"{host} ({checked})" if ip is None else host
            raise URLRefusedError(text, f"its host {where} is {reason}", by_policy=True)
    return target


def _round_trips(parsed: URL, raw_host: str, port: int) -> bool:
    """The normalised URL, written out and parsed again, has the same host and port."""
    try:
        again = URL(str(parsed))
        return (again.raw_host, again.port) == (raw_host, port)
    except (ValueError, TypeError):
        return False


def is_localhost(host: str) -> bool:
    """localhost and names below it, which resolve to loopback (RFC 6761)."""
    name = host.rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _address(url: str, host: str) -> IPAddress | None:
    """The IP address ``host`` is, None for a name; refuses hosts the connector would misread."""
    address, zone_mark, _ = host.partition("%")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        pass
    else:
        if zone_mark and ip.version == 6:
            raise URLRefusedError(url, f"its host {host} has an IPv6 zone identifier; these are not fetched")
        if not zone_mark:
            return ip
    if not _is_host_name(host):
        raise URLRefusedError(url, f"its host {host!r} is not a valid host name")
    if _NUMERIC.fullmatch(host):
        try:
            packed = socket.inet_aton(host)
        except OSError:
            pass
        else:  # the system resolver reads it as an address
            legacy = ipaddress.IPv4Address(packed)
            raise URLRefusedError(
                url, f"its host {host} is the IPv4 address {legacy} in a legacy numeric form; write a.b.c.d"
            )
    if is_ip_address(host):  # aiohttp would take it for an address and refuse to connect
        raise URLRefusedError(url, f"its host {host} is not a valid IP address")
    return None


def _is_host_name(host: str) -> bool:
    name = host[:-1] if host.endswith(".") else host
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))
