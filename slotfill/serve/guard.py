"""What every request passes before the app: the Host header (DNS rebinding), the API key
(`Authorization: Bearer KEY`, compared in constant time, every path but /health), a body limit
enforced while the body is read, chunked or not, and a deadline for each piece of the body; a
POST body is read as JSON whatever its declared content type; and one access-log line per request
(method, path, status, milliseconds: never the query or the body, which hold what users typed)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slotfill.options import ServeLimits

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
OPEN_PATHS = ("/health",)  # answered without the API key (load balancers' health checks)
access_log = logging.getLogger("slotfill.serve.access")


async def _send_json(
    send: Send, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(payload).encode("utf-8")
    base = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Pure ASGI middleware in front of the app: API key, body size (read bounded), read deadline."""

    def __init__(self, app: Any, limits: ServeLimits, api_key: str | None) -> None:
        self.app, self.limits = app, limits
        self.api_key = api_key.encode("utf-8") if api_key else None

    def _authorised(self, scope: Scope) -> bool:
        if self.api_key is None or scope["path"] in OPEN_PATHS:
            return True
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.api_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._authorised(scope):
            await _send_json(
                send,
                401,
                {"detail": "missing or wrong API key (Authorization: Bearer KEY)"},
                [(b"www-authenticate", b"Bearer")],
            )
            return
        limit = self.limits.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, {"detail": f"request body of {int(declared)} bytes; the limit is {limit}"})
            return
        body = bytearray()
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.limits.read_timeout_s)
            except asyncio.TimeoutError:
                await _send_json(send, 408, {"detail": f"no request body for {self.limits.read_timeout_s:g} s"})
                return
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await _send_json(send, 413, {"detail": f"request body over {limit} bytes; the limit is {limit}"})
                return
            if not message.get("more_body"):
                break
        if _nested_too_deeply(bytes(body)):  # the framework would answer 400 for it: malformed is 422
            await _send_json(send, 422, {"detail": "request body nested too deeply to be JSON of a request"})
            return
        await self.app(_as_json(scope), _replay(bytes(body), receive), send)


def _nested_too_deeply(body: bytes) -> bool:
    """Whether parsing `body` as JSON would exceed Python's recursion limit (a hostile body of
    100,000 brackets). Parsed here only when it has more brackets than a request ever nests."""
    if body.count(b"[") + body.count(b"{") <= MAX_PLAIN_BRACKETS:
        return False
    try:
        json.loads(body)
    except RecursionError:
        return True
    except ValueError:  # malformed otherwise: the app's 422 names what is wrong
        return False
    return False


MAX_PLAIN_BRACKETS = 512  # a batch of texts with their contexts has a few per text; more are checked


def _as_json(scope: Scope) -> Scope:
    """A POST's body is JSON whatever its declared type (`curl -d` says form-urlencoded): the app
    parses it as JSON, and a body that is not JSON gets 422 saying so."""
    if scope["method"] != "POST":
        return scope
    headers = [(name, value) for name, value in scope.get("headers") or [] if name != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", b"application/json")]}


class AccessLog:
    """Pure ASGI middleware, outermost: one line per request on the `slotfill.serve.access` logger."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), "-"  # "-": the client left before an answer

        async def logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, logged)
        finally:
            elapsed = 1000 * (time.perf_counter() - started)
            access_log.info("%s %s %s %.1f ms", scope["method"], scope["path"], status, elapsed)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then waits for the client as usual."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
ANY_ADDRESS = ("0.0.0.0", "::", "")


def served_hosts(host: str, allowed_hosts: Sequence[str] = ()) -> list[str]:
    """The Host headers a server listening on `host` answers: the address itself, this machine's
    loopback names when it listens there, and `allowed_hosts`; every host ("*") when it listens
    on every address and no host is named."""
    if host in ANY_ADDRESS:
        return list(allowed_hosts) or ["*"]
    names = [host, *LOOPBACK_NAMES] if host in LOOPBACK_NAMES else [host]
    return list(dict.fromkeys([*names, *allowed_hosts]))
