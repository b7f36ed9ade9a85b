"""``ethica mitigate``: propose a mitigation of a disparity in a file of decisions.

It proposes and never applies: group thresholds are printed with what they cost in accuracy and
buy in parity, and flagged where deciding with a protected attribute is unlawful.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ethica.errors import EthicaError

if TYPE_CHECKING:
    from ethica.mitigation import ReweighingWeights, ThresholdPolicy
    from ethica.mitigation._thresholds import Criterion

console = Console()
errors = Console(stderr=True)
CRITERIA: tuple[Criterion, ...] = ("demographic_parity", "equal_opportunity", "equalized_odds")
METHOD_NAMES = ("thresholds", "reweigh", "reductions")
#: The rate each criterion equalises, as the expected-rates columns name it.
RATE_OF = {
    "demographic_parity": "selection_rate",
    "equal_opportunity": "true_positive_rate",
    "equalized_odds": "false_positive_rate",
}


def mitigate(
    source: Annotated[str, typer.Argument(help="A Parquet/CSV file of decisions.")],
    sensitive: Annotated[str, typer.Option("--sensitive", "-s", help="Sensitive columns.")],
    label: Annotated[str, typer.Option(help="Column with the true outcome (0/1).")],
    prediction: Annotated[str, typer.Option(help="Column with the decision (0/1).")],
    score: Annotated[
        str | None, typer.Option(help="Column with the model's score (thresholds need it).")
    ] = None,
    criterion: Annotated[
        str, typer.Option(help="demographic_parity, equal_opportunity or equalized_odds.")
    ] = "equal_opportunity",
    method: Annotated[str, typer.Option(help="thresholds, reweigh or reductions.")] = "thresholds",
    sweep: Annotated[
        bool, typer.Option(help="Compare the decisions as made with every criterion's thresholds.")
    ] = False,
    jurisdiction: Annotated[
        str | None,
        typer.Option(help="Where and in what domain the system decides, e.g. us-credit."),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(
            help="The system's spec (YAML): its ai_act jurisdictions and domain set the guard rail."
        ),
    ] = None,
    costs: Annotated[
        str | None,
        typer.Option(
            help="With --sweep: what each decision is worth, tp=120,fp=-600[,fn=0,tn=0]; the "
            "sweep then weighs expected profit per decision instead of accuracy."
        ),
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option(help="With --sweep: write the trade-off chart (HTML with SVG and table)."),
    ] = None,
    engine: Annotated[str, typer.Option(help="memory, duckdb or a postgresql:// URL.")] = "duckdb",
    score_bins: Annotated[int, typer.Option(help="Score bins of the count table.")] = 1000,
    report: Annotated[
        Path | None, typer.Option(help="Write the proposal (JSON) to this file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the proposal as JSON.")] = False,
) -> None:
    """Propose a mitigation of a disparity in decisions: thresholds or reweighing, never applied."""
    if criterion not in CRITERIA:
        _fail(f"--criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    if method not in METHOD_NAMES:
        _fail(f"--method must be one of {', '.join(METHOD_NAMES)}; got {method!r}")
    if method == "reductions":
        _fail(
            "--method reductions retrains the model, which needs its features: use "
            "ethica.mitigation.reductions in Python, or --method thresholds or reweigh here"
        )
    if (method == "thresholds" or sweep) and score is None:
        _fail("--method thresholds and --sweep need the model's --score column")
    if (costs is not None or chart is not None) and not sweep:
        _fail("--costs and --chart belong to --sweep: add --sweep")
    if spec is not None and jurisdiction is not None:
        _fail("give the jurisdiction once: --spec (read from the spec) or --jurisdiction")
    from ethica.fairness import count_table
    from ethica.mitigation import (
        CostMatrix,
        group_thresholds,
        guard_rail,
        reweighing,
        spec_guard_rail,
        trade_off,
        trade_off_figure,
    )

    try:
        table = count_table(
            source,
            sensitive_features=sensitive,
            label=label,
            prediction=prediction,
            score=score,
            engine=engine,
            score_bins=score_bins,
        )
        if spec is not None:
            from ethica.governance import load_spec

            warning = spec_guard_rail(method, load_spec(spec))
        else:
            warning = guard_rail(method, jurisdiction)
        matrix = None if costs is None else CostMatrix.parse(costs)
        proposal: dict[str, Any] = {"method": method, "criterion": criterion, "guard_rail": warning}
        chosen = next(c for c in CRITERIA if c == criterion)
        if method == "thresholds":
            policy = group_thresholds(table, criterion=chosen)
            proposal["policy"] = policy.to_dict()
        else:
            weights = reweighing(table)
            proposal["weights"] = weights.weights.to_dict(orient="records")
        if sweep:
            swept = trade_off(table, criterion=chosen, costs=matrix)
            proposal["sweep"] = {
                "objective": swept.objective,
                "costs": swept.costs,
                "points": swept.points.to_dict(orient="records"),
                "recommended": swept.recommended,
                "rule": swept.rule,
            }
            if chart is not None:
                figure = trade_off_figure(swept)
                chart.write_text(_chart_page(figure), encoding="utf-8")
    except EthicaError as error:
        _fail(str(error))
    text = json.dumps(proposal, indent=2, default=str)
    if report is not None:
        report.write_text(text + "\n", encoding="utf-8")
    if as_json:
        sys.stdout.write(text + "\n")
        return
    if method == "thresholds":
        _print_policy(policy)
    else:
        _print_weights(weights)
    if sweep:
        _print_sweep(proposal["sweep"])
    if warning:
        console.print(f"[red bold]Not lawful here:[/red bold] {warning}")
    if method == "thresholds":
        console.print(
            "Proposed only: thresholds per group use the protected attribute at decision time "
            "and are never applied without an officer's approval."
        )
    if report is not None:
        console.print(f"\nProposal written to [bold]{report}[/bold]")
    if chart is not None:
        console.print(f"Trade-off chart written to [bold]{chart}[/bold]")


#: Short names of the rates, for table headers.
SHORT = {"selection_rate": "selection", "true_positive_rate": "TPR", "false_positive_rate": "FPR"}


def _print_policy(policy: ThresholdPolicy) -> None:
    rate = RATE_OF[policy.criterion]
    console.print(
        f"[bold]Group thresholds[/bold] for {policy.criterion} (common {rate.replace('_', ' ')} "
        f"{policy.rate:.3f}), expected accuracy {policy.objective_value:.4f}"
    )
    shown = Table()
    short = SHORT[rate]
    for column in ("group", "rule", f"{short} before", f"{short} after", "accuracy after"):
        shown.add_column(column)
    for row in policy.expected.itertuples(index=False):
        rule = policy.rules.get(str(row.group))
        text = "" if rule is None else _rule_text(rule)
        shown.add_row(
            str(row.group),
            text,
            f"{getattr(row, rate + '_before'):.3f}",
            f"{getattr(row, rate):.3f}",
            f"{row.accuracy:.3f}",
        )
    console.print(shown)


def _rule_text(rule: Any) -> str:
    text = f"score > {rule.threshold0 if rule.p0 >= 0.5 else rule.threshold1:.4g}"
    if 0.005 <= rule.p0 < 0.995 and rule.threshold0 != rule.threshold1:
        first = f"{rule.p0:.2f}: score > {rule.threshold0:.4g}"
        text = f"{first}; {rule.p1:.2f}: score > {rule.threshold1:.4g}"
    if rule.p_ignore > 0:
        text += f"; {rule.p_ignore:.2f}: select with chance {rule.constant:.3f}"
    return text


def _print_weights(weights: ReweighingWeights) -> None:
    console.print("[bold]Reweighing[/bold] (Kamiran-Calders): training weights per group and label")
    shown = Table()
    columns = [*weights.sensitive_features, "label", "n", "weight"]
    for column in columns:
        shown.add_column(column)
    for row in weights.weights[columns].itertuples(index=False):
        shown.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in row])
    console.print(shown)
    console.print("Group-blind at decision time: retrain the model with these sample weights.")


def _print_sweep(sweep: dict[str, Any]) -> None:
    objective = sweep["objective"]
    shown = Table(
        title=f"Trade-off: {objective} and gaps between groups (expected, same data, 95% intervals)"
    )
    shown.add_column("candidate", no_wrap=True)
    for column in (objective, "selection gap", "TPR gap", "FPR gap", "Pareto"):
        shown.add_column(column)
    number = "{:.4f}" if objective == "accuracy" else "{:,.2f}"
    for row in sweep["points"]:
        shown.add_row(
            row["candidate"],
            _interval(row, objective, number),
            _interval(row, "selection_rate_gap", "{:.3f}"),
            _interval(row, "true_positive_rate_gap", "{:.3f}"),
            _interval(row, "false_positive_rate_gap", "{:.3f}"),
            "yes" if row["pareto"] else "",
        )
    console.print(shown)
    console.print(f"Recommended: [bold]{sweep['recommended']}[/bold] (rule: {sweep['rule']})")


def _interval(row: dict[str, Any], name: str, number: str) -> str:
    low, high = row[f"{name}_low"], row[f"{name}_high"]
    return f"{number.format(row[name])} ({number.format(low)} to {number.format(high)})"


def _chart_page(figure: str) -> str:
    """Return a small standalone HTML page around the chart."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Trade-off of the candidate mitigations</title></head><body>"
        f"<main><h1>Trade-off of the candidate mitigations</h1>{figure}</main></body></html>\n"
    )


def _fail(message: str) -> Any:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)
