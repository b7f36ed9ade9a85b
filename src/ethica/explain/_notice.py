"""Adverse-action notices: the decision, its principal reasons and the customer's rights."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Literal

from ethica.errors import InputError

NOTICE_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Notice of decision: {system}",
        "decision": "Decision: {outcome}.",
        "reasons": "The principal reasons for this decision:",
        "no_reasons": "No single piece of information weighed against you more than the others.",
        "options": "What would have changed the decision:",
        "automated": "This decision was made with an automated system.",
        "rights": "Your rights:",
        "right_human": "You may ask for a person to review this decision.",
        "right_contest": "You may contest the decision and give your point of view.",
        "right_data": "You may see the information used about you and have it corrected.",
    },
    "de": {
        "title": "Mitteilung über die Entscheidung: {system}",
        "decision": "Entscheidung: {outcome}.",
        "reasons": "Die wichtigsten Gründe für diese Entscheidung:",
        "no_reasons": "Keine einzelne Angabe sprach stärker gegen Sie als die anderen.",
        "options": "Was die Entscheidung geändert hätte:",
        "automated": "Diese Entscheidung wurde mit einem automatisierten System getroffen.",
        "rights": "Ihre Rechte:",
        "right_human": "Sie können verlangen, dass ein Mensch die Entscheidung überprüft.",
        "right_contest": "Sie können die Entscheidung anfechten und Ihren Standpunkt darlegen.",
        "right_data": (
            "Sie können die über Sie verwendeten Angaben einsehen und berichtigen lassen."
        ),
    },
}


def adverse_action_notice(
    explanation: Mapping[str, Any],
    *,
    system: str,
    outcome: str,
    format: Literal["text", "html"] = "text",
) -> str:
    """Render a notice for the customer from an :class:`Explainer` explanation.

    Parameters
    ----------
    explanation
        The dictionary :meth:`Explainer.explain` returned (its ``locale``, ``reasons``,
        ``counterfactuals`` and ``counterfactual_text`` are used).
    system
        The system's name, as the customer knows it.
    outcome
        The decision's outcome.
    format
        ``"text"`` or ``"html"`` (a fragment; every value is escaped).

    Returns
    -------
    str
        The notice.
    """
    locale = str(explanation.get("locale", "en"))
    if locale not in NOTICE_TEMPLATES:
        raise InputError(f"unknown locale {locale!r}: use one of {sorted(NOTICE_TEMPLATES)}")
    words = NOTICE_TEMPLATES[locale]
    reasons = [str(r["text"]) for r in explanation.get("reasons", [])]
    options = [str(o["text"]) for o in explanation.get("counterfactuals", [])]
    if not options and explanation.get("counterfactual_text"):
        options = [str(explanation["counterfactual_text"])]
    rights = [words["right_human"], words["right_contest"], words["right_data"]]
    sections: list[tuple[str, list[str]]] = [
        (words["reasons"], reasons or [words["no_reasons"]]),
        (words["options"], options),
        (words["rights"], rights),
    ]
    title = words["title"].format(system=system)
    decision = words["decision"].format(outcome=outcome)
    if format == "text":
        lines = [title, "", decision, words["automated"]]
        for heading, items in sections:
            if items:
                lines += ["", heading, *(f"  - {item}" for item in items)]
        return "\n".join(lines) + "\n"
    if format == "html":
        parts = [
            f"<h2>{html.escape(title)}</h2>",
            f"<p><strong>{html.escape(decision)}</strong> {html.escape(words['automated'])}</p>",
        ]
        for heading, items in sections:
            if items:
                listed = "".join(f"<li>{html.escape(item)}</li>" for item in items)
                parts.append(f"<h3>{html.escape(heading)}</h3><ul>{listed}</ul>")
        return '<section class="adverse-action-notice">' + "".join(parts) + "</section>"
    raise InputError(f"unknown notice format {format!r}: use 'text' or 'html'")
