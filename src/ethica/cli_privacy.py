"""``ethica synthesize``: a differentially private synthetic decision log, and what survived."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, NoReturn, cast

import typer
from rich.console import Console

from ethica.errors import EthicaError

console = Console()
errors = Console(stderr=True)

#: Where the operator configures the largest epsilon a release may spend.
MAX_EPSILON_VARIABLE = "ETHICA__PRIVACY__MAX_EPSILON"


def synthesize(
    source: Annotated[Path, typer.Argument(help="A Parquet or CSV decision log.")],
    epsilon: Annotated[float, typer.Option(help="Privacy budget epsilon of the release.")],
    out: Annotated[Path, typer.Option(help="Write the synthetic Parquet file here.")],
    delta: Annotated[float, typer.Option(help="Privacy budget delta (0 = pure DP).")] = 0.0,
    method: Annotated[str, typer.Option(help="mst or aim (OpenDP's synthesizers).")] = "mst",
    bins: Annotated[int, typer.Option(help="Quantile bins per numeric column.")] = 5,
    sensitive: Annotated[
        str | None, typer.Option("--sensitive", "-s", help="Sensitive columns, e.g. sex,race.")
    ] = None,
    prediction: Annotated[str | None, typer.Option(help="Column with the decision.")] = None,
    label: Annotated[str | None, typer.Option(help="Column with the true outcome.")] = None,
    pos_label: Annotated[str, typer.Option(help="The favourable outcome.")] = "1",
) -> None:
    """Release a DP synthetic copy of a decision log (OpenDP MST/AIM) and report what survived."""
    from ethica.privacy._synthesize import DEFAULT_MAX_EPSILON, Method, check_budget

    ceiling_text = os.environ.get(MAX_EPSILON_VARIABLE, str(DEFAULT_MAX_EPSILON))
    try:
        ceiling = float(ceiling_text)
    except ValueError:
        _fail(f"{MAX_EPSILON_VARIABLE} must be a number; got {ceiling_text!r}")
    if method not in ("mst", "aim"):
        _fail(f"--method must be mst or aim; got {method!r}")
    if not source.is_file():
        _fail(f"no file at {source}")
    import pandas as pd

    from ethica.privacy._synthesize import synthesize as release
    from ethica.privacy._synthetic_utility import utility_report

    try:
        check_budget(epsilon, delta, ceiling)  # refused before the data is read
        real = pd.read_parquet(source) if source.suffix == ".parquet" else pd.read_csv(source)
        features = [f.strip() for f in sensitive.split(",")] if sensitive else []
        # Decisions, outcomes and groups are categories even when written as numbers.
        categorical = [*features, *(c for c in (prediction, label) if c)]
        real = real.astype({c: "string" for c in categorical if c in real.columns})
        result = release(
            real,
            epsilon=epsilon,
            delta=delta,
            method=cast(Method, method),
            bins=bins,
            categorical=categorical,
            max_epsilon=ceiling,
        )
        result.data.to_parquet(out, index=False)
        report = None
        if features and prediction:
            report = utility_report(
                real,
                result.data,
                cuts=result.cuts,
                sensitive_features=features,
                prediction=prediction,
                pos_label=pos_label,
                label=label,
            )
    except EthicaError as error:
        _fail(str(error))
    summary: dict[str, object] = {
        "out": str(out),
        "rows": len(result.data),
        "epsilon": result.epsilon,
        "delta": result.delta,
        "method": result.method,
        "public_assumptions": result.public_assumptions,
    }
    if report is not None:
        summary["max_marginal_error"] = {str(w): report.max_error(w) for w in (1, 2, 3)}
        report_path = out.with_suffix(".utility.json")
        report_path.write_text(
            json.dumps(
                {
                    "marginals": report.marginals.to_dict(orient="records"),
                    "fairness": report.fairness.to_dict(orient="records"),
                },
                indent=2,
                default=str,
            )
        )
        summary["utility_report"] = str(report_path)
    console.print_json(json.dumps(summary))


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)
