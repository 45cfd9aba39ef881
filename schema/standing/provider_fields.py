"""Fields the standing domain adds to Provider."""

from __future__ import annotations

import strawberry

from linkstar.core.kernel.errors import InvalidInput
from linkstar.core.standing import renewal
from linkstar.core.standing.models import Appeal, Sanction, TierChange, Violation
from linkstar.schema.nodes import Ctx, child_connection, ctx
from linkstar.schema.onboarding.types import Recommendation
from linkstar.schema.pagination import Connection, PageArgs
from linkstar.schema.standing.types import (
    AppealType,
    SanctionType,
    TierChangeType,
    ViolationType,
)


@strawberry.type
class StandingProviderFields:
    @strawberry.field(
        description="Sanctions (warnings, restrictions, downgrades, terminations), oldest first."
    )
    async def sanctions(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SanctionType]:

        args = PageArgs.parse(first, after, last, before)
        return await child_connection(info, self.id, Sanction, SanctionType.of, args)

    @strawberry.field(description="Appeals filed, oldest first.")
    async def appeals(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AppealType]:

        args = PageArgs.parse(first, after, last, before)
        return await child_connection(info, self.id, Appeal, AppealType.of, args)

    @strawberry.field(description="Recorded compliance violations, oldest first.")
    async def violations(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ViolationType]:

        args = PageArgs.parse(first, after, last, before)
        return await child_connection(info, self.id, Violation, ViolationType.of, args)

    @strawberry.field(
        description="Tier history: promotions, demotions and reversals, oldest first."
    )
    async def tier_history(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TierChangeType]:

        args = PageArgs.parse(first, after, last, before)
        return await child_connection(info, self.id, TierChange, TierChangeType.of, args)

    @strawberry.field(
        description="RENEW, RENEW_WITH_CONDITIONS, DO_NOT_RENEW or INSUFFICIENT_HISTORY: from "
        "the last closed periods and live violations, with reasons."
    )
    async def renewal_recommendation(
        self, info: Ctx, category: str, periods: int = 12
    ) -> Recommendation | None:

        ctx(info).registry.category(category)
        if not self._private(info):
            return None
        if not 1 <= periods <= 36:
            raise InvalidInput("periods must be between 1 and 36")
        async with ctx(info).session() as session:
            result = await renewal.renewal_for(session, self.id, category, periods)
        return Recommendation(decision=result.decision, reasons=list(result.reasons))
