"""Configuration: one TOML file read once into frozen, validated dataclasses.

The dataclasses below are the single source of truth for every setting: their field metadata carries
the documentation that `aggregator config-reference` prints and the README reproduces (a test keeps the
two in step). Unknown keys, wrong types and bad values raise :class:`ConfigError` naming the file, the
key path, the bad value and what is allowed, so nothing starts on a bad configuration.
"""

from __future__ import annotations

import logging
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError

log = logging.getLogger(__name__)

ENV_VAR = "AGGREGATOR_CONFIG"
DEFAULT_FILE = "config.toml"
PROJECT_URL = "https://github.com/aggregator-news/aggregator"
DEFAULT_USER_AGENT = f"aggregator/0.1 (+{PROJECT_URL})"

Check = Callable[[Any], str | None]
FulltextMode = Literal["auto", "always", "never"]


def setting(default: Any, doc: str, check: Check | None = None) -> Any:
    """A dataclass field with its documentation and an optional value check (returns an error or None)."""
    if isinstance(default, list | dict):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata={"doc": doc, "check": check})


@dataclass(frozen=True)
class Range:
    """A number setting's allowed range: ``low`` to ``high`` (``low`` itself excluded if ``above``). Every
    number setting has one, so no value reaches the code that the code cannot use (an infinite deadline, a
    size cap past 64 bits, a hundred thousand worker processes, port 70000)."""

    low: float
    high: float
    above: bool = False  # the value must be greater than ``low``, not equal to it

    def __call__(self, value: Any) -> str | None:
        ok = (value > self.low if self.above else value >= self.low) and value <= self.high
        return None if ok else f"is out of range (allowed: {self.describe()})"

    def describe(self) -> str:
        low, high = _number(self.low), _number(self.high)
        return f"greater than {low}, at most {high}" if self.above else f"{low} to {high}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _positive(high: float) -> Range:
    return Range(0, high, above=True)


def _count(high: float, low: float = 1) -> Range:
    return Range(low, high)


_fraction = Range(0, 1)
_non_negative = Range(0, 1000)  # penalties and weights of the story engine
DAY_S, YEAR_H, YEAR_MIN = 86400, 8760, 525600


def _header_text(max_length: int) -> Check:
    """A string that goes into an HTTP or email header: line breaks are refused for every string setting
    (see :func:`_convert`); this bounds the length too."""

    def check(value: str) -> str | None:
        return None if len(value) <= max_length else f"is too long: at most {max_length} characters"

    return check


def check_http_url(value: str) -> str | None:
    """None for an absolute http(s) URL whose host the HTTP client can connect to, else the problem."""
    if value.split(":", 1)[0].lower() not in ("http", "https"):
        return "must be an absolute http:// or https:// URL"
    from .ingest.guard import URLRefusedError, connect_target  # here: the story engine reads this module too

    try:
        connect_target(value)
    except URLRefusedError as e:
        return f"must be an absolute http:// or https:// URL: {e.reason}"
    return None


def _optional_http_url(value: str) -> str | None:
    return check_http_url(value) if value else None


def check_cron(value: str) -> str | None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as e:
        return f"is not a valid cron expression ({e}); expected five fields like '0 7 * * *'"
    return None


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def _email(value: str) -> str | None:
    return None if _EMAIL.match(value) else "must be an email address like news@example.org"


def _emails(value: tuple[str, ...]) -> str | None:
    for item in value:
        if not _EMAIL.match(item):
            return f"{item!r} is not an email address"
    return None


def _unsubscribe(value: str) -> str | None:
    if not value or value.startswith("mailto:") or check_http_url(value) is None:
        return None
    return "must be empty, a mailto: address or an http(s) URL"


def _database_url(value: str) -> str | None:
    if value and not re.match(r"^[a-z][a-z0-9+]*://", value):
        return "must be an SQLAlchemy URL such as sqlite:///data/aggregator.db or postgresql+psycopg://..."
    return None


def _networks(value: tuple[str, ...]) -> str | None:
    import ipaddress

    for item in value:
        try:
            ipaddress.ip_network(item)
        except ValueError:
            return f"{item!r} is not an IP address or network such as 192.0.2.7 or 2001:db8::/64"
    return None


def _env_name(value: str) -> str | None:
    return None if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value) else "must be an environment variable name"


@dataclass(frozen=True)
class StorageConfig:
    data_dir: Path = setting(
        Path("data"), "Directory for the database and other state (relative to the config file)."
    )
    database_url: str = setting(
        "",
        "SQLAlchemy database URL. Empty means an SQLite file `aggregator.db` in `data_dir`. "
        "PostgreSQL: `postgresql+psycopg://user@host/dbname`.",
        _database_url,
    )


@dataclass(frozen=True)
class FetchConfig:
    interval_minutes: int = setting(
        30, "Default minimum time between two polls of the same feed.", _count(YEAR_MIN)
    )
    connect_timeout: float = setting(10.0, "Seconds allowed to open a connection.", _positive(3600))
    read_timeout: float = setting(30.0, "Seconds allowed between two reads from the server.", _positive(3600))
    deadline: float = setting(
        60.0,
        "Overall seconds allowed for one request, redirects included; it starts when the request does "
        "(waiting for a free connection slot is not counted).",
        _positive(DAY_S),
    )
    max_body_bytes: int = setting(
        15 * 1024 * 1024, "Cap on the decoded size of a response body.", _count(4 * 1024**3)
    )
    max_redirects: int = setting(5, "Redirects followed for one request.", _count(50, low=0))
    concurrency: int = setting(16, "Feeds fetched at the same time.", _count(1000))
    per_host_concurrency: int = setting(2, "Requests to one host at the same time.", _count(100))
    user_agent: str = setting(
        DEFAULT_USER_AGENT, "User-Agent header sent with every request.", _header_text(500)
    )
    allow_private_networks: bool = setting(
        False,
        "Allow feeds on private, loopback and link-local addresses (for intranets). "
        "Off by default: such addresses are refused on every hop.",
    )
    allowed_networks: tuple[str, ...] = setting(
        (),
        "Addresses or networks (CIDR) allowed even when private networks are refused, "
        "e.g. one intranet host; everything else private stays refused.",
        _networks,
    )
    backoff_max_hours: float = setting(
        24.0, "Longest wait between attempts of a failing feed.", _positive(YEAR_H)
    )
    jitter_seconds: int = setting(
        60,
        "Random delay added to each feed's next poll, to spread load.",
        _count(DAY_S, low=0),
    )
    redirect_confirmations: int = setting(
        3,
        "Consecutive permanent redirects (301/308) seen before a feed's stored URL is updated.",
        _count(1000),
    )
    parse_workers: int = setting(
        0,
        "Processes that parse feeds in parallel; 0 means one per CPU core, 1 parses in the main process.",
        _count(256, low=0),
    )


@dataclass(frozen=True)
class FulltextConfig:
    default: FulltextMode = setting(
        "auto",
        "Full-text mode for feeds that do not set one: `auto` (fetch the page when the entry's text is "
        "short), `true` (always) or `false` (never).",
    )
    min_words: int = setting(
        150,
        "In `auto` mode, entries with fewer words than this get their page fetched.",
        _count(100_000, low=0),
    )
    timeout: float = setting(20.0, "Seconds allowed for extracting one page.", _positive(3600))
    max_attempts: int = setting(3, "Attempts per article before extraction is given up.", _count(100))
    respect_robots: bool = setting(True, "Honour robots.txt of article sites.")
    per_host_delay: float = setting(
        1.0,
        "Minimum seconds between two page requests to one host.",
        Range(0, 3600),
    )
    concurrency: int = setting(4, "Pages fetched at the same time.", _count(100))
    workers: int = setting(
        1,
        "Processes extracting text at the same time (extraction is CPU-bound).",
        _count(256),
    )
    retry_minutes: float = setting(
        30.0,
        "Wait before retrying a failed page; it doubles with each further failure.",
        _positive(YEAR_MIN),
    )


@dataclass(frozen=True)
class StoriesConfig:
    time_window_hours: float = setting(
        72.0,
        "How long an original is kept for finding its syndicated copies (joining a story has no such limit: "
        "the learned model weighs the time since the story's coverage).",
        _positive(10 * YEAR_H),
    )
    join_probability: float | None = setting(
        None,
        'Probability of "same event" (from the shipped, learned model) from which an article joins a story '
        "instead of starting its own; unset uses the model's own threshold, chosen on held-out data. Higher: "
        "fewer, purer stories.",
        _fraction,
    )
    max_gap_days: float = setting(
        400.0,
        "Stories without coverage for this many days leave the candidate index and are never joined.",
        _positive(36500),
    )
    max_open_stories: int = setting(
        20000,
        "Most stories kept in the candidate index (the least recently updated leave first); bounds memory "
        "and the work of rebuilding the index at the start of `aggregator cluster`.",
        _count(10_000_000),
    )
    idf_articles: int = setting(
        3000,
        "Latest clustered articles from which `aggregator cluster` relearns word weights (IDF) and each "
        "feed's boilerplate at the start of a run.",
        _count(1_000_000),
    )
    related_count: int = setting(10, 'Stories listed under "More on this story".', _count(100))
    related_window_days: int = setting(
        60,
        "How far back and forward related stories are looked for.",
        _count(3650),
    )
    topic_count: int = setting(5, 'Topics shown under "Explore more on these topics".', _count(100))


@dataclass(frozen=True)
class SiteConfig:
    output_dir: Path = setting(
        Path("data/site"), "Where the static site is written (relative to the config file)."
    )
    title: str = setting("Aggregator", "Site title.")
    base_url: str = setting(
        "http://localhost:8000/", "Public URL of the site, used for absolute links.", check_http_url
    )
    top_hours: int = setting(
        48,
        "The front page shows stories with coverage in the last this many hours.",
        _count(YEAR_H),
    )
    top_count: int = setting(40, "Stories on the front page.", _count(1000))


@dataclass(frozen=True)
class NewsletterConfig:
    enabled: bool = setting(False, "Send the digest when the schedule says it is due.")
    schedule: str = setting("0 7 * * *", "Cron expression (UTC) for the digest.", check_cron)
    lookback_hours: int = setting(24, "Period covered by the first digest.", _count(YEAR_H))
    max_stories: int = setting(20, "Stories in one digest.", _count(1000))
    delivery: Literal["smtp", "dir"] = setting(
        "dir", "`smtp` sends by SMTP; `dir` writes `.eml` files to `out_dir`."
    )
    out_dir: Path = setting(
        Path("data/newsletter"), "Directory for `.eml` files (relative to the config file)."
    )
    sender: str = setting("aggregator@localhost", "From address.", _email)
    recipients: tuple[str, ...] = setting((), "To addresses.", _emails)
    subject_prefix: str = setting(
        "News digest",
        "Start of the Subject line; the date and top headline follow.",
        _header_text(200),
    )
    list_id: str = setting("aggregator.localhost", "List-Id header value.", _header_text(200))
    list_unsubscribe: str = setting(
        "", "List-Unsubscribe target: a mailto: address or an http(s) URL.", _unsubscribe
    )
    smtp_host: str = setting("localhost", "SMTP server.", _header_text(253))
    smtp_port: int = setting(587, "SMTP port.", _count(65535))
    smtp_security: Literal["starttls", "tls", "none"] = setting(
        "starttls", "`starttls`, `tls` (implicit TLS, usually port 465) or `none`."
    )
    smtp_username: str = setting("", "SMTP login; empty sends without logging in.", _header_text(500))
    smtp_timeout: float = setting(30.0, "Seconds allowed for each SMTP network operation.", _positive(3600))
    password_env: str = setting(
        "AGGREGATOR_SMTP_PASSWORD", "Name of the environment variable holding the SMTP password.", _env_name
    )


@dataclass(frozen=True)
class ScheduleConfig:
    poll_minutes: int = setting(10, "The daemon looks for due feeds this often.", _count(10080))
    render: str = setting(
        "*/30 * * * *", "Cron expression (UTC) for rebuilding the site in the daemon.", check_cron
    )


@dataclass(frozen=True)
class FeedConfig:
    url: str = setting("", "Feed URL (http or https).", check_http_url)
    title: str = setting("", "Display name; empty takes the feed's own title.")
    outlet: str = setting(
        "",
        "The outlet (brand) the feed belongs to, e.g. `CNN`: feeds of one outlet count once in a story's "
        'coverage and ranking, and one outlet\'s copies are not "also published by". Empty: derived from the '
        "feed's own title and site (a brand, not a host: CNN's site and its YouTube channel are one outlet).",
    )
    fulltext: FulltextMode | None = setting(
        None, "Full-text mode for this feed; unset uses `fulltext.default`."
    )
    ignore_categories: tuple[str, ...] = setting(
        (),
        'Categories of this feed that are not topics (case-insensitive), e.g. `["Local", "Breaking"]`; ids, '
        "paywall and format markers, the feed's own name and categories on nearly all its items are dropped anyway.",
    )


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    base_dir: Path = Path(".")
    storage: StorageConfig = field(default_factory=StorageConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    fulltext: FulltextConfig = field(default_factory=FulltextConfig)
    stories: StoriesConfig = field(default_factory=StoriesConfig)
    site: SiteConfig = field(default_factory=SiteConfig)
    newsletter: NewsletterConfig = field(default_factory=NewsletterConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    feeds: tuple[FeedConfig, ...] = ()

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.storage.data_dir)

    @property
    def database_url(self) -> str:
        if self.storage.database_url:
            return self.storage.database_url
        return f"sqlite:///{self.data_dir / 'aggregator.db'}"

    @property
    def site_dir(self) -> Path:
        return self.resolve(self.site.output_dir)

    @property
    def newsletter_dir(self) -> Path:
        return self.resolve(self.newsletter.out_dir)

    def resolve(self, path: Path) -> Path:
        # normpath, not resolve(): the site folder is a symlink to the current build and must stay the link.
        return Path(os.path.normpath(path if path.is_absolute() else self.base_dir / path))

    def smtp_password(self, environ: Mapping[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        return env.get(self.newsletter.password_env, "")


SECTIONS: dict[str, type] = {
    "storage": StorageConfig,
    "fetch": FetchConfig,
    "fulltext": FulltextConfig,
    "stories": StoriesConfig,
    "site": SiteConfig,
    "newsletter": NewsletterConfig,
    "schedule": ScheduleConfig,
}


def find_config_path(
    explicit: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The file to read: --config, else $AGGREGATOR_CONFIG, else ./config.toml if present, else None."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    default = Path(DEFAULT_FILE)
    return default if default.is_file() else None


def load_config(path: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a configuration file; ``None`` gives the built-in defaults (no feeds)."""
    env = os.environ if environ is None else environ
    if path is None:
        return Config(base_dir=Path.cwd())
    p = Path(path)
    where = str(p)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(where, None, "file not found (set --config or AGGREGATOR_CONFIG)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(where, None, f"cannot read the file: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(where, None, f"not valid TOML: {e}") from e
    return replace(config_from_dict(raw, where, p.resolve().parent, env), path=p)


def config_from_dict(
    raw: Mapping[str, Any], where: str, base_dir: Path, environ: Mapping[str, str] | None = None
) -> Config:
    env = os.environ if environ is None else environ
    allowed = [*SECTIONS, "feeds"]
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "feeds":
            continue
        if key not in SECTIONS:
            raise ConfigError(where, key, f"unknown key; allowed top-level keys: {', '.join(allowed)}")
        if not isinstance(value, dict):
            raise ConfigError(where, key, f"must be a table [{key}], got {_show(value)}")
        sections[key] = _build(SECTIONS[key], value, where, key)
    feeds = _build_feeds(raw.get("feeds", []), where)
    config = Config(path=None, base_dir=base_dir, feeds=feeds, **sections)
    _check_whole(config, where, env)
    return config


def _build_feeds(value: Any, where: str) -> tuple[FeedConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError(where, "feeds", f"must be an array of tables ([[feeds]]), got {_show(value)}")
    feeds = []
    seen: dict[str, int] = {}
    for i, item in enumerate(value):
        key = f"feeds[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(where, key, f"must be a table with a url, got {_show(item)}")
        if "url" not in item:
            raise ConfigError(where, f"{key}.url", "is required")
        feed = _build(FeedConfig, item, where, key)
        if feed.url in seen:
            raise ConfigError(
                where, f"{key}.url", f"{feed.url!r} is already listed as feeds[{seen[feed.url]}]"
            )
        seen[feed.url] = i
        feeds.append(feed)
    return tuple(feeds)


# Settings of earlier versions that no longer mean anything: accepted with a warning so that an old
# configuration keeps working.
RETIRED = frozenset(
    f"stories.{name}"
    for name in [
        "join_threshold",
        "headline_threshold",
        "full_text_terms",
        "gap_penalty",
        "fresh_hours",
        "late_penalty",
        "min_full_similarity",
        "young_story_penalty",
        "undated_penalty",
        "undated_name_weight",
        "undated_name_neutral",
        "merge_threshold",
        "duplicate_threshold",
    ]
)


def _build(cls: type, data: Mapping[str, Any], where: str, prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    data = dict(data)
    for key in [k for k in data if f"{prefix}.{k}" in RETIRED]:
        log.warning(
            "%s: %s.%s is no longer used (stories are joined by a learned model); ignored", where, prefix, key
        )
        del data[key]
    for key in data:
        if key not in known:
            raise ConfigError(
                where, f"{prefix}.{key}", f"unknown key; allowed keys in [{prefix}]: {', '.join(known)}"
            )
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        key = f"{prefix}.{f.name}"
        value = _convert(hints[f.name], data[f.name], where, key)
        check = f.metadata.get("check")
        if check is not None and value is not None:
            problem = check(value)
            if problem:
                raise ConfigError(where, key, f"{_show(data[f.name])} {problem}")
        kwargs[f.name] = value
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(options[0], value, where, key)
    if origin is Literal:
        return _literal(hint, value, where, key)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(where, key, f"must be true or false, got {_show(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(where, key, f"must be a whole number, got {_show(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(where, key, f"must be a number, got {_show(value)}")
        if not math.isfinite(value):
            raise ConfigError(where, key, f"must be a finite number, got {_show(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(where, key, f"must be a string, got {_show(value)}")
        return _plain_text(value, where, key)
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(where, key, f"must be a path (a non-empty string), got {_show(value)}")
        return Path(_plain_text(value, where, key)).expanduser()
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(where, key, f"must be a list of strings, got {_show(value)}")
        return tuple(_plain_text(v, where, key) for v in value)
    raise TypeError(f"no converter for {hint!r}")  # a programming error in this module


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _plain_text(value: str, where: str, key: str) -> str:
    """Refuses control characters: a line break in a string that ends up in a header (the User-Agent, an
    email's From or Subject) would split it, and nowhere else does one make sense either."""
    found = _CONTROL.search(value)
    if found:
        raise ConfigError(
            where, key, f"{_show(value)} must not contain control characters (found {found.group()!r})"
        )
    return value


def _literal(hint: Any, value: Any, where: str, key: str) -> Any:
    allowed = typing.get_args(hint)
    if set(allowed) == {"auto", "always", "never"}:  # fulltext: TOML users write true/false/"auto"
        if value is True:
            return "always"
        if value is False:
            return "never"
        if value == "auto":
            return "auto"
        raise ConfigError(where, key, f'must be true, false or "auto", got {_show(value)}')
    if value not in allowed:
        raise ConfigError(where, key, f"must be one of {', '.join(map(repr, allowed))}, got {_show(value)}")
    return value


def _check_whole(config: Config, where: str, env: Mapping[str, str]) -> None:
    from .ingest.guard import AddressPolicy, URLRefusedError, connect_target

    policy = AddressPolicy.from_settings(config.fetch.allow_private_networks, config.fetch.allowed_networks)
    for i, feed in enumerate(config.feeds):
        try:
            connect_target(feed.url, policy)
        except URLRefusedError as e:
            raise ConfigError(
                where,
                f"feeds[{i}].url",
                f"{_show(feed.url)} is refused: {e.reason} (see fetch.allow_private_networks and "
                "fetch.allowed_networks)",
            ) from None
    nl = config.newsletter
    if nl.enabled and not nl.recipients:
        raise ConfigError(where, "newsletter.recipients", "is empty but the newsletter is enabled")
    if nl.enabled and nl.delivery == "smtp" and nl.smtp_username and not env.get(nl.password_env):
        raise ConfigError(
            where,
            "newsletter.password_env",
            f"the environment variable {nl.password_env} is not set; it must hold the SMTP password "
            f"for {nl.smtp_username!r}",
        )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def reference() -> list[tuple[str, str, str, str]]:
    """(key, type, default, doc) for every setting: drives `aggregator config-reference` and the README."""
    rows = []
    for section, cls in [*SECTIONS.items(), ("feeds[]", FeedConfig)]:
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            default = f.default if f.default is not MISSING else None
            kind = _type_name(hints[f.name])
            check = f.metadata.get("check")
            if isinstance(check, Range):
                kind += f" ({check.describe()})"
            rows.append((f"{section}.{f.name}", kind, _toml(default), f.metadata["doc"]))
    return rows


def _type_name(hint: Any) -> str:
    options = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = options[0]
        options = list(typing.get_args(hint))
    if set(options) == {"auto", "always", "never"}:
        return 'true | false | "auto"'
    if typing.get_origin(hint) is Literal:
        return " | ".join(f'"{a}"' for a in typing.get_args(hint))
    if typing.get_origin(hint) is tuple:
        return "list of strings"
    return {bool: "boolean", int: "integer", float: "number", str: "string", Path: "path"}.get(
        hint, str(hint)
    )


def _toml(value: Any) -> str:
    if value is None:
        return "(unset)"
    if value == "always":
        return "true"
    if value == "never":
        return "false"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return str(value)


def reference_markdown() -> str:
    """The configuration reference as a Markdown table (printed by `aggregator config-reference`)."""
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for key, kind, default, doc in reference():
        cells = (f"`{key}`", kind, f"`{default}`", doc)
        # A `|` ends a table cell anywhere in a row, inside code spans too, unless escaped (GFM tables).
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
