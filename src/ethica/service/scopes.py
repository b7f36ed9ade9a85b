"""The registry of scopes ("<resource>:<action>"), and which scopes each role holds.

Every route declares the one scope it needs; a test walks every route with every role.
"""

from __future__ import annotations

from typing import Literal

SCOPES: dict[str, str] = {
    "systems:read": "Read the registry of AI systems and their specs.",
    "systems:write": "Register AI systems, change their specs and upload model versions.",
    "decisions:write": "Send decisions through the gateway.",
    "decisions:read": "List and read decisions (without protected attributes).",
    "outcomes:write": "Record the true outcome of a decision.",
    "audit:run": "Run fairness audits on live decisions (reads protected attributes).",
    "ledger:verify": "Verify the ledger's hash chains.",
    "users:write": "Create staff users and application API keys.",
    "links:write": "Sign customer links, so a customer can see their own decisions.",
    "self:read": "A customer reads their own decisions and consent choices.",
    "self:write": "A customer records their own consent choices and objections.",
    "consent:write": "Record, and read back, a customer's consent choices and objections.",
    "notices:write": "Publish the privacy notices customers are shown (a version per wording).",
    "reviews:read": "Read the queue of decisions held for human review.",
    "reviews:decide": "Claim held decisions, confirm or override them, approve overrides.",
    "reviews:seed": "Create seeded review cases with known answers, to measure reviewers.",
    "reviews:stats": "Read reviewers' statistics (a reviewer sees only their own).",
    "reviews:oversee": "See every reviewer's statistics, not only one's own.",
    "subjects:manage": (
        "Handle data subjects' requests: access exports, erasure and the register of requests."
    ),
    "systems:suspend": "Suspend an AI system (the kill switch) and resume it; both are recorded.",
    "concerns:read": "Read the concerns customers reported about their decisions.",
    "concerns:write": "Resolve a customer's concern with a response they will read.",
    "sessions:end": "Sign out: the session token presented is revoked.",
    "webhooks:read": "Read the delivery log of the customer-notification webhook.",
    "candidates:write": "Run a candidate mitigation in shadow beside a live system's decisions.",
    "candidates:promote": (
        "Serve a candidate mitigation in place of the system's decisions, or roll it back: an "
        "officer's decision, recorded with the reason and the evidence reviewed."
    ),
    "governance:read": (
        "Read systems' obligations registers and serious incidents (grant it alone to an "
        "auditor's key: it reads no personal data)."
    ),
    "incidents:write": "Open serious incidents (AI Act Art. 73) and record their steps.",
}

Role = Literal["admin", "officer", "reviewer", "customer"]

ROLE_SCOPES: dict[str, frozenset[str]] = {
    # Promoting a mitigation is the officer's decision alone (separation of duties).
    "admin": frozenset(SCOPES) - {"self:read", "self:write", "candidates:promote"},
    "officer": frozenset(
        {
            "systems:read",
            "systems:write",
            "decisions:read",
            "audit:run",
            "ledger:verify",
            "subjects:manage",
            "notices:write",
            "reviews:seed",
            "reviews:stats",
            "reviews:oversee",
            "systems:suspend",
            "concerns:read",
            "concerns:write",
            "sessions:end",
            "webhooks:read",
            "candidates:write",
            "candidates:promote",
            "governance:read",
            "incidents:write",
        }
    ),
    # Reviewers read decisions only through their cases: a decision read would show the model's
    # recommendation before a blind-first judgement, and would tell seeded cases from real ones.
    "reviewer": frozenset(
        {"systems:read", "reviews:read", "reviews:decide", "reviews:stats", "sessions:end"}
    ),
    "customer": frozenset({"self:read", "self:write", "sessions:end"}),
}

#: What an application key may be granted (never staff or customer scopes).
APPLICATION_SCOPES = frozenset(
    {
        "decisions:write",
        "decisions:read",
        "outcomes:write",
        "systems:read",
        "links:write",
        "consent:write",
        "governance:read",
    }
)
