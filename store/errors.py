"""The one family of errors the store layer raises; each message is something a person can act on."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store layer raises on purpose."""

    title = "Store error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnsupportedURI(StoreError):
    title = "Unsupported tracking URI"


class NotFound(StoreError):
    title = "Not found"


class ReadOnlyError(StoreError):
    title = "Read-only store"


class SchemaError(StoreError):
    title = "Unknown schema"


class Unreachable(StoreError):
    title = "Server unreachable"


class AuthFailed(StoreError):
    title = "Authentication failed"


class PermissionDenied(AuthFailed):
    """The server knows who is asking and refuses the operation (HTTP 403 / PERMISSION_DENIED)."""

    title = "Permission denied"


class HostNotAllowed(AuthFailed):
    """The server's DNS-rebinding guard refused the Host header this client sent."""

    title = "Host not allowed by the server"


class ServerError(StoreError):
    """The server failed (5xx) or answered something that is not MLflow's JSON."""

    title = "Server error"


class UnsafePath(StoreError):
    title = "Unsafe artifact path"


class DestinationExists(StoreError):
    """A download would overwrite a file the user did not ask to replace."""

    title = "File exists"


class DownloadCancelled(StoreError):
    title = "Download cancelled"


class InvalidValue(StoreError):
    """A value the store refuses before writing anything (mirrors MLflow's validation)."""

    title = "Invalid value"


class FilterSyntaxError(StoreError):
    """A filter or order_by string that does not parse.

    `position` is the 0-based character offset in `text` where the problem starts;
    `expected` says what would have been valid there.
    """

    title = "Bad filter"

    def __init__(self, message: str, *, text: str, position: int, expected: str = ""):
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.expected = expected
        detail = f"{message} at position {self.position}"
        if expected:
            detail += f" (expected {expected})"
        super().__init__(detail)
        self.reason = message
