"""A scorecard shows, per metric, how much of its data came from the platform and how much the
provider reported itself (issue #10), to the provider and staff only.

World: the fixture category `sample`; a month (2026-09) of 10 platform jobs (`on_time_rate` and
`response_hours`), plus 3 `response_hours` the provider reported itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from linkstar.core.kernel.vocabulary import ObservationSource, Role
from linkstar.core.runtime import tables as models
from tests.fixture_category import KEY
from tests.harness import global_id
from tests.sample_provider import evaluate, month_of_data, shipper  # noqa: F401

CARDS = """query($id: ID!) { provider(id: $id) { scorecards(first: 5) { edges { node {
  period metrics { metric sampleSize } sources { metric period platform selfReported } } } } } }"""


def test_the_scorecard_counts_platform_and_self_reported_data_per_metric(
    shipper, sign_in, db
) -> None:
    # given: a month of platform jobs and three self-reported answers
    month_of_data(db, shipper.id, 2026, 9, lost=0)
    for i in range(3):
        db.add(
            models.KpiObservation(
                provider_id=shipper.id,
                category_key=KEY,
                metric_key="response_hours",
                subject_ref=f"own-{i}",
                observed_at=datetime(2026, 9, 20 + i, 9, tzinfo=UTC),
                value=Decimal(1),
                source=ObservationSource.SELF_REPORTED,
                idempotency_key=f"own-{i}",
            )
        )
    db.commit()
    admin = sign_in(Role.ADMIN)
    # when: the month is evaluated
    evaluate(admin, "2026-09")
    owner = sign_in(Role.PARTNER, provider_id=shipper.id, owner=True)
    for viewer in (admin, owner):
        card = viewer(CARDS, {"id": global_id("Provider", shipper.id)})["provider"]["scorecards"][
            "edges"
        ][0]["node"]
        # then: each metric's counts, platform vs self-reported, add up to its sample
        counted = {s["metric"]: (s["platform"], s["selfReported"]) for s in card["sources"]}
        assert counted["on_time_rate"] == (10, 0)
        assert counted["response_hours"] == (10, 3)
        samples = {m["metric"]: m["sampleSize"] for m in card["metrics"]}
        for metric, (platform, own) in counted.items():
            assert samples[metric] == platform + own, metric
    # and: another provider sees neither the card nor its sources
    other = models.Provider(
        legal_name="Other Ltd", region=shipper.region, registration_number="R-O"
    )
    db.add(other)
    db.commit()
    stranger = sign_in(Role.PARTNER, provider_id=other.id, owner=True)
    hidden = stranger(CARDS, {"id": global_id("Provider", shipper.id)})["provider"]
    assert hidden is None or hidden["scorecards"]["edges"] == []
