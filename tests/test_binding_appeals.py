"""An upheld appeal reverses every consequence whose basis it removed, transitively
(issue #9, point 5).

The contested result is judged by its period, not by the scorecard revision the provider
happened to contest: a month re-scored after the consequences were drawn still takes them
down when an appeal removes its failure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from linkstar.core.kernel.vocabulary import ObservationSource, Role
from linkstar.core.runtime import tables as models
from tests.four_eyes import approve_pending
from tests.harness import global_id
from tests.sample_provider import evaluate, month_of_data, shipper  # noqa: F401 - the fixture
from tests.test_warnings_appeals import APPEAL, DECIDE

STATE = """query($id: ID!) { provider(id: $id) {
  sanctions(first: 50) { edges { node { kind status period } } }
  tierHistory { edges { node { fromTier toTier reversedAt } } }
  applications { edges { node { status tier } } } } }"""


def one_more_job(db, provider_id: int, month: int) -> None:
    """One more job on time: 9 of 11 jobs on time, 81.8 %, still failing, but the month's results
    change, so re-evaluating adds a revision."""
    db.add(
        models.KpiObservation(
            provider_id=provider_id,
            category_key="sample",
            metric_key="on_time_rate",
            subject_ref="late-report",
            observed_at=datetime(2026, month, 28, 9, tzinfo=UTC),
            value=Decimal(1),
            source=ObservationSource.PLATFORM,
            idempotency_key=f"late-report-{month}",
        )
    )
    db.commit()


def late_jobs(db, month: int) -> list[str]:
    return [
        global_id("KpiObservation", r.id)
        for r in db.query(models.KpiObservation).filter_by(metric_key="on_time_rate").all()
        if r.value == 0 and r.observed_at.month == month
    ]


def latest_card(db, month: int) -> str:
    card = (
        db.query(models.Scorecard)
        .filter_by(period=f"2026-{month:02d}")
        .order_by(models.Scorecard.revision.desc())
        .first()
    )
    return global_id("Scorecard", card.id)


def test_an_upheld_appeal_on_a_later_revision_reverses_the_warning_restriction_and_demotion(
    shipper, sign_in, db
) -> None:
    admin = sign_in(Role.ADMIN)
    gid = {"id": global_id("Provider", shipper.id)}
    for month in (9, 10):
        month_of_data(db, shipper.id, 2026, month, lost=2)
        evaluate(admin, f"2026-{month:02d}")
    before = admin(STATE, gid)["provider"]
    assert sorted(
        (e["node"]["kind"], e["node"]["period"]) for e in before["sanctions"]["edges"]
    ) == [
        ("RESTRICTED_INTAKE", "2026-10"),
        ("WARNING", "2026-09"),
        ("WARNING", "2026-10"),
    ]
    assert before["applications"]["edges"][0]["node"]["tier"] == "REGULAR"  # demoted
    one_more_job(db, shipper.id, 10)
    evaluate(admin, "2026-10")  # revision 2 of October, still failing

    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    appeal = partner(APPEAL, {"s": latest_card(db, 10), "o": late_jobs(db, 10)})["fileAppeal"]
    effects = sign_in(Role.REVIEWER)(DECIDE, {"a": appeal["id"], "u": True})["decideAppeal"][
        "effects"
    ]

    assert len(effects["reversedSanctions"]) == 2 and len(effects["reversedTierChanges"]) == 1
    after = admin(STATE, gid)["provider"]
    assert sorted(
        (e["node"]["kind"], e["node"]["period"], e["node"]["status"])
        for e in after["sanctions"]["edges"]
    ) == [
        ("RESTRICTED_INTAKE", "2026-10", "REVERSED"),
        ("WARNING", "2026-09", "ACTIVE"),  # September still failed
        ("WARNING", "2026-10", "REVERSED"),
    ]
    assert after["applications"]["edges"][0]["node"]["tier"] == "PREFERRED"
    assert after["tierHistory"]["edges"][0]["node"]["reversedAt"] is not None


def test_removing_the_middle_failure_takes_down_a_confirmed_termination(
    shipper, sign_in, db
) -> None:
    admin = sign_in(Role.ADMIN)
    gid = {"id": global_id("Provider", shipper.id)}
    for month in (8, 9, 10):
        month_of_data(db, shipper.id, 2026, month, lost=2)
        evaluate(admin, f"2026-{month:02d}")
    one_more_job(db, shipper.id, 9)
    evaluate(admin, "2026-09")  # September re-scored after the ladder ran: still failing
    proposal = db.query(models.Sanction).filter_by(kind="TERMINATION_PROPOSED").one()
    reviewer = sign_in(Role.REVIEWER)
    reviewer(
        'mutation($s: ID!) { decideTermination(sanction: $s, confirm: true, reason: "three failing months") { status } }',
        {"s": global_id("Sanction", proposal.id)},
    )
    approve_pending(admin, "TERMINATION")  # a second staff member confirms it
    assert admin(STATE, gid)["provider"]["applications"]["edges"][0]["node"]["status"] == (
        "TERMINATED"
    )

    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    appeal = partner(APPEAL, {"s": latest_card(db, 9), "o": late_jobs(db, 9)})["fileAppeal"]
    reviewer(DECIDE, {"a": appeal["id"], "u": True})

    after = admin(STATE, gid)["provider"]
    statuses = sorted(
        (e["node"]["kind"], e["node"]["period"], e["node"]["status"])
        for e in after["sanctions"]["edges"]
    )
    assert statuses == [
        ("RESTRICTED_INTAKE", "2026-09", "REVERSED"),
        ("TERMINATION_PROPOSED", "2026-10", "REVERSED"),
        ("WARNING", "2026-08", "ACTIVE"),
        ("WARNING", "2026-09", "REVERSED"),
        ("WARNING", "2026-10", "ACTIVE"),
    ]
    application = after["applications"]["edges"][0]["node"]
    assert (application["status"], application["tier"]) == ("ACTIVE", "PREFERRED")
