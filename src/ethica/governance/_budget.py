"""Per-system privacy budgets: every spend recorded, and a release past the budget refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ethica.errors import InputError
from ethica.governance._evidence import LedgerRef
from ethica.ledger import rfc3339

__all__ = ["PrivacyBudget", "PrivacyBudgetExceeded", "Spend"]


class PrivacyBudgetExceeded(InputError):
    """A release would spend more privacy loss (ε) than the system's budget has left."""


@dataclass(frozen=True)
class Spend:
    """Privacy loss spent by one release (a ledger entry in the service)."""

    system: str
    release: str
    epsilon: float
    at: datetime
    what: str
    budget: float | None = None
    """The system's total ε when the spend was made (``None`` where it was not recorded)."""
    ref: LedgerRef | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the spend as JSON data (the public fields of its ledger entry)."""
        data: dict[str, Any] = {
            "system": self.system,
            "release": self.release,
            "epsilon": self.epsilon,
            "at": rfc3339(self.at),
            "what": self.what,
        }
        if self.budget is not None:
            data["budget"] = self.budget
        return data


@dataclass
class PrivacyBudget:
    """The total privacy loss (ε, pure differential privacy) a system's releases may spend.

    Sequential composition: the ε of every release adds up, and once the total is reached no
    further release of the system's data is made.
    """

    system: str
    epsilon: float
    spends: list[Spend] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.epsilon > 0:
            raise InputError(f"a privacy budget is a positive ε, got {self.epsilon}")

    @property
    def spent(self) -> float:
        """The ε spent so far."""
        return sum(s.epsilon for s in self.spends)

    @property
    def remaining(self) -> float:
        """The ε left."""
        return max(self.epsilon - self.spent, 0.0)

    def check(self, epsilon: float, *, release: str) -> None:
        """Raise :class:`PrivacyBudgetExceeded` unless ``epsilon`` fits in what is left."""
        if epsilon > self.remaining + 1e-12:
            raise PrivacyBudgetExceeded(
                f"the release {release!r} of {self.system} needs ε = {epsilon:.4g}, but only "
                f"ε = {self.remaining:.4g} of its budget of {self.epsilon:.4g} is left "
                f"({len(self.spends)} releases spent {self.spent:.4g}); nothing was released. "
                "Release fewer tables, lower ε per release, or raise the budget knowingly."
            )

    def charge(self, epsilon: float, *, release: str, at: datetime, what: str) -> Spend:
        """Record a spend of ``epsilon`` (after :meth:`check`) and return it."""
        self.check(epsilon, release=release)
        spend = Spend(self.system, release, epsilon, at, what, budget=self.epsilon)
        self.spends.append(spend)
        return spend
