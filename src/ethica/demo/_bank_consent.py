"""The demo bank's consent notices, and the customers who withdraw consent or object.

Before their decisions, a few of the demo customers object to automated decisions or to
profiling, withdraw their postcode from credit decisions, or opt out of personalization; the
gateway then decides for them as their choices say.
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd

from ethica.privacy import NoticeKind

#: Shares of the demo customers who, before their decisions, ...
OBJECT_TO_AUTOMATION = 0.03  # ... object to automated decisions (GDPR Art. 22)
OBJECT_TO_PROFILING = 0.02  # ... object to profiling (Art. 21)
WITHDRAW_POSTCODE = 0.05  # ... opt out of their postcode being used for credit decisions
WITHDRAW_PERSONALIZATION = 0.05  # ... opt out of personalization


#: The demo bank's consent notices: (data use, kind, what the customer reads).
CONSENT_NOTICES: tuple[tuple[str, NoticeKind, str], ...] = (
    (
        "personalize",
        "opt_out",
        "We use what we know about your accounts to suggest the products most useful to you. "
        "You can say no: you then see the same suggestions as every customer.",
    ),
    (
        "marketing",
        "opt_in",
        "With your agreement, we tell you about offers that match your situation, in the app "
        "and by post. Without it, we send you no offers.",
    ),
)


def record_consent_choices(state: Any, people: pd.DataFrame, rng: random.Random) -> dict[str, int]:
    """Record withdrawals and objections of some customers, before any decision about them."""
    from ethica.service.consent.service import put_notice, record_consent, record_objection

    ids = list(people["customer_id"])
    rng.shuffle(ids)
    shares = {
        "objected to automated decisions": OBJECT_TO_AUTOMATION,
        "objected to profiling": OBJECT_TO_PROFILING,
        "withdrew their postcode from credit decisions": WITHDRAW_POSTCODE,
        "opted out of personalization": WITHDRAW_PERSONALIZATION,
    }
    groups: dict[str, list[str]] = {}
    start = 0
    for what, share in shares.items():
        count = max(1, round(share * len(ids)))
        groups[what] = ids[start : start + count]
        start += count

    def job(batch: Any) -> None:
        # The uses of data a customer can say yes or no to, each with its wording in the portal.
        for key, kind, text in CONSENT_NOTICES:
            put_notice(batch, data_use_key=key, kind=kind, text=text)
        for subject in groups["objected to automated decisions"]:
            record_objection(batch, subject_id=subject, kind="automated_decision", source="portal")
        for subject in groups["objected to profiling"]:
            record_objection(batch, subject_id=subject, kind="profiling", source="portal")
        for subject in groups["withdrew their postcode from credit decisions"]:
            record_consent(
                batch,
                subject_id=subject,
                data_use_key="finance",
                status="withdrawn",
                data_category_key="user.contact.address.postal_code",
                source="portal",
            )
        for subject in groups["opted out of personalization"]:
            record_consent(
                batch,
                subject_id=subject,
                data_use_key="personalize",
                status="withdrawn",
                source="portal",
            )

    state.gateway.writer.run(job)
    state.gateway.consent.forget()
    return {what: len(subjects) for what, subjects in groups.items()}
