"""Webhooks in the graph: a provider's endpoints, their deliveries, registering and disabling."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from linkstar.core.kernel.db import utcnow
from linkstar.core.kernel.errors import NotFound
from linkstar.core.live import webhooks
from linkstar.core.live.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from linkstar.schema import loaders
from linkstar.schema.nodes import Ctx, child_connection, ctx, page_of, rows_for_nodes, rows_resolver
from linkstar.schema.pagination import Connection, PageArgs
from linkstar.schema.resolving import parse_id, require_provider_member, write

WebhookDeliveryStatus = strawberry.enum(
    DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="PENDING (first attempt or retry to come), DELIVERED, DEAD (gave up).",
)


@strawberry.type(name="WebhookDelivery")
class WebhookDeliveryType(relay.Node):
    id: relay.NodeID[int]
    event_id: strawberry.ID = strawberry.field(description="The `id` of the event delivered.")
    event_type: str
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    attempts: int
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due (PENDING only)."
    )
    last_attempt_at: datetime | None
    response_status: int | None = strawberry.field(
        description="The HTTP status the endpoint answered last."
    )
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: WebhookDelivery, provider_id: int) -> WebhookDeliveryType:
        return cls(
            id=row.id,
            event_id=strawberry.ID(str(row.event_id)),
            event_type=row.event_type,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status is DeliveryStatus.PENDING else None,
            last_attempt_at=row.last_attempt_at,
            response_status=row.response_status,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
            provider_id=provider_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Ctx, node_ids: list[str], required: bool = False
    ) -> list[WebhookDeliveryType | None]:
        rows = await rows_for_nodes(info, WebhookDelivery, node_ids)
        endpoints = await rows_for_nodes(
            info, WebhookEndpoint, [str(r.endpoint_id) if r else "x" for r in rows]
        )
        return [
            cls.of(r, e.provider_id) if r and e else None
            for r, e in zip(rows, endpoints, strict=True)
        ]


@strawberry.type(name="WebhookEndpoint")
class WebhookEndpointType(relay.Node):
    id: relay.NodeID[int]
    url: str
    event_types: list[str] = strawberry.field(
        description="Event types delivered here: exact (`alert.raised`) or families (`sanction.*`)."
    )
    active: bool
    created_at: datetime
    disabled_at: datetime | None
    provider_id: strawberry.Private[int]

    @classmethod
    def of(cls, row: WebhookEndpoint) -> WebhookEndpointType:
        return cls(
            id=row.id,
            url=row.url,
            event_types=list(row.event_types),
            active=row.active,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            provider_id=row.provider_id,
        )

    resolve_nodes = rows_resolver(WebhookEndpoint)

    @strawberry.field(description="Deliveries to this endpoint, oldest first.")
    async def deliveries(
        self,
        info: Ctx,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookDeliveryType]:
        args = PageArgs.parse(first, after, last, before)
        filters = (("status", status),) if status is not None else ()
        context = ctx(info)
        rows = await loaders.child_pages(context, WebhookDelivery, "endpoint_id", filters).load(
            (self.id, args)
        )
        provider_id = self.provider_id

        async def count() -> int:
            return await loaders.child_counts(
                context, WebhookDelivery, "endpoint_id", filters
            ).load(self.id)

        return page_of(rows, args, lambda r: WebhookDeliveryType.of(r, provider_id), count)


@strawberry.type
class WebhookProviderFields:
    @strawberry.field(description="Webhook endpoints registered by the provider, oldest first.")
    async def webhooks(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookEndpointType]:
        args = PageArgs.parse(first, after, last, before)
        return await child_connection(info, self.id, WebhookEndpoint, WebhookEndpointType.of, args)


@strawberry.type
class RegisteredWebhook:
    endpoint: WebhookEndpointType
    secret: str = strawberry.field(
        description=(
            "Signs every delivery (X-LinkStar-Signature). Shown only now: store it in your "
            "receiver's configuration."
        )
    )


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description=(
            "Register an HTTPS endpoint of your systems to receive your provider's events of "
            "`eventTypes` (e.g. `alert.raised`, `sanction.*`). In production the URL must be "
            "HTTPS and resolve only to public addresses."
        )
    )
    async def register_webhook(
        self, info: Ctx, url: str, event_types: list[str]
    ) -> RegisteredWebhook:
        provider_id = require_provider_member(info)
        context = ctx(info)
        async with write(info) as session:
            endpoint, secret = await webhooks.register(
                session,
                provider_id,
                url,
                event_types,
                context.viewer.account_id,
                production=not context.settings.development,
            )
        return RegisteredWebhook(endpoint=WebhookEndpointType.of(endpoint), secret=secret)

    @strawberry.mutation(
        description="Stop sending to an endpoint; its pending deliveries become DEAD."
    )
    async def disable_webhook(self, info: Ctx, id: strawberry.ID) -> WebhookEndpointType:
        provider_id = require_provider_member(info)
        async with write(info) as session:
            endpoint = await session.get(WebhookEndpoint, parse_id(id, "WebhookEndpoint"))
            if endpoint is None or endpoint.provider_id != provider_id:
                raise NotFound("no such webhook")
            if endpoint.active:
                endpoint.active = False
                endpoint.disabled_at = utcnow()
        return WebhookEndpointType.of(endpoint)
