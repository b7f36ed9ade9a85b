"""The decision route's handler: FastAPI's, without solving dependencies per decision.

FastAPI resolves a route's parameters per request by walking its dependency tree (path, header,
body, scope check), which cost about a third of the HTTP layer's time per decision. The route's
parameters are fixed, so :class:`DecisionRoute` resolves them directly on the common path: a
JSON body that the schema accepts and an ``Idempotency-Key`` within its limit. The route's own
scope checks run as they would as dependencies, and the answer is serialized as FastAPI would.
Anything else (a body that is not JSON or not valid, an over-long key, dependency overrides)
goes to FastAPI's own handler, so every error reads exactly as before and OpenAPI is unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from ethica.service.deps import ScopeCheck

_IDEMPOTENCY_HEADER = "idempotency-key"
_IDEMPOTENCY_KEY_MAX = 200  # as the endpoint's Header(max_length=200) declares


class DecisionRoute(APIRoute):
    """An :class:`~fastapi.routing.APIRoute` whose common requests skip dependency solving.

    For an endpoint ``(system_id, body, request, idempotency_key)`` whose only dependencies
    are :class:`~ethica.service.deps.ScopeCheck` s.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        generic = super().get_route_handler()
        checks = [getattr(d, "dependency", None) for d in self.dependencies]
        if not all(isinstance(check, ScopeCheck) for check in checks):
            return generic  # a dependency this handler does not know: FastAPI resolves it
        scope_checks: list[ScopeCheck] = [c for c in checks if isinstance(c, ScopeCheck)]
        body_type = self.body_field.field_info.annotation if self.body_field else None
        if not (isinstance(body_type, type) and issubclass(body_type, BaseModel)):
            return generic
        schema: type[BaseModel] = body_type
        endpoint = self.endpoint
        status = self.status_code or 200

        async def handler(request: Request) -> Response:
            key = request.headers.get(_IDEMPOTENCY_HEADER)
            if (
                request.app.dependency_overrides
                or request.headers.get("content-type") != "application/json"
                or (key is not None and len(key) > _IDEMPOTENCY_KEY_MAX)
            ):
                return await generic(request)
            try:
                body = schema.model_validate(json.loads(await request.body()))
            except (ValueError, ValidationError):  # FastAPI's handler says what is wrong
                return await generic(request)
            for check in scope_checks:  # as dependencies: before the endpoint, in order
                await check(request)
            answer: BaseModel = await endpoint(
                system_id=request.path_params["system_id"],
                body=body,
                request=request,
                idempotency_key=key,
            )
            return Response(
                answer.model_dump_json(by_alias=True),
                status_code=status,
                media_type="application/json",
            )

        return handler
