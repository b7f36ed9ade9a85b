"""Every domain's tables, imported in one place so that migrations see the whole schema."""

from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.tables import LedgerCheckpoint, LedgerEntry, SubjectKey
from ethica.service.systems.tables import ModelVersion, System
from ethica.service.users.tables import ApiKey, User

__all__ = [
    "ApiKey",
    "Decision",
    "LedgerCheckpoint",
    "LedgerEntry",
    "ModelVersion",
    "ProtectedValue",
    "SubjectKey",
    "System",
    "User",
]
