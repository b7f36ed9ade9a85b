"""``ethica federated``: run one site of a federated fairness audit (the coordinator is audit)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from ethica.errors import EthicaError

errors = Console(stderr=True)
federated_app = typer.Typer(
    help="Federated fairness audits: each site counts its own decisions; SecAgg+ sums them.",
    no_args_is_help=True,
)


@federated_app.command("site")
def site(
    data: Annotated[Path, typer.Option(help="This site's decision log (Parquet or CSV).")],
    superlink: Annotated[
        str, typer.Option(help="The coordinator's SuperLink, host:port (loopback).")
    ] = "127.0.0.1:9092",
) -> None:
    """Run this site until stopped: count the log when the coordinator asks, send it masked.

    The site's count table leaves this machine only masked by Flower's SecAgg+; the coordinator
    learns the sum over all sites. Flower's telemetry is off.
    """
    from ethica.federated import run_site

    try:
        code = run_site(data, superlink)
    except EthicaError as error:
        _fail(str(error))
    raise typer.Exit(code=code)


def _fail(message: str) -> NoReturn:
    errors.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)
