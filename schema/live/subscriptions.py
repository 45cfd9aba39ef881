"""Subscriptions (graphql-transport-ws): domain events as they happen, under the query policy.

The websocket authenticates once, in `connection_init` (see `core.runtime.app`); the credential
is checked again before every event is sent, so a revoked session or token, or a disabled
account, stops receiving at the next event. Visibility is the query policy's: a partner sees
its own provider's events only; staff see every provider's and the review queues.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import AsyncGenerator, Callable
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from linkstar.core.identity.accounts import authenticate
from linkstar.core.identity.policy import (
    Action,
    Forbidden,
    Unauthenticated,
    Viewer,
    allowed,
    can_read_private,
)
from linkstar.core.kernel.errors import InvalidInput, LinkStarError
from linkstar.core.live.hub import EventHub, Interest, LiveEvent, SubscriberTooSlow
from linkstar.schema.errors import INTERNAL_MESSAGE
from linkstar.schema.nodes import Ctx, ctx
from linkstar.schema.resolving import parse_id

MAX_KINDS = 50
log = logging.getLogger("linkstar.live")


@strawberry.type(name="LiveEvent", description="A domain event, delivered as it happens.")
class LiveEventType:
    id: strawberry.ID = strawberry.field(
        description="The event's position in the log; pass it as `after` to resume from here."
    )
    kind: str = strawberry.field(description="The event type, e.g. `alert.raised`.")
    occurred_at: datetime
    provider_id: strawberry.ID | None = strawberry.field(
        description="The global ID of the provider the event concerns, if any."
    )
    subject_type: str
    subject_id: strawberry.ID = strawberry.field(description="The subject's database number.")
    payload: JSON

    @classmethod
    def of(cls, event: LiveEvent) -> LiveEventType:
        provider = (
            None
            if event.provider_id is None
            else strawberry.relay.to_base64("Provider", event.provider_id)
        )
        return cls(
            id=strawberry.ID(str(event.id)),
            kind=event.event_type,
            occurred_at=event.occurred_at,
            provider_id=provider,
            subject_type=event.subject_type,
            subject_id=strawberry.ID(str(event.subject_id)),
            payload=event.payload,
        )


@strawberry.enum(description="A staff work queue fed by domain events.")
class ReviewQueue(enum.Enum):
    APPLICATIONS = "APPLICATIONS"  # applications submitted (or resubmitted) for review
    APPEALS = "APPEALS"  # appeals filed against a sanction or tier change


QUEUE_KINDS = {
    ReviewQueue.APPLICATIONS: frozenset({"application.submit"}),
    ReviewQueue.APPEALS: frozenset({"appeal.filed"}),
}


def _after(value: strawberry.ID | None) -> int | None:
    if value is None:
        return None
    if not str(value).isdigit():
        raise InvalidInput("`after` must be the `id` of an event you received", code="INVALID_ID")
    return int(value)


def _kinds(kinds: list[str] | None) -> frozenset[str] | None:
    if kinds is None:
        return None
    if not kinds or len(kinds) > MAX_KINDS:
        raise InvalidInput(f"name between 1 and {MAX_KINDS} kinds, or none for every kind")
    return frozenset(kinds)


def _hub(info: Ctx) -> EventHub:
    request = ctx(info).request
    hub = getattr(getattr(request, "app", None), "state", None)
    if request is None or hub is None or not hasattr(hub, "hub"):
        raise InvalidInput("subscribe over a websocket (graphql-transport-ws)")
    return hub.hub


async def _current_viewer(info: Ctx) -> Viewer:
    """The connection's viewer as of now: its credential is checked again."""
    context = ctx(info)
    credential = getattr(context.request.state, "credential", None) if context.request else None
    if not credential:
        raise Unauthenticated(
            "send your access token or API token in connection_init",
            suggestion='connection_init payload: {"authorization": "Bearer <token>"}',
        )
    async with context.session() as session:
        return await authenticate(session, credential, context.settings.secret_key)


async def _deliver(
    info: Ctx,
    interest: Interest,
    after: int | None,
    may_see: Callable[[Viewer, LiveEvent], bool],
) -> AsyncGenerator[LiveEventType, None]:
    async for event in _hub(info).stream(interest, after):
        viewer = await _current_viewer(info)  # a revoked session stops here
        if not may_see(viewer, event):
            raise Forbidden(f"{viewer.label} may no longer receive these events")
        yield LiveEventType.of(event)


async def _shaped(
    events: AsyncGenerator[LiveEventType, None],
) -> AsyncGenerator[LiveEventType, None]:
    """Errors as the queries give them: a stable `extensions.code`, no internals."""
    try:
        async for event in events:
            yield event
    except LinkStarError as exc:
        extensions = {"code": exc.code}
        if exc.suggestion:
            extensions["suggestion"] = exc.suggestion
        raise GraphQLError(exc.message, extensions=extensions) from None
    except SubscriberTooSlow:
        raise GraphQLError(
            "this subscription fell too far behind and was stopped",
            extensions={
                "code": "SUBSCRIBER_TOO_SLOW",
                "suggestion": "subscribe again with `after` set to the last id you received",
            },
        ) from None
    except Exception:
        log.exception("subscription failed")
        raise GraphQLError(INTERNAL_MESSAGE, extensions={"code": "INTERNAL_SERVER_ERROR"}) from None


def _sees_provider_event(viewer: Viewer, event: LiveEvent) -> bool:
    if event.internal and not viewer.is_staff:
        return False
    if event.provider_id is None:
        return allowed(viewer, Action.READ_ANY_PROVIDER)
    return can_read_private(viewer, event.provider_id)


def _sees_queue(viewer: Viewer, _event: LiveEvent) -> bool:
    return allowed(viewer, Action.REVIEW)


@strawberry.type(name="Subscription")
class LiveSubscription:
    @strawberry.subscription(
        description=(
            "A provider's events as they happen: alerts raised, scorecards published, sanctions, "
            "tier changes, application status changes. Partners receive their own provider's "
            "events only (`provider` may be omitted); staff any provider's, or every provider's "
            "when `provider` is omitted. `kinds` filters by event type (`alert.raised`) or "
            "family (`sanction.*`). `after`: resume after this event id, receiving first what "
            "was missed."
        )
    )
    async def provider_events(
        self,
        info: Ctx,
        provider: strawberry.ID | None = None,
        kinds: list[str] | None = None,
        after: strawberry.ID | None = None,
    ) -> AsyncGenerator[LiveEventType, None]:
        async for event in _shaped(_provider_events(info, provider, kinds, after)):
            yield event

    @strawberry.subscription(
        description="A staff work queue: new applications or appeals as they arrive."
    )
    async def review_queue(
        self, info: Ctx, queue: ReviewQueue, after: strawberry.ID | None = None
    ) -> AsyncGenerator[LiveEventType, None]:
        async for event in _shaped(_review_queue(info, queue, after)):
            yield event


async def _provider_events(
    info: Ctx,
    provider: strawberry.ID | None,
    kinds: list[str] | None,
    after: strawberry.ID | None,
) -> AsyncGenerator[LiveEventType, None]:
    viewer = await _current_viewer(info)
    if provider is not None:
        provider_id: int | None = parse_id(provider, "Provider")
    elif viewer.is_staff:
        provider_id = None
    else:
        provider_id = viewer.provider_id
    if provider_id is None:
        if not allowed(viewer, Action.READ_ANY_PROVIDER):
            raise Forbidden(f"{viewer.label} has no provider to follow")
    elif not can_read_private(viewer, provider_id):
        raise Forbidden(f"{viewer.label} may not follow this provider's events")
    interest = Interest(
        provider_ids=None if provider_id is None else frozenset({provider_id}),
        kinds=_kinds(kinds),
        include_internal=viewer.is_staff,
    )
    async for event in _deliver(info, interest, _after(after), _sees_provider_event):
        yield event


async def _review_queue(
    info: Ctx, queue: ReviewQueue, after: strawberry.ID | None
) -> AsyncGenerator[LiveEventType, None]:
    viewer = await _current_viewer(info)
    if not allowed(viewer, Action.REVIEW):
        raise Forbidden(f"{viewer.label} may not follow review queues")
    interest = Interest(kinds=QUEUE_KINDS[queue], include_internal=True)
    async for event in _deliver(info, interest, _after(after), _sees_queue):
        yield event
