"""Every error newsbot raises on purpose derives from :class:`NewsbotError`.

The tree::

    NewsbotError
    ├── ConfigError              invalid configuration (names the key)
    ├── FetchError               a URL could not be fetched
    │   ├── InvalidURLError      not http(s), malformed, too long
    │   ├── BlockedAddressError  resolves to a loopback/private/reserved address
    │   ├── FetchTimeoutError    connect/read timeout or the total deadline passed
    │   ├── TooManyRedirectsError
    │   ├── ResponseTooLargeError  decoded body or headers over the cap
    │   ├── HTTPStatusError      an error status (carries status and Retry-After)
    │   └── NetworkError         DNS failure, refused connection, TLS error
    ├── ParseError               bytes that are not a feed we can read
    ├── ExtractionError          no main text found in an article page
    ├── SummaryError             an article could not be summarised within the workers' limits
    ├── DeliveryError            a message could not be delivered (permanent or not)
    ├── QueryError               a search or subscription query that cannot be parsed
    ├── ValidationError          a user-supplied argument out of range
    └── StorageError             the database failed in a way callers should report
        └── StorageBusyError     the database stayed locked by another writer: try again
            └── StorageFullError the disk holding the database is full: try again later
"""

from __future__ import annotations

__all__ = [
    "BlockedAddressError",
    "ConfigError",
    "DeliveryError",
    "ExtractionError",
    "FetchError",
    "FetchTimeoutError",
    "HTTPStatusError",
    "InvalidURLError",
    "NetworkError",
    "NewsbotError",
    "ParseError",
    "QueryError",
    "ResponseTooLargeError",
    "StorageBusyError",
    "StorageError",
    "StorageFullError",
    "SummaryError",
    "TooManyRedirectsError",
    "ValidationError",
]


class NewsbotError(Exception):
    """Root of newsbot's errors; ``str(error)`` is a sentence fit to show a user."""


class ConfigError(NewsbotError):
    """The configuration is invalid; ``key`` names the offending setting."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"config error in {key}: {message}")
        self.key = key


class FetchError(NewsbotError):
    """A URL could not be fetched."""


class InvalidURLError(FetchError):
    """The URL is malformed, too long, or not http/https."""


class BlockedAddressError(FetchError):
    """The host resolves to an address that feeds may not reach."""


class FetchTimeoutError(FetchError):
    """Connecting, reading, or the whole request took too long."""


class TooManyRedirectsError(FetchError):
    """The server redirected more often than allowed."""


class ResponseTooLargeError(FetchError):
    """The decoded response body or its headers exceeded the configured cap."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, status: int, url: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.url = url
        self.retry_after = retry_after


class NetworkError(FetchError):
    """DNS, connection or TLS failure."""


class ParseError(NewsbotError):
    """The document is not a feed or article we can read."""


class ExtractionError(NewsbotError):
    """No main text could be extracted from an article page."""


class SummaryError(NewsbotError):
    """An article could not be summarised within the workers' time and memory limits."""


class DeliveryError(NewsbotError):
    """A message could not be delivered.

    ``permanent`` failures (DMs closed, unknown channel, missing access) will not succeed on a
    retry; others are retried, after ``retry_after`` seconds when the service said so.
    """

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class QueryError(NewsbotError):
    """A search or subscription query that cannot be parsed."""


class ValidationError(NewsbotError):
    """A user-supplied argument is out of range or malformed."""


class StorageError(NewsbotError):
    """The database failed in a way the caller should report."""


class StorageBusyError(StorageError):
    """Another connection held the database's write lock longer than the busy timeout.

    Nothing was written; the same work can simply be tried again later."""


class StorageFullError(StorageBusyError):
    """The disk holding the database is full: nothing was written; try again later."""
