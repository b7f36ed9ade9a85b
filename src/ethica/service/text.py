"""Text that crosses the service's edge: no NUL, control characters or lone surrogates.

PostgreSQL refuses NUL in text (a 500 and a failed batch if it got that far) and SQLite keeps it;
control characters and lone surrogates are never meant in ids, names or free text. So every
string a caller sends is checked where it enters, alike on both databases, and refused with 422
naming where it was:

- request bodies: every request schema derives from :class:`RequestSchema`, which checks every
  string it holds, however nested (keys of free-form objects such as ``features`` too); a body
  that is a free-form object is a :data:`CleanJson`;
- path, query string and forms: :class:`CleanText`, a middleware.

Tab, line feed and carriage return are allowed (free text has lines).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote

from pydantic import AfterValidator, BaseModel, model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def forbidden_character(text: str) -> str | None:
    """The first character of ``text`` that no field may hold, as ``U+XXXX``, or None."""
    found = _FORBIDDEN.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def refusal(where: str, character: str) -> str:
    """What a caller is told about a forbidden character at ``where``."""
    return (
        f"{where} contains the character {character} (NUL, a control character or a lone "
        "surrogate); send text without it"
    )


def first_forbidden(value: Any, where: str = "") -> tuple[str, str] | None:
    """Where in ``value`` (strings, lists, dicts, models) the first forbidden character is."""
    texts: list[str] = []
    _collect(value, texts)
    if _FORBIDDEN.search("\n".join(texts)) is None:
        return None  # the common case, in one search; only a refusal needs the place
    for place, text in _strings(value, where):
        character = forbidden_character(text)
        if character is not None:
            return place or "the value", character
    return None


def _collect(value: Any, texts: list[str]) -> None:
    """Append every string in ``value`` to ``texts`` (what :func:`_strings` walks, unnamed)."""
    if isinstance(value, str):
        texts.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                texts.append(key)
            if isinstance(item, str):
                texts.append(item)
            elif not isinstance(item, int | float | bool | None):
                _collect(item, texts)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect(item, texts)
    elif isinstance(value, BaseModel) and not isinstance(value, RequestSchema):
        for name in type(value).model_fields:
            _collect(getattr(value, name), texts)


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, RequestSchema):
        return  # checked when it was built
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), _join(where, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, where or "a key")
            yield from _strings(item, _join(where, str(key)))
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


class RequestSchema(BaseModel):
    """Base of every schema a caller sends: no string in it holds a forbidden character."""

    @model_validator(mode="after")
    def _clean_text(self) -> RequestSchema:
        texts: list[str] = []
        fields = type(self).model_fields
        for name in fields:
            _collect(getattr(self, name), texts)
        if _FORBIDDEN.search("\n".join(texts)) is None:
            return self
        for name in fields:
            found = first_forbidden(getattr(self, name), name)
            if found is not None:
                raise ValueError(refusal(*found))
        return self


def _clean_json(value: dict[str, Any]) -> dict[str, Any]:
    found = first_forbidden(value)
    if found is not None:
        raise ValueError(refusal(*found))
    return value


CleanJson = Annotated[dict[str, Any], AfterValidator(_clean_json)]
"""A free-form JSON object sent whole (a system's spec) without a forbidden character."""


class CleanText:
    """Refuse, with 422, a path, query string or form holding a forbidden character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = _in_path_or_query(scope)
        if found is None and _is_form(scope):
            receive, found = await _read_form(receive)
        if found is None:
            await self.app(scope, receive, send)
            return
        body = {"error": {"code": "invalid", "message": refusal(*found)}}
        content = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 422,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _in_path_or_query(scope: Scope) -> tuple[str, str] | None:
    raw_path = scope.get("raw_path")
    path = unquote(raw_path.decode("latin-1")) if raw_path else scope.get("path", "")
    character = forbidden_character(path)
    if character is not None:
        return "the path", character
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        found = first_forbidden(name, "a query parameter's name") or first_forbidden(
            value, f"the query parameter {name!r}"
        )
        if found is not None:
            return found
    return None


def _is_form(scope: Scope) -> bool:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            return bool(value.startswith(b"application/x-www-form-urlencoded"))
    return False


async def _read_form(receive: Receive) -> tuple[Receive, tuple[str, str] | None]:
    """Read a form body whole, check it, and hand on a ``receive`` that replays it."""
    chunks: list[bytes] = []
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    found = None
    text = b"".join(chunks).decode("utf-8", errors="replace")
    for name, value in parse_qsl(text, keep_blank_values=True):
        found = first_forbidden(value, f"the form field {name!r}")
        if found is not None:
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, found
