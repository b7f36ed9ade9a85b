"""Mitigation tests compare with peers on the held-out decisions the fairness peer tests use."""

from __future__ import annotations

import sys
from pathlib import Path

# peer_decisions.py lives with the fairness peer tests; one model per data set serves both.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fairness"))
