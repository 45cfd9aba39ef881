"""Onboarding queries: the checklist and the applications list."""

from __future__ import annotations

import strawberry

from linkstar.core.onboarding import review
from linkstar.core.onboarding.models import Application
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.onboarding.inputs import ApplicationFilter
from linkstar.schema.onboarding.types import ApplicationType, ChecklistType, checklist_for
from linkstar.schema.pagination import Connection, PageArgs, paginate
from linkstar.schema.resolving import application_of, require_reviewer


@strawberry.type
class OnboardingQuery:
    @strawberry.field(
        description="What an application still lacks (the self-check and the reviewer's list)."
    )
    async def application_checklist(self, info: Ctx, application: strawberry.ID) -> ChecklistType:
        async with ctx(info).session() as session:
            app = await application_of(session, info, application)
        return await checklist_for(info, app.id)

    @strawberry.field(description="Applications across providers, for reviewers (oldest first).")
    async def applications(
        self,
        info: Ctx,
        filter: ApplicationFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApplicationType]:
        require_reviewer(info)
        context = ctx(info)
        flt = filter or ApplicationFilter()
        page, counting = review.review_queue(
            context.viewer, status=flt.status, category=flt.category, mine=bool(flt.mine)
        )

        async def count() -> int:
            async with context.session() as session:
                return (await session.execute(counting)).scalar_one()

        async with context.session() as session:
            return await paginate(
                session,
                page,
                Application.id,
                PageArgs.parse(first, after, last, before),
                ApplicationType.of,
                count,
            )
