"""Charges after approval happen without an operator (issue #11), on the fixture category
`sample` (tests/fixture_category.py): an annual fee of CNY 100.00 at each anniversary,
and an exam fee of CNY 20.00 per candidate.

- Every server runs the money sweep on its own (hourly); two sweeps at once charge once.
- Staff record the candidates of an exam a member held: the category's per-unit fee becomes
  one charge naming its rule, once per reference; only staff may.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from linkstar.core.kernel.db import create_engine, session_factory
from linkstar.core.kernel.vocabulary import ApplicationStatus, Region, Role, Tier
from linkstar.core.runtime import tables as models
from linkstar.core.runtime.money_sweep import sweep, sweep_forever
from tests.fixture_category import KEY
from tests.harness import global_id

COUNT = """mutation($p: ID!, $c: String!, $r: String!, $q: [FeeQuantityInput!]!) {
  chargeCountedUnits(provider: $p, category: $c, reference: $r, quantities: $q) {
    id name occasion status amount { amount currency } } }"""
CANDIDATES = [{"unit": "candidate", "quantity": 12}]


def member(db: Any, name: str, approved_days_ago: int = 10) -> Any:
    """A mainland provider, ACTIVE in `sample` since `approved_days_ago` days."""
    provider = models.Provider(
        legal_name=name, region=Region.MAINLAND_CHINA, registration_number=f"R-{name}"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id,
            category_key=KEY,
            status=ApplicationStatus.ACTIVE,
            tier=Tier.REGULAR,
            decided_at=datetime.now(UTC) - timedelta(days=approved_days_ago),
        )
    )
    db.commit()
    return provider


def charges_of(db: Any, provider_id: int) -> list[tuple[str, str, Decimal]]:
    db.expire_all()
    rows = db.query(models.Charge).filter_by(provider_id=provider_id).order_by(models.Charge.id)
    return [(c.occasion, c.rule_key, c.amount) for c in rows]


def test_every_server_charges_the_annual_fee_at_renewal_on_its_own(db, migrated, registry) -> None:
    # given a member approved 400 days ago: its first anniversary has passed
    provider = member(db, "Anniversary Co", approved_days_ago=400)

    # when the server's periodic sweep ticks (every 50 ms here, hourly in production)
    async def a_few_ticks() -> None:
        engine = create_engine(migrated)
        job = asyncio.create_task(sweep_forever(session_factory(engine), registry, 0.05))
        try:
            for _ in range(200):  # until the sweep committed
                await asyncio.sleep(0.05)
                if charges_of(db, provider.id):
                    break
        finally:
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
            await engine.dispose()

    asyncio.run(a_few_ticks())

    # then the annual fee is charged for the renewal once, named after its rule, without an operator
    assert charges_of(db, provider.id) == [("RENEWAL:1", "sample.annual_fee", Decimal("100.00"))]


def test_two_sweeps_at_once_charge_each_renewal_once(db, migrated, registry) -> None:
    providers = [member(db, f"Twice Co {i}", approved_days_ago=400) for i in range(3)]

    async def two_at_once() -> list[int]:
        engine = create_engine(migrated)
        sessions = session_factory(engine)

        async def one() -> int:
            async with sessions() as session, session.begin():
                return (await sweep(session, registry)).renewal_charges

        try:
            return sorted(await asyncio.gather(one(), one()))
        finally:
            await engine.dispose()

    assert asyncio.run(two_at_once()) == [0, 3]  # the later sweep finds nothing left to do
    for provider in providers:
        assert charges_of(db, provider.id) == [
            ("RENEWAL:1", "sample.annual_fee", Decimal("100.00"))
        ]


def test_staff_record_an_exams_candidates_and_the_exam_fee_is_charged_once(
    db, staff, sign_in
) -> None:
    provider = member(db, "Exam Centre")
    variables = {
        "p": global_id("Provider", provider.id),
        "c": KEY,
        "r": "exam 2026-11-15",
        "q": CANDIDATES,
    }
    # 12 candidates × CNY 20.00, at the member's region (mainland: CNY)
    (charge,) = staff(COUNT, variables)["chargeCountedUnits"]
    assert charge["name"] == "Certification exam fee"
    assert charge["occasion"] == "UNITS:exam 2026-11-15"
    assert charge["status"] == "OPEN"
    assert charge["amount"] == {"amount": "240.00", "currency": "CNY"}
    # recording the same exam again charges nothing more; another exam is another charge
    assert staff(COUNT, variables)["chargeCountedUnits"] == [charge]
    staff(COUNT, {**variables, "r": "exam 2026-12-13", "q": [{"unit": "candidate", "quantity": 3}]})
    assert charges_of(db, provider.id) == [
        ("UNITS:exam 2026-11-15", "sample.exam_fee", Decimal("240.00")),
        ("UNITS:exam 2026-12-13", "sample.exam_fee", Decimal("60.00")),
    ]
    # the charge is on the ledger: the provider owes it
    owner = sign_in(Role.PARTNER, provider_id=provider.id, owner=True)
    edges = owner(
        "query($p: ID!) { node(id: $p) { ... on Provider { charges { edges { node { id } } } } } }",
        {"p": variables["p"]},
    )["node"]["charges"]["edges"]
    assert len(edges) == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"q": [{"unit": "seat", "quantity": 1}]}, "INVALID_INPUT"),  # no fee counts seats
        ({"q": []}, "INVALID_INPUT"),
        ({"r": " "}, "INVALID_INPUT"),
        ({"c": "spare"}, "NOT_FOUND"),  # not a member of that category
    ],
)
def test_counting_units_refuses_what_no_fee_prices(db, staff, change, code) -> None:
    provider = member(db, "Exam Centre")
    variables = {"p": global_id("Provider", provider.id), "c": KEY, "r": "exam 1", "q": CANDIDATES}
    body = staff.raw(COUNT, {**variables, **change}).json()
    assert body["errors"][0]["extensions"]["code"] == code, body
    assert charges_of(db, provider.id) == []


@pytest.mark.parametrize("role", [Role.SELLER, Role.PARTNER])
def test_only_staff_charge_counted_units(db, sign_in, role) -> None:
    provider = member(db, "Exam Centre")
    partner = role is Role.PARTNER
    client = sign_in(role, provider_id=provider.id if partner else None, owner=partner)
    variables = {"p": global_id("Provider", provider.id), "c": KEY, "r": "exam 1", "q": CANDIDATES}
    body = client.raw(COUNT, variables).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert charges_of(db, provider.id) == []
