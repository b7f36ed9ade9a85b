"""Consent evaluation: notices, preferences, GPC, objections and the state's version."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ethica.errors import InputError
from ethica.governance import SystemSpec, parse_spec
from ethica.privacy import (
    ConsentState,
    Notice,
    Objection,
    Preference,
    evaluate,
    global_privacy_control,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def system(purpose: str = "essential.service", legal_basis: str = "consent") -> SystemSpec:
    return parse_spec(
        {
            "id": "credit-limit",
            "name": "Credit limit",
            "purpose": purpose,
            "legal_basis": legal_basis,
            "decision": {"kind": "binary"},
            "owner": "risk@example.com",
            "features": [
                {"name": "income", "type": "number", "data_category": "user.financial"},
                {"name": "tenure", "type": "number", "data_category": "user.account"},
                {"name": "clicks", "type": "number", "data_category": "user.behavior"},
            ],
        }
    )


ALL = {"income", "tenure", "clicks"}
OPT_IN_V3 = Notice("essential.service", "opt_in", version=3)


def grant(use: str = "essential.service", days: int = 0, **kw: Any) -> Preference:
    return Preference(use, "granted", at(days), **kw)


def withdraw(use: str = "essential.service", days: int = 0, **kw: Any) -> Preference:
    return Preference(use, "withdrawn", at(days), **kw)


# --- legal basis: consent (opt-in) -------------------------------------------------------------


def test_consent_basis_without_a_grant_withholds_every_feature() -> None:
    state = evaluate(system(), [], [OPT_IN_V3])
    assert set(state.withhold) == ALL
    assert state.withhold["income"] == (
        "no consent for user.financial under essential.service (opt-in notice v3 not accepted)"
    )


def test_consent_basis_with_a_grant_uses_every_feature() -> None:
    state = evaluate(system(), [grant(notice_version=3)], [OPT_IN_V3])
    assert state.withhold == {}
    assert state.notice == OPT_IN_V3


def test_grant_for_a_parent_use_covers_the_purpose() -> None:
    assert evaluate(system(), [grant("essential")], []).withhold == {}


def test_grant_for_a_narrower_or_sibling_use_does_not_cover_the_purpose() -> None:
    narrower = evaluate(system(), [grant("essential.service.security")], [])
    sibling = evaluate(system(), [grant("essential.fraud_detection")], [])
    assert set(narrower.withhold) == ALL
    assert set(sibling.withhold) == ALL


def test_grant_scoped_to_a_data_category_covers_only_that_category() -> None:
    state = evaluate(system(), [grant(data_category="user.financial")], [])
    assert set(state.withhold) == {"tenure", "clicks"}


def test_grant_for_a_parent_category_covers_its_children() -> None:
    assert evaluate(system(), [grant(data_category="user")], []).withhold == {}


def test_withdrawal_after_grant_withholds_with_the_notice_version_seen() -> None:
    prefs = [
        grant(notice_version=2),
        withdraw(days=5, data_category="user.financial", notice_version=3),
    ]
    state = evaluate(system(), prefs, [OPT_IN_V3])
    assert state.withhold == {
        "income": "consent withdrawn for user.financial under essential.service on 2026-03-06 "
        "(notice v3)"
    }


def test_grant_after_withdrawal_restores_use() -> None:
    state = evaluate(system(), [withdraw(days=1), grant(days=2)], [])
    assert state.withhold == {}


def test_withdrawal_wins_a_tie_whatever_the_order() -> None:
    for order in itertools.permutations([grant(), withdraw()]):
        assert set(evaluate(system(), list(order), []).withhold) == ALL


def test_broad_withdrawal_after_narrow_grant_withholds() -> None:
    prefs = [grant("essential.service", days=1), withdraw("essential", days=2)]
    state = evaluate(system(), prefs, [])
    assert set(state.withhold) == ALL
    assert "under essential on" in state.withhold["income"]


def test_grant_under_an_outdated_notice_needs_fresh_consent() -> None:
    notice = Notice("essential.service", "opt_in", version=3, min_consent_version=3)
    stale = evaluate(system(), [grant(notice_version=1)], [notice])
    fresh = evaluate(system(), [grant(notice_version=3)], [notice])
    assert set(stale.withhold) == ALL
    assert "given under notice v1; notice v3 needs fresh consent" in stale.withhold["income"]
    assert fresh.withhold == {}


def test_minor_notice_change_keeps_earlier_grants() -> None:
    notice = Notice("essential.service", "opt_in", version=3, min_consent_version=1)
    assert evaluate(system(), [grant(notice_version=1)], [notice]).withhold == {}


def test_consent_is_opt_in_even_under_an_opt_out_notice() -> None:
    notice = Notice("essential.service", "opt_out", version=1)
    assert set(evaluate(system(), [], [notice]).withhold) == ALL


def test_notice_only_never_withholds() -> None:
    notice = Notice("essential", "notice_only", version=1)
    for basis in ("consent", "contract", "legitimate_interests"):
        state = evaluate(system(legal_basis=basis), [withdraw()], [notice])
        assert state.withhold == {}, basis


def test_narrowest_current_notice_governs() -> None:
    notices = [
        Notice("essential", "notice_only"),
        Notice("essential.service", "opt_in", version=1),
        Notice("essential.service", "opt_in", version=2),
        Notice("essential.service.security", "opt_out"),
    ]
    state = evaluate(system(), [], notices)
    assert state.notice == Notice("essential.service", "opt_in", version=2)
    assert set(state.withhold) == ALL


# --- other legal bases (opt-out) ---------------------------------------------------------------


@pytest.mark.parametrize("basis", ["contract", "legitimate_interests", "public_interest"])
def test_opt_out_bases_use_data_until_the_subject_opts_out(basis: str) -> None:
    assert evaluate(system(legal_basis=basis), [], []).withhold == {}
    state = evaluate(system(legal_basis=basis), [withdraw(data_category="user.behavior")], [])
    assert state.withhold == {
        "clicks": "opted out for user.behavior under essential.service on 2026-03-01"
    }


@pytest.mark.parametrize("basis", ["legal_obligation", "vital_interests"])
def test_processing_required_by_law_is_not_withheld(basis: str) -> None:
    state = evaluate(system(legal_basis=basis), [withdraw()], [])
    assert state.withhold == {}
    assert len(state.applied) == 1  # the withdrawal is still recorded as seen


# --- Global Privacy Control -------------------------------------------------------------------


def test_gpc_opts_out_of_marketing_uses() -> None:
    spec = system("marketing.communications.email", "legitimate_interests")
    state = evaluate(spec, global_privacy_control(recorded_at=at(0)), [])
    assert set(state.withhold) == ALL
    assert "by Global Privacy Control signal" in state.withhold["income"]
    assert state.objects_to_profiling is False


def test_gpc_on_personalization_is_an_objection_to_profiling() -> None:
    spec = system("personalize.content.profiled", "legitimate_interests")
    state = evaluate(spec, global_privacy_control(recorded_at=at(0)), [])
    assert state.objects_to_profiling is True
    assert set(state.withhold) == ALL


def test_gpc_leaves_essential_service_alone() -> None:
    spec = system("essential.service", "contract")
    state = evaluate(spec, global_privacy_control(recorded_at=at(0)), [])
    assert state == evaluate(spec, [], [])


def test_gpc_cannot_withdraw_other_uses_or_grant() -> None:
    with pytest.raises(InputError, match="Global Privacy Control"):
        Preference("essential.service", "withdrawn", at(0), source="gpc")
    with pytest.raises(InputError, match="Global Privacy Control"):
        Preference("marketing", "granted", at(0), source="gpc")


def test_explicit_grant_after_gpc_counts() -> None:
    spec = system("marketing.communications.email", "consent")
    prefs = [*global_privacy_control(recorded_at=at(0)), grant("marketing", days=1)]
    assert evaluate(spec, prefs, []).withhold == {}


# --- objections -------------------------------------------------------------------------------


def test_objection_to_automated_decisions() -> None:
    spec = system(legal_basis="contract")
    state = evaluate(spec, [Objection("automated_decision", at(0))], [])
    assert state.objects_to_automation is True
    assert state.objects_to_profiling is False
    assert state.withhold == {}


def test_lifted_objection_no_longer_applies() -> None:
    records = [
        Objection("automated_decision", at(0)),
        Objection("automated_decision", at(1), active=False),
    ]
    assert evaluate(system(), records, []).objects_to_automation is False
    records.append(Objection("automated_decision", at(2)))
    assert evaluate(system(), records, []).objects_to_automation is True


def test_objection_scoped_to_another_use_does_not_apply() -> None:
    state = evaluate(system(), [Objection("profiling", at(0), data_use="marketing")], [])
    assert state.objects_to_profiling is False
    state = evaluate(system(), [Objection("profiling", at(0), data_use="essential")], [])
    assert state.objects_to_profiling is True


def test_withdrawing_personalization_is_an_objection_to_profiling() -> None:
    spec = system("personalize.content.limited", "legitimate_interests")
    assert evaluate(spec, [withdraw("personalize")], []).objects_to_profiling is True
    narrow = withdraw("personalize", data_category="user.behavior")
    assert evaluate(spec, [narrow], []).objects_to_profiling is False


# --- version -----------------------------------------------------------------------------------


def test_version_is_stable_under_record_order_and_irrelevant_records() -> None:
    records: list[Preference | Objection] = [
        grant(notice_version=3),
        withdraw(days=2, data_category="user.behavior"),
        Objection("profiling", at(1)),
    ]
    base = evaluate(system(), records, [OPT_IN_V3]).version
    assert base is not None
    assert base.startswith("consent-")
    for order in itertools.permutations(records):
        assert evaluate(system(), list(order), [OPT_IN_V3]).version == base
    unrelated = [
        *records,
        withdraw("marketing", days=3),
        Objection("profiling", at(3), data_use="sales"),
    ]
    assert (
        evaluate(system(), unrelated, [OPT_IN_V3, Notice("marketing", "opt_out")]).version == base
    )


def test_version_changes_when_what_applied_changes() -> None:
    records = [grant(notice_version=3)]
    base = evaluate(system(), records, [OPT_IN_V3]).version
    changed = {
        "new withdrawal": evaluate(system(), [*records, withdraw(days=1)], [OPT_IN_V3]).version,
        "new notice version": evaluate(
            system(), records, [Notice("essential.service", "opt_in", version=4)]
        ).version,
        "other timestamp": evaluate(
            system(), [grant(days=1, notice_version=3)], [OPT_IN_V3]
        ).version,
        "objection": evaluate(
            system(), [*records, Objection("automated_decision", at(1))], [OPT_IN_V3]
        ).version,
        "legal basis": evaluate(system(legal_basis="contract"), records, [OPT_IN_V3]).version,
    }
    assert base not in changed.values()
    assert len(set(changed.values())) == len(changed)


def test_same_instant_in_another_time_zone_is_the_same_version() -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=1))
    one = evaluate(system(), [Preference("essential", "granted", T0)], []).version
    two = evaluate(system(), [Preference("essential", "granted", T0.astimezone(paris))], []).version
    assert one == two


# --- validation and shape ------------------------------------------------------------------------


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(InputError, match="time zone"):
        Preference("essential", "granted", datetime(2026, 1, 1))
    with pytest.raises(InputError, match="time zone"):
        Objection("profiling", datetime(2026, 1, 1))


def test_malformed_records_are_refused() -> None:
    with pytest.raises(InputError, match="dotted"):
        Preference("Essential Service", "granted", T0)
    with pytest.raises(InputError, match="granted or withdrawn"):
        Preference("essential", "maybe", T0)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="min_consent_version"):
        Notice("essential", "opt_in", version=2, min_consent_version=3)


def test_result_has_the_gateway_consent_state_fields() -> None:
    pytest.importorskip("sqlalchemy", reason="the gateway needs the service extra")
    from ethica.service.decisions.hooks import ConsentState as GatewayConsentState

    gateway_fields = {f.name for f in dataclasses.fields(GatewayConsentState)}
    ours = {f.name for f in dataclasses.fields(ConsentState)}
    assert gateway_fields <= ours
    state = evaluate(system(), [withdraw()], [])
    adapted = GatewayConsentState(**{name: getattr(state, name) for name in gateway_fields})
    assert adapted.withhold == state.withhold
