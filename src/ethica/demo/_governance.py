"""The demo bank's governance documents: each system classified, its documents written.

Built from the demo database and its ledger, as the dashboard builds them, so ``ethica demo``
leaves the Annex IV documentation, the impact assessment, the model card and (for the
high-risk credit system) the Annex VIII registration of each system in ``out/governance``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ethica.demo._systems import bank_specs
from ethica.governance import annex_iv, fria, model_card, registration
from ethica.service.governance.service import classification_of, system_record, system_spec


def write_governance(
    state: Any, folder: Path, *, at: datetime
) -> tuple[dict[str, str], list[Path]]:
    """Classify the bank's systems and write their documents (JSON and HTML) into ``folder``.

    Returns each system's classification in one sentence, and the files written.
    """
    summaries: dict[str, str] = {}
    written: list[Path] = []
    with state.sessions() as session:
        for system_id in bank_specs():
            classification = classification_of(system_spec(session, system_id=system_id))
            if classification is None:
                continue
            summaries[system_id] = classification.summary()
            record = system_record(session, settings=state.settings, system_id=system_id, now=at)
            builders = [annex_iv, fria, model_card]
            if classification.high_risk:
                builders.append(registration)
            for build in builders:
                written += build(record, generated_at=at).write(folder, formats=["json", "html"])
    return summaries, written
