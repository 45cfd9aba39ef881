"""GraphQL for sellers' tickets to providers and stores' monthly sales snapshots."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from linkstar.core.identity.policy import Action, require
from linkstar.core.kernel.timeline import history
from linkstar.core.marketplace import listings, store_data, tickets
from linkstar.core.marketplace.models import SellerTicket, StoreSalesSnapshot
from linkstar.core.marketplace.tickets import TicketAction
from linkstar.core.marketplace.vocabulary import SnapshotSource, TicketKind, TicketStatus
from linkstar.schema.marketplace.mutations import _money
from linkstar.schema.marketplace.queries import _page
from linkstar.schema.marketplace.types import OrderEvent
from linkstar.schema.marketplace.types import _money as money_of
from linkstar.schema.nodes import Ctx, ctx, rows_resolver
from linkstar.schema.pagination import Connection, PageArgs
from linkstar.schema.providers.inputs import MoneyInput
from linkstar.schema.resolving import parse_id, write
from linkstar.schema.vocabulary import Money

TicketKindEnum = strawberry.enum(TicketKind, description="What a seller's ticket is about.")
TicketStatusEnum = strawberry.enum(TicketStatus, description="Where a seller's ticket stands.")
SnapshotSourceEnum = strawberry.enum(SnapshotSource, description="Who reported a store's sales.")


@strawberry.type(
    name="SellerTicket",
    description="A seller's ticket to a provider; visible to both and staff.",
)
class SellerTicketType(relay.Node):
    linkstar_two_party = True

    id: relay.NodeID[int]
    kind: TicketKind
    status: TicketStatus
    category_key: str
    subject: str
    body: str
    opened_at: datetime
    first_response_at: datetime | None = strawberry.field(
        description="The provider's first answer: its response time starts the KPI signal."
    )
    closed_at: datetime | None
    resolved_by_provider: bool
    order_global_id: strawberry.ID | None = strawberry.field(
        name="order", description="The order the ticket is about."
    )
    store_global_id: strawberry.ID | None = strawberry.field(
        name="store", description="The store the ticket is about."
    )
    owner_account_id: strawberry.Private[int]
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: SellerTicket) -> SellerTicketType:
        return cls(
            id=row.id,
            kind=row.kind,
            status=row.status,
            category_key=row.category_key,
            subject=row.subject,
            body=row.body,
            opened_at=row.opened_at,
            first_response_at=row.first_response_at,
            closed_at=row.closed_at,
            resolved_by_provider=row.resolved_by_provider,
            order_global_id=None
            if row.order_id is None
            else strawberry.ID(relay.to_base64("Order", row.order_id)),
            store_global_id=None
            if row.store_id is None
            else strawberry.ID(relay.to_base64("Store", row.store_id)),
            owner_account_id=row.seller_account_id,
            provider_id=row.provider_id,
        )

    @strawberry.field(description="The conversation and every step, oldest first.")
    async def timeline(self, info: Ctx) -> list[OrderEvent]:
        async with ctx(info).session() as session:
            rows = await history(session, "SellerTicket", self.id)
            return [
                OrderEvent(
                    event_type=r.event_type,
                    occurred_at=r.occurred_at,
                    actor=r.actor,
                    payload=r.payload,
                )
                for r in rows
            ]

    resolve_nodes = rows_resolver(SellerTicket)


@strawberry.type(name="StoreSalesSnapshot", description="A store's sales for one month.")
class StoreSalesSnapshotType:
    month: str
    sales: Money
    source: SnapshotSource
    reported_by: str
    reported_at: datetime
    observations: int = strawberry.field(
        description="KPI observations this report added for the providers running the store."
    )

    @classmethod
    def of(cls, row: StoreSalesSnapshot, observations: int = 0) -> StoreSalesSnapshotType:
        return cls(
            month=row.month,
            sales=money_of(row.amount, row.currency),
            source=row.source,
            reported_by=row.reported_by,
            reported_at=row.reported_at,
            observations=observations,
        )


@strawberry.input(description="A seller's ticket to the provider of one of its orders.")
class SellerTicketInput:
    kind: TicketKind
    subject: str
    body: str
    order: strawberry.ID | None = None
    store: strawberry.ID | None = None


@strawberry.type
class SellerSupportQuery:
    @strawberry.field(
        description="Tickets you opened (sellers) or received (providers); every ticket (staff)."
    )
    async def seller_tickets(
        self,
        info: Ctx,
        status: TicketStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SellerTicketType]:
        return await _page(
            info,
            listings.seller_tickets(ctx(info).viewer, status),
            SellerTicket.id,
            SellerTicketType.of,
            PageArgs.parse(first, after, last, before),
        )

    @strawberry.field(description="Your store's monthly sales as reported, oldest month first.")
    async def store_sales(self, info: Ctx, store: strawberry.ID) -> list[StoreSalesSnapshotType]:
        store_id = parse_id(store, "Store")
        async with ctx(info).session() as session:
            rows = await listings.store_sales(session, ctx(info).viewer, store_id)
        return [StoreSalesSnapshotType.of(r) for r in rows]


async def _ticket_act(
    info: Ctx, ticket: strawberry.ID, action: TicketAction, message: str
) -> SellerTicketType:
    context = ctx(info)
    async with write(info) as session:
        row = await tickets.load_ticket(session, context.viewer, parse_id(ticket, "SellerTicket"))
        await tickets.act(session, context.registry, context.viewer, row, action, message)
    return SellerTicketType.of(row)


@strawberry.type
class SellerSupportMutation:
    @strawberry.mutation(description="Open a ticket to the provider of your order (sellers).")
    async def open_seller_ticket(self, info: Ctx, input: SellerTicketInput) -> SellerTicketType:
        context = ctx(info)
        require(context.viewer, Action.ACT_AS_SELLER)
        async with write(info) as session:
            row = await tickets.open_ticket(
                session,
                context.viewer,
                kind=input.kind,
                subject=input.subject,
                body=input.body,
                order_id=parse_id(input.order, "Order") if input.order else None,
                store_id=parse_id(input.store, "Store") if input.store else None,
            )
        return SellerTicketType.of(row)

    @strawberry.mutation(
        description="Answer a seller's ticket (providers); `resolve` closes it with this answer."
    )
    async def respond_to_ticket(
        self, info: Ctx, ticket: strawberry.ID, message: str, resolve: bool = False
    ) -> SellerTicketType:
        action = TicketAction.RESOLVE if resolve else TicketAction.RESPOND
        return await _ticket_act(info, ticket, action, message)

    @strawberry.mutation(description="Add to your ticket (sellers): it waits for the provider.")
    async def reply_to_ticket(
        self, info: Ctx, ticket: strawberry.ID, message: str
    ) -> SellerTicketType:
        return await _ticket_act(info, ticket, TicketAction.REPLY, message)

    @strawberry.mutation(description="Close your ticket with a last word (sellers).")
    async def close_ticket(
        self, info: Ctx, ticket: strawberry.ID, message: str
    ) -> SellerTicketType:
        return await _ticket_act(info, ticket, TicketAction.CLOSE, message)

    @strawberry.mutation(
        description=(
            "Report a store's sales for a month (the seller, or its integration with an API token "
            "of scope REPORT_STORE_DATA); final once reported."
        )
    )
    async def report_store_sales(
        self, info: Ctx, store: strawberry.ID, month: str, sales: MoneyInput
    ) -> StoreSalesSnapshotType:
        context = ctx(info)
        require(context.viewer, Action.REPORT_STORE_DATA)
        amount = _money(sales.amount, sales.currency)
        async with write(info) as session:
            row, added = await store_data.report_store_sales(
                session,
                context.registry,
                context.viewer,
                parse_id(store, "Store"),
                month,
                amount,
            )
        return StoreSalesSnapshotType.of(row, added)
