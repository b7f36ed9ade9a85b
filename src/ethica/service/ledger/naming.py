"""How ledger entries and subject keys name a subject: by a pseudonym that erasure unlinks.

A decision's personal fields are sealed with the key of its subject, system and month. Since
format 2 of the names (see ``docs/erasure.md``, "Pseudonyms"), that key is named
``<pseudonym>#<system>#<yyyy-mm>`` and consent entries name the subject by ``<pseudonym>``,
where the pseudonym (:meth:`~ethica.ledger.KeyRing.subject_pseudonym`) derives from the
subject's own random pseudonym key. Erasure destroys that key: afterwards nothing in the ledger
or in ``subject_keys`` can be tied to the subject's id, by anyone. Entries written before keep
the older names, ``<subject id>#<system>#<yyyy-mm>`` (the id percent-encoded), and stay valid.
"""

from __future__ import annotations

from datetime import datetime

from ethica.errors import InputError
from ethica.ledger import KeyRing, is_pseudonym


def key_part(subject: str) -> str:
    """The subject id as the first part of a key name of the older form: without ``#``.

    ``%`` and ``#`` are percent-encoded, so the first ``#`` of a key name always ends the
    subject (erasing ``a#b`` can never reach the keys of ``a``), and no id's part begins with
    a pseudonym's ``%p``. Ids without either character are their own key part.
    """
    return subject.replace("%", "%25").replace("#", "%23")


def subject_of_part(part: str) -> str:
    """The subject id that :func:`key_part` encoded."""
    return part.replace("%23", "#").replace("%25", "%")


def key_request(subject: str, system_id: str, at: datetime) -> str:
    """Name the key a job will seal with, before its pseudonym is known (for the prefetch).

    The ledger writer resolves it (:func:`resolve_request`) with one lookup of the group's
    pseudonym keys, then one of their data keys.
    """
    return f"{key_part(subject)}#{system_id}#{at:%Y-%m}"


def resolve_request(keyring: KeyRing, request: str, *, create: bool = True) -> str:
    """The key name a :func:`key_request` stands for (the subject's pseudonym in front)."""
    part, rest = request.split("#", 1)
    return f"{keyring.subject_pseudonym(subject_of_part(part), create=create)}#{rest}"


def sealing_subject(keyring: KeyRing | None, subject: str, system_id: str, at: datetime) -> str:
    """Name the key that seals a decision's personal fields: per subject, system and month."""
    return resolve_request(_needed(keyring), key_request(subject, system_id, at))


def subject_ref(keyring: KeyRing | None, subject: str) -> str:
    """The name an entry without personal fields (consent, objection) gives its subject."""
    return _needed(keyring).subject_pseudonym(subject)


def subject_part(name: str) -> str:
    """The first part of a key name or entry subject: a pseudonym, or an encoded id."""
    return name.split("#", 1)[0]


def names_a_pseudonym(name: str | None) -> bool:
    """Whether an entry's subject (or key name) is of the pseudonymous form."""
    return name is not None and is_pseudonym(subject_part(name))


def _needed(keyring: KeyRing | None) -> KeyRing:
    if keyring is None:
        raise InputError("naming a subject in the ledger needs the ledger's key ring")
    return keyring
