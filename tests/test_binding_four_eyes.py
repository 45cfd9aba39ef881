"""Four eyes (issue #9 point 7): raising a tier above the computed eligibility, confirming a
termination and deciding an appeal's second round need a second, different staff member."""

from __future__ import annotations

from linkstar.core.kernel.vocabulary import Role, SanctionKind, SanctionStatus
from linkstar.core.runtime import tables as models
from tests.four_eyes import APPROVE, PENDING, approve_pending
from tests.harness import global_id
from tests.sample_provider import evaluate, month_of_data, shipper  # noqa: F401 - the fixture
from tests.test_concurrency import at_once, one_winner
from tests.test_warnings_appeals import APPEAL, DECIDE

RAISE = 'mutation($a: ID!) { setTier(application: $a, tier: STRATEGIC_PARTNER, reason: "Key account.") { tier } }'
HISTORY = (
    "query($id: ID!) { provider(id: $id) { tierHistory { edges { node { toTier cause } } } } }"
)


def code(errors: list[dict]) -> str:
    return errors[0]["extensions"]["code"]


def test_a_raise_above_eligibility_waits_for_a_second_person(shipper, sign_in, db) -> None:
    application = db.query(models.Application).one()
    aid = global_id("Application", application.id)
    first, second = sign_in(Role.REVIEWER), sign_in(Role.REVIEWER)
    # no scored period: NOT_ELIGIBLE for strategic partner
    assert first(RAISE, {"a": aid})["setTier"]["tier"] == "PREFERRED"
    assert code(first.errors(RAISE, {"a": aid})) == "APPROVAL_PENDING"
    request = first(PENDING)["pendingApprovals"][0]
    assert request["kind"] == "TIER_RAISE" and request["payload"]["tier"] == "STRATEGIC_PARTNER"
    assert code(first.errors(APPROVE, {"r": request["id"], "y": True})) == "SAME_APPROVER"
    partner = sign_in(Role.PARTNER, provider_id=shipper.id)
    assert code(partner.errors(APPROVE, {"r": request["id"], "y": True})) == "FORBIDDEN"

    assert second(APPROVE, {"r": request["id"], "y": True})["decideApproval"]["status"] == (
        "APPROVED"
    )
    db.expire_all()
    assert db.query(models.Application).one().tier.value == "STRATEGIC_PARTNER"
    history = second(HISTORY, {"id": global_id("Provider", shipper.id)})["provider"]
    change = history["tierHistory"]["edges"][0]["node"]
    assert change["toTier"] == "STRATEGIC_PARTNER" and change["cause"]["approvalRequest"]


def test_two_staff_approving_one_request_at_once_one_wins(shipper, sign_in, db) -> None:
    application = db.query(models.Application).one()
    requester = sign_in(Role.REVIEWER)
    requester(RAISE, {"a": global_id("Application", application.id)})
    request = requester(PENDING)["pendingApprovals"][0]["id"]
    approvers = [sign_in(Role.REVIEWER), sign_in(Role.ADMIN)]
    one_winner(at_once(*((a, APPROVE, {"r": request, "y": True}) for a in approvers)))
    assert db.query(models.TierChange).count() == 1


def test_a_termination_takes_effect_only_when_a_second_person_confirms(
    shipper, sign_in, db
) -> None:
    proposal = models.Sanction(
        provider_id=shipper.id,
        category_key="sample",
        kind=SanctionKind.TERMINATION_PROPOSED,
        status=SanctionStatus.ACTIVE,
        dedupe_key="test:proposal",
        cause={"scorecards": [], "violations": []},
        reason="three failing periods",
    )
    db.add(proposal)
    db.commit()
    first, second = sign_in(Role.REVIEWER), sign_in(Role.REVIEWER)
    confirm = 'mutation($s: ID!) { decideTermination(sanction: $s, confirm: true, reason: "Three months lost.") { status } }'
    sid = global_id("Sanction", proposal.id)
    assert first(confirm, {"s": sid})["decideTermination"]["status"] == "ACTIVE"
    db.expire_all()
    assert db.query(models.Application).one().status.value == "ACTIVE"
    approve_pending(second, "TERMINATION")
    db.expire_all()
    assert db.get(models.Sanction, proposal.id).status is SanctionStatus.CONFIRMED
    assert db.query(models.Application).one().status.value == "TERMINATED"


def test_the_second_round_of_an_appeal_needs_two_people(shipper, sign_in, db) -> None:
    admin = sign_in(Role.ADMIN)
    month_of_data(db, shipper.id, 2026, 10, lost=2)
    evaluate(admin, "2026-10")
    card = global_id("Scorecard", db.query(models.Scorecard.id).scalar())
    partner, reviewer = sign_in(Role.PARTNER, provider_id=shipper.id), sign_in(Role.REVIEWER)
    first = partner(APPEAL, {"s": card, "o": []})["fileAppeal"]
    assert reviewer(DECIDE, {"a": first["id"], "u": False})["decideAppeal"]["status"] == (
        "REJECTED"
    )
    second = partner(APPEAL, {"s": card, "o": []})["fileAppeal"]
    assert reviewer(DECIDE, {"a": second["id"], "u": False})["decideAppeal"]["status"] == "OPEN"
    request = reviewer(PENDING)["pendingApprovals"][0]
    assert code(reviewer.errors(APPROVE, {"r": request["id"], "y": True})) == "SAME_APPROVER"
    admin(APPROVE, {"r": request["id"], "y": True})
    db.expire_all()
    assert [a.status for a in db.query(models.Appeal).order_by(models.Appeal.id)] == [
        "REJECTED",
        "REJECTED",
    ]
