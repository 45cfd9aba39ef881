"""The standing the public sees is capped by the sanctions in force: a provider facing
termination never shows EXCELLENT, one under restricted intake shows at most the band above
the lowest, whatever its latest scorecard says.

World: the fixture category `sample` (bands AT_RISK < WATCH < GOOD < EXCELLENT), one provider
whose September 2026 was perfect.
"""

from __future__ import annotations

from linkstar.core.kernel.vocabulary import Role, SanctionKind, SanctionStatus
from linkstar.core.runtime import tables as models
from linkstar.core.standing.public import shown_standing
from tests.fixture_category import KEY
from tests.sample_provider import evaluate, month_of_data, shipper  # noqa: F401

BANDS = ["AT_RISK", "WATCH", "GOOD", "EXCELLENT"]
SHOWN = """{ providers(first: 10) { edges { node { publicStandings { category standing } } } } }"""


def test_caps_by_hand() -> None:
    termination, restriction = SanctionKind.TERMINATION_PROPOSED, SanctionKind.RESTRICTED_INTAKE
    assert shown_standing(BANDS, "EXCELLENT", set()) == "EXCELLENT"
    assert shown_standing(BANDS, "EXCELLENT", {restriction}) == "WATCH"
    assert shown_standing(BANDS, "AT_RISK", {restriction}) == "AT_RISK"  # never raised
    assert shown_standing(BANDS, "GOOD", {termination}) == "AT_RISK"
    assert shown_standing(BANDS, "GOOD", {termination, restriction}) == "AT_RISK"
    assert shown_standing(BANDS, "GOOD", {SanctionKind.WARNING}) == "GOOD"
    assert shown_standing(BANDS, "UNRATED", {termination}) == "UNRATED"


def test_the_directory_shows_the_capped_standing(shipper, sign_in, gql, db) -> None:
    # given: a perfect month, evaluated
    month_of_data(db, shipper.id, 2026, 9, lost=0)
    evaluate(sign_in(Role.ADMIN), "2026-09")

    def shown() -> list[dict[str, str]]:
        return gql(SHOWN)["providers"]["edges"][0]["node"]["publicStandings"]

    assert shown() == [{"category": KEY, "standing": "EXCELLENT"}]
    # when: a termination is proposed (and not yet decided)
    proposal = models.Sanction(
        provider_id=shipper.id,
        category_key=KEY,
        kind=SanctionKind.TERMINATION_PROPOSED,
        status=SanctionStatus.ACTIVE,
        dedupe_key=f"{shipper.id}:{KEY}:terminate:2026-08",
        period="2026-08",
        cause={},
        reason="three failing months",
    )
    db.add(proposal)
    db.commit()
    # then: the public sees the lowest band until a reviewer decides
    assert shown() == [{"category": KEY, "standing": "AT_RISK"}]
    proposal.status = SanctionStatus.REVERSED  # a reviewer rejected the proposal
    db.commit()
    assert shown() == [{"category": KEY, "standing": "EXCELLENT"}]
