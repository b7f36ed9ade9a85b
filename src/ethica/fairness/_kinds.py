"""Decision kinds beyond binary: how each aggregates its count table and computes its metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ethica.fairness._count_table import CountTable
from ethica.fairness._group_metrics import GroupMetrics

KINDS: dict[str, tuple[Callable[..., CountTable], Callable[[CountTable, tuple[str, ...]], GroupMetrics]]] = {}
_ = Any
