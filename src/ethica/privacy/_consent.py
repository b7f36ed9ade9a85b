"""Consent rules: from a subject's choices to what one AI system may use about them, and why not.

A *notice* is what the customer is shown for a data use (``opt_in``, ``opt_out`` or
``notice_only``), in a numbered wording version. A *preference* is one choice a subject made
(``granted`` or ``withdrawn``) for a data use, optionally for one data category only, with the
notice version they saw, when, and from where (``gpc`` is the browser's Global Privacy Control
signal). An *objection* is a subject's objection to automated decision-making (GDPR Art. 22) or to
profiling (Art. 21), which they may later lift.

:func:`evaluate` decides, for one system (its ``purpose`` and ``legal_basis``) and one subject:

1. A record *applies* to a feature when its data use is the system's purpose or a parent of it
   (``marketing`` covers ``marketing.communications.email``) and it has no data category or one
   that covers the feature's category. Among the records that apply, the most recent wins; at the
   same instant a withdrawal wins over a grant.
2. The *governing notice* is the one whose data use covers the purpose most narrowly; several
   versions of one notice may be given, the highest version is the current one.
3. A ``notice_only`` notice offers no choice: it never withholds anything.
4. Legal basis ``consent``: a feature is used only if the winning record is a grant. Without a
   record, or after a withdrawal, it is withheld. A grant given under a notice version below the
   notice's ``min_consent_version`` (the wording changed materially) no longer counts. Consent is
   opt-in whatever the notice says.
5. Legal bases ``contract``, ``legitimate_interests`` and ``public_interest``: a feature is used
   unless the winning record is a withdrawal (the subject opted out or objected).
6. Legal bases ``legal_obligation`` and ``vital_interests``: the subject cannot opt out of
   processing that the law or a life requires (GDPR Art. 21 gives no right to object to it), so
   preferences withhold nothing; objections are still reported.
7. Global Privacy Control counts as a withdrawal of every data use under ``marketing``,
   ``personalize`` and ``third_party_sharing`` (sale and sharing); see
   :func:`global_privacy_control`.
8. ``objects_to_automation`` and ``objects_to_profiling`` come from the latest objection whose
   data use (none means every use) covers the purpose. For a purpose under ``personalize``, a
   winning withdrawal of the whole use (no data category; GPC included) also counts as an
   objection to profiling: the subject opted out of personalization.

The result's ``version`` is a stable hash of the purpose, the legal basis, the governing notice
and every record that applied: it changes when any of them changes and not otherwise (not with
the order records are given in, nor with records about other purposes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from ethica.errors import InputError
from ethica.privacy._taxonomy import covers

if TYPE_CHECKING:
    from ethica.governance import SystemSpec

NoticeKind = Literal["opt_in", "opt_out", "notice_only"]
PreferenceStatus = Literal["granted", "withdrawn"]
PreferenceSource = Literal["portal", "api", "agent", "import", "gpc"]
ObjectionKind = Literal["automated_decision", "profiling"]

GPC_DATA_USES: tuple[str, ...] = ("marketing", "personalize", "third_party_sharing")
"""Data uses a Global Privacy Control signal opts out of (CCPA/CPRA sale and sharing, ads)."""

_NO_OPT_OUT_BASES = frozenset({"legal_obligation", "vital_interests"})
_PERSONALIZATION = "personalize"


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError(f"{what} must carry a time zone (e.g. datetime.now(UTC)); got {moment}")


def _dotted(key: str, what: str) -> None:
    try:
        covers(key, key)
    except InputError:
        raise InputError(
            f"{what} {key!r} is not a dotted key such as 'essential.service'"
        ) from None


@dataclass(frozen=True)
class Notice:
    """What the customer is shown for a data use, in one wording version.

    Parameters
    ----------
    data_use
        The data use the notice is about; it governs this use and the uses under it.
    kind
        ``opt_in`` (nothing until the subject agrees), ``opt_out`` (allowed until the subject
        objects) or ``notice_only`` (informs, offers no choice).
    version
        The wording version, counted from 1.
    min_consent_version
        Grants given under an older wording no longer count (the change was material).
    """

    data_use: str
    kind: NoticeKind
    version: int = 1
    min_consent_version: int = 1

    def __post_init__(self) -> None:
        _dotted(self.data_use, "notice data use")
        if self.kind not in ("opt_in", "opt_out", "notice_only"):
            raise InputError(
                f"notice kind must be opt_in, opt_out or notice_only; got {self.kind!r}"
            )
        if self.version < 1 or not 1 <= self.min_consent_version <= self.version:
            raise InputError(
                f"notice for {self.data_use!r}: need 1 <= min_consent_version <= version; got "
                f"version {self.version}, min_consent_version {self.min_consent_version}"
            )


@dataclass(frozen=True)
class Preference:
    """One choice a subject made about a data use (and optionally one data category)."""

    data_use: str
    status: PreferenceStatus
    recorded_at: datetime
    source: PreferenceSource = "portal"
    notice_version: int | None = None
    data_category: str | None = None

    def __post_init__(self) -> None:
        _dotted(self.data_use, "preference data use")
        if self.data_category is not None:
            _dotted(self.data_category, "preference data category")
        if self.status not in ("granted", "withdrawn"):
            raise InputError(f"preference status must be granted or withdrawn; got {self.status!r}")
        _aware(self.recorded_at, "recorded_at")
        if self.source == "gpc" and (
            self.status != "withdrawn" or not any(covers(u, self.data_use) for u in GPC_DATA_USES)
        ):
            raise InputError(
                f"a Global Privacy Control signal only withdraws uses under {list(GPC_DATA_USES)}; "
                f"got {self.status} {self.data_use!r}"
            )


@dataclass(frozen=True)
class Objection:
    """A subject's objection to automated decisions (Art. 22) or profiling (Art. 21).

    ``active=False`` records that the subject lifted an earlier objection; ``data_use=None``
    objects for every data use.
    """

    kind: ObjectionKind
    recorded_at: datetime
    active: bool = True
    data_use: str | None = None
    source: PreferenceSource = "portal"

    def __post_init__(self) -> None:
        if self.kind not in ("automated_decision", "profiling"):
            raise InputError(
                f"objection kind must be automated_decision or profiling; got {self.kind!r}"
            )
        if self.data_use is not None:
            _dotted(self.data_use, "objection data use")
        _aware(self.recorded_at, "recorded_at")


@dataclass(frozen=True)
class ConsentState:
    """What a subject allows for one system's purpose (field names as the gateway's).

    Attributes
    ----------
    withhold
        Declared features that may not be used, with the reason.
    objects_to_automation
        The subject objected to decisions made by the model alone: route to a human.
    objects_to_profiling
        The subject objected to profiling or personalization: use the non-personalized fallback.
    version
        Stable hash of what applied (purpose, legal basis, notice, records).
    notice
        The governing notice, if any.
    applied
        The records that applied to this purpose, oldest first.
    """

    withhold: dict[str, str] = field(default_factory=dict)
    objects_to_automation: bool = False
    objects_to_profiling: bool = False
    version: str | None = None
    notice: Notice | None = None
    applied: tuple[Preference | Objection, ...] = ()


def global_privacy_control(*, recorded_at: datetime) -> list[Preference]:
    """Return the withdrawals a Global Privacy Control signal stands for, one per GPC data use."""
    return [
        Preference(data_use=use, status="withdrawn", recorded_at=recorded_at, source="gpc")
        for use in GPC_DATA_USES
    ]


def governing_notice(purpose: str, notices: Iterable[Notice]) -> Notice | None:
    """Return the current version of the narrowest notice whose data use covers ``purpose``."""
    relevant = [n for n in notices if covers(n.data_use, purpose)]
    if not relevant:
        return None
    return max(relevant, key=lambda n: (n.data_use.count("."), n.version))


def evaluate(
    spec: SystemSpec,
    preferences: Sequence[Preference | Objection],
    notices: Sequence[Notice],
) -> ConsentState:
    """Decide what one subject's choices allow for one system, following the module's rules.

    Parameters
    ----------
    spec
        The system: its ``purpose`` (a data use), ``legal_basis`` and features' data categories.
    preferences
        The subject's preferences and objections, in any order (records about other data uses
        are ignored).
    notices
        The notices shown to customers, every version (the highest version of each is current).

    Returns
    -------
    ConsentState
        Withheld features with reasons, the two objections, and a version of the whole state.
    """
    purpose = spec.purpose
    notice = governing_notice(purpose, notices)
    choices = [p for p in preferences if isinstance(p, Preference) and covers(p.data_use, purpose)]
    objections = [
        o
        for o in preferences
        if isinstance(o, Objection) and (o.data_use is None or covers(o.data_use, purpose))
    ]
    choices_can_withhold = (
        spec.legal_basis not in _NO_OPT_OUT_BASES
        and (notice is None or notice.kind != "notice_only")
    )  # fmt: skip

    withhold: dict[str, str] = {}
    used_choices: set[Preference] = set()
    for feature in spec.features:
        category = feature.data_category
        relevant = [
            p for p in choices if p.data_category is None or covers(p.data_category, category)
        ]
        used_choices.update(relevant)
        if not choices_can_withhold:
            continue
        reason = _reason(
            winner=_latest(relevant),
            category=category,
            purpose=purpose,
            needs_consent=spec.legal_basis == "consent",
            notice=notice,
        )
        if reason is not None:
            withhold[feature.name] = reason

    whole_use = _latest([p for p in choices if p.data_category is None])
    opted_out_of_personalization = (
        covers(_PERSONALIZATION, purpose)
        and choices_can_withhold
        and whole_use is not None
        and whole_use.status == "withdrawn"
    )
    records: list[Preference | Objection] = [*used_choices, *objections]
    applied = sorted(records, key=_order)
    return ConsentState(
        withhold=withhold,
        objects_to_automation=_objects(objections, "automated_decision"),
        objects_to_profiling=_objects(objections, "profiling") or opted_out_of_personalization,
        version=_version(spec, notice, applied),
        notice=notice,
        applied=tuple(applied),
    )


def _order(record: Preference | Objection) -> tuple[datetime, str]:
    # A total order, so that results never depend on the order records were given in.
    return (record.recorded_at, json.dumps(_canonical(record), sort_keys=True))


def _latest(records: list[Preference]) -> Preference | None:
    if not records:
        return None
    return max(records, key=lambda p: (p.recorded_at, p.status == "withdrawn", _order(p)))


def _objects(objections: list[Objection], kind: ObjectionKind) -> bool:
    mine = [o for o in objections if o.kind == kind]
    if not mine:
        return False
    return max(mine, key=lambda o: (o.recorded_at, o.active, _order(o))).active


def _seen(preference: Preference) -> str:
    when = preference.recorded_at.astimezone(UTC).date().isoformat()
    via = " by Global Privacy Control signal" if preference.source == "gpc" else ""
    notice = f" (notice v{preference.notice_version})" if preference.notice_version else ""
    return f"on {when}{via}{notice}"


def _reason(
    *,
    winner: Preference | None,
    category: str,
    purpose: str,
    needs_consent: bool,
    notice: Notice | None,
) -> str | None:
    if winner is not None and winner.status == "withdrawn":
        what = "consent withdrawn" if needs_consent else "opted out"
        return f"{what} for {category} under {winner.data_use} {_seen(winner)}"
    if not needs_consent:
        return None
    if winner is None:
        shown = f" (opt-in notice v{notice.version} not accepted)" if notice is not None else ""
        return f"no consent for {category} under {purpose}{shown}"
    if notice is not None and (winner.notice_version or 0) < notice.min_consent_version:
        given = f"notice v{winner.notice_version}" if winner.notice_version else "an unknown notice"
        return (
            f"consent for {category} under {winner.data_use} was given under {given}; notice "
            f"v{notice.version} needs fresh consent"
        )
    return None


def _canonical(record: Preference | Objection | Notice) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type(record).__name__}
    for name, value in vars(record).items():
        data[name] = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
    return data


def _version(spec: SystemSpec, notice: Notice | None, applied: list[Preference | Objection]) -> str:
    payload = {
        "purpose": spec.purpose,
        "legal_basis": spec.legal_basis,
        "notice": _canonical(notice) if notice is not None else None,
        "records": sorted(json.dumps(_canonical(r), sort_keys=True) for r in applied),
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()
    return f"consent-{digest[:16]}"
