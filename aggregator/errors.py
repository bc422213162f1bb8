"""The family of errors aggregator raises on purpose.

Every error a user can act on derives from :class:`AggregatorError`; the CLI prints its message
and exits non-zero without a traceback. Programming errors are not wrapped and propagate.
"""

from __future__ import annotations

from typing import Any


class AggregatorError(Exception):
    """Base class of every error with a message meant for the user."""


class ConfigError(AggregatorError, ValueError):
    """The configuration file is missing, unreadable or has a bad value."""

    def __init__(self, path: str, key: str | None, message: str) -> None:
        self.path = path
        self.key = key
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {message}")


class DatabaseError(AggregatorError):
    """The database cannot be used as it is."""


class DatabaseBusyError(DatabaseError):
    """Another process held a write transaction on the database longer than the busy timeout."""


class SchemaOutdatedError(DatabaseError):
    """The database schema is older (or newer) than this version of aggregator."""


class LockedError(AggregatorError):
    """Another aggregator process holds the run lock."""


class StateError(AggregatorError, OSError):
    """A file or folder aggregator keeps its state in cannot be used: a file where a folder should be, a
    folder where the lock file should be, no permission, a full disk."""


class FeedError(AggregatorError):
    """Something went wrong with one feed; carries the feed URL."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        self.reason = message
        super().__init__(f"{url}: {message}")

    def __reduce__(self) -> tuple[type[FeedError], tuple[str, str], dict[str, Any]]:
        # Picklable with both arguments and every attribute a subclass adds (FetchError.permanent), so
        # errors cross the parser's process pool intact.
        return (type(self), (self.url, self.reason), dict(self.__dict__))


class FeedNotFoundError(FeedError, LookupError):
    """No feed with this URL is stored."""


class FeedExistsError(FeedError):
    """A feed with this URL is already stored."""


class InvalidFeedURLError(FeedError, ValueError):
    """The URL cannot be a feed URL (not http/https, no host, ...)."""


class FetchError(FeedError):
    """The HTTP request for a feed or page failed.

    ``permanent`` is set where the error is raised when asking again cannot help (the body is over the
    size cap, the address guard refuses the host, a redirect loop, a URL we never fetch); timeouts and
    connection failures are not permanent. Retry policies read this field, never the message.
    """

    def __init__(self, url: str, message: str, *, permanent: bool = False) -> None:
        super().__init__(url, message)
        self.permanent = permanent


class ParseError(FeedError):
    """The body fetched is not a feed we can read."""


class OPMLError(AggregatorError, ValueError):
    """An OPML file cannot be read."""


class ExtractError(AggregatorError):
    """Full-text extraction of an article page failed."""


class ExtractTimeoutError(ExtractError, TimeoutError):
    """Extraction of one page overran its time limit; the worker running it was killed."""


class NewsletterError(AggregatorError):
    """The newsletter could not be built or delivered."""


class RenderError(AggregatorError):
    """The static site could not be built or published."""
