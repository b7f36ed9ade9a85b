"""Command-line access to the tamper-evident ledger: verify it, prove a decision, check a proof.

Service modules are imported inside each command, as in :mod:`ethica.cli_service`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ethica.cli_service import (
    DatabaseOption,
    _fail,
    _sessions,
    _settings,
    console,
    database_shown,
    errors,
)

ledger_app = typer.Typer(help="The tamper-evident ledger.", no_args_is_help=True)


@ledger_app.command("verify")
def verify(
    database: DatabaseOption = None,
    chain: Annotated[list[str] | None, typer.Option(help="Verify only these chains.")] = None,
    witness: Annotated[
        Path | None,
        typer.Option(help="A witness file of signed heads (default: the service's own)."),
    ] = None,
    one_process: Annotated[
        bool,
        typer.Option(
            "--one-process",
            help="Verify long chains in this process only (by default each chain of 10^5 "
            "entries or more is verified in two halves on two processes).",
        ),
    ] = False,
) -> None:
    """Check every hash chain against every signed head; name each broken entry and head."""
    from ethica.service.ledger.service import verify_ledger

    with _sessions(database) as (settings, sessions), sessions() as session:
        errors.print(f"Database: {database_shown(settings.database.url)}", highlight=False)
        report = verify_ledger(
            session, settings=settings, chains=chain, witness=witness, parallel=not one_process
        )
    if report.ok:
        console.print(f"[green]✓[/green] {report}")
        return
    errors.print(f"[red]✗[/red] {report}")
    raise typer.Exit(code=1)


@ledger_app.command("prove")
def prove(
    decision_id: Annotated[str, typer.Argument(help="The decision to prove.")],
    database: DatabaseOption = None,
) -> None:
    """Print the inclusion proof of a decision's ledger entry (JSON), to check offline."""
    import json

    from ethica.errors import EthicaError
    from ethica.service.decisions.service import get_decision
    from ethica.service.ledger.heads import public_key
    from ethica.service.ledger.proofs import prove_decision

    with _sessions(database) as (settings, sessions), sessions() as session:
        try:
            row = get_decision(session, decision_id=decision_id)
            proof = prove_decision(session, row, public_key=public_key(settings))
        except EthicaError as error:
            _fail(str(error))
    typer.echo(json.dumps(proof.to_dict(), indent=2))


@ledger_app.command("public-key")
def print_public_key(database: DatabaseOption = None) -> None:
    """Print the PEM public key that checks the ledger's signed heads and proofs."""
    from ethica.ledger import public_key_pem
    from ethica.service.ledger.heads import public_key

    console.print(public_key_pem(public_key(_settings(database))).decode().strip())


@ledger_app.command("check-proof")
def check_proof(
    proof: Annotated[Path, typer.Argument(help="A proof written by 'ethica ledger prove'.")],
    public_key: Annotated[
        Path, typer.Option(help="The ledger's public key (PEM, from 'ethica ledger public-key').")
    ],
) -> None:
    """Check an inclusion proof offline, with the ledger's public key and nothing else."""
    import json

    from ethica.errors import InputError
    from ethica.ledger import InclusionProof, load_public_key

    try:
        parsed = InclusionProof.from_dict(json.loads(proof.read_text(encoding="utf-8")))
        problem = parsed.problem(load_public_key(public_key.read_bytes()))
    except (OSError, ValueError, InputError) as error:
        _fail(f"cannot check {proof}: {error}")
    if problem is not None:
        errors.print(f"[red]✗[/red] {problem}")
        raise typer.Exit(code=1)
    console.print(
        f"[green]✓[/green] entry {parsed.head.chain}#{parsed.sequence} is in "
        f"{parsed.head.describe()}"
    )
