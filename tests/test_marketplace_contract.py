"""The marketplace hooks: request requirements and dispatch policies, validated at start-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from linkstar.core.kernel.vocabulary import Tier
from linkstar.core.marketplace.policy import DispatchPolicy
from linkstar.core.marketplace.ranking import Candidate, choose, score_parts
from linkstar.core.providers.categories import ProfileInvalid
from linkstar.core.providers.profiles import IntField, ProfileSchema
from tests.test_aggregations import observe  # noqa: F401 - fixture
from tests.test_plugin_contract import make_plugin, refused, registry_of


def test_a_category_without_marketplace_hooks_gets_the_platform_defaults() -> None:
    contribution = registry_of(("p", make_plugin())).categories["widgets"]
    assert contribution.dispatch == DispatchPolicy()
    assert contribution.requirements.validate({"notes": "anything"}) == {"notes": "anything"}
    with pytest.raises(ProfileInvalid):
        contribution.requirements.validate({"seats": 3})


def test_linkstar_request_requirements_declares_what_a_request_says() -> None:
    schema = ProfileSchema("widgets", IntField("seats", minimum=1))
    plugin = make_plugin(
        linkstar_request_requirements=lambda category: schema if category.key == "widgets" else None
    )
    contribution = registry_of(("p", plugin)).categories["widgets"]
    assert contribution.requirements.validate({"seats": 3}) == {"seats": 3}
    wrong = make_plugin(
        linkstar_request_requirements=lambda category: (
            ProfileSchema("other") if category.key == "widgets" else None
        )
    )
    assert "must return a ProfileSchema for 'widgets'" in str(refused(("p", wrong)))


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (DispatchPolicy(response_deadline=timedelta(seconds=5)), "response_deadline"),
        (DispatchPolicy(max_open_orders=0), "max_open_orders"),
        (DispatchPolicy(kpi_weight=Decimal(-1)), "kpi_weight"),
        (DispatchPolicy(exploration_share=Decimal(2)), "exploration_share"),
        (
            DispatchPolicy(
                tier_weights={
                    Tier.REGULAR: Decimal(30),
                    Tier.PREFERRED: Decimal(10),
                    Tier.STRATEGIC_PARTNER: Decimal(20),
                }
            ),
            "must not favour a lower tier",
        ),
    ],
)
def test_linkstar_dispatch_policy_is_validated(policy: DispatchPolicy, problem: str) -> None:
    plugin = make_plugin(
        linkstar_dispatch_policy=lambda category: policy if category.key == "widgets" else None
    )
    error = refused(("p", plugin))
    assert "dispatch policy" in str(error) and problem in str(error)


def test_score_parts_are_exact_and_tier_moves_the_weight() -> None:
    policy = DispatchPolicy()
    assert score_parts(policy, Tier.STRATEGIC_PARTNER, Decimal("90"), 1, 4) == (
        Decimal("54.00"),
        Decimal("20.00"),
        Decimal("15.00"),
    )
    # Unrated providers count with the policy's unrated composite (60 → 36 points).
    assert score_parts(policy, Tier.REGULAR, None, 0, 5)[0] == Decimal("36.00")


def _candidate(pid: int, score: str) -> Candidate:
    return Candidate(pid, "REGULAR", False, None, 0, 5, "0", "0", "0", score)


def test_choice_is_the_best_without_exploration_and_reproducible_with_it() -> None:
    found = [_candidate(1, "80"), _candidate(2, "60"), _candidate(3, "40")]
    never = DispatchPolicy(exploration_share=Decimal(0))
    assert {choose(found, never, seed, 0)[0].provider_id for seed in range(50)} == {1}
    always = DispatchPolicy(exploration_share=Decimal(1))
    picks = [choose(found, always, seed, 0) for seed in range(300)]
    assert {how for _, how in picks} == {"EXPLORATION"}
    counts = {pid: sum(1 for c, _ in picks if c.provider_id == pid) for pid in (1, 2, 3)}
    assert counts[1] > counts[2] > counts[3] > 0  # weighted by score, everyone has a chance
    assert choose(found, always, 7, 2) == choose(found, always, 7, 2)


def test_a_platform_only_metric_ignores_self_reported_observations(observe, migrated, db) -> None:
    import dataclasses

    from linkstar.core.kernel.vocabulary import ObservationSource
    from linkstar.core.kpi.aggregations import AggregationKind
    from linkstar.core.kpi.units import Unit
    from tests.test_aggregations import metric, run

    for value in ("1", "1", "0"):
        observe("a", value)  # platform data from orders
    self_reported = [observe("a", "1"), observe("a", "1")]
    for row in self_reported:
        row.source = ObservationSource.SELF_REPORTED
    db.commit()
    ratio = metric(AggregationKind.RATIO_OF_COUNTS, Unit.PERCENT, Unit.OUTCOME)
    assert run(migrated, ratio)[observe.ids["a"]] == (Decimal("80.0000"), 5)
    strict = dataclasses.replace(ratio, platform_only=True)
    assert run(migrated, strict)[observe.ids["a"]] == (Decimal("66.6667"), 3)
    assert strict.as_dict()["platform_only"] is True and "platform_only" not in ratio.as_dict()


def test_linkstar_order_observations_must_name_the_categorys_own_metrics() -> None:
    from linkstar.core.marketplace.signals import (
        ObservationRule,
        OrderEventKind,
        OrderFacts,
        delivered_on_time,
    )

    good = ObservationRule(OrderEventKind.MILESTONE_DELIVERED, "speed", delivered_on_time)
    plugin = make_plugin(
        linkstar_order_observations=lambda category: [good] if category.key == "widgets" else None
    )
    assert registry_of(("p", plugin)).categories["widgets"].order_observations == (good,)
    wrong = ObservationRule(OrderEventKind.ORDER_COMPLETED, "nope", delivered_on_time)
    bad = make_plugin(
        linkstar_order_observations=lambda category: [wrong] if category.key == "widgets" else None
    )
    assert "unknown metric 'nope'" in str(refused(("p", bad)))
    due = datetime(2026, 10, 1, tzinfo=UTC)
    facts = OrderFacts(OrderEventKind.MILESTONE_DELIVERED, due, due_at=due, delivered_at=due)
    assert delivered_on_time(facts) == 1
    late = OrderFacts(
        OrderEventKind.MILESTONE_DELIVERED, due, due_at=due, delivered_at=due + timedelta(seconds=1)
    )
    assert delivered_on_time(late) == 0


def test_exploration_draws_among_newcomers_so_they_get_orders_in_a_large_pool() -> None:
    from dataclasses import replace

    best = [_candidate(i, str(90 - i)) for i in range(1, 11)]
    newcomers = [replace(_candidate(100 + i, "40"), newcomer=True) for i in range(3)]
    policy = DispatchPolicy()  # explores 15 % of the time
    picks = [choose(best + newcomers, policy, seed, 0) for seed in range(1000)]
    explored = [c for c, how in picks if how == "EXPLORATION"]
    assert 100 < len(explored) < 200
    assert all(c.newcomer for c in explored)
    assert {c.provider_id for c, how in picks if how == "BEST"} == {1}
    assert not [how for _, how in picks if how == "ROTATION"]  # none found from a rotation place


def test_rotation_draws_among_the_providers_found_from_a_random_place_in_the_ranking() -> None:
    from dataclasses import replace

    from linkstar.core.marketplace.ranking import rotation_place

    best = [_candidate(i, str(90 - i)) for i in range(1, 11)]
    further_down = [replace(_candidate(200 + i, str(30 - i)), rotation=True) for i in range(3)]
    policy = DispatchPolicy()  # explores 15 %, rotates 35 % of the time
    picks = [choose(best + further_down, policy, seed, 0) for seed in range(1000)]
    rotated = [c for c, how in picks if how == "ROTATION"]
    assert 280 < len(rotated) < 420  # 35 % (the 15 % of exploration draw among all here)
    assert {c.provider_id for c in rotated} == {200, 201, 202}  # weighted, all have a chance
    # the place is drawn with density falling along the ranking: better ranks more often
    places = [rotation_place(policy, seed, 0) for seed in range(2000)]
    assert all(0 <= p < 1 for p in places)
    top_fifth = sum(p < 0.2 for p in places)
    bottom_fifth = sum(p >= 0.8 for p in places)
    assert top_fifth > 2 * bottom_fifth > 0
    assert rotation_place(policy, 7, 1) == rotation_place(policy, 7, 1)
