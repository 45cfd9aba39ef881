"""The worked example of README "How a score is computed" and docs/scoring.md, over HTTP.

If this test changes, the example in both documents changes with it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource, Region, Role
from linkstar.core.runtime import tables as models
from tests.harness import global_id

CARD = """query($id: ID!) { provider(id: $id) {
  scorecard(category: "agency", period: "2026-10") { composite standing
    metrics { metric value status attainment weight } }
  publicStandings { category standing composite } } }"""


def test_the_worked_example_of_the_readme(sign_in, db) -> None:
    # given: an agency in the pool, with its October 2026 (Asia/Shanghai) observations
    provider = models.Provider(
        legal_name="Hangzhou Qiming Store Operations Co., Ltd.",
        region=Region.MAINLAND_CHINA,
        registration_number="R-QM",
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="agency", status=ApplicationStatus.ACTIVE
        )
    )
    rows: list[tuple[str, str, int, int]] = []  # metric, subject, month, value
    rows += [("customer_satisfaction", f"c{i}", 10, 5) for i in range(10)]  # 10 of 10 ≥ 4★
    rows += [("on_time_task_completion", f"t{i}", 10, 1) for i in range(20)]  # 20 of 20
    for store, (september, october) in enumerate(
        ((100_000, 130_000), (50_000, 70_000), (80_000, 108_000))
    ):
        rows += [("store_gmv_growth", f"store-{store}", 9, september)]
        rows += [("store_gmv_growth", f"store-{store}", 10, october)]  # +30%, +40%, +35%
    hours = [1, 2, 3, 4, 5, 6, 7, 8, 10, 20]  # p90 (nearest rank: the 9th of 10) = 10 h
    rows += [("negative_review_response_time", f"r{i}", 10, h) for i, h in enumerate(hours)]
    rows += [("complaint_rate", f"o{i}", 10, 1 if i == 0 else 0) for i in range(20)]  # 1 of 20
    for i, (key, subject, month, value) in enumerate(rows):
        db.add(
            models.KpiObservation(
                provider_id=provider.id,
                category_key="agency",
                metric_key=key,
                subject_ref=subject,
                observed_at=datetime(2026, month, 10, 4, tzinfo=UTC),
                value=Decimal(value),
                source=ObservationSource.PLATFORM,
                idempotency_key=f"example-{i}",
            )
        )
    db.commit()
    admin = sign_in(Role.ADMIN)

    # when: October is evaluated
    admin('mutation { evaluatePeriod(period: "2026-10", category: "agency") { written } }')

    # then: the numbers of the worked example
    data = admin(CARD, {"id": global_id("Provider", provider.id)})["provider"]
    metrics = {
        m["metric"]: (m["value"], m["status"], m["attainment"], m["weight"])
        for m in data["scorecard"]["metrics"]
    }
    assert metrics == {
        "customer_satisfaction": ("100.0000", "PASS", "100.00", "20"),
        "on_time_task_completion": ("100.0000", "PASS", "100.00", "20"),
        "store_gmv_growth": ("35.0000", "PASS", "100.00", "20"),
        "negative_review_response_time": ("10", "PASS", "95.00", "15"),
        "customer_renewal_rate": (None, "INSUFFICIENT_DATA", None, "15"),
        "complaint_rate": ("5.0000", "FAIL", "42.86", "10"),
    }
    # (20×100 + 20×100 + 20×100 + 15×95 + 10×42.86) / 85 = 92.40, capped at 89.99 by one failure
    assert (data["scorecard"]["composite"], data["scorecard"]["standing"]) == ("89.99", "GOOD")
    assert data["publicStandings"] == [
        {"category": "agency", "standing": "GOOD", "composite": "89.99"}
    ]
