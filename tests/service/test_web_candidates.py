"""The dashboard's candidates page: the shadow comparison with intervals, promotion citing it,
rollback; only an officer may act. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from service_testing import Service
from test_service_candidates import DECISION, RULES, _add, _applicants, _decide_all, _entries
from web_testing import csrf_of, token_of, viewing_as

PAGE = "/dashboard/systems/credit/candidates"


def test_an_officer_compares_a_candidate_promotes_it_and_rolls_it_back(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", decision=DECISION)
    officer = token_of(running.headers["officer"])
    with viewing_as(running.client, officer) as client:
        empty = client.get(PAGE)
    assert empty.status_code == 200, empty.text
    assert 'id="no-candidates"' in empty.text

    candidate = _add(
        running, {"name": "Thresholds F 0.3, M 0.6", "method": "thresholds", "rules": RULES}
    ).json()
    applicants = _applicants(40, seed=5)
    made = _decide_all(running, applicants)
    served = {
        s: [d for b, d in zip(applicants, made, strict=True) if b["protected"]["sex"] == s]
        for s in ("F", "M")
    }
    with viewing_as(running.client, officer) as client:
        page = client.get(PAGE)
        assert page.status_code == 200, page.text
        text = page.text
        assert "Thresholds F 0.3, M 0.6" in text
        assert "In shadow: it has decided beside 40 live decisions." in text
        women = re.search(r"<tr><th scope=\"row\" data-label=\"Group\">sex = F</th>.*?</tr>", text)
        assert women is not None
        approved = sum(d["outcome"] == "approved" for d in served["F"])
        assert f">{len(served['F'])}<" in women.group(0)
        assert f"{100 * approved / len(served['F']):.1f}%" in women.group(0)
        assert "Gap by sex (highest minus lowest, points)" in text
        assert "The candidate agrees with the served decision on" in text
        assert "No true outcome has arrived yet" in text
        digest = re.search(r'name="evidence_sha256" value="([0-9a-f]{64})"', text)
        as_of = re.search(r'name="as_of" value="([^"]+)"', text)
        assert digest is not None and as_of is not None
        assert f'<code class="digest">{digest.group(1)}</code>' in text
        form = {
            "csrf": csrf_of(text),
            "to": "promotion",
            "why": "",
            "evidence_sha256": digest.group(1),
            "as_of": as_of.group(1),
        }
        refused = client.post(f"{PAGE}/{candidate['id']}", data=form)
        assert refused.status_code == 422 and 'id="candidate-error"' in refused.text
        form["why"] = "halves the approval gap by sex"
        promoted = client.post(f"{PAGE}/{candidate['id']}", data=form)
        assert promoted.status_code == 200, promoted.text
        assert "Served since" in promoted.text and "Roll back" in promoted.text
        back = client.post(
            f"{PAGE}/{candidate['id']}",
            data={"csrf": csrf_of(promoted.text), "to": "rollback", "why": "complaints"},
        )
        assert back.status_code == 200, back.text
        assert "Rolled back on" in back.text
    moves = _entries(running, "promotion", "rollback")
    assert [(m["kind"], m["reason"]) for m in moves] == [
        ("promotion", "halves the approval gap by sex"),
        ("rollback", "complaints"),
    ]
    assert moves[0]["evidence_sha256"] == digest.group(1)
    assert json.dumps(moves[0]["by"]).startswith('"user:')


def test_an_admin_sees_the_comparison_but_may_not_promote(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", decision=DECISION)
    candidate = _add(running, {"name": "thresholds", "method": "thresholds", "rules": RULES}).json()
    _decide_all(running, _applicants(35, seed=6))
    admin = token_of(running.headers["admin"])
    with viewing_as(running.client, admin) as client:
        page = client.get(PAGE)
        assert page.status_code == 200 and "Shadow comparison" in page.text
        assert "Promote to serve" not in page.text
        tried = client.post(
            f"{PAGE}/{candidate['id']}",
            data={"csrf": csrf_of(page.text), "to": "promotion", "why": "x"},
        )
    assert tried.status_code == 403
    assert _entries(running, "promotion") == []


def test_the_page_shows_the_trade_off_on_recorded_outcomes_with_a_cost_matrix(
    service: Callable[..., Service],
) -> None:
    from test_service_candidates import _record_outcomes

    running = service()
    running.register("credit", decision=DECISION)
    officer = token_of(running.headers["officer"])
    with viewing_as(running.client, officer) as client:
        before = client.get(PAGE)
    assert 'id="no-trade-off"' in before.text and "No trade-off to show: " in before.text
    made = _decide_all(running, _applicants(120, seed=7))
    _record_outcomes(running, made, every=1)
    with viewing_as(running.client, officer) as client:
        page = client.get(PAGE, params={"by": "sex", "criterion": "demographic_parity"})
        assert page.status_code == 200, page.text
        assert "<svg role='img' aria-labelledby='t-trade-off d-trade-off'" in page.text
        assert "Accuracy against the demographic parity gap" in page.text
        assert "<th scope='row'>as decided</th>" in page.text
        priced = client.get(PAGE, params={"by": "sex", "costs": "tp=100,fp=-400"})
        assert "Expected profit per decision against the equal opportunity gap" in priced.text
        wrong = client.get(PAGE, params={"costs": "gain=3"})
        assert (
            wrong.status_code == 200 and "No trade-off to show: a cost matrix reads" in wrong.text
        )


def test_an_officer_withdraws_a_candidate_from_shadow_with_a_reason(
    service: Callable[..., Service],
) -> None:
    running = service()
    running.register("credit", decision=DECISION)
    candidate = _add(running, {"name": "thresholds", "method": "thresholds", "rules": RULES}).json()
    _decide_all(running, _applicants(5, seed=8))
    officer = token_of(running.headers["officer"])
    with viewing_as(running.client, officer) as client:
        page = client.get(PAGE)
        assert "Withdraw" in page.text and f'id="why-withdraw-{candidate["id"]}"' in page.text
        form = {"csrf": csrf_of(page.text), "to": "withdrawal", "why": " "}
        refused = client.post(f"{PAGE}/{candidate['id']}", data=form)
        assert refused.status_code == 422 and "a withdrawal needs a reason" in refused.text
        form["why"] = "superseded by a reweighed model"
        done = client.post(f"{PAGE}/{candidate['id']}", data=form)
        assert done.status_code == 200, done.text
        assert "Withdrawn from shadow on" in done.text
        assert f'id="why-withdraw-{candidate["id"]}"' not in done.text
        assert "Promote to serve" not in done.text
    moves = _entries(running, "withdrawal")
    assert [(m["reason"], m["status"]) for m in moves] == [
        ("superseded by a reweighed model", "withdrawn")
    ]
