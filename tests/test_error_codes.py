"""Every error code the code can answer is in the ERROR_CODES catalogue the README is generated
from (issue #12, point 12)."""

from __future__ import annotations

import re

from linkstar.core.kernel.errors import ERROR_CODES
from tests.harness import REPO

PATTERNS = [
    re.compile(r"\bcode\s*=\s*\"([A-Z][A-Z_]+)\""),  # class attribute or keyword argument
    re.compile(r"graphql_error\(\s*\d+,\s*\"([A-Z][A-Z_]+)\""),  # refusals at the HTTP edge
    re.compile(r"\"code\":\s*\"([A-Z][A-Z_]+)\""),  # extensions built by hand
]


def used_codes() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in ("core", "schema", "plugins"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text()
            for pattern in PATTERNS:
                for code in pattern.findall(text):
                    found.setdefault(code, str(path.relative_to(REPO)))
    errors = (REPO / "schema" / "errors.py").read_text()
    for code in re.findall(r"\"([A-Z][A-Z_]{3,})\"", errors):
        found.setdefault(code, "schema/errors.py")
    return found


def test_every_code_in_use_is_catalogued() -> None:
    missing = {code: where for code, where in used_codes().items() if code not in ERROR_CODES}
    assert not missing, f"add these to ERROR_CODES in core/kernel/errors.py: {missing}"


def test_the_catalogue_finds_codes_wherever_they_are_raised() -> None:
    used = used_codes()
    for code in (
        "CHECKLIST_INCOMPLETE",
        "FILE_TYPE_NOT_ALLOWED",
        "DOCUMENT_EXPIRED",
        "AGREEMENT_VERSION_MISMATCH",
        "INVALID_USCC",
        "BATCHING_DISABLED",
        "METHOD_NOT_ALLOWED",
        "INTROSPECTION_DISABLED",
        "QUERY_TOO_DEEP",
    ):
        assert code in used and code in ERROR_CODES, code
