"""Errors with a stable machine-readable code, a message and a suggestion for the fix."""

from __future__ import annotations

from typing import Any


class LinkStarError(Exception):
    """Base class for errors that are safe to show to a caller.

    `code` is stable API: clients branch on it (it becomes `extensions.code` in GraphQL).
    """

    code = "LINKSTAR_ERROR"

    def __init__(
        self,
        message: str,
        *,
        suggestion: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion
        if code is not None:
            self.code = code
        self.details = details or {}

    def __str__(self) -> str:
        if self.suggestion:
            return f"{self.message} Suggestion: {self.suggestion}"
        return self.message


class InvalidInput(LinkStarError):
    """The caller sent something that fails validation."""

    code = "INVALID_INPUT"


class NotFound(LinkStarError):
    """The object does not exist (or the caller may not know that it exists)."""

    code = "NOT_FOUND"


class Conflict(LinkStarError):
    """Someone else changed the object first; reload and retry."""

    code = "CONFLICT"


class PluginContractError(LinkStarError):
    """A plugin's contribution breaks the plugin contract; the process must not start."""

    code = "PLUGIN_CONTRACT"

    def __init__(self, plugin: str, problem: str, *, suggestion: str | None = None) -> None:
        super().__init__(f"plugin {plugin!r}: {problem}", suggestion=suggestion)
        self.plugin = plugin
        self.problem = problem


class ConfigurationError(LinkStarError):
    """The process configuration (environment, database URL, …) is unusable."""

    code = "CONFIGURATION"


class DatabaseUnavailable(LinkStarError):
    """The database cannot be reached right now (stopped, frozen, locked); retry shortly.

    Answered with HTTP 503 and `Retry-After`.
    """

    code = "SERVICE_UNAVAILABLE"


class AuditUnavailable(LinkStarError):
    """A mutation's audit entry could not be written, so the mutation did not run."""

    code = "AUDIT_UNAVAILABLE"


class MalformedRequest(LinkStarError):
    """The HTTP request is not a GraphQL request: not a JSON object, truncated, mistyped
    members, nested too deep, numbers too long, bad multipart framing. HTTP 400."""

    code = "MALFORMED_REQUEST"


class InvalidText(InvalidInput):
    """Text with a NUL character or a lone surrogate, anywhere in a request (ids included);
    refused before any resolver runs. HTTP 400 for variables, a GraphQL error for literals."""

    code = "INVALID_TEXT"


class DateOutOfRange(InvalidInput):
    """A DateTime outside 2000–2199 (UTC) or a Date outside 1900–2199."""

    code = "DATE_OUT_OF_RANGE"


class TextTooLong(InvalidInput):
    """A text longer than the column that stores it (the same on SQLite and PostgreSQL);
    `details` names the field and its maximum length."""

    code = "TEXT_TOO_LONG"


class RequestTimeout(LinkStarError):
    """The request's headers or body arrived too slowly; the connection is closed. HTTP 408."""

    code = "REQUEST_TIMEOUT"
