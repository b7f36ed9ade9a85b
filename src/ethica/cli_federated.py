"""``ethica federated``: run one site of a federated fairness audit (the coordinator is audit)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ethica.cli_service import DatabaseOption, _on_writer
from ethica.errors import EthicaError

console = Console()
errors = Console(stderr=True)
federated_app = typer.Typer(
    help="Federated fairness audits: each site counts its own decisions; SecAgg+ sums them.",
    no_args_is_help=True,
)


@federated_app.command("site")
def site(
    data: Annotated[
        str,
        typer.Option(help="This site's decision log: a Parquet/CSV file or a postgresql:// URL."),
    ],
    superlink: Annotated[
        str, typer.Option(help="The coordinator's SuperLink, host:port (loopback).")
    ] = "127.0.0.1:9092",
    table: Annotated[
        str | None, typer.Option(help="With a postgresql:// --data: the table or view holding it.")
    ] = None,
) -> None:
    """Run this site until stopped: count the log when the coordinator asks, send it masked.

    The site's count table leaves this machine only masked by Flower's SecAgg+; the coordinator
    learns the sum over all sites. Flower's telemetry is off.
    """
    from ethica.federated import run_site

    try:
        code = run_site(data, superlink, table=table)
    except EthicaError as error:
        _fail(str(error))
    raise typer.Exit(code=code)


@federated_app.command("train")
def train(
    plan: Annotated[Path, typer.Argument(help="The sites.toml, with a [training] table.")],
    out: Annotated[
        Path, typer.Option(help="Write the model here (skops, or XGBoost JSON: no pickle).")
    ],
    system: Annotated[
        str | None, typer.Option(help="Register the model as a version of this system.")
    ] = None,
    version: Annotated[str | None, typer.Option(help="With --system: the version's name.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Train a model across the plan's sites: FedAvg, or XGBoost bagging ([training] learner).

    The sites must be running (``ethica federated site``). Each site trains on its own rows;
    a logistic regression's coefficients travel masked by SecAgg+, and the audit of its
    decisions is a federated audit (SecAgg+); XGBoost's trees travel as they are.
    """
    if (system is None) != (version is None):
        _fail(
            "--system and --version go together: the system to register the model with, "
            "and the version's name"
        )
    from ethica.federated import federated_train

    try:
        model = federated_train(plan)
    except EthicaError as error:
        _fail(str(error))
    content = model.content
    out.write_bytes(content)
    console.print(
        f"Trained across {model.sites} sites in {model.rounds} rounds: accuracy "
        f"{model.accuracy:.4f} (measured at the sites); model written to {out}"
    )
    if model.audit is not None:
        found = model.audit.audit.findings
        console.print(f"Federated audit of its decisions: {len(found)} finding(s)")
        for finding in found[:12]:
            console.print(f"• {finding.text}", highlight=False)
    if system is None or version is None:
        return
    from ethica.service.systems import service

    def job(batch: Any) -> None:
        service.add_model_version(
            batch.session, system_id=system, version=version, format=model.format, content=content
        )

    _on_writer(database, job)
    console.print(f"Registered as model version {version} of system {system}")


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code=2)
