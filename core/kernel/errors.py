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


# Every `extensions.code` a client can receive, with what it means. The README's list is
# generated from this table (`linkstar docs error-codes`), and a test fails when a code used
# anywhere in the code is missing here or when the README's list differs.
ERROR_CODES: dict[str, str] = {
    # any request
    "INVALID_INPUT": "an argument fails validation; the message says which and why",
    "INVALID_ID": "a global ID that does not decode, or names another type",
    "INVALID_PAGINATION": "bad first/last/after/before (page size at most 100)",
    "NOT_FOUND": "no such object, or one you may not see (both answer alike)",
    "CONFLICT": "someone else changed the object first; reload and retry",
    "UNAUTHENTICATED": "sign in first, or the token is invalid, expired or revoked",
    "FORBIDDEN": "you are signed in but may not do this",
    "RATE_LIMITED": "too many attempts; `details.retryAfterSeconds` says when to retry",
    "INTERNAL_SERVER_ERROR": "a bug on our side; never carries internals",
    # the HTTP edge and the GraphQL layer
    "GRAPHQL_VALIDATION_FAILED": "the document does not validate against the schema",
    "BAD_USER_INPUT": "a variable does not coerce to its declared type",
    "BAD_REQUEST": "the request cannot be executed as sent",
    "QUERY_TOO_DEEP": "selection depth over the limit (12)",
    "TOO_MANY_ALIASES": "more than 30 aliases",
    "QUERY_TOO_LARGE": "more than 5,000 tokens",
    "QUERY_TOO_COSTLY": "the estimated number of objects is over 25,000",
    "REQUEST_TOO_LARGE": "the body is over the size limit (4 MB JSON, 25 MB multipart)",
    "LENGTH_REQUIRED": "send the body with a Content-Length (not chunked)",
    "UNSUPPORTED_MEDIA_TYPE": "POST bodies are JSON, or multipart with the CSRF header",
    "CSRF_HEADER_REQUIRED": "multipart requests need the X-LinkStar-CSRF header",
    "METHOD_NOT_ALLOWED": "mutations need POST",
    "BATCHING_DISABLED": "send one operation per request",
    "INTROSPECTION_DISABLED": "introspection is off in production",
    # identity
    "EMAIL_TAKEN": "an account with this address already exists (staff and invitations only)",
    "EMAIL_NOT_VERIFIED": "the password is right but the address is not confirmed yet",
    "VERIFICATION_INVALID": "the address-confirmation token is invalid, used or expired",
    "INVITATION_INVALID": "the invitation is invalid, used or expired",
    "REFRESH_TOKEN_REUSED": "a rotated refresh token came back: its session was ended",
    # providers and onboarding
    "DUPLICATE_REGISTRATION": "a listed provider already has this registration number",
    "REGISTRATION_INVALID": "registration fields fail validation (`details` lists each)",
    "INVALID_USCC": "the unified social credit code fails its check character",
    "INVALID_REGISTRATION_NUMBER": "the registration number is malformed for its region",
    "PROFILE_INVALID": "category profile data fails the category's profile fields",
    "APPLICATION_EXISTS": "the provider already has a live application in this category",
    "APPLICATION_LOCKED": "the application cannot be changed in its current state",
    "APPLICATION_NOT_IN_REVIEW": "the step needs the application to be in review",
    "INVALID_TRANSITION": "not allowed in this state; see `currentState` and `allowedActions`",
    "CHECKLIST_INCOMPLETE": "submission refused: `details` lists everything missing",
    "REAPPLY_COOLDOWN": "a rejected category can be applied for again only after the cool-down",
    "FILE_EMPTY": "the uploaded file is empty",
    "FILE_TOO_LARGE": "the file is over the requirement's size limit",
    "FILE_TYPE_NOT_ALLOWED": "the file's type (read from its bytes) is not allowed here",
    "DOCUMENT_EXPIRED": "the document's expiry date has passed",
    "AGREEMENT_VERSION_MISMATCH": "sign the agreement's current version and text hash",
    "INTERVIEW_REQUIRED": "the category requires an interview before approval",
    "INTERVIEW_NOT_PASSED": "the interview did not pass",
    "NO_INTERVIEW": "no interview is scheduled",
    "ALREADY_EXTENDED": "probation can be extended only once",
    # KPI data and standing
    "BATCH_INVALID": "a report batch is refused whole; `details.records` lists the problems",
    "BATCH_TOO_LARGE": "more records in one report than allowed",
    "THRESHOLD_NOT_STRICTER": "a provider's own alert line must be stricter than the platform's",
    "TIER_SKIP": "tiers change one level at a time",
    "APPEAL_EXISTS": "an appeal on this subject is already open",
    "APPEAL_DEADLINE_PASSED": "appeals are filed within 30 days",
    "APPEAL_ROUNDS_EXHAUSTED": "no further appeal round is allowed",
    # KPI verdicts
    "PERIOD_NOT_CLOSED": "a month is evaluated only after it and its reporting grace period end",
    "NOT_PENDING": "the observation claim was already reviewed",
    "REASON_REQUIRED": "this decision needs a reason",
    # standing, onboarding review and four eyes
    "PROVIDER_BARRED": "a vetoed provider cannot apply or register again until staff lift the bar",
    "NOT_ASSIGNEE": "only the reviewer assigned to the application decides it (admins reassign)",
    "PROBATION_NOT_OVER": "passing probation against the recommendation waits for its end date",
    "INTERVIEW_NOT_HELD_YET": "an interview cannot be recorded before its scheduled time",
    "SAME_APPROVER": "a four-eyes decision needs a second, different staff member",
    "APPROVAL_PENDING": "the same decision already waits for a second staff member",
    "UNKNOWN_DOCUMENT": "the evidence names a document that does not exist or you cannot see",
    "DOCUMENT_OF_ANOTHER_PROVIDER": "evidence must be a document of the provider it is about",
    "DOCUMENT_PURGED": "the document's retention ended and its bytes were removed (HTTP 410)",
    "FILE_CONTENT_REFUSED": "the file's structure or active content is refused (PDF, CSV, xlsx)",
    "EVIDENCE_TAMPERED": "a stored document no longer matches its recorded hash (HTTP 409)",
    # money
    "UNBALANCED_ENTRY": "a journal entry's debits and credits differ (a bug if ever seen)",
    "ALREADY_REVERSED": "a journal entry is reversed at most once, and a reversal never",
    "CHARGE_NOT_OPEN": "a PAID or WAIVED charge takes no payment or waiver",
    "CURRENCY_MISMATCH": "money in another currency than the charge's; nothing is converted",
    "INVALID_AMOUNT": "an amount that is not positive or has more decimals than its currency",
    "OVERPAYMENT": "a payment above what the charge still asks for",
    "DUPLICATE_PAYMENT": "this bank reference is already recorded for the charge",
    "INVALID_BANK_REFERENCE": "a bank reference of 1 to 120 characters is required",
    "INVALID_CYCLE": "a settlement cycle is a month (2026-10) or a quarter (2026-Q4)",
    "CYCLE_NOT_CLOSED": "a settlement cycle is settled only after it has ended",
    "SAME_PERSON": "whoever approved a payout cannot also pay it",
    # the marketplace
    "DUPLICATE": "the same request (same idempotency or content) was already created",
    "INTAKE_RESTRICTED": "the provider is under restricted intake or terminated: no new orders",
    "CAPACITY_FULL": "the provider has as many open orders as it declared it can take",
    # live updates
    "WEBHOOK_URL_REFUSED": "a webhook must be HTTPS to a public address (in production)",
    "SUBSCRIBER_TOO_SLOW": "a subscription fell too far behind and was ended; resume with `after`",
    # the request edge
    "MALFORMED_REQUEST": "the body is not a GraphQL request (JSON object, sane nesting, multipart)",
    "INVALID_TEXT": "text with a NUL character or a lone surrogate, anywhere in the request",
    "DATE_OUT_OF_RANGE": "a DateTime outside 2000-2199 (UTC) or a Date outside 1900-2199",
    "TEXT_TOO_LONG": "a text longer than its field allows (`details` names field and maximum)",
    "REQUEST_TIMEOUT": "the request's headers or body arrived too slowly (HTTP 408)",
    "SERVICE_UNAVAILABLE": "the database is unreachable right now (HTTP 503, `Retry-After`)",
    "AUDIT_UNAVAILABLE": "the audit entry could not be written, so the mutation did not run",
    # the command line only
    "CONFIGURATION": "the environment, database URL or port is unusable (CLI, start-up)",
    "PLUGIN_CONTRACT": "a plugin breaks the plugin contract; the process does not start",
    "LINKSTAR_ERROR": "the base code of LinkStarError (not raised as such)",
}


def error_code_table() -> str:
    """The Markdown table of ERROR_CODES that README.md embeds (between its markers)."""
    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in ERROR_CODES.items()]
    return "\n".join(lines) + "\n"
