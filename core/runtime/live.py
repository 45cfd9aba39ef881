"""The websocket side of /graphql: authentication in `connection_init`, the event hub's life."""

from __future__ import annotations

import os
from typing import Any

from strawberry.exceptions import ConnectionRejectionError

from linkstar.core.identity.accounts import authenticate
from linkstar.core.identity.policy import Unauthenticated
from linkstar.schema.context import Context


def credential_of(params: dict[str, Any] | None) -> str | None:
    """The `Authorization` value a client put in its connection_init payload.

    Accepted: `{"authorization": "Bearer <token>"}` (any case of the key), or `{"token": "<token>"}`
    for an access token or an API token.
    """
    if not params:
        return None
    for key, value in params.items():
        if key.lower() == "authorization" and isinstance(value, str) and value.strip():
            return value.strip()
    token = params.get("token")
    if isinstance(token, str) and token.strip():
        return f"Bearer {token.strip()}"
    return None


class SubscriptionAuthentication:
    """Mixed into the GraphQL view: a websocket must authenticate before it may subscribe.

    A missing or bad credential closes the socket with 4403 (the protocol's Forbidden); the
    subscriptions check the credential again before every event they send.
    """

    async def on_ws_connect(self, context: Context) -> Any:
        credential = credential_of(context.connection_params)
        if credential is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        try:
            async with context.sessionmaker() as session:
                viewer = await authenticate(session, credential, context.settings.secret_key)
        except Unauthenticated:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"}) from None
        if not viewer.authenticated:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.viewer = viewer
        assert context.request is not None
        context.request.state.credential = credential
        # the worker process is named so a client (and the tests) can tell workers apart
        return {"viewer": viewer.label, "worker": os.getpid()}
