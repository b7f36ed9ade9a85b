"""``ethica synthesize``: a differentially private synthetic decision log, and what survived."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, cast

import typer
from rich.console import Console

from ethica.errors import EthicaError

if TYPE_CHECKING:
    import pandas as pd

    from ethica.privacy._synthesize import Method, Synthesis

console = Console()
errors = Console(stderr=True)


def synthesize(
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE_OR_SYSTEM",
            help="A Parquet or CSV decision log, or the id of a system in the service database.",
        ),
    ],
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
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="With a system id: the service database (default: ETHICA__DATABASE__URL).",
        ),
    ] = None,
) -> None:
    """Release a DP synthetic copy of a decision log (OpenDP MST/AIM) and report what survived.

    Given a system id, the system's decision log is read from the service database (each
    person's latest decision, inputs opened from the ledger) and the release's epsilon is spent
    from the system's privacy budget: a ledger entry, refused when the budget cannot pay it.
    """
    if method not in ("mst", "aim"):
        _fail(f"--method must be mst or aim; got {method!r}")
    path = Path(source)
    if path.is_file():
        result, real, roles = _release_file(
            path, epsilon, delta, cast("Method", method), bins, sensitive, prediction, label
        )
        summary: dict[str, object] = {}
    elif database is None and (path.suffix.lower() in (".csv", ".parquet") or _no_database()):
        _fail(
            f"no file at {path}; to synthesize a system's decisions, name the service database "
            "with --database (or ETHICA__DATABASE__URL)"
        )
    else:
        result, real, roles, summary = _release_system(
            source, epsilon, delta, cast("Method", method), database
        )
        pos_label = str(summary.pop("positive", pos_label))
    _write(result, real, roles, out, pos_label, summary)


def _no_database() -> bool:
    """Whether no service database is configured or found (so one would only be created)."""
    from ethica.cli_service import DEMO_DATABASE

    default = Path("ethica.db")
    configured = os.environ.get("ETHICA__DATABASE__URL")
    return configured is None and not default.exists() and not DEMO_DATABASE.exists()


Roles = tuple[list[str], str | None, str | None]
"""Sensitive columns, the decision column and the true-outcome column of a release's report."""


def _release_file(
    source: Path,
    epsilon: float,
    delta: float,
    method: Method,
    bins: int,
    sensitive: str | None,
    prediction: str | None,
    label: str | None,
) -> tuple[Synthesis, pd.DataFrame, Roles]:
    import pandas as pd
    from pydantic import ValidationError

    from ethica.privacy._synthesize import check_budget
    from ethica.privacy._synthesize import synthesize as release
    from ethica.service.settings import privacy_settings, settings_problem

    try:
        ceiling = privacy_settings().max_epsilon
    except ValidationError as error:
        _fail(settings_problem(error))

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
            method=method,
            bins=bins,
            categorical=categorical,
            max_epsilon=ceiling,
        )
    except EthicaError as error:
        _fail(str(error))
    return result, real, (features, prediction, label)


def _release_system(
    system: str, epsilon: float, delta: float, method: Method, database: str | None
) -> tuple[Synthesis, pd.DataFrame, Roles, dict[str, object]]:
    from datetime import UTC, datetime

    from ethica.cli_service import _on_writer, _sessions
    from ethica.service.governance.synthetic import OUTCOME, record_spend, synthesize_system

    now = datetime.now(UTC).replace(microsecond=0)
    # Drawn outside the writer (a draw takes a while), released once its spend is recorded.
    try:
        with _sessions(database) as (settings, sessions), sessions() as session:
            budget = settings.privacy.transparency_budget
            drawn = synthesize_system(
                session,
                system_id=system,
                epsilon=epsilon,
                delta=delta,
                method=method,
                budget=budget,
                ceiling=settings.privacy.max_epsilon,
                master_key=settings.ledger.master_key_bytes,
                now=now,
            )
    except EthicaError as error:
        _fail(str(error))
    spend = _on_writer(
        database,
        lambda batch: record_spend(batch, system_id=system, drawn=drawn, budget=budget, now=now),
    )
    summary: dict[str, object] = {
        "system": system,
        "ledger": None if spend.ref is None else f"{spend.ref.chain}#{spend.ref.sequence}",
        "budget": {"epsilon": spend.budget, "release": spend.release},
        "decisions_left_out": drawn.log.skipped,
    }
    if drawn.positive is not None:
        summary["positive"] = drawn.positive
    prediction = OUTCOME if drawn.positive is not None else None
    return drawn.release, drawn.log.frame, (drawn.log.protected, prediction, None), summary


def _write(
    result: Synthesis,
    real: pd.DataFrame,
    roles: Roles,
    out: Path,
    pos_label: str,
    summary: dict[str, object],
) -> None:
    from ethica.privacy._synthetic_utility import utility_report

    features, prediction, label = roles
    result.data.to_parquet(out, index=False)
    report = None
    no_report = None
    if features and prediction:
        try:
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
            # The release is made and its budget spent: it stands, and the summary says why its
            # utility could not be assessed (e.g. a noisy release whose outcomes are all one).
            no_report = f"its utility could not be assessed: {error}"
    summary = {
        "out": str(out),
        "rows": len(result.data),
        "epsilon": result.epsilon,
        "delta": result.delta,
        "method": result.method,
        "public_assumptions": result.public_assumptions,
        **summary,
    }
    if no_report is not None:
        summary["utility_report"] = None
        summary["utility_not_assessed"] = no_report
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
    console.print_json(json.dumps(summary, default=str))


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)
