"""The gateway's consent hook on the database: the subject's records → what a system may use."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ethica.governance import SystemSpec
from ethica.privacy import evaluate
from ethica.service.consent.service import consent_inputs
from ethica.service.gateway import ConsentState


class SqlConsentHook:
    """Reads a subject's choices, objections and the notices for a system's purpose.

    Two indexed queries per decision (:func:`consent_inputs`); the rules are the privacy
    library's :func:`~ethica.privacy.evaluate`. A decision without a subject id is judged as a
    subject with no records: under the ``consent`` legal basis every feature is withheld.
    """

    needs_session = True

    def check(
        self, session: Session | None, *, spec: SystemSpec, subject_id: str | None
    ) -> ConsentState:
        """The subject's consent state for this system's purpose."""
        if session is None:
            raise TypeError("SqlConsentHook reads the database: the gateway must pass a session")
        records, notices = consent_inputs(session, subject_id=subject_id, purpose=spec.purpose)
        state = evaluate(spec, records, notices)
        return ConsentState(
            withhold=dict(state.withhold),
            objects_to_automation=state.objects_to_automation,
            objects_to_profiling=state.objects_to_profiling,
            version=state.version,
        )
