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
            "You may see the information used about you on this decision's page in the customer "
            "portal, and, if any of it is wrong, ask there for it to be corrected by reporting a "
            "concern.",
        ],
        [
            "A person has already reviewed this decision on your appeal. If you still disagree, "
            "you may report a concern about it on this decision's page in the customer portal; "
            "you will see our answer there.",
            "You may see the information used about you on this decision's page in the customer "
            "portal, and, if any of it is wrong, ask there for it to be corrected by reporting a "
            "concern.",
        ],
    ),
    "de": (
        [
            "Sie können auf der Seite dieser Entscheidung im Kundenportal verlangen, dass ein "
            "Mensch sie überprüft, und Ihren Standpunkt darlegen.",
            "Sie können die über Sie verwendeten Angaben auf der Seite dieser Entscheidung im "
            "Kundenportal einsehen und, falls etwas davon falsch ist, dort die Berichtigung "
            "verlangen, indem Sie ein Anliegen melden.",
        ],
        [
            "Ein Mensch hat diese Entscheidung auf Ihren Widerspruch hin bereits überprüft. Wenn "
            "Sie weiterhin nicht einverstanden sind, können Sie uns auf der Seite dieser "
            "Entscheidung im Kundenportal ein Anliegen dazu melden; dort sehen Sie auch unsere "
            "Antwort.",
            "Sie können die über Sie verwendeten Angaben auf der Seite dieser Entscheidung im "
            "Kundenportal einsehen und, falls etwas davon falsch ist, dort die Berichtigung "
            "verlangen, indem Sie ein Anliegen melden.",
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


#: What a favourable decision's notice says in place of reasons against the customer.
IN_YOUR_FAVOUR = {
    "en": "This decision is in your favour, so this notice lists no reasons against you.",
    "de": "Diese Entscheidung fällt zu Ihren Gunsten aus; deshalb nennt diese Mitteilung keine "
    "Gründe gegen Sie.",
}


@pytest.mark.parametrize("locale", sorted(IN_YOUR_FAVOUR))
def test_an_approval_says_why_it_lists_no_reasons_instead_of_heading_an_empty_list(
    locale: str,
) -> None:
    explanation = {"locale": locale, "reasons": []}
    text = adverse_action_notice(
        explanation, system="Credit limit", outcome="approved", favourable=True
    )
    title, blank, decision, who, *rest = text.split("\n")
    assert who.endswith(" " + IN_YOUR_FAVOUR[locale])
    headings = [line for line in rest if line and not line.startswith("  - ")]
    assert headings == ["Your rights:" if locale == "en" else "Ihre Rechte:"]
    page = adverse_action_notice(
        explanation, system="Credit limit", outcome="approved", format="html", favourable=True
    )
    assert html.escape(IN_YOUR_FAVOUR[locale]) in page and page.count("<h3>") == 1
    # An adverse decision without a ranked reason still heads its (one-sentence) list.
    declined = adverse_action_notice(explanation, system="Credit limit", outcome="declined")
    assert IN_YOUR_FAVOUR[locale] not in declined and declined.count("\n\n") == 3


@pytest.mark.parametrize("locale", sorted(IN_YOUR_FAVOUR))
def test_an_approval_lists_no_reason_against_the_customer_even_when_one_weighed(
    locale: str,
) -> None:
    against = "Your housing: rent. This weighed against you."
    explanation = {
        "locale": locale,
        "reasons": [{"text": against}],
        "counterfactuals": [{"text": "An income of 20 thousand EUR."}],
    }
    approved = adverse_action_notice(
        explanation, system="Credit limit", outcome="approved", favourable=True
    )
    _, _, _, who, *rest = approved.split("\n")
    assert who.endswith(" " + IN_YOUR_FAVOUR[locale])
    assert [line for line in rest if line and not line.startswith("  - ")] == [
        "Your rights:" if locale == "en" else "Ihre Rechte:"
    ]
    assert against not in approved and "20 thousand" not in approved
    # The same explanation for a decline lists the reason and what would have changed it.
    declined = adverse_action_notice(explanation, system="Credit limit", outcome="declined")
    assert against in declined and "20 thousand" in declined
    assert IN_YOUR_FAVOUR[locale] not in declined
    # A person who changed a decline into an approval: their sentence says why no reasons.
    changed = adverse_action_notice(
        explanation,
        system="Credit limit",
        outcome="approved",
        favourable=True,
        decided_by="person_changed",
    )
    assert against not in changed and IN_YOUR_FAVOUR[locale] not in changed


#: What the notice of an approval says of the customer's decided appeal, in place of "if you
#: still disagree" (which would contradict an approval they won on appeal).
APPEAL_DECIDED_IN_YOUR_FAVOUR = {
    "en": "A person has already reviewed this decision on your appeal. If anything about it still "
    "seems wrong to you, you may report a concern about it on this decision's page in the "
    "customer portal; you will see our answer there.",
    "de": "Ein Mensch hat diese Entscheidung auf Ihren Widerspruch hin bereits überprüft. Wenn "
    "Ihnen daran noch etwas falsch erscheint, können Sie uns auf der Seite dieser Entscheidung im "
    "Kundenportal ein Anliegen dazu melden; dort sehen Sie auch unsere Antwort.",
}


@pytest.mark.parametrize("locale", sorted(APPEAL_DECIDED_IN_YOUR_FAVOUR))
def test_an_approval_after_an_appeal_does_not_assume_the_customer_still_disagrees(
    locale: str,
) -> None:
    explanation = {"locale": locale, "reasons": []}
    approved = adverse_action_notice(
        explanation,
        system="Credit limit",
        outcome="approved",
        favourable=True,
        appeal_decided=True,
        decided_by="person_changed",
    )
    assert APPEAL_DECIDED_IN_YOUR_FAVOUR[locale] in approved
    declined = adverse_action_notice(
        explanation, system="Credit limit", outcome="declined", appeal_decided=True
    )
    assert APPEAL_DECIDED_IN_YOUR_FAVOUR[locale] not in declined
    assert ("still disagree" if locale == "en" else "weiterhin nicht einverstanden") in declined
