"""The gateway's consent hook on the database: the subject's records → what a system may use."""

from __future__ import annotations

import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from ethica.governance import SystemSpec
from ethica.privacy import Notice, Objection, Preference, evaluate
from ethica.service.consent.service import consent_inputs
from ethica.service.hooks import ConsentState

#: How long a subject's records are reused without reading them again. Changes made through
#: this process take effect at once (:meth:`SqlConsentHook.forget`); changes made through
#: another replica within this many seconds.
CACHE_SECONDS = 1.0

Records = list[Preference | Objection]


class SqlConsentHook:
    """Reads a subject's choices, objections and the notices for a system's purpose.

    Two indexed queries per subject and purpose (:func:`consent_inputs`), reused for
    :data:`CACHE_SECONDS`; the rules are the privacy library's :func:`~ethica.privacy.evaluate`.
    A decision without a subject id is judged as a subject with no records: under the
    ``consent`` legal basis every feature is withheld.

    Parameters
    ----------
    sessions
        Opens a session on a cache miss only; without it, the gateway passes one per decision.
    """

    def __init__(self, sessions: sessionmaker[Session] | None = None) -> None:
        self._sessions = sessions
        self.needs_session = sessions is None
        self._cache: dict[tuple[str | None, str], tuple[float, Records, list[Notice]]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop every cached record (after a consent change, so the next decision sees it)."""
        with self._lock:
            self._cache.clear()

    def check(
        self, session: Session | None, *, spec: SystemSpec, subject_id: str | None
    ) -> ConsentState:
        """Return the subject's consent state for this system's purpose."""
        key = (subject_id, spec.purpose)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            records, notices = hit[1], hit[2]
        else:
            records, notices = self._read(session, subject_id=subject_id, purpose=spec.purpose)
            with self._lock:
                self._cache[key] = (now, records, notices)
        state = evaluate(spec, records, notices)
        return ConsentState(
            withhold=dict(state.withhold),
            objects_to_automation=state.objects_to_automation,
            objects_to_profiling=state.objects_to_profiling,
            version=state.version,
        )

    def _read(
        self, session: Session | None, *, subject_id: str | None, purpose: str
    ) -> tuple[Records, list[Notice]]:
        if session is not None:
            return consent_inputs(session, subject_id=subject_id, purpose=purpose)
        if self._sessions is None:
            raise TypeError("SqlConsentHook reads the database: give it sessions or a session")
        with self._sessions() as own:
            return consent_inputs(own, subject_id=subject_id, purpose=purpose)
