"""What a subject id is, checked alike on every route (path, query, body, form) and command.

A subject id is the customer's pseudonymous id in the business's systems: 1 to
:data:`MAX_LENGTH` characters, without ``#`` (nor NUL or control characters, refused for every
string by :mod:`ethica.service.text`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

from ethica.errors import InputError

MAX_LENGTH = 100
PATTERN = r"^[^#]+$"
DESCRIPTION = "The customer's pseudonymous id in your systems (1 to 100 characters, without '#')."

SubjectId = Annotated[
    str, Field(min_length=1, max_length=MAX_LENGTH, pattern=PATTERN, description=DESCRIPTION)
]
"""A subject id in a request body."""
SubjectPath = Annotated[
    str, Path(min_length=1, max_length=MAX_LENGTH, pattern=PATTERN, description=DESCRIPTION)
]
"""A subject id in a route's path."""
SubjectQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=MAX_LENGTH, pattern=PATTERN, description=DESCRIPTION),
]
"""A subject id to filter a list by."""


def check_subject_id(subject_id: str) -> str:
    """Return ``subject_id`` if it is a valid subject id; otherwise say what is wrong."""
    if not 1 <= len(subject_id) <= MAX_LENGTH:
        raise InputError(f"a subject id has 1 to {MAX_LENGTH} characters; got {len(subject_id)}")
    if "#" in subject_id:
        raise InputError(f"a subject id cannot contain '#'; got {subject_id!r}")
    return subject_id
