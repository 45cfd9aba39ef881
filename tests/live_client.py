"""A real graphql-transport-ws client (the `websockets` library) for the subscription tests."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class LiveClient:
    """One websocket to /graphql, acknowledged, ready to subscribe."""

    def __init__(self, base_url: str, token: str | None, params: dict[str, Any] | None = None):
        url = base_url.replace("http://", "ws://", 1) + "/graphql"
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(url, subprotocols=[PROTOCOL], open_timeout=30)
        )
        payload = params if params is not None else {"authorization": f"Bearer {token}"}
        self.ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        self.ack: dict[str, Any] | None = None

    def acknowledged(self) -> dict[str, Any]:
        message = self.receive(15)
        assert message["type"] == "connection_ack", message
        self.ack = message
        return message

    def subscribe(self, query: str, variables: dict[str, Any] | None = None, id: str = "1") -> None:
        message = {"id": id, "type": "subscribe", "payload": {"query": query}}
        if variables:
            message["payload"]["variables"] = variables
        self.ws.send(json.dumps(message))

    def receive(self, timeout: float = 15) -> dict[str, Any]:
        while True:
            message = json.loads(self.ws.recv(timeout=timeout))
            if message["type"] == "ping":
                self.ws.send(json.dumps({"type": "pong"}))
                continue
            return message

    def events(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The next `count` events of subscription "1" (fails on an error or completion)."""
        found = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            message = self.receive(max(0.1, deadline - time.monotonic()))
            assert message["type"] == "next" and not message["payload"].get("errors"), message
            found.append(next(iter(message["payload"]["data"].values())))
        return found

    def silent_for(self, seconds: float) -> bool:
        """True if nothing but pings arrives for `seconds`."""
        try:
            message = self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"expected nothing, got {message}")

    def close_code(self, timeout: float = 15) -> int | None:
        try:
            while True:
                self.ws.recv(timeout=timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None

    def refusal(self) -> str:
        """The `extensions.code` of the error that ends subscription "1"."""
        message = self.receive()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert message["type"] in ("error", "next") and errors, message
        assert not (message["type"] == "next" and message["payload"].get("data")), message
        return errors[0]["extensions"]["code"]

    def close(self) -> None:
        self._stack.close()
