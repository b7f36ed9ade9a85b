"""Routes for signing in and for managing users and API keys."""

from __future__ import annotations

from fastapi import APIRouter

from ethica.service.auth import sign_token
from ethica.service.deps import SessionDep, SettingsDep, requires
from ethica.service.users import service
from ethica.service.users.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    Login,
    TokenRead,
    UserCreate,
    UserRead,
)

router = APIRouter(prefix="/v1", tags=["users"])


@router.post("/auth/token", operation_id="sign_in", response_model=TokenRead)
def sign_in(credentials: Login, session: SessionDep, service_settings: SettingsDep) -> TokenRead:
    """Exchange a staff user's email and password for a signed session token."""
    settings = service_settings.app
    user = service.login(session, email=credentials.email, password=credentials.password)
    token = sign_token(
        {"sub": user.id, "kind": "user"},
        secret=settings.secret_key.get_secret_value(),
        minutes=settings.session_minutes,
    )
    return TokenRead(token=token, role=user.role, expires_in_minutes=settings.session_minutes)


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
