"""Fee queries: itemised quotes."""

from __future__ import annotations

import strawberry

from linkstar.core.fees import rules as fees
from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.kernel.vocabulary import Region, Tier
from linkstar.schema.fees.types import FeeQuoteType
from linkstar.schema.nodes import Ctx, ctx


@strawberry.input(description="Choose an option of a fee option group (else its default applies).")
class FeeOptionInput:
    group: str
    value: str


@strawberry.input(description="How many units a per-unit fee counts (else 1).")
class FeeQuantityInput:
    unit: str
    quantity: int


@strawberry.type
class FeeQuery:
    @strawberry.field(
        description="Itemised fees for a category, region and tier; each line names its rule."
    )
    def fee_quote(
        self,
        info: Ctx,
        category: str,
        region: Region,
        tier: Tier,
        options: list[FeeOptionInput] | None = None,
        quantities: list[FeeQuantityInput] | None = None,
    ) -> FeeQuoteType:
        contribution = ctx(info).registry.category(category)
        chosen = {}
        for option in options or []:
            if option.group in chosen:
                raise InvalidInput(f"option group {option.group!r} is chosen twice")
            chosen[option.group] = option.value
        counted = {}
        for item in quantities or []:
            if item.unit in counted:
                raise InvalidInput(f"unit {item.unit!r} is counted twice")
            counted[item.unit] = item.quantity
        value = fees.quote(category, contribution.fee_rules, region, tier, chosen, counted)
        return FeeQuoteType.of(value)
