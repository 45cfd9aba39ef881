"""Fields the marketplace adds to ServiceCategory: what a request says, how dispatch ranks."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from linkstar.core.kernel.vocabulary import Tier


@strawberry.type(description="A field a service request in this category must (or may) fill in.")
class RequestRequirementField:
    name: str
    kind: str = strawberry.field(description="IntField, TextListField, EnumListField, …")
    optional: bool
    choices: list[str] | None


@strawberry.type(description="A tier's weight in the dispatch score.")
class TierWeight:
    tier: Tier
    weight: Decimal


@strawberry.type(description="How requests in this category are dispatched (public).")
class DispatchPolicyType:
    response_deadline_hours: Decimal
    max_open_orders: int
    kpi_weight: Decimal
    tier_weights: list[TierWeight]
    load_weight: Decimal
    unrated_composite: Decimal
    exploration_share: Decimal
    rotation_share: Decimal
    rotation_bias: int
    top_k: int
    has_match_rule: bool


@strawberry.type
class MarketplaceCategoryFields:
    @strawberry.field(description="The fields of `requirements` in a service request.")
    def request_requirements(self) -> list[RequestRequirementField]:
        schema = self.contribution.requirements
        fields = []
        for name, spec in schema.fields.items():
            choices = getattr(spec, "choices", None)
            fields.append(
                RequestRequirementField(
                    name=name,
                    kind=type(spec).__name__,
                    optional=spec.optional,
                    choices=[c.value for c in choices] if choices is not None else None,
                )
            )
        return fields

    @strawberry.field(description="Deadline, capacity ceiling and ranking weights of dispatch.")
    def dispatch_policy(self) -> DispatchPolicyType:
        policy = self.contribution.dispatch
        return DispatchPolicyType(
            response_deadline_hours=(
                Decimal(int(policy.response_deadline.total_seconds())) / 3600
            ).normalize(),
            max_open_orders=policy.max_open_orders,
            kpi_weight=policy.kpi_weight,
            tier_weights=[TierWeight(tier=t, weight=w) for t, w in policy.tier_weights.items()],
            load_weight=policy.load_weight,
            unrated_composite=policy.unrated_composite,
            exploration_share=policy.exploration_share,
            rotation_share=policy.rotation_share,
            rotation_bias=policy.rotation_bias,
            top_k=policy.top_k,
            has_match_rule=policy.match is not None,
        )
