"""The rights a notice lists, in each state of an appeal and in each language: true, and each
said once (asking for a person and giving one's view are the one step of an appeal)."""

from __future__ import annotations

import html
from typing import Literal

import pytest

from ethica.explain import adverse_action_notice

#: A notice's rights: (before any appeal, after a person decided the appeal), by locale.
RIGHTS = {
    "en": (
        [
            "You may ask for a person to review this decision and give your point of view, on "
            "this decision's page in the customer portal.",
            "You may see the information used about you and have it corrected.",
        ],
        [
            "A person has already reviewed this decision on your appeal. If you still disagree, "
            "you may report a concern about it on this decision's page in the customer portal; "
            "you will see our answer there.",
            "You may see the information used about you and have it corrected.",
        ],
    ),
    "de": (
        [
            "Sie können auf der Seite dieser Entscheidung im Kundenportal verlangen, dass ein "
            "Mensch sie überprüft, und Ihren Standpunkt darlegen.",
            "Sie können die über Sie verwendeten Angaben einsehen und berichtigen lassen.",
        ],
        [
            "Ein Mensch hat diese Entscheidung auf Ihren Widerspruch hin bereits überprüft. Wenn "
            "Sie weiterhin nicht einverstanden sind, können Sie uns auf der Seite dieser "
            "Entscheidung im Kundenportal ein Anliegen dazu melden; dort sehen Sie auch unsere "
            "Antwort.",
            "Sie können die über Sie verwendeten Angaben einsehen und berichtigen lassen.",
        ],
    ),
}


def _rights(notice: str) -> list[str]:
    """The items of the text notice's last list, its rights."""
    _, _, listed = notice.rstrip("\n").rpartition("\n\n")
    heading, *items = listed.split("\n")
    assert heading in ("Your rights:", "Ihre Rechte:"), heading
    return [item.removeprefix("  - ") for item in items]


@pytest.mark.parametrize("locale", sorted(RIGHTS))
@pytest.mark.parametrize("decided_by", ["system", "person_confirmed", "person_changed"])
def test_the_rights_say_where_to_turn_before_and_after_a_decided_appeal(
    locale: str, decided_by: Literal["system", "person_confirmed", "person_changed"]
) -> None:
    explanation = {"locale": locale, "reasons": [{"text": "A reason."}]}
    before, after = RIGHTS[locale]
    for appeal_decided, rights in ((False, before), (True, after)):
        notice = adverse_action_notice(
            explanation,
            system="Credit limit",
            outcome="declined",
            decided_by=decided_by,
            appeal_decided=appeal_decided,
        )
        assert _rights(notice) == rights
        page = adverse_action_notice(
            explanation,
            system="Credit limit",
            outcome="declined",
            format="html",
            decided_by=decided_by,
            appeal_decided=appeal_decided,
        )
        listed = page.rpartition("<ul>")[2].removesuffix("</ul></section>")
        assert listed == "".join(f"<li>{html.escape(right)}</li>" for right in rights)
