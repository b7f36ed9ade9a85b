"""HTTP Strict Transport Security in production: browsers reach the service over HTTPS only.

The header is sent on every answer (pages and API); a browser that saw it once refuses plain
HTTP to this host for :data:`MAX_AGE_SECONDS`, so a session cookie cannot leak over HTTP.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_AGE_SECONDS = 31_536_000  # a year, as the HSTS preload list asks
HEADER = (b"strict-transport-security", f"max-age={MAX_AGE_SECONDS}; includeSubDomains".encode())


class StrictTransport:
    """Add the ``Strict-Transport-Security`` header to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), HEADER]
            await send(message)

        await self.app(scope, receive, with_header)
