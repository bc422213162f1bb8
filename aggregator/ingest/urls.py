"""URL canonicalisation: one spelling per article URL, so the same article from two feeds is recognised."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track the click and never select content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
        "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "rb_clickid",
        "s_cid", "cmpid", "ocid", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "ito",
        "at_medium", "at_campaign", "xtor", "spm", "__twitter_impression", "ref_src", "feature", "cmp",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "at_custom", "pk_", "mtm_", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_CONTROLS = re.compile(r"[\x00-\x20\x7f]")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """The canonical form of an http(s) URL, or None for anything else.

    Lowercase scheme and host, default port dropped, tracking parameters and the fragment removed,
    an empty path written as "/". Idempotent: canonical_url(canonical_url(u)) == canonical_url(u).
    """
    if not url:
        return None
    url = url.strip(_C0_AND_SPACE)  # as browsers do; never Unicode spaces, which may end a path
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return None
        host = parts.hostname  # lowercased by urllib; None without a host
        port = parts.port
    except ValueError:  # a bad port or bracketed host
        return None
    if not host or any(c in host for c in " \t\r\n/\\@?#"):
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username is not None or parts.password is not None:
        return None  # credentials in a feed link are never a public article URL
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
        if len(kept) != len(pairs):  # re-encode only when something was removed, else keep the spelling
            query = urlencode(kept)
    path = _escape_controls(parts.path) or "/"
    return urlunsplit((scheme, netloc, path, _escape_controls(query), ""))


def _escape_controls(text: str) -> str:
    """Spaces and control characters percent-encoded, so the result has one stable spelling."""
    return _CONTROLS.sub(lambda m: f"%{ord(m.group()):02X}", text)
