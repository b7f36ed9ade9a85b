"""How callers page through lists: one ``Offset`` type, bounded where the databases are.

Both databases take a signed 64-bit offset; a larger one is refused with 422 at the edge
instead of failing in the driver with a 500.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 2**63 - 1
"""The largest offset SQLite and PostgreSQL accept (a signed 64-bit integer)."""

Offset = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip (0 to 2^63 - 1).")
]
