"""Verdicts a person can check in the graph (issue #9, point 1 and "Done means"): each metric's
scoring curve is published, and the demo's directory shows a believable spread of standings,
with no failing or sanctioned provider on top."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

from linkstar.core.runtime import tables as models
from tests.test_readme_examples import _load_demo

CURVES = """{ serviceCategories { edges { node { key metrics { key threshold
  scoringCurve { floor threshold target passMark declared } } } } } }"""

DIRECTORY = """{ providers(first: 100) { totalCount edges { node { id legalName
  publicStandings { category period standing composite } } } } }"""


def test_every_metric_publishes_its_scoring_curve(gql) -> None:
    categories = gql(CURVES)["serviceCategories"]["edges"]
    curves = {
        (c["node"]["key"], m["key"]): m["scoringCurve"]
        for c in categories
        for m in c["node"]["metrics"]
    }
    # the fixture's on-time rate declares its curve: 0 points at 50 %, 60 at 90 %, 100 at 100 %
    on_time = curves[("sample", "on_time_rate")]
    assert {k: Decimal(str(v)) for k, v in on_time.items() if k != "declared"} == {
        "floor": Decimal(50),
        "threshold": Decimal(90),
        "target": Decimal(100),
        "passMark": Decimal(60),
    }
    assert on_time["declared"] is True
    # its satisfaction declares none: the default of a rating ≥ 4★, marked as such
    satisfaction = curves[("sample", "satisfaction")]
    assert {k: Decimal(str(v)) for k, v in satisfaction.items() if k != "declared"} == {
        "floor": Decimal(2),
        "threshold": Decimal(4),
        "target": Decimal("4.5"),
        "passMark": Decimal(60),
    }
    assert satisfaction["declared"] is False
    for curve in curves.values():  # the threshold always lies strictly between the anchors
        floor, threshold, target = (
            Decimal(str(curve[k])) for k in ("floor", "threshold", "target")
        )
        assert min(floor, target) < threshold < max(floor, target), curve


def test_the_demo_directory_shows_a_believable_spread_of_standings(
    migrated, registry, server, gql, db
) -> None:
    # given: the demo data set (six months, evaluated month by month as they closed)
    asyncio.run(_load_demo(migrated, registry))
    # when: anyone reads the public directory
    edges = gql(DIRECTORY)["providers"]["edges"]
    shown = [
        (e["node"]["legalName"], s["category"], s["period"], s["standing"])
        for e in edges
        for s in e["node"]["publicStandings"]
    ]
    rated = [s for s in shown if s[3] != "UNRATED"]
    spread = Counter(standing for *_, standing in rated)
    # then: every band is used, and the top one is not the norm
    assert set(spread) >= {"EXCELLENT", "GOOD", "WATCH", "AT_RISK"}, spread
    assert spread["EXCELLENT"] <= len(rated) * 0.4, spread
    # and only closed months are shown (the open month is a projection, never a standing)
    assert {period for _, _, period, _ in rated} <= {"2026-10", "2026-09"}
    # and nobody is EXCELLENT with a failing metric, a restriction or a termination proposed
    names = {p.id: p.legal_name for p in db.query(models.Provider)}
    latest: dict[tuple[str, str], models.Scorecard] = {}
    for card in db.query(models.Scorecard).order_by(
        models.Scorecard.period, models.Scorecard.revision
    ):
        latest[(names[card.provider_id], card.category_key)] = card
    sanctioned = {
        (names[s.provider_id], s.category_key)
        for s in db.query(models.Sanction).filter(
            models.Sanction.status == "ACTIVE",
            models.Sanction.kind.in_(["RESTRICTED_INTAKE", "TERMINATION_PROPOSED"]),
        )
    }
    assert sanctioned, "the demo has sanctioned providers to check"
    for name, category, _, standing in rated:
        card = latest[(name, category)]
        failing = [r["metric"] for r in card.results if r["status"] == "FAIL"]
        if standing == "EXCELLENT":
            assert not failing and (name, category) not in sanctioned, (name, category)
        if len(failing) >= 2:
            assert standing in ("WATCH", "AT_RISK"), (name, category, failing, standing)
