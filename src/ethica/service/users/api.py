"""Routes for signing in and for managing users and API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ethica.service.answers import ERROR_ANSWERS, error_answers
from ethica.service.auth import read_token, sign_token
from ethica.service.deps import AddressDep, SessionDep, SettingsDep, StateDep, requires
from ethica.service.users import service
from ethica.service.users import sign_in as sign_in_flow
from ethica.service.users.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    Login,
    TokenRead,
    UserCreate,
    UserRead,
)

router = APIRouter(prefix="/v1", tags=["users"], responses=ERROR_ANSWERS)


@router.post(
    "/auth/token",
    operation_id="sign_in",
    response_model=TokenRead,
    responses=error_answers(429),
)
def sign_in(credentials: Login, state: StateDep, address: AddressDep) -> TokenRead:
    """Exchange a staff user's email and password for a signed session token.

    After 5 failures for one account, or 20 from one address, in 15 minutes, sign-ins are
    refused with 429 and a ``Retry-After`` header.
    """
    settings = state.settings.app
    signed_in = sign_in_flow.sign_in(
        state.sessions, email=credentials.email, password=credentials.password, address=address
    )
    token = sign_token(
        {"sub": signed_in.user_id, "kind": "user"},
        secret=settings.secret_key.get_secret_value(),
        minutes=settings.session_minutes,
    )
    return TokenRead(token=token, role=signed_in.role, expires_in_minutes=settings.session_minutes)


@router.delete(
    "/auth/token",
    operation_id="sign_out",
    status_code=204,
    dependencies=[requires("sessions:end")],
)
def sign_out(session: SessionDep, settings: SettingsDep, request: Request) -> Response:
    """End the session of the token presented: it opens nothing any more."""
    secret = settings.app.secret_key.get_secret_value()
    payload = read_token(request.headers["authorization"][7:].strip(), secret=secret)
    sign_in_flow.revoke(session, jti=str(payload["jti"]), expires=int(payload["exp"]))
    return Response(status_code=204)


@router.post(
    "/users",
    operation_id="create_user",
    response_model=UserRead,
    status_code=201,
    dependencies=[requires("users:write")],
)
def create_user(body: UserCreate, session: SessionDep) -> UserRead:
    """Create a staff user (admin, officer or reviewer)."""
    user = service.create_user(
        session, email=body.email, name=body.name, role=body.role, password=body.password
    )
    return UserRead.model_validate(user)


@router.post(
    "/api-keys",
    operation_id="create_api_key",
    response_model=ApiKeyCreated,
    status_code=201,
    dependencies=[requires("users:write")],
)
def create_api_key(body: ApiKeyCreate, session: SessionDep) -> ApiKeyCreated:
    """Create an application's API key; the key is returned once and stored only as a hash."""
    row, key = service.create_api_key(session, name=body.name, scopes=body.scopes)
    return ApiKeyCreated(id=row.id, name=row.name, scopes=row.scopes, key=key)
