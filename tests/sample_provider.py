"""A provider of the fixture category `sample` (tests/fixture_category.py) and its months of
jobs, for the core's tests that need one provider with a month to evaluate.

The numbers are the fixture's: `on_time_rate` passes at 90 % and warns from 90 to 94.99 %, so of
a month's 10 jobs 0 late pass, 1 late is a WARNING and 2 or more late fail; every job is
answered within 2 hours, far inside `response_hours`' 24.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource, Region, Role, Tier
from linkstar.core.runtime import tables as models
from tests.fixture_category import KEY

JOBS = 10

STANDING = """query($id: ID!) { provider(id: $id) {
  sanctions(first: 50) { edges { node { id kind status period cause } } }
  tierHistory { edges { node { id fromTier toTier reason decidedBy reversedAt } } }
  applications { edges { node { id status tier } } }
  renewal: renewalRecommendation(category: "sample") { decision reasons } } }"""

RECORD = """mutation($p: ID!, $s: Severity!, $at: DateTime!) {
  recordViolation(provider: $p, category: "sample", severity: $s, description: "Job relabelled to dodge a claim", occurredAt: $at) { points expiresAt } }"""


@pytest.fixture
def shipper(db):
    """A preferred, active provider of the fixture category `sample`."""
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id,
            category_key=KEY,
            status=ApplicationStatus.ACTIVE,
            tier=Tier.PREFERRED,
        )
    )
    db.commit()
    return provider


def month_of_data(db, provider_id: int, year: int, month: int, lost: int) -> None:
    """10 jobs, each answered within 2 hours; `lost` of them late (value 0 of `on_time_rate`):
    1 late is 90 %, a WARNING; 2 late are 80 %, a FAIL."""
    for i in range(JOBS):
        when = datetime(year, month, 1 + i % 27, 8, tzinfo=UTC)
        for key, value in (("on_time_rate", int(i >= lost)), ("response_hours", 2)):
            db.add(
                models.KpiObservation(
                    provider_id=provider_id,
                    category_key=KEY,
                    metric_key=key,
                    subject_ref=f"s{i}",
                    observed_at=when,
                    value=Decimal(value),
                    source=ObservationSource.PLATFORM,
                    idempotency_key=f"{key}-{year}-{month}-{i}",
                )
            )
    db.commit()


def evaluate(admin, period: str) -> None:
    admin(f'mutation {{ evaluatePeriod(period: "{period}", category: "sample") {{ written }} }}')


REPORT = "mutation($r: [ObservationInput!]!, $p: ID) { reportObservations(records: $r, provider: $p) { accepted duplicates } }"
NOW = datetime.now(UTC)


def record(i: int, value: str = "1", metric: str = "on_time_rate", **extra) -> dict:
    """One reported job of the fixture category (`on_time_rate` 1: on time)."""
    return {
        "category": KEY,
        "metric": metric,
        "subjectRef": f"shipment-{i}",
        "observedAt": (NOW - timedelta(hours=1)).isoformat(),
        "value": value,
        "idempotencyKey": f"ship-{i}",
        **extra,
    }


@pytest.fixture
def partner(db, sign_in):
    """The signed-in owner of a provider on probation in the fixture category `sample`."""
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key=KEY, status=ApplicationStatus.PROBATION
        )
    )
    db.commit()
    client = sign_in(Role.PARTNER, provider_id=provider.id, owner=True)
    client.provider_id = provider.id
    return client
