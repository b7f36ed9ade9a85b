"""``ethica candidates``: run a mitigation in shadow on a live system, compare, promote, roll back.

Promotion and rollback are an officer's recorded decision: ``--by`` names the person and
``--reason`` says why; a promotion cites the comparison reviewed (``--evidence`` and ``--as-of``
as ``ethica candidates compare`` printed them).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ethica.cli_service import DatabaseOption, _fail, _on_writer, _read_json, _sessions, console

candidates_app = typer.Typer(
    help="Candidate mitigations in shadow: compare, promote, roll back.", no_args_is_help=True
)
SystemArgument = Annotated[str, typer.Argument(help="The system's id.")]
CandidateArgument = Annotated[str, typer.Argument(help="The candidate's id.")]
ByOption = Annotated[str, typer.Option("--by", help="Who decides (recorded in the ledger).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]


@candidates_app.command("list")
def list_candidates(system_id: SystemArgument, database: DatabaseOption = None) -> None:
    """List a system's candidates and their status."""
    from ethica.service.candidates import service

    with _sessions(database) as (_, sessions), sessions() as session:
        found = _run(lambda: service.list_candidates(session, system_id=system_id))
        counts = service.shadow_counts(session, system_id=system_id)
    table = Table(title=f"Candidate mitigations of {system_id}")
    for column in ("id", "name", "method", "status", "shadow decisions", "guard rail"):
        table.add_column(column)
    for c in found:
        rail = "unlawful here" if c.guard_rail else ""
        table.add_row(c.id, c.name, c.method, c.status, str(counts.get(c.id, 0)), rail)
    console.print(table)


@candidates_app.command("add")
def add_candidate(
    system_id: SystemArgument,
    name: Annotated[str, typer.Option(help="A name officers will recognise.")],
    criterion: Annotated[
        str | None,
        typer.Option(help="Choose group thresholds now for this criterion (recorded outcomes)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(help="Group thresholds from `ethica mitigate --report` (its JSON file)."),
    ] = None,
    model_version: Annotated[
        str | None, typer.Option(help="A stored model version (uploaded with serve=false).")
    ] = None,
    by: ByOption = "cli",
    database: DatabaseOption = None,
) -> None:
    """Register a candidate in shadow: thresholds (--criterion or --policy) or --model-version."""
    from ethica.service.candidates import service
    from ethica.service.candidates.schemas import CandidateCreate

    chosen = [o for o in (criterion, policy, model_version) if o is not None]
    if len(chosen) != 1:
        _fail("give exactly one of --criterion, --policy or --model-version")
    method = "model" if model_version is not None else "thresholds"
    rules = features = None
    if policy is not None:
        data = _read_json(policy)
        data = data.get("policy", data) if isinstance(data, dict) else {"rules": data}
        rules, features = data.get("rules"), data.get("sensitive_features")
    create = _run(
        lambda: CandidateCreate(
            name=name,
            method=method,
            criterion=criterion,
            rules=rules,
            sensitive_features=features,
            model_version=model_version,
        )
    )
    chosen_policy: dict[str, Any] = {}
    with _sessions(database) as (settings, sessions), sessions() as session:
        if rules is not None:
            chosen_policy = _run(
                lambda: service.given_thresholds(
                    session, system_id=system_id, rules=rules, features=features
                )
            )
        elif criterion is not None:
            chosen_policy = _run(
                lambda: service.choose_thresholds(
                    session,
                    database_url=settings.database.url,
                    master_key=settings.ledger.master_key_bytes,
                    system_id=system_id,
                    criterion=create.criterion,
                    sensitive_features=None,
                )
            )
    added = _on_writer(
        database,
        lambda batch: service.add_candidate(
            batch, system_id=system_id, create=create, policy=chosen_policy, by=f"cli:{by}"
        ),
    )
    console.print(
        f"[green]✓[/green] candidate [bold]{added.id}[/bold] runs in shadow on {system_id}"
    )
    if added.guard_rail:
        console.print(f"[red bold]Not lawful to serve here:[/red bold] {added.guard_rail}")


@candidates_app.command("compare")
def compare(
    system_id: SystemArgument,
    candidate_id: CandidateArgument,
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", help="Decisions before this moment (default now).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Compare a candidate's shadow decisions with the served ones, by group, with intervals."""
    from ethica.service.candidates import service

    with _sessions(database) as (settings, sessions), sessions() as session:
        compared = _run(
            lambda: service.comparison(
                session,
                system_id=system_id,
                candidate_id=candidate_id,
                master_key=settings.ledger.master_key_bytes,
                as_of=as_of,
            )
        )
    if as_json:
        sys.stdout.write(compared.model_dump_json(indent=2) + "\n")
        return
    result = compared.comparison
    table = Table(title=f"Selection rate by group ({result['rows']} decisions, 95% intervals)")
    for column in ("group", "decisions", "served", "candidate"):
        table.add_column(column)
    for g in result["groups"]:
        table.add_row(
            f"{g['attribute']} = {g['group']}",
            str(g["rows"]),
            _share(g["served_rate"], g["served_low"], g["served_high"]),
            _share(g["candidate_rate"], g["candidate_low"], g["candidate_high"]),
        )
    for gap in result["gaps"]:
        table.add_row(
            f"gap by {gap['attribute']} ({gap['side']})",
            "",
            _share(gap["gap"], gap["low"], gap["high"]),
            "",
        )
    console.print(table)
    agreement = result["agreement"]
    console.print(f"Agreement: {_share(agreement['value'], agreement['low'], agreement['high'])}")
    for side, acc in result["accuracy"].items():
        if acc["trials"]:
            console.print(
                f"Accuracy ({side}, {acc['trials']} outcomes): "
                f"{_share(acc['value'], acc['low'], acc['high'])}"
            )
    console.print(
        f"Evidence: --evidence {compared.evidence_sha256} --as-of {compared.as_of.isoformat()}"
    )


@candidates_app.command("promote")
def promote(
    system_id: SystemArgument,
    candidate_id: CandidateArgument,
    reason: ReasonOption,
    by: ByOption,
    evidence: Annotated[str, typer.Option(help="The comparison's digest you reviewed.")],
    as_of: Annotated[datetime, typer.Option("--as-of", help="The comparison's moment.")],
    database: DatabaseOption = None,
) -> None:
    """Serve a candidate in place of the system's decisions (a ledger entry citing the evidence)."""
    from ethica.service.candidates import service

    with _sessions(database) as (settings, sessions), sessions() as session:
        digest = _run(
            lambda: service.check_evidence(
                session,
                system_id=system_id,
                candidate_id=candidate_id,
                master_key=settings.ledger.master_key_bytes,
                evidence_sha256=evidence,
                as_of=as_of,
            )
        )
    done = _on_writer(
        database,
        lambda batch: service.promote(
            batch,
            system_id=system_id,
            candidate_id=candidate_id,
            reason=reason,
            by=f"cli:{by}",
            evidence=digest,
        ),
    )
    console.print(
        f"[green]✓[/green] candidate {candidate_id} serves {system_id} "
        f"(ledger {done.ledger.chain}#{done.ledger.sequence})"
    )


@candidates_app.command("rollback")
def rollback(
    system_id: SystemArgument,
    candidate_id: CandidateArgument,
    reason: ReasonOption,
    by: ByOption,
    database: DatabaseOption = None,
) -> None:
    """Stop serving a promoted candidate: the system decides as before (a ledger entry)."""
    from ethica.service.candidates import service

    done = _on_writer(
        database,
        lambda batch: service.rollback(
            batch, system_id=system_id, candidate_id=candidate_id, reason=reason, by=f"cli:{by}"
        ),
    )
    console.print(
        f"[green]✓[/green] candidate {candidate_id} rolled back on {system_id} "
        f"(ledger {done.ledger.chain}#{done.ledger.sequence})"
    )


def _run(call: Any) -> Any:
    """Call, ending the command with the message of a domain or validation error."""
    from pydantic import ValidationError

    from ethica.errors import EthicaError

    try:
        return call()
    except EthicaError as error:
        _fail(str(error))
    except ValidationError as error:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()))


def _share(value: Any, low: Any, high: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.3f} ({low:.3f} to {high:.3f})"
