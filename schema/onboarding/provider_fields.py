"""Fields the onboarding domain adds to Provider."""

from __future__ import annotations

import strawberry

from linkstar.core.onboarding import admission
from linkstar.core.onboarding.models import Application, Document
from linkstar.schema import loaders
from linkstar.schema.nodes import Ctx, child_connection, ctx, page_of, zero
from linkstar.schema.onboarding.types import (
    ApplicationType,
    DocumentType,
    ProviderBarType,
    TimelineEntry,
    timeline_page,
)
from linkstar.schema.pagination import Connection, PageArgs


@strawberry.type
class OnboardingProviderFields:
    @strawberry.field(
        description="Whether any current document has expired (e.g. the business licence)."
    )
    async def has_expired_documents(self, info: Ctx) -> bool | None:
        if not self._private(info):
            return None
        return self.id in await loaders.expired_document_owners(ctx(info)).load(0)

    @strawberry.field(
        description="The bar in force after a veto, if any (the provider and staff only)."
    )
    async def active_bar(self, info: Ctx) -> ProviderBarType | None:
        if not self._private(info):
            return None
        async with ctx(info).session() as session:
            bar = await admission.active_bar(session, self.id)
        return ProviderBarType.of(bar) if bar else None

    @strawberry.field(description="Everything that happened to this provider and its applications.")
    async def timeline(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TimelineEntry]:
        args = PageArgs.parse(first, after, last, before)
        if not self._private(info):
            return page_of([], args, TimelineEntry.of, zero)
        return await timeline_page(info, "provider_id", self.id, args)

    @strawberry.field(description="Applications for (and memberships of) categories.")
    async def applications(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ApplicationType]:
        return await child_connection(
            info,
            self.id,
            Application,
            ApplicationType.of,
            PageArgs.parse(first, after, last, before),
        )

    @strawberry.field(description="Uploaded documents.")
    async def documents(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[DocumentType]:
        return await child_connection(
            info,
            self.id,
            Document,
            DocumentType.of,
            PageArgs.parse(first, after, last, before),
        )
