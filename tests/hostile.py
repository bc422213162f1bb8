"""Hostile feed content, written for these tests, and a database world that carries it everywhere it can go."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tests.factories import make_article, make_feed, make_story, relate, tag

PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">js link</a>',
    '<a href="JaVaScRiPt:alert(1)">mixed case</a>',
    '<a href="java\tscript:alert(1)">tab inside</a>',
    '<a href=" &#106;avascript:alert(1)">entity</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<form action="http://127.0.0.1:9/steal"><input name=p type=password><button>Log in</button></form>',
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:99999;background:#fff">Overlay</div>',
    '<p style="position:absolute;inset:0">absolute overlay</p>',
    "<style>body{display:none}</style>",
    '<iframe src="http://127.0.0.1:9/"></iframe>',
    '<object data="movie.swf"></object><embed src="movie.swf">',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<textarea><img title="</textarea><img src=x onerror=alert(1)>"></textarea>',
    '<base href="http://127.0.0.1:9/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="http://127.0.0.1:9/evil.css">',
    '"><script>alert(1)</script>',
    "'--><script>alert(1)</script><!--",
    "<![CDATA[><script>alert(1)</script>]]>",
    "<template><script>alert(1)</script></template>",
    "<details open ontoggle=alert(1)>x</details>",
    '<a href="http://127.0.0.1:9/ok" onclick="alert(1)" style="position:fixed">ok link</a>',
    '<button formaction="javascript:alert(1)">b</button>',
    '<img srcset="javascript:alert(1) 1x">',
    "</title></head><body onload=alert(1)>",
    "</textarea></noscript></style></script><script>alert(1)</script>",
    "\x00<scr\x00ipt>alert(1)</script>\x0b\x1f",
)
ALL = "".join(PAYLOADS)


def hostile_world(session: Session, now: datetime) -> dict[str, int]:
    """Payloads in every field the site shows: feed title and URLs, feed errors, article title/summary/content/
    extracted text/URL, story title and topic label."""
    evil = make_feed(
        session, "http://127.0.0.1:9/evil.xml", title="Evil <script>alert(1)</script> News", now=now,
        site_url="javascript:alert(1)", last_error=ALL, last_error_at=now, consecutive_errors=1,
    )  # fmt: skip
    good = make_feed(session, "http://127.0.0.1:9/good.xml", title=PAYLOADS[1] + " Good", now=now)
    stories = []
    for i, payload in enumerate(PAYLOADS):
        published = now - timedelta(minutes=10 * (i + 1))
        a = make_article(
            session, evil, title=f"Story {i} {payload}", published=published, summary=payload, content=ALL,
            url=f"javascript:alert({i})" if i % 2 else f"http://127.0.0.1:9/a{i}", extracted_text=payload + " x" * 10,
        )  # fmt: skip
        b = make_article(
            session, good, title=payload, published=published + timedelta(minutes=1), summary=ALL,
            url=f"data:text/html,{payload}",
        )  # fmt: skip
        c = make_article(
            session, good, title=payload, published=published + timedelta(minutes=2), summary=payload,
            duplicate_of_id=a.id, duplicate_reason="text", url=f"vbscript:x{i}",
        )  # fmt: skip
        story = make_story(session, [a, b, c], now=now, title=payload if i % 3 else "")
        tag(session, story, [payload[:150] or "empty", "Safe topic"])
        stories.append(story)
    for story, other in itertools.pairwise(stories):
        relate(session, story, [other])
    return {"first": stories[0].id, "count": len(stories)}
