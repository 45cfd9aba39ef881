"""The shape of a GraphQL request, checked before GraphQL sees it.

Whatever a client sends, a malformed request is a 4xx with a JSON body and a stable code:

| problem | status | code |
|---|---|---|
| body not UTF-8; a string with a NUL or a lone surrogate | 400 | INVALID_TEXT |
| not JSON, truncated, not an object; `query`/`variables` mistyped | 400 | MALFORMED_REQUEST |
| JSON deeper than MAX_JSON_DEPTH; a number over MAX_NUMBER_DIGITS | 400 | MALFORMED_REQUEST |
| a document over MAX_DOCUMENT_CHARS (comments count) | 413 | QUERY_TOO_LARGE |
| multipart: over MAX_PARTS parts, a file name over MAX_FILENAME_CHARS | 400 | MALFORMED_REQUEST |
"""

from __future__ import annotations

import json
from typing import Any

from linkstar.core.kernel.errors import InvalidText
from linkstar.core.kernel.errors import MalformedRequest as MalformedRequestError
from linkstar.core.kernel.text import is_valid_text

MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 40  # far beyond any Int or Float GraphQL accepts
MAX_DOCUMENT_CHARS = 100_000
MAX_PARTS = 50
MAX_FILENAME_CHARS = 255
_CONTAINERS = (dict, list)  # a tuple: `dict | list` would build a union object at every test


class MalformedRequest(Exception):
    """A request GraphQL cannot be asked to run; carries its HTTP status and stable code."""

    def __init__(
        self, message: str, code: str = MalformedRequestError.code, status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def _number(text: str) -> Any:
    if len(text) > MAX_NUMBER_DIGITS:
        raise MalformedRequest(f"a number in the body has more than {MAX_NUMBER_DIGITS} digits")
    return float(text) if any(c in text for c in ".eE") else int(text)


def _check(value: Any, text_checked: bool = False) -> None:
    """Depth and text validity of a decoded JSON value, iteratively (no recursion limit).

    `text_checked`: the caller knows no string in it can hold invalid text, so only containers
    are walked (a 10,000-record report holds 70,000 strings).
    """
    if text_checked:
        stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, _CONTAINERS) else []
        while stack:
            item, depth = stack.pop()
            if depth > MAX_JSON_DEPTH:
                raise MalformedRequest(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            deeper = depth + 1
            stack.extend([(child, deeper) for child in children if isinstance(child, _CONTAINERS)])
        return
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not is_valid_text(item):
                raise MalformedRequest(
                    "text may not contain NUL characters or lone surrogates", InvalidText.code
                )
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise MalformedRequest(f"the body is nested deeper than {MAX_JSON_DEPTH} levels")
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)


def decode_json(raw: bytes | str, what: str = "the body") -> Any:
    """Strict UTF-8 JSON with bounded depth and numbers, and only valid text in it."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequest(f"{what} is not valid UTF-8", InvalidText.code) from None
    try:
        value = json.loads(raw, parse_int=_number, parse_float=_number)
    except MalformedRequest:
        raise
    except RecursionError:
        raise MalformedRequest(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise MalformedRequest(f"{what} is not valid JSON: {exc.args[0][:120]}") from None
    # JSON text cannot carry a NUL or a control character unescaped (strict parsing refuses
    # them) and strict UTF-8 has no lone surrogates: without a `\\u` escape and with valid
    # text as a whole, every string decoded from it is valid text.
    _check(value, text_checked="\\u" not in raw and is_valid_text(raw))
    return value


def check_document(query: Any) -> None:
    """The `query` member: a string of bounded length."""
    if not isinstance(query, str) or not query.strip():
        raise MalformedRequest("`query` must be a non-empty string")
    if len(query) > MAX_DOCUMENT_CHARS:
        raise MalformedRequest(
            f"the GraphQL document exceeds {MAX_DOCUMENT_CHARS} characters",
            "QUERY_TOO_LARGE",
            413,
        )
    if not is_valid_text(query):
        raise MalformedRequest(
            "text may not contain NUL characters or lone surrogates", InvalidText.code
        )


def check_operation(payload: Any) -> None:
    """A decoded request: an object with a document, variables and an operation name."""
    if not isinstance(payload, dict):
        raise MalformedRequest("the body must be a JSON object with a `query`")
    check_document(payload.get("query"))
    if not isinstance(payload.get("variables") or {}, dict):
        raise MalformedRequest("`variables` must be an object")
    if not isinstance(payload.get("operationName") or "", str):
        raise MalformedRequest("`operationName` must be a string")
    if not isinstance(payload.get("extensions") or {}, dict):
        raise MalformedRequest("`extensions` must be an object")


def check_query_params(params: Any) -> None:
    """A GET request's `query`, `variables` and `operationName` parameters."""
    for name in ("query", "variables", "operationName"):
        if not is_valid_text(params.get(name) or ""):
            raise MalformedRequest(
                "text may not contain NUL characters or lone surrogates", InvalidText.code
            )
    if params.get("query") is not None:
        check_document(params.get("query"))
    variables = params.get("variables")
    if variables and not isinstance(decode_json(variables, "`variables`"), dict):
        raise MalformedRequest("`variables` must be an object")


def check_form(form: Any) -> None:
    """A multipart upload (GraphQL multipart request spec): bounded parts and file names."""
    if len(form.multi_items()) > MAX_PARTS:
        raise MalformedRequest(f"a multipart request may have at most {MAX_PARTS} parts")
    for _, value in form.multi_items():
        if isinstance(value, str):
            continue
        name = value.filename or ""
        if len(name) > MAX_FILENAME_CHARS:
            raise MalformedRequest(f"file names may have at most {MAX_FILENAME_CHARS} characters")
        if not is_valid_text(name):
            raise MalformedRequest(
                "text may not contain NUL characters or lone surrogates", InvalidText.code
            )
    operations = form.get("operations")
    if not isinstance(operations, str):
        raise MalformedRequest("a multipart request needs an `operations` field")
    check_operation(decode_json(operations, "`operations`"))
    if not isinstance(decode_json(form.get("map") or "{}", "`map`"), dict):
        raise MalformedRequest("`map` must be an object")
