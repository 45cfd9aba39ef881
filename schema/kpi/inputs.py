"""Inputs and results of KPI reporting and evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types.arguments import InputContext


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
    evidence_ref: str | None = strawberry.field(
        default=None, description="Free-text reference; prefer evidenceDocument."
    )
    evidence_document: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "An uploaded Document of the provider's that proves the record, correction or "
            "not-attributable claim (UNKNOWN_DOCUMENT, DOCUMENT_OF_ANOTHER_PROVIDER, "
            "DOCUMENT_PURGED otherwise)."
        ),
    )
    not_attributable_reason: str | None = strawberry.field(
        default=None,
        description="Set when the provider is not to blame; the record is kept but not scored.",
    )
    supersedes: strawberry.ID | None = strawberry.field(
        default=None, description="The observation this corrects."
    )
    correction_reason: str | None = None


def _observation_from_input(
    cls: type[ObservationInput], value: Mapping[str, Any], context: InputContext
) -> ObservationInput:
    """Builds one record straight from graphql-core's coerced value.

    A report carries up to 10,000 records, and strawberry's generic conversion resolves every
    field's type and GraphQL name again for every record (most of a large report's time).
    Every field here is a scalar graphql-core has already parsed (DateTime, Decimal, ID,
    String) and checked for presence, so the record is built from a plan made once.
    """
    plan = _PLAN.get(id(context.config))
    if plan is None:
        definition = cls.__strawberry_definition__
        plan = _PLAN[id(context.config)] = [
            (f.python_name, context.config.name_converter.from_field(f)) for f in definition.fields
        ]
    return cls(**{name: value[key] for name, key in plan if key in value})


_PLAN: dict[int, list[tuple[str, str]]] = {}  # by config (a schema lives as long as its config)
ObservationInput.__strawberry_definition__.from_input = _observation_from_input


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
