"""The HTML audit report and the notebook summary: content, charts, safety and self-containment."""

from __future__ import annotations

import json
import math
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import markupsafe
import numpy as np
import pandas as pd
import pytest

from ethica.fairness import Audit, audit

# One worker renders the shared report once (run with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("fairness_report_html")

ODD_GROUP = "<b>x</b>"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Page(HTMLParser):
    """Collects what the tests look at: tags, link targets, and the text of some elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[str] = []
        self.svg_labels: list[str] = []
        self.figures = 0
        self.figcaptions = 0
        self.captions = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "xlink:href", "action", "poster", "data"} and value:
                self.links.append(value)
            if name == "style" and value and "url(" in value:
                self.links.append(value)
        if tag == "svg":
            self.svg_labels.append(dict(attrs).get("aria-labelledby") or "")
        self.figures += tag == "figure"
        self.figcaptions += tag == "figcaption"
        self.captions += tag == "caption"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def decisions(n: int = 4000, seed: int = 7, *, gap: float = 0.25) -> pd.DataFrame:
    """Applicants in three groups; the group with the HTML name is approved ``gap`` less often."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B", ODD_GROUP], n, p=[0.45, 0.35, 0.2])
    sex = rng.choice(["F", "M"], n)
    label = (rng.random(n) < 0.5).astype(int)
    approve = np.where(group == ODD_GROUP, 0.55 - gap, 0.55) + 0.2 * (label - 0.5)
    prediction = (rng.random(n) < approve).astype(int)
    score = np.clip(0.5 * prediction + 0.3 * label + 0.2 * rng.random(n), 0, 1).round(2)
    return pd.DataFrame(
        {"group": group, "sex": sex, "label": label, "prediction": prediction, "score": score}
    )


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return decisions()


@pytest.fixture(scope="module")
def result(data: pd.DataFrame) -> Audit:
    return audit(
        data,
        sensitive_features=["group", "sex"],
        label="label",
        prediction="prediction",
        score="score",
    )


@pytest.fixture(scope="module")
def report(result: Audit) -> str:
    return result.to_html(title="Loan approvals <audit> & review")


def test_report_states_the_built_in_gap_in_plain_words(data: pd.DataFrame, report: str) -> None:
    rates = data.groupby("group")["prediction"].mean()
    overall = data["prediction"].mean()
    expected = (
        f"{markupsafe.escape(ODD_GROUP)} (group): selection rate (share given the favourable "
        f"outcome) {rates[ODD_GROUP] * 100:.1f}%"
    )
    assert expected in report
    assert f"against {overall * 100:.1f}% overall" in report
    assert report.index("What we found") < report.index("Fairness criteria")


def test_every_finding_appears_escaped_in_the_report(result: Audit, report: str) -> None:
    assert result.findings
    for finding in result.findings:
        assert str(markupsafe.escape(finding.text)) in report


def test_report_has_labelled_svg_charts_in_figures(report: str) -> None:
    page = parse(report)
    svgs = page.tags.count("svg")
    # group and sex each get selection, gaps, error rates, AUC and calibration; so does the
    # full intersection (6 groups, within the limit for calibration curves).
    assert svgs >= 15
    assert page.figures == svgs == page.figcaptions
    assert all(label.strip() for label in page.svg_labels)
    for label in page.svg_labels:  # each chart named by its <title>, described by its <desc>
        title, desc = label.split()
        assert f'<title id="{title}">' in report and f'<desc id="{desc}">' in report
    assert "Selection rate by group" in report
    assert "Error rates by group (equalized odds)" in report
    assert "Calibration by group" in report
    assert "ROC AUC by group" in report


def test_report_is_self_contained(report: str) -> None:
    page = parse(report)
    external = [
        link for link in page.links if link.startswith(("http://", "https://", "//", "data:"))
    ]
    assert external == []
    assert all(link.startswith("#") for link in page.links)
    assert "script" not in page.tags
    assert "link" not in page.tags
    assert "iframe" not in page.tags
    assert "@import" not in report


def test_group_names_and_title_are_escaped(report: str) -> None:
    page = parse(report)
    # "<b>x</b>" as a group name would open a <b> element if it were not escaped.
    assert "b" not in page.tags
    assert "audit" not in page.tags
    assert ODD_GROUP in "".join(page.text)
    assert "<title>Loan approvals &lt;audit&gt; &amp; review</title>" in report


def test_report_has_header_criteria_tables_and_methods(result: Audit, report: str) -> None:
    page = parse(report)
    text = " ".join(" ".join(page.text).split())
    for words in (
        "4,000 decisions",
        "Confidence level 95%",
        "Minimum group size 30 decisions",
        "Holm",
        "ratios outside 0.80–1.25 fail",
        "Demographic parity",
        "Equal opportunity",
        "Equalized odds",
        "Predictive parity",
        "Wilson score interval",
        "Newcombe",
        "Katz",
        "chi-square",
        "Fisher",
        "does not make a system fair",
    ):
        assert words in text, words
    # One criteria table, and per grouping a metrics table, a gap summary and the detail table.
    assert page.captions == 1 + 3 * len(result.metrics)
    for name in result.metrics:
        assert f"Metrics of each group of {markupsafe.escape(name)}" in report


def test_criteria_table_shows_the_independently_computed_gap(
    data: pd.DataFrame, report: str
) -> None:
    rates = data.groupby("group")["prediction"].mean()
    assert f"{(rates.max() - rates.min()) * 100:.1f} pt" in report
    assert f"{rates.min() / rates.max():.2f}" in report


def test_to_html_writes_the_report_to_a_path(data: pd.DataFrame, tmp_path: Path) -> None:
    result = audit(data, sensitive_features="sex", prediction="prediction")
    path = tmp_path / "nested-name.html"
    html = result.to_html(path, title="Written")
    assert path.read_text(encoding="utf-8") == html
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Written</title>" in html


def test_notebook_summary_is_compact_with_findings_and_criteria(result: Audit) -> None:
    summary = result._repr_html_()
    page = parse(summary)
    assert "svg" not in page.tags
    assert "script" not in page.tags
    assert "b" not in page.tags
    assert "Demographic parity" in summary
    assert str(markupsafe.escape(result.findings[0].text)) in summary
    assert len(summary) < 40_000


def test_json_export_round_trips_without_nan(data: pd.DataFrame, result: Audit) -> None:
    text = result.to_json()
    assert "NaN" not in text and "Infinity" not in text
    loaded = json.loads(text)
    assert loaded["rows"] == len(data)
    assert loaded["schema"] == "ethica.audit/2"
    grouping = loaded["groupings"]["group"]
    by_group = dict(zip(grouping["groups"], grouping["metrics"]["selection_rate"], strict=True))
    rates = data.groupby("group")["prediction"].mean()
    for name, rate in rates.items():
        assert math.isclose(by_group[name], rate, rel_tol=1e-12)
    lows = grouping["comparisons"]["selection_rate"]["value_low"]
    low = dict(zip(grouping["groups"], lows, strict=True))
    expected = result.comparisons.query("metric == 'selection_rate'").set_index("group")
    for name in rates.index:
        assert math.isclose(low[name], expected.loc[name, "value_low"], rel_tol=1e-12)
    assert [f["text"] for f in loaded["findings"]] == [f.text for f in result.findings]


def test_audit_without_a_material_gap_says_so() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame({"group": rng.choice(["A", "B"], n), "prediction": rng.random(n) < 0.5})
    result = audit(frame, sensitive_features="group", prediction="prediction")
    assert not [f for f in result.findings if f.severity != "not assessed"]
    html = result.to_html(title="No gap")
    assert "No material gap was found" in html
    assert "No material gap was found" in result._repr_html_()


def test_decision_log_without_labels_gets_only_label_free_charts(data: pd.DataFrame) -> None:
    result = audit(data, sensitive_features="group", prediction="prediction")
    html = result.to_html(title="Log")
    assert "Selection rate by group" in html
    assert "Error rates" not in html and "Calibration by" not in html
    assert parse(html).tags.count("svg") == 2  # selection rates and gaps


def test_reference_group_is_marked_as_the_comparison(data: pd.DataFrame) -> None:
    result = audit(
        data,
        sensitive_features="group",
        prediction="prediction",
        reference={"group": "A"},
    )
    html = result.to_html(title="Against A")
    assert "group = A" in html
    assert "comparison group" in html
    assert "chosen reference group" in html


def test_bootstrap_intervals_are_reported_and_explained(data: pd.DataFrame) -> None:
    result = audit(data, sensitive_features="group", prediction="prediction", bootstrap=200)
    html = result.to_html(title="Bootstrap")
    assert "Bootstrap interval of the difference" in html
    assert "200 replicates (seed 0)" in html
    rows = result.summary[result.summary["metric"] == "selection_rate"].iloc[0]
    low, high = rows["boot_difference_low"], rows["boot_difference_high"]
    assert f"{low * 100:.1f} pt to {high * 100:.1f} pt" in html


def test_small_groups_are_reported_as_not_assessed(data: pd.DataFrame) -> None:
    small = pd.concat([data, data.head(12).assign(group="tiny")], ignore_index=True)
    result = audit(small, sensitive_features="group", prediction="prediction")
    html = result.to_html(title="Small")
    assert "not assessed" in html
    assert "fewer than 30 decisions" in html


def test_regression_audit_gets_a_generic_report() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], n)})
    frame["need"] = rng.normal(5000, 1500, n)
    frame["limit"] = frame["need"] - np.where(frame["sex"] == "F", 400.0, 0.0)
    result = audit(
        frame, sensitive_features="sex", label="need", prediction="limit", kind="regression"
    )
    html = result.to_html(title="Limits")
    page = parse(html)
    assert page.tags.count("svg") >= 2
    assert "Selection rate" not in html
    means = frame.groupby("sex")["limit"].mean()
    assert f"{means['F']:,.0f}" in html
    assert "numeric decisions" in result._repr_html_()


def test_report_for_forty_groups_stays_small() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    frame = pd.DataFrame(
        {
            "region": rng.choice([f"region {i}" for i in range(8)], n),
            "age": rng.choice(["18-25", "26-40", "41-55", "56-70", "70+"], n),
            "label": rng.random(n) < 0.4,
        }
    )
    frame["prediction"] = (rng.random(n) < 0.3 + 0.2 * frame["label"]).astype(int)
    frame["label"] = frame["label"].astype(int)
    result = audit(
        frame, sensitive_features=["region", "age"], label="label", prediction="prediction"
    )
    assert len(result.metrics["region × age"].groups) == 40
    html = result.to_html(title="Forty groups")
    assert len(html.encode("utf-8")) < 2_000_000
    assert "region 7 × 70+" in html


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(report: str, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "fairness-report.png"
    shot.unlink(missing_ok=True)
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,4000",
        f"--screenshot={shot}",
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert shot.exists()
    # A PNG of the requested size: chromium laid the page out and painted it.
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == 1400
