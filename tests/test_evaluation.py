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
from tests import fixture_category as sample
from tests.harness import global_id

EVALUATE = 'mutation { evaluatePeriod(period: "2026-10", category: "sample") { category evaluated written unchanged } }'
SCORECARD = """query($id: ID!) { provider(id: $id) { scorecard(category: "sample", period: "2026-10") {
  period revision composite historyScore standing
  metrics { metric value sampleSize threshold status margin attainment definitionVersion } } } }"""


METRICS = sample.METRICS["sample"]  # the fixture category (tests/fixture_category.py)


def metric(key: str):
    return next(m for m in METRICS if m.key == key)


def test_attainment_and_composite_by_hand() -> None:
    on_time = metric("on_time_rate")  # ≥ 90%; curve: 0 at 50, 100 at 100
    assert attainment(on_time, Decimal("90")) == Decimal("60.00")  # the pass mark
    assert attainment(on_time, Decimal("95")) == Decimal("80.00")  # 60 + 40 × 5 / 10
    assert attainment(on_time, Decimal("45")) == Decimal("0.00")  # below the floor
    assert attainment(on_time, Decimal("70")) == Decimal("30.00")  # 60 × 20 / 40
    response = metric("response_hours")  # ≤ 24 h; curve: 100 at 12, 0 at 72
    assert attainment(response, Decimal("12")) == Decimal("100.00")
    assert attainment(response, Decimal("18")) == Decimal("80.00")  # 60 + 40 × 6 / 12
    assert attainment(response, Decimal("48")) == Decimal("30.00")  # 60 × 24 / 48
    from linkstar.core.kpi.metrics import evaluate

    results = [evaluate(m, None, 0) for m in METRICS]
    assert composite(METRICS, results) is None  # nothing to score
    index = METRICS.index(on_time)
    results[index] = evaluate(on_time, Decimal("95"), 500)
    assert composite(METRICS, results) == Decimal("80.00")  # only one metric scored


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
    """A provider of the fixture category `sample` with October data worked out by hand."""
    provider = models.Provider(
        legal_name="Ningbo Freight", region=Region.MAINLAND_CHINA, registration_number="R-NF"
    )
    db.add(provider)
    db.flush()
    db.add(
        models.Application(
            provider_id=provider.id, category_key="sample", status=ApplicationStatus.ACTIVE
        )
    )
    rows = []
    for i in range(10):  # on time: 9 of 10 = 90% (exactly the threshold)
        rows.append(("on_time_rate", Decimal(1 if i < 9 else 0), f"s{i}"))
    for i, hours in enumerate((2, 36)):  # slowest answer: 36 h (threshold 24 h: fail)
        rows.append(("response_hours", Decimal(hours), f"s{i}"))
    for i, (key, value, subject) in enumerate(rows):
        db.add(
            models.KpiObservation(
                provider_id=provider.id,
                category_key="sample",
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
        {"category": "sample", "evaluated": 1, "written": 1, "unchanged": 0}
    ]
    card = admin(SCORECARD, {"id": global_id("Provider", shipper.id)})["provider"]["scorecard"]
    results = {m["metric"]: m for m in card["metrics"]}
    assert results["on_time_rate"] | {"definitionVersion": None} == {
        "metric": "on_time_rate",
        "value": "90.0000",
        "sampleSize": 10,
        "threshold": "90",
        "status": "WARNING",
        "margin": "0.0000",
        "attainment": "60.00",  # exactly the threshold earns the pass mark
        "definitionVersion": None,
    }
    assert results["on_time_rate"]["definitionVersion"] == metric("on_time_rate").fingerprint()
    assert (
        results["response_hours"]["value"],
        results["response_hours"]["status"],
        results["response_hours"]["attainment"],
    ) == ("36", "FAIL", "45.00")  # 60 × (72 − 36) / (72 − 24): the floor is 72 h
    assert results["satisfaction"]["status"] == ResultStatus.INSUFFICIENT_DATA.value
    # weight-averaged over the metrics with a verdict: (50 × 60 + 30 × 45) / 80 = 54.375
    assert card["composite"] == "54.38"
    assert card["revision"] == 1 and card["historyScore"] == card["composite"]


def test_re_evaluation_is_idempotent_and_a_correction_makes_a_new_revision(
    shipper, sign_in, db
) -> None:
    admin = sign_in(Role.ADMIN)
    admin(EVALUATE)
    assert admin(EVALUATE)["evaluatePeriod"][0] == {
        "category": "sample",
        "evaluated": 1,
        "written": 0,
        "unchanged": 1,
    }
    slow = (
        db.query(models.KpiObservation)
        .filter_by(metric_key="response_hours", value=Decimal(36))
        .first()
    )
    db.add(
        models.KpiObservation(
            provider_id=shipper.id,
            category_key="sample",
            metric_key="response_hours",
            subject_ref=slow.subject_ref,
            observed_at=slow.observed_at,
            value=Decimal(24),
            source=ObservationSource.PLATFORM,
            idempotency_key="correction-1",
            supersedes_id=slow.id,
        )
    )
    db.commit()
    assert admin(EVALUATE)["evaluatePeriod"][0]["written"] == 1
    card = admin(SCORECARD, {"id": global_id("Provider", shipper.id)})["provider"]["scorecard"]
    response = next(m for m in card["metrics"] if m["metric"] == "response_hours")
    assert card["revision"] == 2 and (response["value"], response["status"]) == ("24", "PASS")
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
        "sample",
        "2026-10",
        "REGULAR",
    )
    assert summary["standing"] in ("EXCELLENT", "GOOD", "WATCH", "AT_RISK")
