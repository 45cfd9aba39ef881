"""A logistics provider and its months of deliveries, for the tests that still depend on the
built-in logistics category (its numbers: on-time delivery >= 95 %, loss/damage <= 0.5 %).

The core's engine tests use the fixture categories of tests/fixture_category.py instead; the
tests importing from here still depend on a built-in category's numbers. Move a test off this
module (onto the fixture categories) when you touch it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource, Region, Role, Tier
from linkstar.core.runtime import tables as models

STANDING = """query($id: ID!) { provider(id: $id) {
  sanctions(first: 50) { edges { node { id kind status period cause } } }
  tierHistory { edges { node { id fromTier toTier reason decidedBy reversedAt } } }
  applications { edges { node { id status tier } } }
  renewal: renewalRecommendation(category: "logistics") { decision reasons } } }"""


@pytest.fixture
def shipper(db):
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id,
            category_key="logistics",
            status=ApplicationStatus.ACTIVE,
            tier=Tier.PREFERRED,
        )
    )
    db.commit()
    return provider


def month_of_data(db, provider_id: int, year: int, month: int, lost: int) -> None:
    """200 deliveries, all on time; `lost` of 200 parcels lost (0.5% is the limit: 2+ fails)."""
    for i in range(200):
        when = datetime(year, month, 1 + i % 27, 8, tzinfo=UTC)
        for key, value in (
            ("on_time_delivery_rate", 1),
            ("loss_damage_rate", 1 if i < lost else 0),
        ):
            db.add(
                models.KpiObservation(
                    provider_id=provider_id,
                    category_key="logistics",
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
    admin(f'mutation {{ evaluatePeriod(period: "{period}", category: "logistics") {{ written }} }}')


RECORD = """mutation($p: ID!, $s: Severity!, $at: DateTime!) {
  recordViolation(provider: $p, category: "logistics", severity: $s, description: "Parcel relabelled to dodge a claim", occurredAt: $at) { points expiresAt } }"""


REPORT = "mutation($r: [ObservationInput!]!, $p: ID) { reportObservations(records: $r, provider: $p) { accepted duplicates } }"
NOW = datetime.now(UTC)


def record(i: int, value: str = "1", metric: str = "on_time_delivery_rate", **extra) -> dict:
    return {
        "category": "logistics",
        "metric": metric,
        "subjectRef": f"shipment-{i}",
        "observedAt": (NOW - timedelta(hours=1)).isoformat(),
        "value": value,
        "idempotencyKey": f"ship-{i}",
        **extra,
    }


@pytest.fixture
def partner(db, sign_in):
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="logistics", status=ApplicationStatus.PROBATION
        )
    )
    db.commit()
    client = sign_in(Role.PARTNER, provider_id=provider.id, owner=True)
    client.provider_id = provider.id
    return client
