"""Every domain's tables, imported in one place so that migrations see the whole schema."""

from ethica.service.candidates.tables import Candidate, ShadowDecision
from ethica.service.concerns.tables import Concern
from ethica.service.consent.tables import ConsentRecord, NoticeVersion, ObjectionRecord
from ethica.service.decisions.tables import Decision, ProtectedValue
from ethica.service.ledger.tables import KeyEpoch, LedgerCheckpoint, LedgerEntry, SubjectKey
from ethica.service.monitoring.tables import MonitoringWindow
from ethica.service.notifications.tables import Notification, WebhookAttempt
from ethica.service.reviews.tables import (
    Appeal,
    Review,
    ReviewClaim,
    ReviewEscalation,
    ReviewJudgement,
    SeededCase,
)
from ethica.service.subjects.tables import RightsRequest
from ethica.service.systems.tables import ModelVersion, System
from ethica.service.users.tables import ApiKey, User

__all__ = [
    "ApiKey",
    "Candidate",
    "Concern",
    "Appeal",
    "ConsentRecord",
    "Decision",
    "KeyEpoch",
    "LedgerCheckpoint",
    "LedgerEntry",
    "ModelVersion",
    "MonitoringWindow",
    "Notification",
    "NoticeVersion",
    "ObjectionRecord",
    "ProtectedValue",
    "Review",
    "ReviewClaim",
    "ReviewEscalation",
    "ReviewJudgement",
    "RightsRequest",
    "SeededCase",
    "ShadowDecision",
    "SubjectKey",
    "System",
    "User",
    "WebhookAttempt",
]
