"""Inputs and choices of onboarding operations."""

from __future__ import annotations

import enum
import re

import strawberry

from linkstar.core.kernel.vocabulary import (
    ApplicationStatus,
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._\- ()\u4e00-\u9fff]")


@strawberry.enum
class DocumentDecision(enum.StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


@strawberry.enum
class InterviewChannel(enum.StrEnum):
    VIDEO = "VIDEO"
    PHONE = "PHONE"
    ON_SITE = "ON_SITE"


@strawberry.enum
class InterviewOutcome(enum.StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"


@strawberry.enum
class ProbationDecision(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    EXTEND = "EXTEND"


@strawberry.input
class ApplicationFilter:
    status: ApplicationStatus | None = None
    category: str | None = None
    mine: bool = strawberry.field(default=False, description="Only applications I review.")
