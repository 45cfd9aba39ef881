"""Inputs and results of KPI reporting and evaluation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry


@strawberry.input(description="One KPI observation being reported.")
class ObservationInput:
    category: str
    metric: str
    subject_ref: str = strawberry.field(description="Client, store or shipment the fact is about.")
    observed_at: datetime
    value: Decimal = strawberry.field(
        description="In the metric's observed unit (OUTCOME: 0 or 1)."
    )
    idempotency_key: str = strawberry.field(
        description="Unique per provider; re-sending is harmless."
    )
    evidence_ref: str | None = None
    not_attributable_reason: str | None = strawberry.field(
        default=None,
        description="Set when the provider is not to blame; the record is kept but not scored.",
    )
    supersedes: strawberry.ID | None = strawberry.field(
        default=None, description="The observation this corrects."
    )
    correction_reason: str | None = None


@strawberry.type(description="What a report stored: new observations and harmless re-sends.")
class ReportResultType:
    accepted: int
    duplicates: int
    alerts: int = strawberry.field(description="Early-warning alerts this report raised.")


@strawberry.type(description="What one evaluation run did for a category.")
class EvaluationRun:
    category: str
    period: str
    evaluated: int
    written: int
    unchanged: int
