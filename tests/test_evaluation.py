"""Evaluation: scorecards per provider and month, exact and reproducible, over HTTP and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from linkstar.core.kernel.vocabulary import ApplicationStatus, ObservationSource, Region, Role
from linkstar.core.kpi.metrics import ResultStatus
from linkstar.core.kpi.scoring import (
    ScoringPolicy,
    StandingBand,
    attainment,
    composite,
    history_score,
    scoring_problems,
    standing,
)
from linkstar.core.runtime import tables as models
from linkstar.plugins.logistics import plugin as logistics
from tests.harness import global_id

EVALUATE = 'mutation { evaluatePeriod(period: "2026-10", category: "logistics") { category evaluated written unchanged } }'
SCORECARD = """query($id: ID!) { provider(id: $id) { scorecard(category: "logistics", period: "2026-10") {
  period revision composite historyScore standing
  metrics { metric value sampleSize threshold status margin attainment definitionVersion } } } }"""


def metric(key: str):
    return next(m for m in logistics.METRICS if m.key == key)


def test_attainment_and_composite_by_hand() -> None:
    on_time = metric("on_time_delivery_rate")  # ≥ 95%; curve: 0 at 80, 100 at 99
    assert attainment(on_time, Decimal("95")) == Decimal("60.00")  # the pass mark
    assert attainment(on_time, Decimal("97")) == Decimal("80.00")  # 60 + 40 × 2 / 4
    assert attainment(on_time, Decimal("76")) == Decimal("0.00")  # below the floor
    assert attainment(on_time, Decimal("87.5")) == Decimal("30.00")  # 60 × 7.5 / 15
    loss = metric("loss_damage_rate")  # ≤ 0.5%; curve: 100 at 0.1, 0 at 2
    assert attainment(loss, Decimal("0.1")) == Decimal("100.00")
    assert attainment(loss, Decimal("0.3")) == Decimal("80.00")  # 60 + 40 × 0.2 / 0.4
    assert attainment(loss, Decimal("1.25")) == Decimal("30.00")  # 60 × 0.75 / 1.5
    from linkstar.core.kpi.metrics import evaluate

    results = [evaluate(m, None, 0) for m in logistics.METRICS]
    assert composite(logistics.METRICS, results) is None  # nothing to score
    index = logistics.METRICS.index(on_time)
    results[index] = evaluate(on_time, Decimal("97"), 500)
    assert composite(logistics.METRICS, results) == Decimal("80.00")  # only one metric scored


def test_history_decays_linearly_and_skips_gaps() -> None:
    # current 60 weighs 3, previous 90 weighs 2, the one before is missing
    assert history_score(Decimal(60), [Decimal(90), None], 3) == Decimal("72.00")  # (180 + 180) / 5
    assert history_score(None, [], 12) is None


def test_standing_bands_must_cover_0_to_100() -> None:
    assert scoring_problems(ScoringPolicy()) == []
    gap = ScoringPolicy(
        bands=(
            StandingBand("LOW", Decimal(0), Decimal(50)),
            StandingBand("HIGH", Decimal(60), Decimal(100)),
        )
    )
    assert scoring_problems(gap) == ["standing bands LOW and HIGH leave a gap or overlap"]
    assert (
        standing(ScoringPolicy(), Decimal(100)) == "EXCELLENT"
        and standing(ScoringPolicy(), Decimal("89.99")) == "GOOD"
    )
    assert standing(ScoringPolicy(), None) == "UNRATED"


@pytest.fixture
def shipper(db):
    """A logistics provider in the pool with October data worked out by hand."""
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="logistics", status=ApplicationStatus.ACTIVE
        )
    )
    rows = []
    for i in range(200):  # on-time delivery: 190 of 200 on time = 95% (exactly the threshold)
        rows.append(("on_time_delivery_rate", Decimal(1 if i < 190 else 0), f"s{i}"))
    for i in range(200):  # loss/damage: 2 of 200 = 1% (threshold 0.5%: fail)
        rows.append(("loss_damage_rate", Decimal(1 if i < 2 else 0), f"s{i}"))
    for i, (key, value, subject) in enumerate(rows):
        db.add(
            models.KpiObservation(
                provider_id=provider.id,
                category_key="logistics",
                metric_key=key,
                subject_ref=subject,
                observed_at=datetime(2026, 10, 1 + i % 28, 8, tzinfo=UTC),
                value=value,
                source=ObservationSource.PLATFORM,
                idempotency_key=f"{key}-{i}",
            )
        )
    db.commit()
    return provider


def test_evaluation_over_http_is_exact_and_explains_itself(shipper, sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    assert admin(EVALUATE)["evaluatePeriod"] == [
        {"category": "logistics", "evaluated": 1, "written": 1, "unchanged": 0}
    ]
    card = admin(SCORECARD, {"id": global_id("Provider", shipper.id)})["provider"]["scorecard"]
    results = {m["metric"]: m for m in card["metrics"]}
    assert results["on_time_delivery_rate"] | {"definitionVersion": None} == {
        "metric": "on_time_delivery_rate",
        "value": "95.0000",
        "sampleSize": 200,
        "threshold": "95",
        "status": "WARNING",
        "margin": "0.0000",
        "attainment": "60.00",  # exactly the threshold earns the pass mark
        "definitionVersion": None,
    }
    assert (
        results["on_time_delivery_rate"]["definitionVersion"]
        == metric("on_time_delivery_rate").fingerprint()
    )
    assert (
        results["loss_damage_rate"]["value"],
        results["loss_damage_rate"]["status"],
        results["loss_damage_rate"]["attainment"],
    ) == ("1.0000", "FAIL", "40.00")  # 60 × (2 − 1) / (2 − 0.5): the floor is 2%
    assert results["seller_satisfaction"]["status"] == ResultStatus.INSUFFICIENT_DATA.value
    weights = {m.key: m.weight for m in logistics.METRICS}
    expected = (weights["on_time_delivery_rate"] * 60 + weights["loss_damage_rate"] * 40) / (
        weights["on_time_delivery_rate"] + weights["loss_damage_rate"]
    )
    assert Decimal(card["composite"]) == expected.quantize(Decimal("0.01"))
    assert card["revision"] == 1 and card["historyScore"] == card["composite"]


def test_re_evaluation_is_idempotent_and_a_correction_makes_a_new_revision(
    shipper, sign_in, db
) -> None:
    admin = sign_in(Role.ADMIN)
    admin(EVALUATE)
    assert admin(EVALUATE)["evaluatePeriod"][0] == {
        "category": "logistics",
        "evaluated": 1,
        "written": 0,
        "unchanged": 1,
    }
    lost = (
        db.query(models.KpiObservation)
        .filter_by(metric_key="loss_damage_rate", value=Decimal(1))
        .first()
    )
    db.add(
        models.KpiObservation(
            provider_id=shipper.id,
            category_key="logistics",
            metric_key="loss_damage_rate",
            subject_ref=lost.subject_ref,
            observed_at=lost.observed_at,
            value=Decimal(0),
            source=ObservationSource.PLATFORM,
            idempotency_key="correction-1",
            supersedes_id=lost.id,
        )
    )
    db.commit()
    assert admin(EVALUATE)["evaluatePeriod"][0]["written"] == 1
    card = admin(SCORECARD, {"id": global_id("Provider", shipper.id)})["provider"]["scorecard"]
    loss = next(m for m in card["metrics"] if m["metric"] == "loss_damage_rate")
    assert card["revision"] == 2 and loss["value"] == "0.5000" and loss["status"] == "WARNING"
    assert db.query(models.Scorecard).count() == 2  # revision 1 is kept, unchanged


def test_only_admins_evaluate_and_partners_see_only_their_scorecards(shipper, sign_in, db) -> None:
    assert sign_in(Role.REVIEWER).errors(EVALUATE)[0]["extensions"]["code"] == "FORBIDDEN"
    sign_in(Role.ADMIN)(EVALUATE)
    own = sign_in(Role.PARTNER, provider_id=shipper.id)
    other = sign_in(Role.SELLER)
    assert (
        own(SCORECARD, {"id": global_id("Provider", shipper.id)})["provider"]["scorecard"]["period"]
        == "2026-10"
    )
    assert (
        other(SCORECARD, {"id": global_id("Provider", shipper.id)})["provider"]["scorecard"] is None
    )


def test_the_public_directory_shows_each_providers_kpi_summary(shipper, sign_in, gql, db) -> None:
    sign_in(Role.ADMIN)(EVALUATE)
    data = gql(
        "{ providers { edges { node { legalName registrationNumber publicStandings { category period composite standing tier } } } } }"
    )
    node = data["providers"]["edges"][0]["node"]
    assert node["registrationNumber"] is None  # still private
    [summary] = node["publicStandings"]
    assert (summary["category"], summary["period"], summary["tier"]) == (
        "logistics",
        "2026-10",
        "REGULAR",
    )
    assert summary["standing"] in ("EXCELLENT", "GOOD", "WATCH", "AT_RISK")
