"""Adverse-action notices: the decision, its principal reasons and the customer's rights."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Literal

from ethica.errors import InputError
from ethica.explain._catalogs import NOTICE, by_locale

#: The notice's sentences per locale and key, from the ``notice`` context of the catalogs.
NOTICE_TEMPLATES: dict[str, dict[str, str]] = by_locale(NOTICE)

#: The notice's sentence saying who decided, by ``decided_by``.
_WHO_DECIDED = {
    "system": "automated",
    "person_confirmed": "confirmed",
    "person_changed": "changed",
}


def adverse_action_notice(
    explanation: Mapping[str, Any],
    *,
    system: str,
    outcome: str,
    format: Literal["text", "html"] = "text",
    decided_by: Literal["system", "person_confirmed", "person_changed"] = "system",
    appeal_decided: bool = False,
    favourable: bool = False,
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
    decided_by
        Who made the final decision: the automated system (``"system"``), a person who
        confirmed its recommendation (``"person_confirmed"``: its reasons stand), or a person
        who decided otherwise (``"person_changed"``: the system's reasons and what would have
        changed its recommendation are left out, since they explain an outcome that no longer
        holds).
    appeal_decided
        A person has already decided the customer's appeal of this decision: the notice says
        so, and where to report a concern, instead of offering a review by a person again (a
        decided appeal is not appealed again).
    favourable
        The outcome is in the customer's favour (an approval). Reasons are the information that
        weighed *against* the customer; they did not decide an approval, so its notice lists
        none (nor what would have changed it) and says why, even when some information weighed
        against them.

    Returns
    -------
    str
        The notice.
    """
    locale = str(explanation.get("locale", "en"))
    if locale not in NOTICE_TEMPLATES:
        raise InputError(f"unknown locale {locale!r}: use one of {sorted(NOTICE_TEMPLATES)}")
    words = NOTICE_TEMPLATES[locale]
    if decided_by not in _WHO_DECIDED:
        raise InputError(f"unknown decided_by {decided_by!r}: use one of {list(_WHO_DECIDED)}")
    reasons = [str(r["text"]) for r in explanation.get("reasons", [])]
    options = [str(o["text"]) for o in explanation.get("counterfactuals", [])]
    if not options and explanation.get("counterfactual_text"):
        options = [str(explanation["counterfactual_text"])]
    # Asking for a person and giving one's view are one step (the appeal): one sentence says
    # both, and once a person has decided the appeal, it says where a concern goes instead.
    # After an appeal, "if you still disagree" would contradict an approval the customer won.
    if appeal_decided:
        human = words["right_human_given_favourable" if favourable else "right_human_given"]
    else:
        human = words["right_human"]
    who = words[_WHO_DECIDED[decided_by]]
    rights = [human, words["right_data"]]
    sections: list[tuple[str, list[str]]] = [(words["rights"], rights)]
    if favourable:
        # What weighed against the customer did not decide an approval: listed under "the
        # principal reasons for this decision", it would read as why they were approved.
        if decided_by != "person_changed":
            who = f"{who} {words['favourable']}"
    elif decided_by != "person_changed":
        sections[:0] = [
            (words["reasons"], reasons or [words["no_reasons"]]),
            (words["options"], options),
        ]
    title = words["title"].format(system=system)
    decision = words["decision"].format(outcome=outcome)
    if format == "text":
        lines = [title, "", decision, who]
        for heading, items in sections:
            if items:
                lines += ["", heading, *(f"  - {item}" for item in items)]
        return "\n".join(lines) + "\n"
    if format == "html":
        parts = [
            f"<h2>{html.escape(title)}</h2>",
            f"<p><strong>{html.escape(decision)}</strong> {html.escape(who)}</p>",
        ]
        for heading, items in sections:
            if items:
                listed = "".join(f"<li>{html.escape(item)}</li>" for item in items)
                # A heading carries no colon: the text form's "Your rights:" introduces a
                # list on the next line; on a page the heading itself does that.
                title_of_list = html.escape(heading.rstrip(": "))
                parts.append(f"<h3>{title_of_list}</h3><ul>{listed}</ul>")
        return '<section class="adverse-action-notice">' + "".join(parts) + "</section>"
    raise InputError(f"unknown notice format {format!r}: use 'text' or 'html'")
