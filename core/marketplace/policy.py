"""What a category decides about its marketplace: what a request must say, and how dispatch ranks.

A category plugin answers `linkstar_request_requirements` (a `ProfileSchema` validated like a
provider profile) and `linkstar_dispatch_policy` (a `DispatchPolicy`); a category that answers
neither gets the platform defaults below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from linkstar.core.kernel.vocabulary import Tier
from linkstar.core.providers.profiles import ProfileSchema, TextField

# (requirements of the request, the provider-id column) → an SQL condition the provider must
# meet, or None for "no extra rule". It must be set-based: it runs inside the eligibility query.
MatchRule = Callable[[Mapping[str, Any], Any], Any]

DEFAULT_TIER_WEIGHTS: Mapping[Tier, Decimal] = {
    Tier.REGULAR: Decimal(0),
    Tier.PREFERRED: Decimal(10),
    Tier.STRATEGIC_PARTNER: Decimal(20),
}


@dataclass(frozen=True)
class DispatchPolicy:
    """How one category ranks eligible providers and how long an offer stays open.

    score = kpi_weight × composite/100 + tier weight + load_weight × (1 − open/capacity);
    an unrated provider counts with `unrated_composite`. Each pick is seeded by the request
    and its round (a decision can be replayed):
    - with probability `exploration_share`: a weighted random draw (weights = scores) among
      the `top_k` best newcomers (unrated or on probation), so they get orders too;
    - with probability `rotation_share`: a weighted draw among `top_k` eligible providers
      found from a random place in the pool's ranking, the place drawn as
      `pool size × u ** rotation_bias` (u uniform): every eligible provider gets a share, and a
      better-ranked one a larger share (bias 2: the best fifth of the ranking is reached about
      4 times as often as the worst fifth);
    - otherwise the best score. A full provider is never eligible and its load part shrinks
      with each open order, so the best candidates take turns.
    """

    response_deadline: timedelta = timedelta(hours=24)
    max_open_orders: int = 5
    kpi_weight: Decimal = Decimal(60)
    tier_weights: Mapping[Tier, Decimal] = field(default_factory=lambda: dict(DEFAULT_TIER_WEIGHTS))
    load_weight: Decimal = Decimal(20)
    unrated_composite: Decimal = Decimal(60)
    exploration_share: Decimal = Decimal("0.15")
    rotation_share: Decimal = Decimal("0.35")
    rotation_bias: int = 2
    top_k: int = 10
    match: MatchRule | None = None


def dispatch_policy_problems(policy: DispatchPolicy) -> list[str]:
    """Everything wrong with a dispatch policy (empty when it is usable)."""
    problems = []
    if policy.response_deadline < timedelta(minutes=1):
        problems.append("response_deadline must be at least one minute")
    if not 1 <= policy.max_open_orders <= 10_000:
        problems.append("max_open_orders must be between 1 and 10000")
    for name in ("kpi_weight", "load_weight", "unrated_composite"):
        value = getattr(policy, name)
        if not isinstance(value, Decimal) or value < 0:
            problems.append(f"{name} must be a non-negative Decimal")
    if set(policy.tier_weights) != set(Tier) or any(
        not isinstance(w, Decimal) or w < 0 for w in policy.tier_weights.values()
    ):
        problems.append("tier_weights needs a non-negative Decimal for every tier")
    elif not (
        policy.tier_weights[Tier.REGULAR]
        <= policy.tier_weights[Tier.PREFERRED]
        <= policy.tier_weights[Tier.STRATEGIC_PARTNER]
    ):
        problems.append("tier_weights must not favour a lower tier over a higher one")
    if not isinstance(policy.exploration_share, Decimal) or not (
        0 <= policy.exploration_share <= 1
    ):
        problems.append("exploration_share must be a Decimal between 0 and 1")
    if not isinstance(policy.rotation_share, Decimal) or not (0 <= policy.rotation_share <= 1):
        problems.append("rotation_share must be a Decimal between 0 and 1")
    elif (
        isinstance(policy.exploration_share, Decimal)
        and policy.exploration_share + policy.rotation_share > 1
    ):
        problems.append("exploration_share + rotation_share must not exceed 1")
    if not 1 <= policy.rotation_bias <= 10:
        problems.append("rotation_bias must be between 1 and 10")
    if not 1 <= policy.top_k <= 100:
        problems.append("top_k must be between 1 and 100")
    if policy.match is not None and not callable(policy.match):
        problems.append("match must be callable")
    return problems


def default_requirements(category: str) -> ProfileSchema:
    """A category that declares nothing: an optional free-text note."""
    return ProfileSchema(category, TextField("notes", optional=True, max_length=2000))
